using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Extreme inputs for every op documented as stable: finite values and gradients, and the right limits.
/// </summary>
/// <remarks>
/// Each op is run on a scalar and on a vector (the vector path is a separate kernel), and where it applies on a
/// matrix. Limits are exact in float64 at these magnitudes (e^−1000 underflows to 0, 1 + e^−1000 rounds to 1), so
/// most expectations are exact equalities.
/// </remarks>
public class StabilityTests
{
    private static (double[] Value, double[] Grad) Run(double[] x, Func<Vector, Vector> f, double[]? seed = null)
    {
        var p = new VectorParameter("x", x);
        var t = new Tape();
        Vector y = f(t.Use(p));
        y.Backward(seed ?? [.. x.Select(_ => 1.0)]);
        return (y.Value, p.Grad);
    }

    private static (double Value, double Grad) RunScalar(double x, Func<Scalar, Scalar> f)
    {
        var p = new ScalarParameter("x", x);
        var t = new Tape();
        Scalar y = f(t.Use(p));
        y.Backward();
        return (y.Value, p.Grad);
    }

    [Theory]
    [InlineData(1000.0, 1.0, 0.0)]
    [InlineData(-1000.0, 0.0, 0.0)]
    [InlineData(40.0, 1.0, 4.248354255291589e-18)]
    [InlineData(-40.0, 4.248354255291589e-18, 4.248354255291589e-18)]
    public void Sigmoid_ExtremeInput_FiniteWithCorrectLimit(double x, double value, double grad)
    {
        // σ(x) = 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) for x < 0: never e^1000. σ' = σ(1 − σ), from the output
        // as PyTorch does: at x = 40, σ rounds to 1 and σ' to 0 (true value 4.2·10⁻¹⁸), an absolute error below 10⁻¹⁷;
        // at x = −40 both keep their digits.
        var (v, g) = RunScalar(x, Ops.Sigmoid);
        Approx.Equal(value, v, 1e-15, 0, "σ");
        Approx.Equal(grad, g, 1e-12, 1e-17, "σ'");
        if (x < 0) Approx.Equal(grad, g, 1e-12, 0, "σ' keeps its digits for x < 0");
        var (vv, gv) = Run([x, -x], Ops.Sigmoid);
        Approx.Equal(value, vv[0], 1e-15, 0, "σ (vector)");
        Approx.Equal(Reference.Sigmoid(-x), vv[1], 1e-15, 0, "σ(−x) (vector)");
        Approx.Finite(gv, "σ' (vector)");
    }

    [Theory]
    [InlineData(1000.0, 1000.0, 1.0)]
    [InlineData(-1000.0, 0.0, 0.0)]
    public void Softplus_ExtremeInput_FiniteWithCorrectLimit(double x, double value, double grad)
    {
        // softplus x = max(x, 0) + ln(1 + e^−|x|) → x for x → ∞ (slope 1), → 0 for x → −∞ (slope 0).
        var (v, g) = RunScalar(x, Ops.Softplus);
        Assert.Equal(value, v);
        Assert.Equal(grad, g);
        var (vv, gv) = Run([x, -x], Ops.Softplus);
        Assert.Equal(value, vv[0]);
        Assert.Equal(value == 0 ? -x : 0, vv[1]);
        Assert.Equal([grad, 1 - grad], gv);
    }

    [Theory]
    [InlineData(-40.0)]
    [InlineData(-100.0)]
    [InlineData(-700.0)]
    public void Softplus_LargeNegativeInput_KeepsRelativePrecision(double x)
    {
        // softplus x = ln(1 + e^x) ≈ e^x for x ≪ 0, a tiny but representable number (e^−40 ≈ 4.2·10⁻¹⁸,
        // e^−700 ≈ 9.9·10⁻³⁰⁵). Computing ln(1 + e^x) literally rounds 1 + e^x to 1 and returns 0, and then
        // ln(softplus x) — the log of a softplus-parameterised positive quantity — is −∞ instead of ≈ x.
        var (v, g) = RunScalar(x, Ops.Softplus);
        Approx.Equal(Math.Exp(x), v, 1e-14, 0, "softplus");
        Approx.Equal(Math.Exp(x), g, 1e-14, 0, "softplus' = σ");
        var (logV, logG) = RunScalar(x, s => Ops.Log(Ops.Softplus(s)));
        Approx.Equal(x, logV, 1e-14, 0, "ln softplus x");
        Approx.Equal(1.0, logG, 1e-14, 0, "d ln softplus x / dx = σ(x)/softplus(x) → 1");
        var (vv, _) = Run([x], Ops.Softplus);
        Approx.Equal(Math.Exp(x), vv[0], 1e-14, 0, "softplus (vector)");
    }

