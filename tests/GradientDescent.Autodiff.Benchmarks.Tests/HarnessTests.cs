using Xunit;

namespace GradientDescent.Autodiff.Benchmarks.Tests;

/// <summary>The harness's arithmetic, the gradient comparison and the command line.</summary>
public sealed class HarnessTests
{
    [Fact]
    public void Median_OddAndEvenCounts()
    {
        Assert.Equal(2.0, Harness.Median([3.0, 1.0, 2.0]));
        Assert.Equal(2.5, Harness.Median([4.0, 1.0, 2.0, 3.0]));
    }

    [Fact]
    public void Time_ReturnsOneSamplePerRepetition()
    {
        int calls = 0;
        Timing t = Harness.Time(() => calls++, warmup: 2, reps: 3, inner: 4);
        Assert.Equal(3, t.SamplesMs.Length);
        Assert.Equal((2 + 3) * 4, calls);
    }

    [Fact]
    public void RelativeError_IsRelativeToEachValue_WithAFloorAtAThousandthOfTheLargest()
    {
        Assert.Equal(0.0, GradientCheck.RelativeError([1.0, -2.0], [1.0, -2.0]));
        Assert.Equal(0.01, GradientCheck.RelativeError([1.01, 100.0], [1.0, 100.0]), 12);
        // 1e-6 vs 0: measured against 1e-3 · 1 rather than 0.
        Assert.Equal(1e-3, GradientCheck.RelativeError([1.0, 1e-6], [1.0, 0.0]), 12);
    }

    [Fact]
    public void RelativeError_LengthMismatchOrNaN_IsInfinite()
    {
        Assert.Equal(double.PositiveInfinity, GradientCheck.RelativeError([1.0], [1.0, 2.0]));
        Assert.Equal(double.PositiveInfinity, GradientCheck.RelativeError([double.NaN], [1.0]));
    }

    [Fact]
    public void Options_ParsesQuickAndOnly_RejectsUnknown()
    {
        Options? o = Options.Parse(["--quick", "--only", "deep_chain,logreg"], out string? message);
        Assert.NotNull(o);
        Assert.Null(message);
        Assert.True(o.Quick);
        Assert.True(o.Selects("logreg_full_batch"));
        Assert.False(o.Selects("mlp_epoch"));

        Assert.Null(Options.Parse(["--fast"], out message));
        Assert.Contains("Unknown argument", message, StringComparison.Ordinal);
        Assert.Null(Options.Parse(["--only"], out message));
    }
}
