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

    private static Parameter[] P() => [new VectorParameter("w", 1.0, 2.0)];

    /// <summary>
    /// Every settable hyper-parameter: constructing with v, setting v on a valid optimizer, reading it back, the
    /// message's "optimizer: the setting" start and the range it names.
    /// </summary>
    private static readonly Dictionary<string, (Func<double, Optimizer> Make, Action<Optimizer, double> Set, Func<Optimizer, double> Get, string Start, string Range)> Settable = new()
    {
        ["Sgd.LearningRate"] = (v => new Sgd(P(), v), (o, v) => o.LearningRate = v, o => o.LearningRate, "Sgd: the learning rate", "(0, ∞)"),
        ["Sgd.Dampening"] = (v => new Sgd(P(), 0.1, momentum: 0.9, dampening: v), (o, v) => ((Sgd)o).Dampening = v, o => ((Sgd)o).Dampening, "Sgd: the dampening", "[0, 1]"),
        ["Sgd.WeightDecay"] = (v => new Sgd(P(), 0.1, weightDecay: v), (o, v) => ((Sgd)o).WeightDecay = v, o => ((Sgd)o).WeightDecay, "Sgd: the weight decay", "[0, ∞)"),
        ["Adam.LearningRate"] = (v => new Adam(P(), v), (o, v) => o.LearningRate = v, o => o.LearningRate, "Adam: the learning rate", "(0, ∞)"),
        ["Adam.Beta1"] = (v => new Adam(P(), beta1: v), (o, v) => ((Adam)o).Beta1 = v, o => ((Adam)o).Beta1, "Adam: the β₁", "[0, 1)"),
        ["Adam.Beta2"] = (v => new Adam(P(), beta2: v), (o, v) => ((Adam)o).Beta2 = v, o => ((Adam)o).Beta2, "Adam: the β₂", "[0, 1)"),
        ["Adam.Epsilon"] = (v => new Adam(P(), epsilon: v), (o, v) => ((Adam)o).Epsilon = v, o => ((Adam)o).Epsilon, "Adam: the ε", "[0, ∞)"),
        ["Adam.WeightDecay"] = (v => new Adam(P(), weightDecay: v), (o, v) => ((Adam)o).WeightDecay = v, o => ((Adam)o).WeightDecay, "Adam: the weight decay", "[0, ∞)"),
        ["AdamW.LearningRate"] = (v => new AdamW(P(), v), (o, v) => o.LearningRate = v, o => o.LearningRate, "AdamW: the learning rate", "(0, ∞)"),
        ["AdamW.Beta1"] = (v => new AdamW(P(), beta1: v), (o, v) => ((AdamW)o).Beta1 = v, o => ((AdamW)o).Beta1, "AdamW: the β₁", "[0, 1)"),
        ["AdamW.Beta2"] = (v => new AdamW(P(), beta2: v), (o, v) => ((AdamW)o).Beta2 = v, o => ((AdamW)o).Beta2, "AdamW: the β₂", "[0, 1)"),
        ["AdamW.Epsilon"] = (v => new AdamW(P(), epsilon: v), (o, v) => ((AdamW)o).Epsilon = v, o => ((AdamW)o).Epsilon, "AdamW: the ε", "[0, ∞)"),
        ["AdamW.WeightDecay"] = (v => new AdamW(P(), weightDecay: v), (o, v) => ((AdamW)o).WeightDecay = v, o => ((AdamW)o).WeightDecay, "AdamW: the weight decay", "[0, ∞)"),
        ["RmsProp.LearningRate"] = (v => new RmsProp(P(), v), (o, v) => o.LearningRate = v, o => o.LearningRate, "RmsProp: the learning rate", "(0, ∞)"),
        ["RmsProp.Alpha"] = (v => new RmsProp(P(), alpha: v), (o, v) => ((RmsProp)o).Alpha = v, o => ((RmsProp)o).Alpha, "RmsProp: the α", "[0, 1]"),
        ["RmsProp.Epsilon"] = (v => new RmsProp(P(), epsilon: v), (o, v) => ((RmsProp)o).Epsilon = v, o => ((RmsProp)o).Epsilon, "RmsProp: the ε", "[0, ∞)"),
        ["RmsProp.WeightDecay"] = (v => new RmsProp(P(), weightDecay: v), (o, v) => ((RmsProp)o).WeightDecay = v, o => ((RmsProp)o).WeightDecay, "RmsProp: the weight decay", "[0, ∞)"),
        ["Adagrad.LearningRate"] = (v => new Adagrad(P(), v), (o, v) => o.LearningRate = v, o => o.LearningRate, "Adagrad: the learning rate", "(0, ∞)"),
        ["Adagrad.LearningRateDecay"] = (v => new Adagrad(P(), learningRateDecay: v), (o, v) => ((Adagrad)o).LearningRateDecay = v, o => ((Adagrad)o).LearningRateDecay, "Adagrad: the learning-rate decay", "[0, ∞)"),
        ["Adagrad.WeightDecay"] = (v => new Adagrad(P(), weightDecay: v), (o, v) => ((Adagrad)o).WeightDecay = v, o => ((Adagrad)o).WeightDecay, "Adagrad: the weight decay", "[0, ∞)"),
        ["Adagrad.Epsilon"] = (v => new Adagrad(P(), epsilon: v), (o, v) => ((Adagrad)o).Epsilon = v, o => ((Adagrad)o).Epsilon, "Adagrad: the ε", "[0, ∞)"),
    };

    /// <summary>Each settable setting with values just outside its range, and NaN and ±∞ for all.</summary>
    public static TheoryData<string, double> SettableOutOfRange()
    {
        var data = new TheoryData<string, double>();
        foreach (var (name, entry) in Settable)
        {
            foreach (double v in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1e-300 }) data.Add(name, v);
            if (entry.Range.StartsWith('(')) data.Add(name, 0.0);
            if (entry.Range.EndsWith("1)")) data.Add(name, 1.0);
            if (entry.Range.EndsWith("1]")) data.Add(name, 1.0000000000000002);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SettableOutOfRange))]
    public void Setting_OutOfRange_ConstructorAndSetterThrowTheSameNamedErrorAndKeepTheOldValue(string setting, double bad)
    {
        var (make, set, get, start, range) = Settable[setting];
        var made = Assert.Throws<ArgumentOutOfRangeException>(() => make(bad));

        var optimizer = make(range == "[0, 1)" || range == "[0, 1]" ? 0.5 : 0.25);
        double before = get(optimizer);
        var changed = Assert.Throws<ArgumentOutOfRangeException>(() => set(optimizer, bad));

        Assert.Equal(made.Message, changed.Message);
        Assert.StartsWith(start + " must be ", changed.Message);
        Assert.Contains($", in {range}; got {bad.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}.", changed.Message);
        Assert.Equal(before, get(optimizer));
    }

    [Theory]
    [MemberData(nameof(SettableNames))]
    public void Setting_InRange_IsStoredBySetter(string setting)
    {
        var (make, set, get, _, range) = Settable[setting];
        var optimizer = make(range.StartsWith('(') ? 0.5 : 0.0);
        set(optimizer, 0.75);
        Assert.Equal(0.75, get(optimizer));
    }

    public static TheoryData<string> SettableNames => [.. Settable.Keys];

    [Fact]
    public void FixedSettings_OutOfRange_ConstructorThrowsNamingThem()
    {
        // Momentum, centering, AMSGrad and s₀ decide which state exists, so they are fixed at construction.
        Assert.StartsWith("RmsProp: the momentum must be a finite number ≥ 0, in [0, ∞); got -1.",
            Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(P(), momentum: -1)).Message);
        Assert.StartsWith("Adagrad: the initial accumulator value must be a finite number ≥ 0, in [0, ∞); got NaN.",
            Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad(P(), initialAccumulatorValue: double.NaN)).Message);
        Assert.StartsWith("Sgd: the momentum must be a finite number ≥ 0, in [0, ∞); got Infinity.",
            Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(P(), 0.1, momentum: double.PositiveInfinity)).Message);
    }
}