    [Theory]
    [InlineData(1000.0, 0.0, 0.0)]
    [InlineData(-1000.0, -1000.0, 1.0)]
    [InlineData(40.0, -4.248354255291589e-18, 4.248354255291589e-18)]
    public void LogSigmoid_ExtremeInput_FiniteWithCorrectLimit(double x, double value, double grad)
    {
        // ln σ(x) = −softplus(−x): → 0 for x → ∞, → x for x → −∞; d/dx = 1 − σ(x) = σ(−x).
        // Computed naively, ln σ(−1000) = ln 0 = −∞.
        var (v, g) = RunScalar(x, Ops.LogSigmoid);
        Approx.Equal(value, v, 1e-14, 0, "ln σ");
        Approx.Equal(grad, g, 1e-14, 0, "(ln σ)'");
        var (vv, gv) = Run([x], Ops.LogSigmoid);
        Approx.Equal(value, vv[0], 1e-14, 0, "ln σ (vector)");
        Approx.Equal(grad, gv[0], 1e-14, 0, "(ln σ)' (vector)");
    }

    [Theory]
    [InlineData(1000.0, 1.0, 0.0, 0.0)]
    [InlineData(1000.0, 0.0, 1000.0, 1.0)]
    [InlineData(-1000.0, 1.0, 1000.0, -1.0)]
    [InlineData(-1000.0, 0.0, 0.0, 0.0)]
    public void BinaryCrossEntropyWithLogits_ExtremeLogit_FiniteWithCorrectLimit(double z, double y, double loss, double grad)
    {
        // ℓ = max(z, 0) − z·y + ln(1 + e^−|z|), ∂ℓ/∂z = σ(z) − y. A confident right answer costs 0 with slope 0;
        // a confident wrong one costs |z| with slope ±1. Naively, ln σ(−1000) = ln 0 = −∞.
        var (v, g) = RunScalar(z, s => Loss.BinaryCrossEntropyWithLogits(s, y));
        Assert.Equal(loss, v);
        Assert.Equal(grad, g);

        // Vector form [z, −z] with labels [y, y]: exactly one element is confidently wrong, so the mean loss is
        // |z|/2 and the gradient, (σ(zₖ) − yₖ)/N, is ±½ on that element and 0 on the other.
        var p = new VectorParameter("z", z, -z);
        var t = new Tape();
        Scalar l = Loss.BinaryCrossEntropyWithLogits(t.Use(p), t.Constant([y, y]));
        l.Backward();
        Assert.Equal(Math.Abs(z) / 2, l.Value);
        Assert.Equal(grad / 2, p.Grad[0]);
        Assert.Equal(0.5, Math.Abs(p.Grad[0]) + Math.Abs(p.Grad[1]));
    }

    [Fact]
    public void BinaryCrossEntropy_ProbabilityAtExactlyZeroAndOne_FiniteLossAndZeroGradWhereRight()
    {
        // PyTorch's clamps: ln is floored at −100, and the gradient is (p − y)/max(p(1 − p), ε) with PyTorch's
        // ε = 1e-12f, a float (9.999999960041972·10⁻¹³ as a double), so a saturated gradient is ±1/ε ≈ ±1.000000004·10¹².
        // p = y ∈ {0, 1}: loss 0, gradient exactly 0 (the 0/ε of a perfect prediction).
        const double eps = 1e-12f;
        foreach (var (p, y, loss, grad) in new[] { (0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 0.0, 0.0), (0.0, 1.0, 100.0, -1 / eps), (1.0, 0.0, 100.0, 1 / eps) })
        {
            var q = new ScalarParameter("p", p);
            var t = new Tape();
            Scalar l = Loss.BinaryCrossEntropy(t.Use(q), y);
            l.Backward();
            Assert.Equal(loss, l.Value);
            Assert.Equal(grad, q.Grad);
        }

        // Vector: mean of [0, 0, 100, 100] = 50, gradient per element divided by N = 4.
        var v = new VectorParameter("p", 0.0, 1.0, 0.0, 1.0);
        var tv = new Tape();
        Scalar lv = Loss.BinaryCrossEntropy(tv.Use(v), tv.Constant([0.0, 1.0, 1.0, 0.0]));
        lv.Backward();
        Assert.Equal(50.0, lv.Value);
        Assert.Equal([0.0, 0.0, -0.25 / eps, 0.25 / eps], v.Grad);
    }

