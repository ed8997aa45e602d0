namespace GradientDescent.Autodiff;

/// <summary>
/// The error function erf x = (2/√π)∫₀ˣ e^(−t²) dt, its complement erfc x = 1 − erf x, and the standard normal
/// distribution function Φ(x) = ½ erfc(−x/√2) with its density φ(x) = e^(−x²/2)/√(2π), in double precision
/// (.NET has no Math.Erf). GELU's forward kernel and derivative use them.
/// </summary>
/// <remarks>
/// <para>Method. For |x| &lt; ½: the Taylor series erf x = (2/√π) Σₙ (−1)ⁿ x^(2n+1)/(n!(2n+1)), 13 terms (the first
/// omitted is below 10⁻¹⁷ of the sum), and erfc x = 1 − erf x. For |x| ≥ ½: erfc |x| = e^(−x²)·erfcx |x|, where the
/// scaled erfcx x = e^(x²) erfc x, smooth and of modest size, is a Chebyshev expansion on [½, 1], [1, 2] and [2, 4], and
/// for x ≥ 4 one of x·erfcx x in u = 1/x ∈ [0, ¼] (coefficients from tools/erfcx_chebyshev.py: mpmath at 50 digits,
/// truncated below 10⁻¹⁸); then erf x = ±(1 − erfc |x|) and erfc(−|x|) = 2 − erfc |x|, which lose nothing because
/// erfc |x| ≤ 0.48 there. The exponential is taken from x² split exactly into its rounded value s and the rounding
/// error e = fma(x, x, −s), as e^(−s)·(1 − e), so it carries no error of order x²·ε from rounding x².</para>
/// <para>Accuracy (measured against mpmath at 50 digits, see ErrorFunctionTests): erf within a few ulps over the whole
/// line, erfc within a few ulps down to its underflow at x ≈ 27.2 (for instance erfc 26.5 ≈ 2.2·10⁻³⁰⁷, where
/// 1 − erf would be 0), Φ likewise into the lower tail, where Φ(−37) ≈ 5.7·10⁻³⁰⁰ keeps its digits.</para>
/// </remarks>
internal static class ErrorFunction
{
    /// <summary>2/√π.</summary>
    private const double TwoOverSqrtPi = 1.1283791670955126;
    /// <summary>1/√2.</summary>
    private const double InverseSqrt2 = 0.7071067811865476;
    /// <summary>1/√(2π).</summary>
    private const double InverseSqrt2Pi = 0.3989422804014327;

    /// <summary>(−1)ⁿ/(n!(2n+1)) for n = 0 … 12: erf x = (2/√π)·x·Σₙ cₙ x^(2n). Each n!(2n+1) is exact; the quotient rounds once.</summary>
    private static readonly double[] Taylor = BuildTaylor();

    private static double[] BuildTaylor()
    {
        var c = new double[13];
        double factorial = 1;
        for (int n = 0; n < c.Length; n++)
        {
            if (n > 0) factorial *= n;
            c[n] = (n % 2 == 0 ? 1 : -1) / (factorial * (2 * n + 1));
        }
        return c;
    }

    /// <summary>erf x; erf(±∞) = ±1, erf NaN = NaN.</summary>
    internal static double Erf(double x)
    {
        if (Math.Abs(x) < 0.5) return TwoOverSqrtPi * (x * Series(x * x));
        if (double.IsNaN(x)) return x;
        double r = 1 - ErfcAtLeastHalf(Math.Abs(x));
        return x < 0 ? -r : r;
    }

    /// <summary>erfc x = 1 − erf x, without cancellation for large x; erfc(−∞) = 2, erfc ∞ = 0, erfc NaN = NaN.</summary>
    internal static double Erfc(double x)
    {
        if (Math.Abs(x) < 0.5) return 1 - Erf(x);
        if (double.IsNaN(x)) return x;
        return x > 0 ? ErfcAtLeastHalf(x) : 2 - ErfcAtLeastHalf(-x);
    }

