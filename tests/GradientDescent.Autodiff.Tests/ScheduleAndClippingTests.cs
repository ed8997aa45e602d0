using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>Learning-rate schedules and gradient clipping against their formulas at pinned points.</summary>
public sealed class ScheduleAndClippingTests
{
    [Fact]
    public void Step_EveryStepSizeSteps_MultipliesByGamma()
    {
        // η(t) = η₀·γ^⌊t/s⌋ with η₀ = 0.1, s = 7, γ = 0.5.
        var s = LearningRateSchedule.Step(0.1, 7, 0.5);
        Assert.Equal(0.1, s.At(0));
        Assert.Equal(0.1, s.At(6));
        Assert.Equal(0.05, s.At(7));
        Assert.Equal(0.025, s.At(20));
        Assert.Equal(0.0125, s.At(21));
    }

    [Fact]
    public void Exponential_AtT_IsInitialTimesGammaToTheT()
    {
        // η(t) = η₀·γᵗ.
        var s = LearningRateSchedule.Exponential(0.2, 0.9);
        Assert.Equal(0.2, s.At(0));
        Approx.Equal(0.2 * 0.9 * 0.9 * 0.9, s.At(3), 1e-15, 0);
    }

    [Fact]
    public void CosineAnnealing_PinnedPoints_FollowHalfACosine()
    {
        // η(t) = η_min + (η₀ − η_min)(1 + cos(πt/T))/2: η₀ at 0, the midpoint at T/2, η_min at T, back up after.
        var s = LearningRateSchedule.CosineAnnealing(0.1, 10, 0.01);
        Assert.Equal(0.1, s.At(0));
        Approx.Equal(0.055, s.At(5), 1e-15, 0, "midpoint");
        Assert.Equal(0.01, s.At(10));
        Approx.Equal(s.At(9), s.At(11), 1e-15, 0, "symmetric about T");
        Approx.Equal(0.01 + 0.09 * (1 + Math.Cos(Math.PI * 0.3)) / 2, s.At(3), 1e-15, 0);
    }

    [Fact]
    public void Linear_RampsTheFactorThenHolds()
    {
        // η(t) = η₀(f₀ + (f₁ − f₀)·min(t, n)/n) with f₀ = 0.25, f₁ = 1, n = 4.
        var s = LearningRateSchedule.Linear(0.2, 0.25, 1, 4);
        Assert.Equal(0.05, s.At(0));
        Assert.Equal(0.125, s.At(2));   // 0.2·(0.25 + 0.75·2/4)
        Assert.Equal(0.2, s.At(4));
        Assert.Equal(0.2, s.At(100));
    }

    [Fact]
    public void WithLinearWarmUp_RampsToTheScheduleThenRunsItFromItsStart()
    {
        // Warm-up over n = 5 steps from f₀ = 0.2 of η₀ = At(0), then exponential decay starting again at t = 5.
        var decay = LearningRateSchedule.Exponential(0.1, 0.5);
        var s = decay.WithLinearWarmUp(5, 0.2);
        Approx.Equal(0.02, s.At(0), 1e-15, 0);
        Approx.Equal(0.1 * (0.2 + 0.8 * 3 / 5), s.At(3), 1e-15, 0);
        Assert.Equal(0.1, s.At(5));
        Assert.Equal(0.05, s.At(6));
        Assert.Equal(decay.At(7), s.At(12));
        Assert.StartsWith("Linear(η₀ = 0.1, f₀ = 0.2, f₁ = 1, n = 5) then, from step 5, Exponential(", s.ToString());
    }

    [Fact]
    public void Lambda_UserFunction_ScalesTheInitialRateAndRejectsNonFinite()
    {
        // η(t) = η₀·f(t).
        var s = LearningRateSchedule.Lambda(0.5, t => 1.0 / (t + 1));
        Assert.Equal(0.5, s.At(0));
        Assert.Equal(0.125, s.At(3));
        var bad = LearningRateSchedule.Lambda(0.5, t => t == 2 ? double.NaN : 1);
        Assert.StartsWith("LearningRateSchedule.Lambda: the factor f(2) is NaN", Assert.Throws<InvalidOperationException>(() => bad.At(2)).Message);
    }