    [Fact]
    public void BinaryCrossEntropy_OfSaturatedSigmoid_ChainGivesZeroNotNaN()
    {
        // σ(±1000) is exactly 1 or 0; BCE's gradient there is finite (≤ 10¹²), times σ' = 0 gives 0, not ∞·0 = NaN.
        var z = new VectorParameter("z", 1000.0, -1000.0);
        var t = new Tape();
        Scalar l = Loss.BinaryCrossEntropy(Ops.Sigmoid(t.Use(z)), t.Constant([1.0, 0.0]));
        l.Backward();
        Assert.Equal(0.0, l.Value);
        Assert.Equal([0.0, 0.0], z.Grad);

        // A confident wrong prediction: the loss is the clamp, 100 per element, and still no NaN.
        var w = new VectorParameter("z", 1000.0, -1000.0);
        var t2 = new Tape();
        Scalar wrong = Loss.BinaryCrossEntropy(Ops.Sigmoid(t2.Use(w)), t2.Constant([0.0, 1.0]));
        wrong.Backward();
        Assert.Equal(100.0, wrong.Value);
        Approx.Finite(w.Grad, "∂ℓ/∂z");
    }

    [Fact]
    public void Softmax_LogitsOfPlusMinusTenThousand_ExactProbabilitiesNoNaN()
    {
        // softmax(x) = e^(x − max x)/Σ: the largest exponent is 0, so ±10⁴ neither overflows nor gives ∞/∞.
        double[] x = [1e4, -1e4, 0];
        var (y, g) = Run(x, Ops.Softmax, seed: [1, 2, 3]);
        Assert.Equal([1.0, 0.0, 0.0], y);
        Approx.Finite(g, "∂/∂x");
        // ∂L/∂xₖ = yₖ(gₖ − g·y) = [1·(1 − 1), 0, 0] = 0.
        Assert.Equal([0.0, 0.0, 0.0], g);

        // Two tied maxima share the mass exactly.
        var (tied, tg) = Run([1e4, 1e4, -1e4], Ops.Softmax, seed: [1, 0, 0]);
        Assert.Equal([0.5, 0.5, 0.0], tied);
        Assert.Equal([0.25, -0.25, 0.0], tg); // y₀(1 − y₀), −y₁y₀, 0

        // Row-wise on a matrix.
        var m = new MatrixParameter("X", new double[,] { { 1e4, 0 }, { -1e4, -1e4 } });
        var t = new Tape();
        Matrix sm = Ops.Softmax(t.Use(m));
        Assert.Equal([1.0, 0, 0.5, 0.5], sm.Value);
        Ops.Sum(sm * t.Constant(new double[,] { { 1, 2 }, { 3, 4 } })).Backward();
        Approx.Finite(m.Grad, "∂/∂X");
    }

    [Fact]
    public void LogSoftmax_LogitsOfPlusMinusTenThousand_FiniteExactValues()
    {
        // log-softmax x = x − lse(x), lse([10⁴, −10⁴, 0]) = 10⁴ exactly in float64 (e^−10⁴ vanishes).
        var (y, g) = Run([1e4, -1e4, 0], Ops.LogSoftmax, seed: [1, 1, 1]);
        Assert.Equal([0.0, -2e4, -1e4], y);
        // ∂L/∂xₖ = gₖ − softmaxₖ Σ g = [1 − 3, 1, 1].
        Assert.Equal([-2.0, 1.0, 1.0], g);

        var m = new MatrixParameter("X", new double[,] { { -1e4, 1e4 }, { 1e4, 1e4 } });
        var t = new Tape();
        Matrix ls = Ops.LogSoftmax(t.Use(m));
        Approx.Equal([-2e4, 0, -Math.Log(2), -Math.Log(2)], ls.Value, 1e-15, 0);
    }

