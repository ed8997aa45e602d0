using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The trigonometric, hyperbolic, rounding and activation ops and the statistics against libtorch's autograd
/// (float64, 10⁻¹⁰ relative): ordinary inputs, extreme ones, the conventions at non-differentiable points, and the
/// one place libtorch computes with fewer digits (GELU's lower tail).
/// </summary>
public sealed class ElementwiseAndStatisticsCrossCheckTests(ITestOutputHelper output)
{
    private static double[] Weights(int n) => [.. Enumerable.Range(0, n).Select(k => 0.5 + (0.25 * k) * (k % 2 == 0 ? 1 : -1))];

    /// <summary>Agreement to 10⁻¹⁰ relative with no absolute floor: tiny values must keep their digits on both sides.</summary>
    private static readonly TorchCrossCheckOptions RelativeOnly = new() { AbsoluteTolerance = 0 };

    /// <summary>Each op with inputs inside its domain (away from jumps, so the loss is smooth there).</summary>
    private static readonly Dictionary<string, (Func<Vector, Vector> F, double[] X)> Unary = new()
    {
        ["Sin"] = (Ops.Sin, [-3.7, -1.2, -0.3, 0, 0.4, 1.6, 3.1, 25]),
        ["Cos"] = (Ops.Cos, [-3.7, -1.2, -0.3, 0, 0.4, 1.6, 3.1, 25]),
        ["Tan"] = (Ops.Tan, [-1.5, -0.7, -1e-9, 0, 0.3, 1.2, 1.55]),
        ["Sinh"] = (Ops.Sinh, [-20, -2.5, -1e-8, 0, 0.7, 3, 20]),
        ["Cosh"] = (Ops.Cosh, [-20, -2.5, -1e-8, 0, 0.7, 3, 20]),
        ["Asin"] = (Ops.Asin, [-0.999, -0.6, -1e-9, 0, 0.25, 0.9, 0.999999]),
        ["Acos"] = (Ops.Acos, [-0.999, -0.6, -1e-9, 0, 0.25, 0.9, 0.999999]),
        ["Atan"] = (Ops.Atan, [-1e6, -30, -1, 0, 1e-9, 0.5, 2, 1e8]),
        ["Log10"] = (Ops.Log10, [1e-300, 1e-5, 0.3, 1, 7, 1e10, 1e300]),
        ["Log2"] = (Ops.Log2, [1e-300, 1e-5, 0.3, 1, 7, 1e10, 1e300]),
        ["Sign"] = (Ops.Sign, [-3, -1e-300, 0.5, 7]),
        ["Floor"] = (Ops.Floor, [-3.5, -0.2, 0.7, 2.9, 1e15 + 0.5]),
        ["Ceiling"] = (Ops.Ceiling, [-3.5, -0.2, 0.7, 2.9, 1e15 + 0.5]),
        ["Round"] = (Ops.Round, [-3.7, -0.2, 0.7, 2.2, 1e15 + 0.25]),
        ["LeakyRelu"] = (x => Ops.LeakyRelu(x), [-1e300, -3, -1e-9, 1e-9, 2, 1e300]),
        ["LeakyRelu(x, 0.3)"] = (x => Ops.LeakyRelu(x, 0.3), [-5, -0.5, 0.25, 4]),
        ["Elu"] = (x => Ops.Elu(x), [-800, -40, -3, -1e-10, 1e-10, 2, 1e300]),
        ["Elu(x, 1.7)"] = (x => Ops.Elu(x, 1.7), [-800, -3, -0.5, 0.25, 4]),
        ["Gelu"] = (Ops.Gelu, [-5, -2, -0.75, -1e-9, 0.3, 1.5, 6, 40, 1e300]),
        ["Silu"] = (Ops.Silu, [-700, -40, -3, -1e-9, 0.3, 1.5, 30, 700]),
    };