    [Fact]
    public void Schedules_BadSettingsOrNegativeStep_ThrowNamingTheScheduleAndSetting()
    {
        Assert.StartsWith("LearningRateSchedule.Step: the step size must be a whole number ≥ 1, in [1, ∞); got 0.",
            Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Step(0.1, 0)).Message);
        Assert.StartsWith("LearningRateSchedule.CosineAnnealing: the initial rate η₀ must be a positive finite number, in (0, ∞); got NaN.",
            Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.CosineAnnealing(double.NaN, 10)).Message);
        Assert.StartsWith("LearningRateSchedule.Linear: the start factor must be a number > 0 and ≤ 1, in (0, 1]; got 0.",
            Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Linear(0.1, 0)).Message);
        Assert.StartsWith("LearningRateSchedule Constant(η = 0.1): step -1 is negative",
            Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Constant(0.1).At(-1)).Message);
    }

    [Fact]
    public void CosineAnnealing_ToZeroAtPeriod_OptimizerRejectsTheZeroRate()
    {
        // η_min = 0 gives η(T) = 0 exactly; optimizers take only positive rates, so that step is an error, named.
        var s = LearningRateSchedule.CosineAnnealing(0.1, 4);
        var sgd = new Sgd([new ScalarParameter("b")], 0.1);
        Assert.Equal(0.0, s.At(4));
        Assert.StartsWith("Sgd: the learning rate must be a positive finite number, in (0, ∞); got 0.",
            Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = s.At(4)).Message);
    }

    [Fact]
    public void ClipByNorm_AboveMax_ScalesAllGradientsTogetherAndReturnsTheNorm()
    {
        // g = ((3, 4), (12)): ‖g‖ = √(9 + 16 + 144) = 13; c = 6.5/(13 + 10⁻⁶), so each g ← c·g.
        var a = VectorParameter.Zeros("a", 2);
        var b = new ScalarParameter("b");
        a.Grad[0] = 3; a.Grad[1] = 4; ((Parameter)b).Grad[0] = 12;
        double total = GradientClipping.ClipByNorm([a, b], 6.5);
        double c = 6.5 / (13 + 1e-6);
        Assert.Equal(13.0, total);
        Approx.Equal([3 * c, 4 * c], a.Grad, 1e-15, 0, "a.Grad");
        Approx.Equal(12 * c, b.Grad, 1e-15, 0, "b.Grad");
    }

    [Fact]
    public void ClipByNorm_BelowMaxOrZero_LeavesGradientsBitForBit()
    {
        // c = min(1, max/(‖g‖ + 10⁻⁶)) = 1: nothing changes; ‖0‖ = 0 gives c = 1 too, not 0/0.
        var a = VectorParameter.Zeros("a", 2);
        a.Grad[0] = 0.1; a.Grad[1] = -0.2;
        Assert.Equal(Math.Sqrt(0.1 * 0.1 + 0.2 * 0.2), GradientClipping.ClipByNorm([a], 1.0), 15);
        Assert.Equal([0.1, -0.2], a.Grad);
        var zero = VectorParameter.Zeros("z", 3);
        Assert.Equal(0.0, GradientClipping.ClipByNorm([zero], 1.0));
        Assert.Equal([0.0, 0.0, 0.0], zero.Grad);
    }

    [Fact]
    public void ClipByValue_ClampsEachElementAndKeepsNaN()
    {
        // g ← clamp(g, −v, v) elementwise.
        var a = VectorParameter.Zeros("a", 4);
        double[] g = [-3, 0.2, 5, double.NaN];
        g.CopyTo(a.Grad, 0);
        GradientClipping.ClipByValue([a], 1);
        Assert.Equal([-1, 0.2, 1, double.NaN], a.Grad);
        Assert.StartsWith("GradientClipping.ClipByValue: the clip value must be a positive finite number, in (0, ∞); got -1.",
            Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue([a], -1)).Message);
    }
}