    [Fact]
    public void LogSumExp_LogitsOfPlusMinusTenThousand_EqualsMaxPlusLogCount()
    {
        // The gradient is e^(xₖ − lse) (PyTorch's formula too); lse = 10⁴ + ln 2 is rounded to the ulp of 10⁴
        // (1.8·10⁻¹²), which carries into the softmax weights: ½ within 10⁻¹² relative, not exactly.
        var (v, g) = RunScalarVector([1e4, -1e4, 1e4], Ops.LogSumExp);
        Approx.Equal(1e4 + Math.Log(2), v, 1e-15, 0);
        Approx.Equal([0.5, 0.0, 0.5], g, 1e-12, 0);

        var (vNeg, gNeg) = RunScalarVector([-1e4, -1e4], Ops.LogSumExp);
        Approx.Equal(-1e4 + Math.Log(2), vNeg, 1e-15, 0);
        Approx.Equal([0.5, 0.5], gNeg, 1e-12, 0);

        var m = new MatrixParameter("X", new double[,] { { 1e4, -1e4 }, { -1e4, -1e4 } });
        var t = new Tape();
        Vector rows = Ops.LogSumExp(t.Use(m));
        Approx.Equal([1e4, -1e4 + Math.Log(2)], rows.Value, 1e-15, 0);
        rows.Backward([1.0, 2.0]);
        Approx.Equal([1.0, 0.0, 1.0, 1.0], m.Grad, 1e-12, 0);
    }

    private static (double Value, double[] Grad) RunScalarVector(double[] x, Func<Vector, Scalar> f)
    {
        var p = new VectorParameter("x", x);
        var t = new Tape();
        Scalar y = f(t.Use(p));
        y.Backward();
        return (y.Value, p.Grad);
    }

    [Fact]
    public void SoftmaxFamily_MinusInfinityMask_ZeroProbabilityAndFiniteGradients()
    {
        // −∞ logits mask classes out (attention masks): e^−∞ = 0 exactly, and nothing becomes ∞ − ∞ = NaN.
        // lse: −∞ for all −∞, +∞ if any +∞ (as documented), and the masked entry does not count otherwise.
        var t = new Tape();
        Assert.Equal(double.NegativeInfinity, Ops.LogSumExp(t.Constant([double.NegativeInfinity, double.NegativeInfinity])).Value);
        Assert.Equal(double.PositiveInfinity, Ops.LogSumExp(t.Constant([double.PositiveInfinity, 1.0])).Value);
        Approx.Equal(Math.Log(2), Ops.LogSumExp(t.Constant([0.0, double.NegativeInfinity, 0.0])).Value, 1e-15, 0);

        var p = new VectorParameter("x", 0.5, double.NegativeInfinity, -0.5);
        var t2 = new Tape();
        Vector x = t2.Use(p);
        Vector sm = Ops.Softmax(x);
        Vector ls = Ops.LogSoftmax(x);
        Assert.Equal(0.0, sm.Value[1]);
        Assert.Equal(double.NegativeInfinity, ls.Value[1]);
        Approx.Equal(1.0, sm.Value[0] + sm.Value[2], 1e-15, 0);
        Scalar loss = Ops.Dot(sm, t2.Constant([1.0, 2.0, 3.0])) + Loss.SoftmaxCrossEntropy(x, 0) + ls[2];
        Assert.True(double.IsFinite(loss.Value));
        loss.Backward();
        Approx.Finite(p.Grad, "∂L/∂x");
        Assert.Equal(0.0, p.Grad[1]);
    }

    [Fact]
    public void SoftmaxCrossEntropy_LogitsOfPlusMinusTenThousand_CorrectLossAndGradient()
    {
        // ℓ = lse(x) − x[label]: the right class at 10⁴ costs 0; a class at −10⁴ costs 2·10⁴.
        var (right, gRight) = RunScalarVector([1e4, -1e4, 0], x => Loss.SoftmaxCrossEntropy(x, 0));
        Assert.Equal(0.0, right);
        Assert.Equal([0.0, 0.0, 0.0], gRight);

        var (wrong, gWrong) = RunScalarVector([1e4, -1e4, 0], x => Loss.SoftmaxCrossEntropy(x, 1));
        Assert.Equal(2e4, wrong);
        Assert.Equal([1.0, -1.0, 0.0], gWrong); // softmax − one-hot

        // Batch: mean over rows, gradient divided by the batch size.
        var m = new MatrixParameter("X", new double[,] { { 1e4, -1e4 }, { -1e4, 1e4 } });
        var t = new Tape();
        Scalar l = Loss.SoftmaxCrossEntropy(t.Use(m), [0, 0]);
        l.Backward();
        Assert.Equal(1e4, l.Value); // (0 + 2·10⁴)/2
        Assert.Equal([0.0, 0.0, -0.5, 0.5], m.Grad);
    }