    /// <summary>
    /// Φ(x) = ½ erfc(−x/√2), the standard normal distribution function. In the tails ½ erfc(|x|/√2) is taken as
    /// ½ e^(−x²/2)·erfcx(|x|/√2), the exponent from x itself (not from the rounded x/√2), so Φ(−30) keeps its digits.
    /// </summary>
    internal static double NormalCdf(double x)
    {
        double z = x * InverseSqrt2;
        if (Math.Abs(z) < 0.5) return 0.5 + 0.5 * Erf(z);
        if (double.IsNaN(x)) return x;
        double tail = 0.5 * ExpNegativeSquare(x, 0.5) * Erfcx(Math.Abs(z));
        return x < 0 ? tail : 1 - tail;
    }

    /// <summary>φ(x) = e^(−x²/2)/√(2π), the exponent from x² taken exactly.</summary>
    internal static double NormalPdf(double x) => InverseSqrt2Pi * ExpNegativeSquare(x, 0.5);

    /// <summary>Σₙ cₙ s^n by Horner's rule, s = x² &lt; ¼.</summary>
    private static double Series(double s)
    {
        ReadOnlySpan<double> c = Taylor;
        double sum = c[^1];
        for (int n = c.Length - 2; n >= 0; n--) sum = sum * s + c[n];
        return sum;
    }

    /// <summary>erfc a for a ≥ ½: e^(−a²)·erfcx a.</summary>
    private static double ErfcAtLeastHalf(double a) => ExpNegativeSquare(a, 1) * Erfcx(a);

    /// <summary>
    /// e^(−k·x²) for k = 1 or ½ (exact scalings). With s = x ⊗ x and its rounding error e = fma(x, x, −s) (exact),
    /// x² = s + e, so e^(−k x²) = e^(−k s)·e^(−k e) = e^(−k s)·(1 − k e) to within ε, e being below half an ulp of s.
    /// </summary>
    private static double ExpNegativeSquare(double x, double k)
    {
        double s = x * x;
        if (!(k * s < 746)) return 0; // e^(−746) is below the smallest subnormal; also x = ±∞ (s and e infinite)
        double e = Math.FusedMultiplyAdd(x, x, -s);
        return Math.Exp(-k * s) * (1 - k * e);
    }

    /// <summary>erfcx a = e^(a²) erfc a for a ≥ ½ (NaN excluded by the callers), from the Chebyshev expansions.</summary>
    private static double Erfcx(double a)
    {
        // The maps to t ∈ [−1, 1] are exact for the three finite intervals (Sterbenz: 4a, 2a and a lie within a factor 2 of 3).
        if (a < 1) return Chebyshev(ErfcxHalfToOne, 4 * a - 3);
        if (a < 2) return Chebyshev(ErfcxOneToTwo, 2 * a - 3);
        if (a < 4) return Chebyshev(ErfcxTwoToFour, a - 3);
        double u = 1 / a;
        return u * Chebyshev(ErfcxTail, 8 * u - 1);
    }

    /// <summary>Σₖ aₖ Tₖ(t) by Clenshaw's recurrence.</summary>
    private static double Chebyshev(ReadOnlySpan<double> a, double t)
    {
        double b1 = 0, b2 = 0, twoT = 2 * t;
        for (int k = a.Length - 1; k >= 1; k--)
        {
            double b0 = a[k] + twoT * b1 - b2;
            b2 = b1;
            b1 = b0;
        }
        return a[0] + t * b1 - b2;
    }

    // Generated by tools/erfcx_chebyshev.py (first coefficient halved: the sums are plain Σ aₖ Tₖ(t)).

    /// <summary>erfcx(x) on [0.5, 1], t = 4x − 3.</summary>
    private static ReadOnlySpan<double> ErfcxHalfToOne =>
    [
        0.5142540300448141, -0.09353436157631646, 0.007349543567965961, -0.0005170287683170955,
        3.327489181039832e-05, -1.9877609419315706e-06, 1.1137198399251981e-07, -5.898649609389129e-09,
        2.9712990142852805e-10, -1.430488185776257e-11, 6.608616284265577e-13, -2.9395552899978545e-14,
        1.2625028540389158e-15, -5.2483535009959205e-17, 2.1162858025358237e-18,
    ];

