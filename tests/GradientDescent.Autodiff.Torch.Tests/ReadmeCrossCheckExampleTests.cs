using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>The README's cross-check example, run as written, printing the table the README shows.</summary>
public sealed class ReadmeCrossCheckExampleTests
{
    [Fact]
    public void Run_ReadmeLogisticPoint_PassesAndPrintsTheTable()
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", 0.3, -0.1);
        var b = new ScalarParameter("b", 0.2);
        double[] x = [0.78051, -0.063669];
        double y = 1;

        var report = TorchCrossCheck.Run(
            tape => Loss.BinaryCrossEntropy(Ops.Sigmoid(Ops.Dot(tape.Use(w), tape.Constant(x)) + tape.Use(b)), y),
            [w, b],
            new TorchCrossCheckOptions
            {
                // optional, as in GradientCheck: ∇E = −(y − ŷ)(x, 1), written by hand, as a third opinion
                HandDerived = p =>
                {
                    double yHat = 1 / (1 + Math.Exp(-(w.Value[0] * x[0] + w.Value[1] * x[1] + b.Value)));
                    return p == w ? [-(y - yHat) * x[0], -(y - yHat) * x[1]] : [-(y - yHat)];
                },
            });
        string text = report.ToString();

        Assert.True(report.Passed, text);
        Assert.StartsWith("TorchSharp cross-check of L = 0.4969508164 (libtorch 0.4969508164); 8 nodes, 2 parameters", text);
        Assert.Contains("w                [2]         libtorch      ", text, StringComparison.Ordinal);
        Assert.Contains("w                [2]         hand-derived  ", text, StringComparison.Ordinal);
        Assert.Contains("b                scalar      hand-derived  ", text, StringComparison.Ordinal);
        Assert.EndsWith("PASSED", text.TrimEnd());

        // ∂E/∂w = −(y − ŷ)x from libtorch too, and the hand formula agrees with libtorch element by element.
        double yHat = 1 / (1 + Math.Exp(-(0.3 * x[0] - 0.1 * x[1] + 0.2)));
        Assert.Equal(-(1 - yHat) * x[0], report.Parameters[0].Torch[0], 14);
        Assert.All(report.Parameters, p => Assert.True(p.VersusHandDerived is { Passed: true }, text));
        Assert.Equal(report.Parameters[0].Torch[1], report.Parameters[0].HandDerived![1], 14);

        // One row per parameter and reference, each ending in its verdict.
        string[] lines = text.Split('\n');
        foreach (string name in new[] { "w", "b" })
        {
            foreach (string reference in new[] { "libtorch", "hand-derived" })
            {
                string row = Assert.Single(lines, l => l.StartsWith(name + " ", StringComparison.Ordinal) && l.Contains(reference, StringComparison.Ordinal));
                Assert.EndsWith("ok", row.TrimEnd(), StringComparison.Ordinal);
            }
        }
    }
}