    [Theory]
    [InlineData(1000.0)]
    [InlineData(-1000.0)]
    [InlineData(20.0)]
    public void Tanh_ExtremeInput_SaturatesWithZeroSlope(double x)
    {
        // tanh → ±1, d/dx = 1 − tanh² → 0; no e^2000 on the way.
        var (v, g) = RunScalar(x, Ops.Tanh);
        Assert.Equal(Math.Sign(x), v, 15);
        Assert.True(g >= 0 && g < 1e-16, $"tanh'({x}) = {g}");
        var (vv, gv) = Run([x, -x, 0], Ops.Tanh);
        Assert.Equal([Math.Sign(x), -Math.Sign(x), 0.0], vv.Select(e => Math.Round(e, 15)).ToArray());
        Approx.Finite(gv, "tanh' (vector)");
        Assert.Equal(1.0, gv[2]);
    }

    [Fact]
    public void NaN_ThroughReluAndMaxAndClamp_PropagatesInsteadOfVanishing()
    {
        // relu x = max(x, 0): a NaN must come out NaN (as from Ops.Max and PyTorch's relu), never 0, or a diverged
        // computation would look finite downstream.
        var t = new Tape();
        Vector x = t.Constant([double.NaN, -1.0, 2.0]);
        foreach (Vector y in new[] { Ops.Relu(x), Ops.Max(x, 0.0), Ops.Min(x, 0.0), Ops.Clamp(x, -0.5, 0.5) })
        {
            Assert.True(double.IsNaN(y.Value[0]), $"{y}: {y.Value[0]}");
        }
        Assert.True(double.IsNaN(Ops.Relu(t.Constant(double.NaN)).Value));
        Assert.Equal([0.0, 2.0], Ops.Relu(x).Value[1..]);
    }

    [Fact]
    public void Exp_LargeNegativeInput_UnderflowsToZeroWithZeroGradient()
    {
        var (v, g) = RunScalar(-1000, Ops.Exp);
        Assert.Equal(0.0, v);
        Assert.Equal(0.0, g);
        var (vv, gv) = Run([-1000, 0], Ops.Exp);
        Assert.Equal([0.0, 1.0], vv);
        Assert.Equal([0.0, 1.0], gv);
    }

    // ---------------------------------------------------------------- trigonometric, hyperbolic, activations
    // Pinned values: mpmath 1.3.0 at 50 digits (x·ncdf(x), ncdf(x) + x·npdf(x), x·σ(x), σ(x)(1 + x(1 − σ(x))),
    // expm1, e^x), rounded to the nearest double.

    [Theory]
    [InlineData(-38.0, -1.096462777e-314, -4.1665545693e-313)]
    [InlineData(-30.0, -1.472014178144456e-196, -4.416031690708495e-195)]
    [InlineData(-10.0, -7.619853024160526e-23, -7.618400096464814e-22)]
    [InlineData(-8.0, -4.976768459417427e-15, -3.979607261086796e-14)]
    [InlineData(-5.0, -1.4332578593959695e-06, -7.146946001792295e-06)]
    [InlineData(-1.0, -0.15865525393145705, -0.0833154705876863)]
    [InlineData(-0.5, -0.15426876936299344, 0.13250487534383715)]
    [InlineData(0.5, 0.34573123063700656, 0.8674951246561629)]
    [InlineData(1.0, 0.8413447460685429, 1.0833154705876864)]
    [InlineData(3.0, 2.99595030590511, 1.011945647204184)]
    [InlineData(10.0, 10.0, 1.0)]
    [InlineData(40.0, 40.0, 1.0)]
    public void Gelu_FarTails_KeepRelativeDigits(double x, double value, double grad)
    {
        // gelu x = x·Φ(x): in the lower tail Φ comes from erfc, not ½(1 + erf), which cancels to 0 below x ≈ −8.3
        // (PyTorch's gelu(−10) is 0); gelu′ = Φ(x) + x·φ(x). At −38 both are subnormal: Φ(−38) ≈ 2.9·10⁻³¹⁶ carries
        // an absolute rounding of half the smallest subnormal, 2.5·10⁻³²⁴, which ×38 is the 10⁻³²² allowed there.
        double abs = Math.Abs(value) < 1e-300 ? 1e-322 : 0;
        var (v, g) = RunScalar(x, Ops.Gelu);
        Approx.Equal(value, v, 1e-14, abs, $"gelu({x})");
        Approx.Equal(grad, g, 1e-14, abs, $"gelu′({x})");
        var (vv, gv) = Run([x], Ops.Gelu);
        Assert.Equal(v, vv[0]);
        Assert.Equal(g, gv[0]);
    }

