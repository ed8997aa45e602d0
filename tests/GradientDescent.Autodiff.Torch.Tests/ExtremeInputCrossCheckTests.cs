using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Extreme but valid inputs, the conventions at non-differentiable points, and the places where libtorch computes
/// differently from this library (measured, and why the bridge's tolerance or mapping accounts for them).
/// </summary>
public sealed class ExtremeInputCrossCheckTests(ITestOutputHelper output)
{
    private static readonly double[] Logits = [1000, -1000, 745, -745, 40, -40, 20.5, -20.5, 0.5, -0.5, 0];
    private static readonly double[] HardLabels = [1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1];

    private static double[] Weights(int n) => Enumerable.Range(0, n).Select(k => 0.5 + (0.25 * k) * (k % 2 == 0 ? 1 : -1)).ToArray();

    /// <summary>Agreement to 10⁻¹⁰ relative with no absolute floor at all: tiny values must keep their digits.</summary>
    private static readonly TorchCrossCheckOptions RelativeOnly = new() { AbsoluteTolerance = 0 };

    public static TheoryData<string> StableOps() => ["Sigmoid", "Softplus", "LogSigmoid", "Tanh", "BceWithLogits"];

    [Theory]
    [MemberData(nameof(StableOps))]
    public void Run_StableOpAtLogitsUpToPlusMinus1000_MatchesTorch(string op)
    {
        TorchRuntime.EnsureLoaded();
        var z = new VectorParameter("z", Logits);

        // L = Σ cₖ·f(zₖ) (or the mean BCE on logits): finite values and gradients at ±1000, ±745 (where e^x
        // underflows) and ±40 (where 1 + e^−40 rounds to 1).
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector x = t.Use(z);
                Vector y = op switch
                {
                    "Sigmoid" => Ops.Sigmoid(x),
                    "Softplus" => Ops.Softplus(x),
                    "LogSigmoid" => Ops.LogSigmoid(x),
                    "Tanh" => Ops.Tanh(x),
                    _ => x,
                };
                return op == "BceWithLogits"
                    ? Loss.BinaryCrossEntropyWithLogits(x, t.Constant(HardLabels))
                    : Ops.Dot(y, t.Constant(Weights(Logits.Length)));
            },
            [z]);

        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Run_SoftmaxFamilyAtPlusMinus1e4_MatchesTorch()
    {
        TorchRuntime.EnsureLoaded();
        // Rows: a clear winner, a tie at the top, all equal, winner by 30 (e^−30 tail), mixed magnitudes.
        var x = new MatrixParameter("X", new double[,]
        {
            { 1e4, -1e4, 0 },
            { 1e4, 1e4, -1e4 },
            { -1e4, -1e4, -1e4 },
            { 1e4, 1e4 - 30, 1e4 - 60 },
            { 9999.5, -3.25, 1e4 },
        });
        int[] labels = [0, 1, 2, 0, 1];
        double[] w = Weights(15);

        // L = ⟨softmax(X), W⟩ + ⟨log-softmax(X), W⟩ + Σ lse(X)ᵢ·wᵢ + CE(X, labels) + CE(X₀, 1).
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Matrix xs = t.Use(x);
                Matrix weights = t.Constant(w, 5, 3);
                return Ops.Sum(Ops.Softmax(xs) * weights)
                    + Ops.Sum(Ops.LogSoftmax(xs) * weights)
                    + Ops.Dot(Ops.LogSumExp(xs), t.Constant(w[..5]))
                    + Loss.SoftmaxCrossEntropy(xs, labels)
                    + Loss.SoftmaxCrossEntropy(xs.Row(0), 1);
            },
            [x]);

        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Run_LogSoftmaxAndCrossEntropyOfAConfidentRow_AgreeRelativelyWithoutFloor()
    {
        TorchRuntime.EnsureLoaded();
        // x = (10⁴, 10⁴ − 30): log-softmax₀ = −ln(1 + e^−30) ≈ −9.4·10⁻¹⁴ and CE(x, 0) the same magnitude. Through
        // lse(x) = 10⁴ + 9.4·10⁻¹⁴, which rounds to 10⁴, both came out 0; shifting by the max first keeps every digit.
        var x = new VectorParameter("x", 1e4, 1e4 - 30);

        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t => Ops.Dot(Ops.LogSoftmax(t.Use(x)), t.Constant([1.0, 0.0])) - Loss.SoftmaxCrossEntropy(t.Use(x), 0), [x], RelativeOnly);

        // L = log-softmax₀ − CE(x, 0) = −2 ln(1 + e^−30); both sides round 1 + e^−30 to the same double, hence 10⁻¹⁵.
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(-2 * Log1P(Math.Exp(-30)), report.Loss, 1e-15);
        Assert.NotEqual(0.0, report.Loss);
    }

    [Fact]
    public void Run_BinaryCrossEntropyAtProbabilitiesExactly0And1_MatchesTorch()
    {
        TorchRuntime.EnsureLoaded();
        // p ∈ {0, 1} with agreeing labels: loss 0, gradient 0. Disagreeing: loss 100 (ln clamped at −100) and
        // gradient (p − y)/(N·ε), ε = 10⁻¹² as a float (PyTorch's constant), i.e. ∓1.0000000040·10¹²/N.
        var p = new VectorParameter("p", 0, 1, 0, 1, 0.5, 1e-10);
        double[] labels = [0, 1, 1, 0, 1, 0];

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Loss.BinaryCrossEntropy(t.Use(p), t.Constant(labels)), [p], RelativeOnly);

        Assert.True(report.Passed, report.ToString());
        ParameterComparison grad = report.Parameters[0];
        Assert.True(grad.Gradient.MaxRelative <= 1e-15, $"{grad.Gradient}"); // same clamps, same ε: to the last bits
        Assert.Equal(0.0, grad.Autodiff[0]);
        Assert.Equal(0.0, grad.Autodiff[1]);
        Assert.Equal(-1 / (6 * (double)1e-12f), grad.Autodiff[2], 1.0); // −1.666666673·10¹¹, not −1.666666667·10¹¹
        Assert.Equal(1 / (6 * (double)1e-12f), grad.Autodiff[3], 1.0);
        Assert.Equal((100 + 100 + Math.Log(2) + 1e-10) / 6, report.Loss, 1e-13);
    }

    [Fact]
    public void Run_TinyResultsOfTheStableOps_AgreeRelativelyWithoutFloor()
    {
        TorchRuntime.EnsureLoaded();
        // softplus(−40) = e^−40 ≈ 4.2·10⁻¹⁸, ln σ(40) = −e^−40, tanh(10⁻¹⁰) = 10⁻¹⁰ − 3·10⁻³¹, tanh(−10⁻²⁰) = −10⁻²⁰,
        // BCE(p = 10⁻¹⁰, y = 0) = −ln(1 − 10⁻¹⁰) ≈ 10⁻¹⁰, BCE on logit 40 with y = 1 = e^−40: each needs log1p or an
        // exact tanh to keep its digits (ln(1 + x) and a vectorised tanh lose them all).
        var z = new VectorParameter("z", -40, 40, 1e-10, -1e-20);
        var q = new ScalarParameter("q", 1e-10);

        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector x = t.Use(z);
                Scalar softplus = Ops.Softplus(x)[0], logSigmoid = Ops.LogSigmoid(x)[1];
                Vector tanh = Ops.Tanh(x);
                return softplus + logSigmoid + (tanh[2] * 1e-20) + tanh[3]
                    + Loss.BinaryCrossEntropy(t.Use(q), 0) + Loss.BinaryCrossEntropyWithLogits(x[1], 1);
            },
            [z, q],
            RelativeOnly);

        Assert.True(report.Passed, report.ToString());
        double[] values = [.. report.Nodes.Where(n => n.Op is OpKind.Softplus or OpKind.Tanh).Select(n => n.Value!.Value.Autodiff)];
        Assert.All(values, v => Assert.NotEqual(0.0, v));
    }

    [Fact]
    public void Run_NonDifferentiablePoints_FollowPyTorchConventions()
    {
        TorchRuntime.EnsureLoaded();
        // relu'(0) = 0; |x|' = 0 at 0; max(a, a) and min(a, a) give g/2 to each side; clamp passes g at its bounds
        // (x = lo, x = hi); max(x, c) and min(x, c) pass g where x = c; ∂(a^b)/∂b = 0 at a = 0, b ≥ 0.
        var x = new VectorParameter("x", 0, -1, 2, 1.5, -0.25);
        var a = new VectorParameter("a", 0, 0, 3);
        var b = new VectorParameter("b", 2, 0, 1.5);

        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector xs = t.Use(x), av = t.Use(a), bv = t.Use(b);
                Vector w = t.Constant(Weights(5));
                return Ops.Dot(Ops.Relu(xs), w) + Ops.Dot(Ops.Abs(xs), w)
                    + Ops.Dot(Ops.Max(xs, xs), w) + Ops.Dot(Ops.Min(xs, xs * 1.0), w)
                    + Ops.Dot(Ops.Clamp(xs, -1, 1.5), w) + Ops.Dot(Ops.Max(xs, 2), w) + Ops.Dot(Ops.Min(xs, -0.25), w)
                    + Ops.Sum(Ops.Pow(av, bv));
            },
            [x, a, b]);

        Assert.True(report.Passed, report.ToString());
    }

    // ---- where libtorch computes differently, measured ----

    [Fact]
    public void TorchSoftplus_AboveItsThreshold_IsOffByUpTo2e9_SoTheBridgeReplaysItExactly()
    {
        TorchRuntime.EnsureLoaded();
        // F.softplus(x) (beta 1, threshold 20) returns x itself for x > 20; the exact value is x + ln(1 + e^−x),
        // gradient σ(x). Over x ∈ (20, 40) the relative gradient error peaks just above 20 at e^−20 ≈ 2.1·10⁻⁹:
        // twenty times the tolerance. Hence TorchOpMap maps softplus to −logsigmoid(−x), which is exact.
        double[] xs = [20 + 1e-6, .. Enumerable.Range(1, 400).Select(k => 20 + (k * 0.05))];
        using DisposeScope scope = NewDisposeScope();
        Tensor x = tensor(xs, float64, requires_grad: true);
        NoScalarOverload.Softplus(x).sum().backward();
        double[] gradient = x.grad!.ToDoubleArray();

        double worst = xs.Select((v, k) => Math.Abs(gradient[k] - Sigmoid(v)) / Sigmoid(v)).Max();
        output.WriteLine($"F.softplus gradient vs σ(x) on (20, 40]: max relative error {worst:E3}");

        Assert.InRange(worst, 2.0e-9, 2.1e-9);
        var z = new VectorParameter("z", xs);
        Assert.True(TorchCrossCheck.Run(t => Ops.Sum(Ops.Softplus(t.Use(z))), [z]).Passed);
    }

    [Fact]
    public void TorchBceWithLogits_VeryNegativeLogitAndLabel0_LosesDigitsToCancellation_WithinTheFloor()
    {
        TorchRuntime.EnsureLoaded();
        // libtorch computes (1 − y)·z − ln σ(z), which for z ≪ 0 and y = 0 is z − (z − ln(1 + e^z)): the result
        // e^z-ish keeps only the digits that survive the ulp of |z|. This library's max(z, 0) − z·y + log1p(e^−|z|)
        // has no cancellation. The absolute difference stays under 10⁻¹⁴, far below the floor.
        double[] zs = [-5, -10, -15, -21.2954, -30, -36];
        using DisposeScope scope = NewDisposeScope();
        Tensor torchLoss = F.binary_cross_entropy_with_logits(tensor(zs, float64), zeros(zs.Length, float64), reduction: nn.Reduction.None);
        double[] torchValues = torchLoss.ToDoubleArray();

        double worstTorch = 0, worstCore = 0, worstAbs = 0;
        for (int k = 0; k < zs.Length; k++)
        {
            double exact = Log1P(Math.Exp(zs[k]));
            var tape = new Tape();
            double core = Loss.BinaryCrossEntropyWithLogits(tape.Constant(zs[k]), 0).Value;
            worstTorch = Math.Max(worstTorch, Math.Abs(torchValues[k] - exact) / exact);
            worstCore = Math.Max(worstCore, Math.Abs(core - exact) / exact);
            worstAbs = Math.Max(worstAbs, Math.Abs(torchValues[k] - core));
        }
        output.WriteLine($"BCE with logits, y = 0, z ∈ [−36, −5]: libtorch max relative error {worstTorch:E2}, this library {worstCore:E2}, max |difference| {worstAbs:E2}");

        Assert.True(worstCore < 1e-15, $"this library: {worstCore:E2}");
        Assert.True(worstTorch > 1e-10, $"libtorch: {worstTorch:E2}");
        Assert.True(worstAbs < 1e-14, $"difference: {worstAbs:E2}");
    }

    [Fact]
    public void TorchSigmoid_BelowMinus709_UnderflowsToZeroWhereThisLibraryKeepsSubnormals_WithinTheFloor()
    {
        TorchRuntime.EnsureLoaded();
        // libtorch's 1/(1 + e^−x) overflows e^−x for x < −709.78 and gives 0; e^x/(1 + e^x) keeps σ(−740) ≈ 4.2·10⁻³²².
        var z = new VectorParameter("z", -740, -720, -700);

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Ops.Sum(Ops.Sigmoid(t.Use(z))), [z]);
        NodeComparison sigmoid = report.Nodes.Single(n => n.Op == OpKind.Sigmoid);
        output.WriteLine($"σ(−740): this library {sigmoid.Value!.Value.Autodiff:G6}, libtorch {sigmoid.Value.Value.Torch:G6}");

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(1.0, sigmoid.Value.Value.MaxRelative);
        Assert.True(sigmoid.Value.Value.MaxAbsolute < 1e-300);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Log1P(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }
}

/// <summary>
/// The TorchSharp calls of these tests that take their numbers only as doubles, which TorchSharp 0.107 converts to
/// Scalars it never disposes (there is no overload taking a Scalar; see <see cref="TorchScalars"/>). Each runs once
/// in a test; the IL scan of these tests allows this type alone.
/// </summary>
internal static class NoScalarOverload
{
    /// <summary>F.softplus(x) with libtorch's defaults, beta 1 and threshold 20.</summary>
    internal static Tensor Softplus(Tensor x) => F.softplus(x);
}
