using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The fused model losses (Loss.LinearRegression, LogisticRegression, SoftmaxRegression) against libtorch's autograd
/// in float64, at 10⁻¹⁰ relative: the same model written directly in TorchSharp, with X, the weights, the bias and
/// (for the linear loss) the targets all requiring a gradient, at moderate and at extreme logits (|z| ≈ 10³ for the
/// logistic loss, 10⁴ for softmax); and the bridge's replay of the fused node.
/// </summary>
public sealed class ModelLossCrossCheckTests
{
    public static TheoryData<string, double> Cases() => new()
    {
        { "linear", 0 }, { "logistic", 0 }, { "softmax", 0 },
        { "linear", 50 }, { "logistic", 1e3 }, { "softmax", 1e4 },
    };

    private sealed record Data(int N, int D, int K, double[] X, double[] W, double[] B, double[] Y, int[] Labels);

    /// <summary>Deterministic data: X, W uniform in [−1, 1); the bias moved by ±<paramref name="shift"/> (alternating per class).</summary>
    private static Data Make(string kind, double shift, int seed = 17)
    {
        var rng = new Random(seed);
        int n = 60, d = 5, k = kind == "softmax" ? 4 : 1;
        double U() => 2 * rng.NextDouble() - 1;
        double[] x = [.. Enumerable.Range(0, n * d).Select(_ => U())];
        double[] w = [.. Enumerable.Range(0, d * k).Select(_ => U())];
        double[] b = [.. Enumerable.Range(0, k).Select(c => U() + (c % 2 == 0 ? shift : -shift))];
        double[] y = kind == "logistic" ? [.. Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble()))] : [.. Enumerable.Range(0, n).Select(_ => 3 * U())];
        int[] labels = [.. Enumerable.Range(0, n).Select(_ => rng.Next(k))];
        return new Data(n, d, k, x, w, b, y, labels);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_FusedModelLoss_EqualsHandWrittenTorchModelInValueAndEveryGradient(string kind, double shift)
    {
        TorchRuntime.EnsureLoaded();
        Data data = Make(kind, shift);

        // ---- this library: every input a parameter.
        var xp = MatrixParameter.FromRowMajor("X", data.N, data.D, (double[])data.X.Clone());
        var wp = kind == "softmax"
            ? (Parameter)MatrixParameter.FromRowMajor("W", data.D, data.K, (double[])data.W.Clone())
            : new VectorParameter("w", (double[])data.W.Clone());
        var bp = kind == "softmax" ? (Parameter)new VectorParameter("b", (double[])data.B.Clone()) : new ScalarParameter("b", data.B[0]);
        var yp = new VectorParameter("y", (double[])data.Y.Clone());
        var tape = new Tape();
        Matrix x = tape.Use(xp);
        Scalar loss = kind switch
        {
            "linear" => Loss.LinearRegression(x, tape.Use((VectorParameter)wp), tape.Use((ScalarParameter)bp), tape.Use(yp)),
            "logistic" => Loss.LogisticRegression(x, tape.Use((VectorParameter)wp), tape.Use((ScalarParameter)bp), data.Y),
            _ => Loss.SoftmaxRegression(x, tape.Use((MatrixParameter)wp), tape.Use((VectorParameter)bp), data.Labels),
        };
        loss.Backward();

        // ---- TorchSharp, written from the formulas (numbers through TorchScalars, which keeps their Scalars alive).
        using DisposeScope scope = NewDisposeScope();
        Tensor xt = tensor(data.X, [data.N, data.D], float64, requires_grad: true);
        Tensor wt = kind == "softmax" ? tensor(data.W, [data.D, data.K], float64, requires_grad: true) : tensor(data.W, float64, requires_grad: true);
        Tensor bt = kind == "softmax" ? tensor(data.B, float64, requires_grad: true) : tensor(data.B[0], float64, requires_grad: true);
        Tensor yt = tensor(data.Y, float64, requires_grad: kind == "linear");
        Tensor torchLoss = kind switch
        {
            // ½·mean((Xw + b − y)²)
            "linear" => TorchScalars.Mul(TorchScalars.Square(TorchScalars.Add(xt.mv(wt), bt).sub(yt)).mean(), 0.5),
            // mean BCE on the logits Xw + b
            "logistic" => F.binary_cross_entropy_with_logits(TorchScalars.Add(xt.mv(wt), bt), yt),
            // mean cross-entropy of XW + b
            _ => F.cross_entropy(TorchScalars.Add(xt.mm(wt), bt), tensor(data.Labels.Select(l => (long)l).ToArray(), int64)),
        };
        torchLoss.backward();

        AssertClose(torchLoss.item<double>(), loss.Value, "loss");
        AssertClose(xt.grad!.ToDoubleArray(), xp.Grad, "∂L/∂X");
        AssertClose(wt.grad!.ToDoubleArray(), wp.Grad, "∂L/∂w");
        AssertClose(bt.grad!.ToDoubleArray(), bp.Grad, "∂L/∂b");
        if (kind == "linear") AssertClose(yt.grad!.ToDoubleArray(), yp.Grad, "∂L/∂y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_FusedModelLoss_BridgeReplayMatches(string kind, double shift)
    {
        // The bridge replays the fused node as the composed TorchSharp expression and compares every gradient.
        TorchRuntime.EnsureLoaded();
        Data data = Make(kind, shift, seed: 29);
        var xp = MatrixParameter.FromRowMajor("X", data.N, data.D, (double[])data.X.Clone());
        if (kind == "softmax")
        {
            var w = MatrixParameter.FromRowMajor("W", data.D, data.K, (double[])data.W.Clone());
            var b = new VectorParameter("b", (double[])data.B.Clone());
            TorchCrossCheckReport report = TorchCrossCheck.Run(t => Loss.SoftmaxRegression(t.Use(xp), t.Use(w), t.Use(b), data.Labels), [xp, w, b]);
            Assert.True(report.Passed, report.ToString());
        }
        else
        {
            var w = new VectorParameter("w", (double[])data.W.Clone());
            var b = new ScalarParameter("b", data.B[0]);
            var y = new VectorParameter("y", (double[])data.Y.Clone());
            TorchCrossCheckReport report = kind == "linear"
                ? TorchCrossCheck.Run(t => Loss.LinearRegression(t.Use(xp), t.Use(w), t.Use(b), t.Use(y)), [xp, w, b, y])
                : TorchCrossCheck.Run(t => Loss.LogisticRegression(t.Use(xp), t.Use(w), t.Use(b), data.Y), [xp, w, b]);
            Assert.True(report.Passed, report.ToString());
        }
    }

    /// <summary>|expected − actual| ≤ 10⁻¹⁰·max(|expected|, |actual|) or ≤ 10⁻¹⁵.</summary>
    private static void AssertClose(double expected, double actual, string what)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(
            error <= 1e-15 || error <= 1e-10 * Math.Max(Math.Abs(expected), Math.Abs(actual)),
            $"{what}: expected {expected:G17}, got {actual:G17} (error {error:E2})");
    }

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++) AssertClose(expected[k], actual[k], $"{what}[{k}]");
    }
}