    [Theory]
    [InlineData(-740.0, -3.09967e-319, -3.09547e-319)]
    [InlineData(-700.0, -6.90177358063184e-302, -6.891913904088079e-302)]
    [InlineData(-40.0, -1.6993417021166355e-16, -1.6568581595637197e-16)]
    [InlineData(-1.0, -0.2689414213699951, 0.07232948812851327)]
    [InlineData(1.0, 0.7310585786300049, 0.9276705118714867)]
    [InlineData(30.0, 29.999999999997193, 1.0000000000027136)]
    [InlineData(40.0, 40.0, 1.0000000000000002)]
    [InlineData(700.0, 700.0, 1.0)]
    public void Silu_ExtremeInput_FiniteAndAccurate(double x, double value, double grad)
    {
        // silu x = x·σ(x): for x ≪ 0, x/(1 + e^−x) overflows e^−x past x = −709.8 and gives 0, where x·e^x/(1 + e^x)
        // keeps its digits while e^x is normal (−700) and is still the right subnormal at −740, to within 740 times
        // the rounding of the subnormal σ(−740) ≈ 4.2·10⁻³²²; silu′ = σ(x)(1 + x·σ(−x)) keeps its digits at x = 30.
        double abs = Math.Abs(value) < 1e-300 ? 740 * 4.95e-324 : 0;
        var (v, g) = RunScalar(x, Ops.Silu);
        Approx.Equal(value, v, 1e-14, abs, $"silu({x})");
        Approx.Equal(grad, g, 1e-14, abs, $"silu′({x})");
        Assert.True(v < 0 == x < 0 && v != 0, $"silu({x}) = {v} has the sign of x and is not 0");
        var (vv, gv) = Run([x], Ops.Silu);
        Assert.Equal(v, vv[0]);
        Assert.Equal(g, gv[0]);
    }

    [Theory]
    [InlineData(-1e-10, -9.999999999500001e-11, 0.9999999999)]
    [InlineData(-1e-05, -9.999950000166666e-06, 0.9999900000499998)]
    [InlineData(-1.0, -0.6321205588285577, 0.36787944117144233)]
    [InlineData(-40.0, -1.0, 4.248354255291589e-18)]
    [InlineData(-800.0, -1.0, 0.0)]
    [InlineData(1e300, 1e300, 1.0)]
    public void Elu_ExtremeInput_AccurateNearZeroAndSaturatesToMinusAlpha(double x, double value, double grad)
    {
        // elu x = α(e^x − 1) for x ≤ 0 with an accurate expm1 (e^x − 1 computed literally is wrong in the 7th digit
        // at x = −10⁻¹⁰); → −α for x → −∞, slope α·e^x → 0. With α = 2 everything doubles.
        var (v, g) = RunScalar(x, s => Ops.Elu(s));
        Approx.Equal(value, v, 1e-15, 0, $"elu({x})");
        Approx.Equal(grad, g, 1e-15, 0, $"elu′({x})");
        var (vv, gv) = Run([x], s => Ops.Elu(s, 2));
        Approx.Equal(x > 0 ? value : 2 * value, vv[0], 1e-15, 0, $"elu({x}, α = 2)");
        Approx.Equal(x > 0 ? grad : 2 * grad, gv[0], 1e-15, 0, $"elu′({x}, α = 2)");
    }

    [Theory]
    [InlineData(-1e300, -1e298)]
    [InlineData(1e300, 1e300)]
    public void LeakyRelu_HugeInput_LinearOnBothSides(double x, double value)
    {
        var (v, g) = RunScalar(x, s => Ops.LeakyRelu(s));
        Assert.Equal(value, v, 1e285);
        Assert.Equal(x > 0 ? 1.0 : 0.01, g);
    }

