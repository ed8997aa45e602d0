using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The cross-check report: the hand-derived gradient as a third opinion, and worst elements named as a reader names
/// them ("[k]" of a vector, "(row, col)" of a matrix). The passing three-way case is the README's example
/// (<see cref="ReadmeCrossCheckExampleTests"/>).
/// </summary>
public sealed class TorchCrossCheckReportTests
{
    private static readonly double[,] W0 = { { 0.5, -1, 2 }, { 3, -0.25, 1.5 } };

    [Fact]
    public void Run_HandDerivedWrongAtOneMatrixElement_FailsNamingItsRowAndColumn()
    {
        TorchRuntime.EnsureLoaded();

        // f(W) = ½ Σᵢⱼ Wᵢⱼ², ∇f = W; the hand formula is off by 1 at (1, 2), row-major index 5. Libtorch agrees with autodiff.
        var weights = new MatrixParameter("W", W0);

        var report = TorchCrossCheck.Run(
            tape => Ops.Sum(Ops.Square(tape.Use(weights))) * 0.5,
            [weights],
            new TorchCrossCheckOptions
            {
                HandDerived = _ =>
                {
                    double[] g = (double[])weights.Value.Clone();
                    g[5] += 1;
                    return g;
                },
            });
        string[] lines = report.ToString().Split('\n');

        Assert.False(report.Passed);
        Assert.True(report.Parameters[0].Gradient.Passed);
        Assert.Equal(5, report.Parameters[0].VersusHandDerived!.Value.WorstIndex);
        string hand = Assert.Single(lines, l => l.Contains("hand-derived", StringComparison.Ordinal));
        Assert.Contains(" (1, 2) ", hand, StringComparison.Ordinal);
        Assert.EndsWith("FAIL", hand.TrimEnd(), StringComparison.Ordinal);
        Assert.EndsWith("FAILED", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DerivativeWrongAtOneMatrixElement_NamesItsRowAndColumnAgainstLibtorch()
    {
        TorchRuntime.EnsureLoaded();

        // L = Σᵢⱼ s(W)ᵢⱼ with s(x) = x², whose derivative rule below is 2x except at row-major element 5, (1, 2), where
        // it is 2x + 1. Libtorch differentiates x.pow(2) itself, so ∂L/∂W differs at (1, 2) by exactly 1.
        var weights = new MatrixParameter("W", W0);

        var report = TorchCrossCheck.Run(
            tape => Ops.Sum(Ops.CustomMatrix(SquareWrongAtFive.Instance, tape.Use(weights))),
            [weights],
            new TorchCrossCheckOptions { CustomOps = { [SquareWrongAtFive.Instance.Name] = x => TorchScalars.Square(x[0]) } });
        string text = report.ToString();
        string[] lines = text.Split('\n');

        Assert.False(report.Passed);
        Assert.Equal(5, report.Parameters[0].Gradient.WorstIndex);
        Assert.Equal(2 * 1.5 + 1, report.Parameters[0].Gradient.Autodiff);
        Assert.Equal(2 * 1.5, report.Parameters[0].Gradient.Torch, 15);
        string row = Assert.Single(lines, l => l.StartsWith("W ", StringComparison.Ordinal) && l.Contains("libtorch", StringComparison.Ordinal));
        Assert.Contains(" (1, 2) ", row, StringComparison.Ordinal);
        Assert.EndsWith("FAIL", row.TrimEnd(), StringComparison.Ordinal);
        string node = Assert.Single(lines, l => l.StartsWith("FAIL %", StringComparison.Ordinal) && l.Contains("Parameter W", StringComparison.Ordinal));
        Assert.Contains("worst (1, 2) 4 vs 3", node, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_HandDerivedOfWrongLength_ThrowsNamingTheParameterAndShape()
    {
        TorchRuntime.EnsureLoaded();
        var weights = new MatrixParameter("W", W0);

        var error = Assert.Throws<ArgumentException>(() => TorchCrossCheck.Run(
            tape => Ops.Sum(Ops.Square(tape.Use(weights))),
            [weights],
            new TorchCrossCheckOptions { HandDerived = _ => [1.0, 2.0] }));

        Assert.Contains("hand-derived gradient for W has 2 elements; W has shape [2×3] (6 elements)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>s(x) = x² elementwise, with a deliberately wrong derivative at row-major element 5: 2x + 1 there.</summary>
    private sealed class SquareWrongAtFive : CustomOp
    {
        public static readonly SquareWrongAtFive Instance = new();

        public override string Name => "square-wrong-at-5";

        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];

        public override void Forward(CustomOpContext context)
        {
            ReadOnlySpan<double> x = context.Input(0);
            Span<double> y = context.Output;
            for (int k = 0; k < x.Length; k++) y[k] = x[k] * x[k];
        }

        public override void Backward(CustomOpContext context)
        {
            ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
            Span<double> gx = context.InputGrad(0);
            for (int k = 0; k < x.Length; k++) gx[k] += g[k] * (2 * x[k] + (k == 5 ? 1 : 0));
        }
    }
}