    public static TheoryData<string> UnaryOps() => [.. Unary.Keys];

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Run_UnaryOpIncludingExtremeInputs_MatchesTorch(string op)
    {
        TorchRuntime.EnsureLoaded();
        var (f, xs) = Unary[op];
        var x = new VectorParameter("x", xs);

        // L = Σ cₖ·f(xₖ) through the vector kernel (the scalar fast path has its own test below).
        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Ops.Dot(f(t.Use(x)), t.Constant(Weights(xs.Length))), [x]);

        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Run_UnaryOpsOnScalars_ScalarFastPathMatchesTorch()
    {
        TorchRuntime.EnsureLoaded();
        // One-element nodes take the scalar fast path in both directions (Elementwise.Unary, Tape.ScalarRule): every
        // new op chained on scalars, L = Σ f(s)·c, each op at a point inside its domain.
        var s = new ScalarParameter("s", 0.37);
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Scalar x = t.Use(s);
                Scalar[] ys =
                [
                    Ops.Sin(x), Ops.Cos(x), Ops.Tan(x), Ops.Sinh(x), Ops.Cosh(x), Ops.Asin(x), Ops.Acos(x), Ops.Atan(x),
                    Ops.Log10(x), Ops.Log2(x), Ops.Sign(x), Ops.Floor(x), Ops.Ceiling(x), Ops.Round(x),
                    Ops.LeakyRelu(x - 1), Ops.Elu(x - 1, 0.5), Ops.Gelu(x - 1), Ops.Silu(x - 1),
                ];
                Scalar loss = ys[0];
                for (int k = 1; k < ys.Length; k++) loss += ys[k] * (1 + 0.125 * k);
                return loss;
            },
            [s]);

        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Run_ConventionsAtNonDifferentiablePoints_FollowPyTorch()
    {
        TorchRuntime.EnsureLoaded();
        // At 0: sign′ = 0, leaky_relu′ = c (x > 0 ? 1 : c), elu′ = α (x ≤ 0 ? α·e^x : 1), gelu′ = silu′ = ½.
        // At the integers: floor′ = ceil′ = 0; at the half-integers: round′ = 0 (round 0.5 = 0, round 1.5 = 2).
        var z = new VectorParameter("z", 0, 0, 0);
        var n = new VectorParameter("n", -2, -1, 0, 1, 3);
        var h = new VectorParameter("h", -1.5, -0.5, 0.5, 1.5, 2.5);

        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector zs = t.Use(z), ns = t.Use(n), hs = t.Use(h);
                Vector w3 = t.Constant(Weights(3)), w5 = t.Constant(Weights(5));
                return Ops.Dot(Ops.Sign(zs), w3) + Ops.Dot(Ops.LeakyRelu(zs, 0.2), w3) + Ops.Dot(Ops.Elu(zs, 1.5), w3)
                    + Ops.Dot(Ops.Gelu(zs), w3) + Ops.Dot(Ops.Silu(zs), w3) + Ops.Dot(Ops.Elu(zs), w3)
                    + Ops.Dot(Ops.Floor(ns), w5) + Ops.Dot(Ops.Ceiling(ns), w5) + Ops.Dot(Ops.Round(ns), w5)
                    + Ops.Dot(Ops.Round(hs), w5) + Ops.Dot(Ops.Sign(hs), w5)
                    // Keep n and h on a gradient path that is not identically zero, so their gradients are compared as numbers.
                    + Ops.Sum(ns) * 1e-3 + Ops.Sum(hs) * 1e-3;
            },
            [z, n, h]);

        Assert.True(report.Passed, report.ToString());
        // Σ over z of c·(sign′ + leaky′ + elu′(α=1.5) + gelu′ + silu′ + elu′(α=1)) = c·(0 + 0.2 + 1.5 + 0.5 + 0.5 + 1).
        double[] w = Weights(3);
        Assert.Equal(w.Select(c => c * 3.7).ToArray(), report.Parameters[0].Autodiff, new ToleranceComparer(1e-15));
        Assert.All(report.Parameters[1].Autodiff, g => Assert.Equal(1e-3, g, 1e-18));
        Assert.All(report.Parameters[2].Autodiff, g => Assert.Equal(1e-3, g, 1e-18));
    }

    [Fact]
    public void Run_AsinAndAcosAtPlusMinusOne_InfiniteSlopesAgreeWithTorch()
    {
        TorchRuntime.EnsureLoaded();
        // arcsin′(±1) = +∞, arccos′(±1) = −∞ on both sides (libtorch: rsqrt(1 − x²) = rsqrt(0) = ∞).
        var x = new VectorParameter("x", 1, -1);
        TorchCrossCheckReport asin = TorchCrossCheck.Run(t => Ops.Sum(Ops.Asin(t.Use(x))), [x]);
        TorchCrossCheckReport acos = TorchCrossCheck.Run(t => Ops.Sum(Ops.Acos(t.Use(x))), [x]);

        Assert.True(asin.Passed, asin.ToString());
        Assert.True(acos.Passed, acos.ToString());
        Assert.Equal([double.PositiveInfinity, double.PositiveInfinity], asin.Parameters[0].Autodiff);
        Assert.Equal([double.NegativeInfinity, double.NegativeInfinity], acos.Parameters[0].Autodiff);
    }

    [Fact]
    public void Run_SinhCoshNearOverflow_MatchTorch()
    {
        TorchRuntime.EnsureLoaded();
        // sinh ±710, cosh ±710 ≈ ±1.117·10³⁰⁸: just inside the double range, values and slopes.
        var x = new VectorParameter("x", 710, -710, 700);
        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Ops.Dot(Ops.Sinh(t.Use(x)), t.Constant([1e-10, 1e-10, 1.0])), [x]);
        Assert.True(report.Passed, report.ToString());
        report = TorchCrossCheck.Run(t => Ops.Dot(Ops.Cosh(t.Use(x)), t.Constant([1e-10, -1e-10, 1.0])), [x]);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Run_TinyResults_AgreeRelativelyWithoutFloor()
    {
        TorchRuntime.EnsureLoaded();
        // elu(−10⁻¹⁰) = expm1(−10⁻¹⁰) (libtorch uses expm1 too), silu(−40) ≈ −1.7·10⁻¹⁶, gelu(−5) ≈ −1.4·10⁻⁶,
        // sin(10⁻²⁰), atan(10⁻²⁰), sinh(10⁻²⁰): every digit of a tiny result agrees, no absolute floor.
        var x = new VectorParameter("x", -1e-10, -40, -5, 1e-20);
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector v = t.Use(x);
                return Ops.Elu(v)[0] + Ops.Silu(v)[1] + Ops.Gelu(v)[2] + Ops.Sin(v)[3] + Ops.Atan(v)[3] + Ops.Sinh(v)[3];
            },
            [x],
            RelativeOnly);

        Assert.True(report.Passed, report.ToString());
    }

    // ---- GELU's lower tail: libtorch's ½(1 + erf(x/√2)) cancels ----

    [Fact]
    public void TorchGelu_LowerTail_CancelsWhereThisLibraryKeepsDigits_AgreesThroughTheFloor()
    {
        TorchRuntime.EnsureLoaded();
        // Exact values (mpmath, 50 digits): gelu(−8) = −4.976768459417427·10⁻¹⁵, gelu(−10) = −7.619853024160526·10⁻²³.
        // libtorch: −4.88·10⁻¹⁵ (2 % off) and 0. The difference is below 10⁻¹⁶ absolute: the bridge's floor accepts it,
        // and a relative-only check would not.
        double[] xs = [-8, -10];
        double[] exact = [-4.976768459417427e-15, -7.619853024160526e-23];
        using DisposeScope scope = NewDisposeScope();
        double[] torchValues = F.gelu(tensor(xs, float64)).ToDoubleArray();
        var tape = new Tape();
        double[] core = Ops.Gelu(tape.Constant(xs)).Value;
        output.WriteLine($"gelu(−8): exact {exact[0]:R}, this library {core[0]:R}, libtorch {torchValues[0]:R}");
        output.WriteLine($"gelu(−10): exact {exact[1]:R}, this library {core[1]:R}, libtorch {torchValues[1]:R}");

        for (int k = 0; k < xs.Length; k++) Assert.Equal(exact[k], core[k], Math.Abs(exact[k]) * 1e-14);
        Assert.True(Math.Abs(torchValues[0] - exact[0]) > 0.01 * Math.Abs(exact[0]), $"libtorch gelu(−8) = {torchValues[0]}");
        Assert.Equal(0.0, torchValues[1]);

        var x = new VectorParameter("x", xs);
        Assert.True(TorchCrossCheck.Run(t => Ops.Sum(Ops.Gelu(t.Use(x))), [x]).Passed);
        Assert.False(TorchCrossCheck.Run(t => Ops.Sum(Ops.Gelu(t.Use(x))), [x], RelativeOnly).Passed);
    }

    // ---- statistics ----

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e3)]
    public void Run_VarianceAndStandardDeviation_AllAxesBothCorrections_MatchTorch(double offset)
    {
        TorchRuntime.EnsureLoaded();
        // X is 4×3, plus an offset (a mean of 10³ costs neither side digits that matter); every statistic, weighted.
        double[,] data = { { 0.3, -1.2, 2.5 }, { 1.7, 0.4, -0.9 }, { -2.2, 1.1, 0.6 }, { 0.8, -0.5, 1.9 } };
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) data[i, j] += offset;
        var m = new MatrixParameter("X", data);
        var v = new VectorParameter("v", [0.5 + offset, -1.5 + offset, 2.25 + offset, 0.125 + offset]);

        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Matrix x = t.Use(m);
                Vector y = t.Use(v);
                Vector w3 = t.Constant(Weights(3)), w4 = t.Constant(Weights(4));
                return Ops.Variance(x) + 2 * Ops.PopulationVariance(x) + 3 * Ops.StandardDeviation(x) + 4 * Ops.PopulationStandardDeviation(x)
                    + Ops.Dot(Ops.Variance(x, 0), w3) + Ops.Dot(Ops.PopulationVariance(x, 0), w3)
                    + Ops.Dot(Ops.StandardDeviation(x, 0), w3) + Ops.Dot(Ops.PopulationStandardDeviation(x, 0), w3)
                    + Ops.Dot(Ops.Variance(x, 1), w4) + Ops.Dot(Ops.PopulationVariance(x, 1), w4)
                    + Ops.Dot(Ops.StandardDeviation(x, 1), w4) + Ops.Dot(Ops.PopulationStandardDeviation(x, 1), w4)
                    + Ops.Variance(y) * 0.5 + Ops.PopulationStandardDeviation(y) * 1.5;
            },
            [m, v]);

        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void TorchVarianceAlongADimension_LargeMean_LosesDigitsWhereTheTwoPassKeepsThem()
    {
        TorchRuntime.EnsureLoaded();
        // The 4×3 matrix above plus 10⁸ (each element rounded to a double), sample variance per column (dim 0). The
        // exact variance of those doubles (differences from the column's first element are exact, Sterbenz) against
        // both sides: libtorch's strided reduction (a Welford update) carries an error ∝ (mean/std)·ε, up to 6·10⁻⁹
        // relative here; the corrected two-pass keeps every digit.
        double[,] data = { { 0.3, -1.2, 2.5 }, { 1.7, 0.4, -0.9 }, { -2.2, 1.1, 0.6 }, { 0.8, -0.5, 1.9 } };
        double[] flat = [.. data.Cast<double>().Select(v => v + 1e8)];
        using DisposeScope scope = NewDisposeScope();
        double[] torchValues = tensor(flat, float64).reshape(4, 3).var(0L, unbiased: true, keepdim: false).ToDoubleArray();
        var tape = new Tape();
        double[] core = Ops.Variance(tape.Constant(flat, 4, 3), 0).Value;

        double worstTorch = 0, worstCore = 0;
        for (int j = 0; j < 3; j++)
        {
            double[] d = [.. Enumerable.Range(0, 4).Select(i => flat[i * 3 + j] - flat[j])];
            double dm = d.Average();
            double exact = d.Sum(v => (v - dm) * (v - dm)) / 3;
            worstTorch = Math.Max(worstTorch, Math.Abs(torchValues[j] - exact) / exact);
            worstCore = Math.Max(worstCore, Math.Abs(core[j] - exact) / exact);
        }
        output.WriteLine($"per-column variance at mean 10⁸: max relative error libtorch {worstTorch:E2}, this library {worstCore:E2}");

        Assert.True(worstCore < 1e-15, $"this library: {worstCore:E2}");
        Assert.True(worstTorch > 1e-10, $"libtorch: {worstTorch:E2}");
    }

    [Fact]
    public void TorchSharpVarWithoutDimension_IgnoresUnbiased_SoTheBridgeReducesOverDimensionZero()
    {
        TorchRuntime.EnsureLoaded();
        // TorchSharp 0.107: Tensor.var(unbiased: false) returns the unbiased variance. 1, 2, 4, 8 (mean 3.75, Σd² = 28.75):
        // sample 28.75/3, population 28.75/4. The bridge's x.reshape(-1).var(0, unbiased) gives both right.
        using DisposeScope scope = NewDisposeScope();
        Tensor x = tensor(new double[] { 1, 2, 4, 8 }, float64);
        Assert.Equal(28.75 / 3, x.var(unbiased: false).item<double>(), 1e-15);
        Assert.Equal(28.75 / 4, x.reshape(-1).var(0L, unbiased: false, keepdim: false).item<double>(), 1e-15);
        var p = new VectorParameter("x", 1, 2, 4, 8);
        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Ops.PopulationVariance(t.Use(p)), [p]);
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(28.75 / 4, report.Loss, 1e-15);
    }

    [Fact]
    public void Run_StandardDeviationOfEqualElements_ZeroGradientAsTorch()
    {
        TorchRuntime.EnsureLoaded();
        // s = 0: libtorch's std_backward masks the 0/0 to 0; so does this rule (whole, per row, per column).
        var m = new MatrixParameter("X", new double[,] { { 0.1, 0.1, 0.1 }, { 0.1, 2, 3 } });
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Matrix x = t.Use(m);
                Matrix equal = Ops.Reshape(Ops.Flatten(x)[0] * t.Constant([1.0, 1.0, 1.0, 1.0]), 2, 2);
                return Ops.Sum(Ops.StandardDeviation(x, 1)) + Ops.Sum(Ops.PopulationStandardDeviation(x, 0))
                    + Ops.StandardDeviation(equal) + Ops.Sum(Ops.StandardDeviation(equal, 0));
            },
            [m]);

        Assert.True(report.Passed, report.ToString());
        Assert.All(report.Parameters[0].Autodiff, g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void Run_SumsOfLongOutputsAddedUpAsWritten_MatchTorch()
    {
        TorchRuntime.EnsureLoaded();
        // Above 2¹⁹ elements + − × ÷, −x, x + c, c·x, x² and relu add up their output as they write it, and the Σ or
        // mean right after takes that number (StreamSum): each term below goes that way. Loss and both gradients
        // against libtorch's, 10⁻¹⁰ relative (the sums of 5·10⁵ terms differ from libtorch's order by about 10⁻¹⁴).
        const int n = (1 << 19) + 1_001;
        var rng = new Random(29);
        var a = new VectorParameter("a", [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2)]);
        var b = new VectorParameter("b", [.. Enumerable.Range(0, n).Select(_ => 0.5 + rng.NextDouble())]);
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector x = t.Use(a), y = t.Use(b);
                Scalar loss = Ops.Mean(x + y);
                loss += Ops.Mean(x - y);
                loss += Ops.Mean(x * y);
                loss += Ops.Mean(x / y);
                loss += Ops.Sum(-x) / n;
                loss += Ops.Mean(x + 0.5);
                loss += Ops.Sum(3.0 * x) / n;
                loss += Ops.Mean(Ops.Square(x));
                loss += Ops.Mean(Ops.Relu(x));
                return loss;
            },
            [a, b]);

        Assert.True(report.Passed, report.ToString());
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));
        public int GetHashCode(double obj) => 0;
    }
}