    [Fact]
    public void SinhAndCosh_LargeInput_OverflowOnlyPastTheDoubleRange()
    {
        // sinh 710 = cosh 710 ≈ 1.117·10³⁰⁸ (just below double.MaxValue), finite with finite slopes; at 711 both
        // overflow to ∞, as Math.Sinh and torch.sinh do; sinh is odd, cosh even.
        const double big = 1.1169973830808555e308;
        var (vs, gs) = Run([710, -710], Ops.Sinh);
        Approx.Equal([big, -big], vs, 1e-14, 0, "sinh ±710");
        Approx.Equal([big, big], gs, 1e-14, 0, "sinh′ = cosh at ±710");
        var (vc, gc) = Run([710, -710], Ops.Cosh);
        Approx.Equal([big, big], vc, 1e-14, 0, "cosh ±710");
        Approx.Equal([big, -big], gc, 1e-14, 0, "cosh′ = sinh at ±710");
        var (v, g) = RunScalar(711, Ops.Sinh);
        Assert.Equal(double.PositiveInfinity, v);
        Assert.Equal(double.PositiveInfinity, g);
        Assert.Equal(double.PositiveInfinity, RunScalar(-711, Ops.Cosh).Value);
    }

    [Fact]
    public void AsinAndAcos_AtAndNearTheBoundaries_ExactLimitsAndAccurateSlopes()
    {
        // arcsin ±1 = ±π/2, arccos 1 = 0, arccos(−1) = π; the slopes ±1/√(1 − x²) are ±∞ there (PyTorch: rsqrt(0) = ∞).
        var (va, ga) = Run([1, -1], Ops.Asin);
        Assert.Equal([Math.PI / 2, -Math.PI / 2], va);
        Assert.Equal([double.PositiveInfinity, double.PositiveInfinity], ga);
        var (vc, gc) = Run([1, -1], Ops.Acos);
        Assert.Equal([0.0, Math.PI], vc);
        Assert.Equal([double.NegativeInfinity, double.NegativeInfinity], gc);
        // Near the boundary (mpmath): x = 1 − 10⁻⁸ has slope 7071.067811777938; the literal 1 − x² loses about half
        // the digits there (x² rounds to 16 digits, 1 − x² ≈ 2·10⁻⁸ keeps 8), (1 − x)(1 + x) keeps them all.
        Approx.Equal(7071.067811777938, RunScalar(0.99999999, Ops.Asin).Grad, 1e-15, 0, "arcsin′(1 − 10⁻⁸)");
        Approx.Equal(8192.000015258789, RunScalar(-1 + Math.Pow(2, -27), Ops.Asin).Grad, 1e-15, 0, "arcsin′(−1 + 2⁻²⁷)");
        Approx.Equal(-8192.000015258789, RunScalar(1 - Math.Pow(2, -27), Ops.Acos).Grad, 1e-15, 0, "arccos′(1 − 2⁻²⁷)");
    }

    [Fact]
    public void DomainErrors_GiveNaNLikeMath()
    {
        // Outside the domain the value is NaN, as Math.Asin(2), Math.Log10(−1) give (and torch); arcsin′ and
        // arccos′ are NaN there too; log₁₀′ = 1/(x ln 10) stays the finite formula, as PyTorch's rule does.
        var (va, ga) = Run([2, -1.5], Ops.Asin);
        Assert.All(va, v => Assert.True(double.IsNaN(v)));
        Assert.All(ga, v => Assert.True(double.IsNaN(v)));
        var (vc, gc) = Run([2], Ops.Acos);
        Assert.True(double.IsNaN(vc[0]) && double.IsNaN(gc[0]));
        var (vl, gl) = Run([-1, 0], Ops.Log10);
        Assert.True(double.IsNaN(vl[0]));
        Assert.Equal(double.NegativeInfinity, vl[1]);
        Approx.Equal(-1 / Math.Log(10), gl[0], 1e-15, 0, "log₁₀′(−1)");
        Assert.True(double.IsNaN(RunScalar(-2, Ops.Log2).Value));
        Assert.True(double.IsNaN(RunScalar(double.PositiveInfinity, Ops.Sin).Value));
    }
}
