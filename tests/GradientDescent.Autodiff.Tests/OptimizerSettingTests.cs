namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Every optimizer setting is checked by one function in the constructor and in the setter: a value the constructor
/// rejects can never be set later, and the error names the optimizer, the setting, the value and the valid range.
/// </summary>
public sealed class OptimizerSettingTests
{
    public static TheoryData<double> BadLearningRates => [double.NaN, 0.0, -0.0, -1e-3, double.PositiveInfinity, double.NegativeInfinity];

    [Theory]
    [MemberData(nameof(BadLearningRates))]
    public void SgdLearningRate_SetterGivenInvalidValue_ThrowsAsTheConstructorDoesAndKeepsTheOldRate(double bad)
    {
        // Before: the setter stored NaN, 0 and negatives, and the next Step() wrote NaN into (or climbed) the loss.
        var w = new VectorParameter("w", 1.0, 2.0);
        var sgd = new Sgd([w], 0.1);

        var set = Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = bad);
        var made = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], bad));

        Assert.Equal(made.Message, set.Message);
        Assert.StartsWith($"Sgd: the learning rate must be a positive finite number, in (0, ∞); got {bad.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}.", set.Message);
        Assert.Equal("learningRate", set.ParamName);
        Assert.Equal(0.1, sgd.LearningRate);
    }

    [Fact]
    public void SgdLearningRate_SetterGivenValidValue_IsUsedByTheNextStep()
    {
        // p ← p − η·g with the new η.
        var w = new VectorParameter("w", 1.0);
        var sgd = new Sgd([w], 0.1) { LearningRate = 0.5 };
        w.Grad[0] = 2;
        sgd.Step();
        Assert.Equal(1.0 - 0.5 * 2, w.Value[0]);
    }

    [Fact]
    public void SgdSettings_OutOfRange_ThrowNamingTheSettingInConstructorAndSetter()
    {
        var w = new VectorParameter("w", 1.0);
        var sgd = new Sgd([w], 0.1, momentum: 0.9);

        var m = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], 0.1, momentum: -0.5));
        Assert.StartsWith("Sgd: the momentum must be a finite number ≥ 0, in [0, ∞); got -0.5.", m.Message);

        var d = Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Dampening = 1.5);
        Assert.StartsWith("Sgd: the dampening must be a number between 0 and 1, in [0, 1]; got 1.5.", d.Message);
        Assert.Equal(d.Message, Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], 0.1, dampening: 1.5)).Message);

        var wd = Assert.Throws<ArgumentOutOfRangeException>(() => sgd.WeightDecay = double.NaN);
        Assert.StartsWith("Sgd: the weight decay must be a finite number ≥ 0, in [0, ∞); got NaN.", wd.Message);
        Assert.Equal(wd.Message, Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], 0.1, weightDecay: double.NaN)).Message);

        Assert.Equal(0.0, sgd.Dampening);
        Assert.Equal(0.0, sgd.WeightDecay);
    }

    [Fact]
    public void SgdNesterov_WithoutMomentumOrWithDampening_Throws()
    {
        // PyTorch's rule: Nesterov momentum requires μ > 0 and τ = 0, in the constructor and whenever τ changes.
        var w = new VectorParameter("w", 1.0);
        var none = Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1, nesterov: true));
        Assert.StartsWith("Sgd: Nesterov momentum needs a momentum > 0 and zero dampening; got momentum 0 and dampening 0.", none.Message);
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1, momentum: 0.9, dampening: 0.1, nesterov: true));

        var sgd = new Sgd([w], 0.1, momentum: 0.9, nesterov: true);
        var later = Assert.Throws<ArgumentException>(() => sgd.Dampening = 0.1);
        Assert.StartsWith("Sgd: Nesterov momentum needs a momentum > 0 and zero dampening; got momentum 0.9 and dampening 0.1.", later.Message);
        Assert.Equal(0.0, sgd.Dampening);
    }

    [Fact]
    public void OptimizerParameters_EmptyNullOrRepeated_Throw()
    {
        var w = new VectorParameter("w", 1.0);
        Assert.StartsWith("Sgd: the parameter list is empty", Assert.Throws<ArgumentException>(() => new Sgd([], 0.1)).Message);
        Assert.StartsWith("Sgd: parameter 1 of 2 is null", Assert.Throws<ArgumentException>(() => new Sgd([w, null!], 0.1)).Message);
        Assert.StartsWith("Sgd: parameter w [1] appears more than once (again at position 1)", Assert.Throws<ArgumentException>(() => new Sgd([w, w], 0.1)).Message);
    }
}