    /// <summary>erfcx(x) on [1, 2], t = 2x − 3.</summary>
    private static ReadOnlySpan<double> ErfcxOneToTwo =>
    [
        0.331427281639452, -0.0850021377067432, 0.009951127341466115, -0.0010810888102208325,
        0.0001102324363119495, -1.0636830518218601e-05, 9.775012680479055e-07, -8.597922867888315e-08,
        7.2677084117248425e-09, -5.923543840592542e-10, 4.6683928572294154e-11, -3.56612770156775e-12,
        2.6458779519104523e-13, -1.9101658673527567e-14, 1.343976588479829e-15, -9.228790549094326e-17,
        6.19267308464391e-18, -4.0652224326488762e-19,
    ];

    /// <summary>erfcx(x) on [2, 4], t = x − 3.</summary>
    private static ReadOnlySpan<double> ErfcxTwoToFour =>
    [
        0.1874295690262241, -0.05794652883669097, 0.008595247387396534, -0.0012284613640242594,
        0.00016974366686180488, -2.2738329337044562e-05, 2.959844378804878e-06, -3.7513575581379714e-07,
        4.6372828761738244e-08, -5.599455392564088e-09, 6.613160896679916e-10, -7.648271522199816e-11,
        8.670904325876594e-12, -9.645456274382108e-13, 1.0536827959360625e-13, -1.1312630906760667e-14,
        1.1945180669174577e-15, -1.241310752580407e-16, 1.270246323185436e-17, -1.280725873663855e-18,
    ];

    /// <summary>x·erfcx(x) for x ≥ 4, in u = 1/x ∈ [0, 1/4], t = 8u − 1.</summary>
    private static ReadOnlySpan<double> ErfcxTail =>
    [
        0.5579806323959606, -0.008176370652593417, -0.001893800698918767, 8.135191807225853e-05,
        6.886433482931834e-06, -8.66842697260929e-07, -1.0605985681160552e-08, 9.128665955359679e-09,
        -5.137073029655299e-10, -7.515699719704348e-11, 1.3379723228335024e-11, -6.823772973728953e-14,
        -2.121390789408522e-13, 2.2951219659613427e-14, 1.4778079350327186e-15, -6.23994341272092e-16,
        4.380197359621281e-17, 8.250479751101904e-18, -2.0854455199042304e-18,
    ];
}

/// <summary>
/// Φ(x), the standard normal distribution function, as a differentiable node: what the recorded rule of gelu
/// (gelu′ = Φ(x) + x·φ(x)) needs, there being no Φ among the ops. dΦ/dx = φ(x); its recorded rule is
/// g·φ(x) with φ(x) = e^(−x²/2)/√(2π) as ops, so gelu can be differentiated to any order.
/// </summary>
internal sealed class NormalCdfOp : CustomOp
{
    internal static readonly NormalCdfOp Instance = new();

    /// <summary>1/√(2π).</summary>
    private const double InverseSqrt2Pi = 0.3989422804014327;

    public override string Name => "normal-cdf";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];

    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0);
        Span<double> y = context.Output;
        for (int k = 0; k < x.Length; k++) y[k] = ErrorFunction.NormalCdf(x[k]);
    }

    public override void Backward(CustomOpContext context)
    {
        if (!context.RequiresGrad(0)) return;
        ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++) gx[k] += g[k] * ErrorFunction.NormalPdf(x[k]);
    }

    public override void RecordBackward(CustomOpRecordContext context)
    {
        if (context.RequiresGrad(0)) context.AddInputGrad(0, RecordedGradients.Times(context.OutputGrad, Density(context.Input(0))));
    }

    /// <summary>Forward rule: Φ̇ = φ(x)·ẋ (so forward mode runs through a create-graph gradient of gelu: forward-over-reverse).</summary>
    public override void Jvp(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0), dx = context.InputTangent(0);
        if (dx.IsEmpty) return;
        Span<double> dy = context.OutputTangent;
        for (int k = 0; k < x.Length; k++) dy[k] += ErrorFunction.NormalPdf(x[k]) * dx[k];
    }

    /// <summary>Φ(x) recorded as a node.</summary>
    internal static Node Record(Node x) => CustomOps.Apply(Instance, [x]);

    /// <summary>φ(x) = e^(−x²/2)/√(2π), recorded with ops.</summary>
    internal static Node Density(Node x) =>
        RecordedGradients.Scale(Elementwise.Unary(OpKind.Exp, RecordedGradients.Scale(Elementwise.Unary(OpKind.Square, x), -0.5)), InverseSqrt2Pi);
}
