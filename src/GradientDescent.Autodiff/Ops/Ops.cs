namespace GradientDescent.Autodiff;

/// <summary>
/// The functions of the op set, for scalars, vectors and matrices. Each records one node whose derivative rule is
/// stated in its documentation and implemented beside its forward kernel in the op-family file.
/// </summary>
public static partial class Ops
{
    // ------------------------------------------------------------------ elementwise (Ops/Elementwise.cs)

    /// <summary>e^x; d/dx = e^x.</summary>
    public static Scalar Exp(Scalar x) => new(Elementwise.Unary(OpKind.Exp, x));
    /// <inheritdoc cref="Exp(Scalar)"/>
    public static Vector Exp(Vector x) => new(Elementwise.Unary(OpKind.Exp, x));
    /// <inheritdoc cref="Exp(Scalar)"/>
    public static Matrix Exp(Matrix x) => new(Elementwise.Unary(OpKind.Exp, x));

    /// <summary>ln x; d/dx = 1/x. ln 0 = −∞, ln of a negative number is NaN.</summary>
    public static Scalar Log(Scalar x) => new(Elementwise.Unary(OpKind.Log, x));
    /// <inheritdoc cref="Log(Scalar)"/>
    public static Vector Log(Vector x) => new(Elementwise.Unary(OpKind.Log, x));
    /// <inheritdoc cref="Log(Scalar)"/>
    public static Matrix Log(Matrix x) => new(Elementwise.Unary(OpKind.Log, x));

    /// <summary>√x; d/dx = 1/(2√x) (infinite at 0).</summary>
    public static Scalar Sqrt(Scalar x) => new(Elementwise.Unary(OpKind.Sqrt, x));
    /// <inheritdoc cref="Sqrt(Scalar)"/>
    public static Vector Sqrt(Vector x) => new(Elementwise.Unary(OpKind.Sqrt, x));
    /// <inheritdoc cref="Sqrt(Scalar)"/>
    public static Matrix Sqrt(Matrix x) => new(Elementwise.Unary(OpKind.Sqrt, x));

    /// <summary>|x|; d/dx = sign x, with the subgradient 0 at x = 0.</summary>
    public static Scalar Abs(Scalar x) => new(Elementwise.Unary(OpKind.Abs, x));
    /// <inheritdoc cref="Abs(Scalar)"/>
    public static Vector Abs(Vector x) => new(Elementwise.Unary(OpKind.Abs, x));
    /// <inheritdoc cref="Abs(Scalar)"/>
    public static Matrix Abs(Matrix x) => new(Elementwise.Unary(OpKind.Abs, x));

    /// <summary>x²; d/dx = 2x.</summary>
    public static Scalar Square(Scalar x) => new(Elementwise.Unary(OpKind.Square, x));
    /// <inheritdoc cref="Square(Scalar)"/>
    public static Vector Square(Vector x) => new(Elementwise.Unary(OpKind.Square, x));
    /// <inheritdoc cref="Square(Scalar)"/>
    public static Matrix Square(Matrix x) => new(Elementwise.Unary(OpKind.Square, x));

    /// <summary>tanh x; d/dx = 1 − tanh² x.</summary>
    public static Scalar Tanh(Scalar x) => new(Elementwise.Unary(OpKind.Tanh, x));
    /// <inheritdoc cref="Tanh(Scalar)"/>
    public static Vector Tanh(Vector x) => new(Elementwise.Unary(OpKind.Tanh, x));
    /// <inheritdoc cref="Tanh(Scalar)"/>
    public static Matrix Tanh(Matrix x) => new(Elementwise.Unary(OpKind.Tanh, x));

    /// <summary>σ(x) = 1/(1 + e^−x), computed without overflow; d/dx = σ(x)(1 − σ(x)).</summary>
    public static Scalar Sigmoid(Scalar x) => new(Elementwise.Unary(OpKind.Sigmoid, x));
    /// <inheritdoc cref="Sigmoid(Scalar)"/>
    public static Vector Sigmoid(Vector x) => new(Elementwise.Unary(OpKind.Sigmoid, x));
    /// <inheritdoc cref="Sigmoid(Scalar)"/>
    public static Matrix Sigmoid(Matrix x) => new(Elementwise.Unary(OpKind.Sigmoid, x));

    /// <summary>max(x, 0); d/dx = 1 for x &gt; 0, else 0 (subgradient 0 at 0). NaN stays NaN, as in <see cref="Max(Scalar, double)"/>.</summary>
    public static Scalar Relu(Scalar x) => new(Elementwise.Unary(OpKind.Relu, x));
    /// <inheritdoc cref="Relu(Scalar)"/>
    public static Vector Relu(Vector x) => new(Elementwise.Unary(OpKind.Relu, x));
    /// <inheritdoc cref="Relu(Scalar)"/>
    public static Matrix Relu(Matrix x) => new(Elementwise.Unary(OpKind.Relu, x));

    /// <summary>softplus x = ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|); d/dx = σ(x).</summary>
    public static Scalar Softplus(Scalar x) => new(Elementwise.Unary(OpKind.Softplus, x));
    /// <inheritdoc cref="Softplus(Scalar)"/>
    public static Vector Softplus(Vector x) => new(Elementwise.Unary(OpKind.Softplus, x));
    /// <inheritdoc cref="Softplus(Scalar)"/>
    public static Matrix Softplus(Matrix x) => new(Elementwise.Unary(OpKind.Softplus, x));

    /// <summary>ln σ(x) = −softplus(−x), fused and stable (no −∞ for x = −1000); d/dx = 1 − σ(x).</summary>
    public static Scalar LogSigmoid(Scalar x) => new(Elementwise.Unary(OpKind.LogSigmoid, x));
    /// <inheritdoc cref="LogSigmoid(Scalar)"/>
    public static Vector LogSigmoid(Vector x) => new(Elementwise.Unary(OpKind.LogSigmoid, x));
    /// <inheritdoc cref="LogSigmoid(Scalar)"/>
    public static Matrix LogSigmoid(Matrix x) => new(Elementwise.Unary(OpKind.LogSigmoid, x));

    /// <summary>sin x; d/dx = cos x.</summary>
    public static Scalar Sin(Scalar x) => new(Elementwise.Unary(OpKind.Sin, x));
    /// <inheritdoc cref="Sin(Scalar)"/>
    public static Vector Sin(Vector x) => new(Elementwise.Unary(OpKind.Sin, x));
    /// <inheritdoc cref="Sin(Scalar)"/>
    public static Matrix Sin(Matrix x) => new(Elementwise.Unary(OpKind.Sin, x));
    /// <summary>cos x; d/dx = −sin x.</summary>
    public static Scalar Cos(Scalar x) => new(Elementwise.Unary(OpKind.Cos, x));
    /// <inheritdoc cref="Cos(Scalar)"/>
    public static Vector Cos(Vector x) => new(Elementwise.Unary(OpKind.Cos, x));
    /// <inheritdoc cref="Cos(Scalar)"/>
    public static Matrix Cos(Matrix x) => new(Elementwise.Unary(OpKind.Cos, x));
    /// <summary>tan x; d/dx = 1 + tan² x.</summary>
    public static Scalar Tan(Scalar x) => new(Elementwise.Unary(OpKind.Tan, x));
    /// <inheritdoc cref="Tan(Scalar)"/>
    public static Vector Tan(Vector x) => new(Elementwise.Unary(OpKind.Tan, x));
    /// <inheritdoc cref="Tan(Scalar)"/>
    public static Matrix Tan(Matrix x) => new(Elementwise.Unary(OpKind.Tan, x));
    /// <summary>sinh x; d/dx = cosh x. Overflows to ±∞ for |x| &gt; 710.5, as Math.Sinh.</summary>
    public static Scalar Sinh(Scalar x) => new(Elementwise.Unary(OpKind.Sinh, x));
    /// <inheritdoc cref="Sinh(Scalar)"/>
    public static Vector Sinh(Vector x) => new(Elementwise.Unary(OpKind.Sinh, x));
    /// <inheritdoc cref="Sinh(Scalar)"/>
    public static Matrix Sinh(Matrix x) => new(Elementwise.Unary(OpKind.Sinh, x));
    /// <summary>cosh x; d/dx = sinh x. Overflows to ∞ for |x| &gt; 710.5, as Math.Cosh.</summary>
    public static Scalar Cosh(Scalar x) => new(Elementwise.Unary(OpKind.Cosh, x));
    /// <inheritdoc cref="Cosh(Scalar)"/>
    public static Vector Cosh(Vector x) => new(Elementwise.Unary(OpKind.Cosh, x));
    /// <inheritdoc cref="Cosh(Scalar)"/>
    public static Matrix Cosh(Matrix x) => new(Elementwise.Unary(OpKind.Cosh, x));
    /// <summary>arcsin x ∈ [−π/2, π/2]; d/dx = 1/√(1 − x²), computed as 1/√((1 − x)(1 + x)) so it keeps its digits near ±1; +∞ at x = ±1. NaN for |x| &gt; 1 (value and derivative), as Math.Asin.</summary>
    public static Scalar Asin(Scalar x) => new(Elementwise.Unary(OpKind.Asin, x));
    /// <inheritdoc cref="Asin(Scalar)"/>
    public static Vector Asin(Vector x) => new(Elementwise.Unary(OpKind.Asin, x));
    /// <inheritdoc cref="Asin(Scalar)"/>
    public static Matrix Asin(Matrix x) => new(Elementwise.Unary(OpKind.Asin, x));
    /// <summary>arccos x ∈ [0, π]; d/dx = −1/√(1 − x²), computed as −1/√((1 − x)(1 + x)); −∞ at x = ±1. NaN for |x| &gt; 1 (value and derivative), as Math.Acos.</summary>
    public static Scalar Acos(Scalar x) => new(Elementwise.Unary(OpKind.Acos, x));
    /// <inheritdoc cref="Acos(Scalar)"/>
    public static Vector Acos(Vector x) => new(Elementwise.Unary(OpKind.Acos, x));
    /// <inheritdoc cref="Acos(Scalar)"/>
    public static Matrix Acos(Matrix x) => new(Elementwise.Unary(OpKind.Acos, x));
    /// <summary>arctan x ∈ (−π/2, π/2); d/dx = 1/(1 + x²).</summary>
    public static Scalar Atan(Scalar x) => new(Elementwise.Unary(OpKind.Atan, x));
    /// <inheritdoc cref="Atan(Scalar)"/>
    public static Vector Atan(Vector x) => new(Elementwise.Unary(OpKind.Atan, x));
    /// <inheritdoc cref="Atan(Scalar)"/>
    public static Matrix Atan(Matrix x) => new(Elementwise.Unary(OpKind.Atan, x));
    /// <summary>log₁₀ x; d/dx = 1/(x ln 10). log₁₀ 0 = −∞, log₁₀ of a negative number is NaN.</summary>
    public static Scalar Log10(Scalar x) => new(Elementwise.Unary(OpKind.Log10, x));
    /// <inheritdoc cref="Log10(Scalar)"/>
    public static Vector Log10(Vector x) => new(Elementwise.Unary(OpKind.Log10, x));
    /// <inheritdoc cref="Log10(Scalar)"/>
    public static Matrix Log10(Matrix x) => new(Elementwise.Unary(OpKind.Log10, x));
    /// <summary>log₂ x; d/dx = 1/(x ln 2). log₂ 0 = −∞, log₂ of a negative number is NaN.</summary>
    public static Scalar Log2(Scalar x) => new(Elementwise.Unary(OpKind.Log2, x));
    /// <inheritdoc cref="Log2(Scalar)"/>
    public static Vector Log2(Vector x) => new(Elementwise.Unary(OpKind.Log2, x));
    /// <inheritdoc cref="Log2(Scalar)"/>
    public static Matrix Log2(Matrix x) => new(Elementwise.Unary(OpKind.Log2, x));
    /// <summary>sign x: 1 for x &gt; 0, −1 for x &lt; 0, 0 for ±0 and for NaN (torch.sign; Math.Sign throws on NaN). d/dx = 0 everywhere, declared (PyTorch's convention at 0 too).</summary>
    public static Scalar Sign(Scalar x) => new(Elementwise.Unary(OpKind.Sign, x));
    /// <inheritdoc cref="Sign(Scalar)"/>
    public static Vector Sign(Vector x) => new(Elementwise.Unary(OpKind.Sign, x));
    /// <inheritdoc cref="Sign(Scalar)"/>
    public static Matrix Sign(Matrix x) => new(Elementwise.Unary(OpKind.Sign, x));
    /// <summary>⌊x⌋, the largest integer ≤ x (torch.floor); d/dx = 0 everywhere, declared (PyTorch's convention at the integers too).</summary>
    public static Scalar Floor(Scalar x) => new(Elementwise.Unary(OpKind.Floor, x));
    /// <inheritdoc cref="Floor(Scalar)"/>
    public static Vector Floor(Vector x) => new(Elementwise.Unary(OpKind.Floor, x));
    /// <inheritdoc cref="Floor(Scalar)"/>
    public static Matrix Floor(Matrix x) => new(Elementwise.Unary(OpKind.Floor, x));
    /// <summary>⌈x⌉, the smallest integer ≥ x (torch.ceil); d/dx = 0 everywhere, declared (PyTorch's convention at the integers too).</summary>
    public static Scalar Ceiling(Scalar x) => new(Elementwise.Unary(OpKind.Ceiling, x));
    /// <inheritdoc cref="Ceiling(Scalar)"/>
    public static Vector Ceiling(Vector x) => new(Elementwise.Unary(OpKind.Ceiling, x));
    /// <inheritdoc cref="Ceiling(Scalar)"/>
    public static Matrix Ceiling(Matrix x) => new(Elementwise.Unary(OpKind.Ceiling, x));
    /// <summary>x rounded to the nearest integer, halves to the even neighbour (torch.round, Math.Round: round 2.5 = 2, round −0.5 = −0); d/dx = 0 everywhere, declared (PyTorch's convention at the half-integers too).</summary>
    public static Scalar Round(Scalar x) => new(Elementwise.Unary(OpKind.Round, x));
    /// <inheritdoc cref="Round(Scalar)"/>
    public static Vector Round(Vector x) => new(Elementwise.Unary(OpKind.Round, x));
    /// <inheritdoc cref="Round(Scalar)"/>
    public static Matrix Round(Matrix x) => new(Elementwise.Unary(OpKind.Round, x));
    /// <summary>gelu x = x·Φ(x), Φ the standard normal distribution function (the exact form, PyTorch's approximate='none'); d/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π). Φ comes from an erfc accurate in the tail, so gelu(−10) ≈ −7.6·10⁻²³ keeps its digits (PyTorch's ½(1 + erf(x/√2)) gives 0).</summary>
    public static Scalar Gelu(Scalar x) => new(Elementwise.Unary(OpKind.Gelu, x));
    /// <inheritdoc cref="Gelu(Scalar)"/>
    public static Vector Gelu(Vector x) => new(Elementwise.Unary(OpKind.Gelu, x));
    /// <inheritdoc cref="Gelu(Scalar)"/>
    public static Matrix Gelu(Matrix x) => new(Elementwise.Unary(OpKind.Gelu, x));
    /// <summary>silu x = x·σ(x) (swish), with the stable σ (no overflow of e^−x for x ≪ 0); d/dx = σ(x)(1 + x·σ(−x)), with 1 − σ(x) taken as σ(−x) so it keeps its digits for x ≫ 0.</summary>
    public static Scalar Silu(Scalar x) => new(Elementwise.Unary(OpKind.Silu, x));
    /// <inheritdoc cref="Silu(Scalar)"/>
    public static Vector Silu(Vector x) => new(Elementwise.Unary(OpKind.Silu, x));
    /// <inheritdoc cref="Silu(Scalar)"/>
    public static Matrix Silu(Matrix x) => new(Elementwise.Unary(OpKind.Silu, x));
    /// <summary>
    /// leaky relu x = x for x &gt; 0, else c·x, with the negative slope c (PyTorch's default 0.01); d/dx = 1 for x &gt; 0,
    /// else c, so c at x = 0 (PyTorch's leaky_relu_backward). NaN stays NaN.
    /// </summary>
    public static Scalar LeakyRelu(Scalar x, double negativeSlope = 0.01) => new(Elementwise.Unary(OpKind.LeakyRelu, x, CheckFinite(OpKind.LeakyRelu, "negativeSlope", negativeSlope)));
    /// <inheritdoc cref="LeakyRelu(Scalar, double)"/>
    public static Vector LeakyRelu(Vector x, double negativeSlope = 0.01) => new(Elementwise.Unary(OpKind.LeakyRelu, x, CheckFinite(OpKind.LeakyRelu, "negativeSlope", negativeSlope)));
    /// <inheritdoc cref="LeakyRelu(Scalar, double)"/>
    public static Matrix LeakyRelu(Matrix x, double negativeSlope = 0.01) => new(Elementwise.Unary(OpKind.LeakyRelu, x, CheckFinite(OpKind.LeakyRelu, "negativeSlope", negativeSlope)));

    /// <summary>
    /// elu x = x for x &gt; 0, else α(e^x − 1) (PyTorch's default α = 1), e^x − 1 by an accurate expm1; d/dx = 1 for
    /// x &gt; 0, else α·e^x, so α at x = 0 (PyTorch's elu_backward; continuous there only for α = 1). elu(−∞) = −α.
    /// </summary>
    public static Scalar Elu(Scalar x, double alpha = 1) => new(Elementwise.Unary(OpKind.Elu, x, CheckFinite(OpKind.Elu, "alpha", alpha)));
    /// <inheritdoc cref="Elu(Scalar, double)"/>
    public static Vector Elu(Vector x, double alpha = 1) => new(Elementwise.Unary(OpKind.Elu, x, CheckFinite(OpKind.Elu, "alpha", alpha)));
    /// <inheritdoc cref="Elu(Scalar, double)"/>
    public static Matrix Elu(Matrix x, double alpha = 1) => new(Elementwise.Unary(OpKind.Elu, x, CheckFinite(OpKind.Elu, "alpha", alpha)));

    private static double CheckFinite(OpKind op, string name, double value) =>
        double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{op}: {name} must be a finite number, got {value}.");

    /// <summary>x^c for a constant c; d/dx = c·x^(c−1).</summary>
    public static Scalar Pow(Scalar x, double c) => new(Elementwise.Unary(OpKind.PowerConstant, x, c));
    /// <inheritdoc cref="Pow(Scalar, double)"/>
    public static Vector Pow(Vector x, double c) => new(Elementwise.Unary(OpKind.PowerConstant, x, c));
    /// <inheritdoc cref="Pow(Scalar, double)"/>
    public static Matrix Pow(Matrix x, double c) => new(Elementwise.Unary(OpKind.PowerConstant, x, c));

    /// <summary>a^b with a variable exponent; ∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a (0 where a = 0 and b ≥ 0).</summary>
    public static Scalar Pow(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Vector Pow(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Vector Pow(Vector a, Scalar b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Power, a, b));

    /// <summary>
    /// clamp(x, lo, hi) = min(max(x, lo), hi), recorded as those two nodes; d/dx = 1 for lo ≤ x ≤ hi, else 0
    /// (the bounds themselves pass the gradient, as in PyTorch).
    /// </summary>
    public static Scalar Clamp(Scalar x, double lo, double hi) => Min(Max(x, CheckBounds(lo, hi)), hi);
    /// <inheritdoc cref="Clamp(Scalar, double, double)"/>
    public static Vector Clamp(Vector x, double lo, double hi) => Min(Max(x, CheckBounds(lo, hi)), hi);
    /// <inheritdoc cref="Clamp(Scalar, double, double)"/>
    public static Matrix Clamp(Matrix x, double lo, double hi) => Min(Max(x, CheckBounds(lo, hi)), hi);

    private static double CheckBounds(double lo, double hi) =>
        lo <= hi ? lo : throw new ArgumentException($"Clamp: the lower bound {lo} is above the upper bound {hi}; swap them.");

    /// <summary>max(x, c) for a constant c; d/dx = 1 for x ≥ c, else 0.</summary>
    public static Scalar Max(Scalar x, double c) => new(Elementwise.Unary(OpKind.MaxConstant, x, c));
    /// <inheritdoc cref="Max(Scalar, double)"/>
    public static Vector Max(Vector x, double c) => new(Elementwise.Unary(OpKind.MaxConstant, x, c));
    /// <inheritdoc cref="Max(Scalar, double)"/>
    public static Matrix Max(Matrix x, double c) => new(Elementwise.Unary(OpKind.MaxConstant, x, c));

    /// <summary>min(x, c) for a constant c; d/dx = 1 for x ≤ c, else 0.</summary>
    public static Scalar Min(Scalar x, double c) => new(Elementwise.Unary(OpKind.MinConstant, x, c));
    /// <inheritdoc cref="Min(Scalar, double)"/>
    public static Vector Min(Vector x, double c) => new(Elementwise.Unary(OpKind.MinConstant, x, c));
    /// <inheritdoc cref="Min(Scalar, double)"/>
    public static Matrix Min(Matrix x, double c) => new(Elementwise.Unary(OpKind.MinConstant, x, c));

    /// <summary>max(a, b) elementwise; the gradient goes to the larger, split g/2 each where a = b.</summary>
    public static Scalar Max(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Vector Max(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));

    /// <summary>min(a, b) elementwise; the gradient goes to the smaller, split g/2 each where a = b.</summary>
    public static Scalar Min(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Vector Min(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));

    // Broadcasting mixes of the variable-exponent power, max and min (the rules of Ops/Arithmetic.cs): a scalar with
    // anything, a vector of length c with an r×c matrix (every row), in either order; the result has the larger kind.
    // A broadcast operand's gradient is the sum of its elementwise gradients over the positions it reached.
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Vector Pow(Scalar a, Vector b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Scalar a, Matrix b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Vector a, Matrix b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Matrix a, Scalar b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Matrix a, Vector b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Vector Max(Scalar a, Vector b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Scalar a, Matrix b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Vector Max(Vector a, Scalar b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Vector a, Matrix b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Matrix a, Scalar b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Matrix a, Vector b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Vector Min(Scalar a, Vector b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Scalar a, Matrix b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Vector Min(Vector a, Scalar b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Vector a, Matrix b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Matrix a, Scalar b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Matrix a, Vector b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));

    /// <summary>c^x for a constant base c; d/dx = c^x·ln c (0 where c = 0 and x ≥ 0; NaN for c &lt; 0, as in PyTorch).</summary>
    public static Scalar Pow(double c, Scalar x) => new(Arithmetic.Binary(OpKind.Power, x.Tape.Constant(c), x));
    /// <inheritdoc cref="Pow(double, Scalar)"/>
    public static Vector Pow(double c, Vector x) => new(Arithmetic.Binary(OpKind.Power, x.Tape.Constant(c), x));
    /// <inheritdoc cref="Pow(double, Scalar)"/>
    public static Matrix Pow(double c, Matrix x) => new(Arithmetic.Binary(OpKind.Power, x.Tape.Constant(c), x));

    /// <summary>max(c, x) = max(x, c) (recorded as <see cref="Max(Scalar, double)"/>); d/dx = 1 for x ≥ c, else 0.</summary>
    public static Scalar Max(double c, Scalar x) => Max(x, c);
    /// <inheritdoc cref="Max(double, Scalar)"/>
    public static Vector Max(double c, Vector x) => Max(x, c);
    /// <inheritdoc cref="Max(double, Scalar)"/>
    public static Matrix Max(double c, Matrix x) => Max(x, c);

    /// <summary>min(c, x) = min(x, c) (recorded as <see cref="Min(Scalar, double)"/>); d/dx = 1 for x ≤ c, else 0.</summary>
    public static Scalar Min(double c, Scalar x) => Min(x, c);
    /// <inheritdoc cref="Min(double, Scalar)"/>
    public static Vector Min(double c, Vector x) => Min(x, c);
    /// <inheritdoc cref="Min(double, Scalar)"/>
    public static Matrix Min(double c, Matrix x) => Min(x, c);

    // ------------------------------------------------------------------ linear algebra (Ops/LinearAlgebra.cs)

    /// <summary>a·b = Σ aₖbₖ; ∂/∂a = b, ∂/∂b = a.</summary>
    public static Scalar Dot(Vector a, Vector b) => new(LinearAlgebra.Dot(a, b));

    /// <summary>y = M v, yᵢ = Σⱼ Mᵢⱼvⱼ; ∂L/∂M = g vᵀ, ∂L/∂v = Mᵀ g.</summary>
    public static Vector MatVec(Matrix m, Vector v) => new(LinearAlgebra.MatVec(m, v));

    /// <summary>C = A B; ∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G.</summary>
    public static Matrix MatMul(Matrix a, Matrix b) => new(LinearAlgebra.MatMul(a, b));

    /// <summary>Aᵀ; ∂L/∂A = Gᵀ.</summary>
    public static Matrix Transpose(Matrix a) => new(LinearAlgebra.Transpose(a));

    // ------------------------------------------------------------------ reductions (Ops/Reductions.cs)

    /// <summary>Σ of all elements; ∂/∂xₖ = 1.</summary>
    public static Scalar Sum(Vector x) => new(Reductions.Sum(x, mean: false));
    /// <inheritdoc cref="Sum(Vector)"/>
    public static Scalar Sum(Matrix x) => new(Reductions.Sum(x, mean: false));

    /// <summary>(1/n) Σ of all n elements; ∂/∂xₖ = 1/n.</summary>
    public static Scalar Mean(Vector x) => new(Reductions.Sum(x, mean: true));
    /// <inheritdoc cref="Mean(Vector)"/>
    public static Scalar Mean(Matrix x) => new(Reductions.Sum(x, mean: true));

    /// <summary>
    /// Σ over one axis: axis 0 sums over rows (yⱼ = Σᵢ Xᵢⱼ, one value per column), axis 1 over columns
    /// (yᵢ = Σⱼ Xᵢⱼ, one value per row); ∂L/∂Xᵢⱼ = g of the output element Xᵢⱼ went into.
    /// </summary>
    public static Vector Sum(Matrix x, int axis) => new(Reductions.SumAxis(x, axis, mean: false));

    /// <summary>Mean over one axis (see <see cref="Sum(Matrix, int)"/>); the rule divides by the axis length.</summary>
    public static Vector Mean(Matrix x, int axis) => new(Reductions.SumAxis(x, axis, mean: true));

    /// <summary>ln Σ e^x, stable; ∂/∂xₖ = softmax(x)ₖ.</summary>
    public static Scalar LogSumExp(Vector x) => new(Reductions.LogSumExp(x));

    /// <summary>ln Σ e^x of each row, stable; ∂/∂Xᵢₖ = gᵢ·softmax(Xᵢ)ₖ.</summary>
    public static Vector LogSumExp(Matrix x) => new(Reductions.LogSumExp(x));

    // ------------------------------------------------------------------ statistics (Ops/Statistics.cs)

    /// <summary>
    /// The sample variance of all n elements, v = Σ(xₖ − x̄)²/(n − 1) (Bessel's correction: torch.var's default);
    /// ∂v/∂xₖ = 2(xₖ − x̄)/(n − 1). Computed by the corrected two-pass algorithm, so a large mean costs no digits.
    /// Needs n ≥ 2 (PyTorch returns NaN for one element; this throws).
    /// </summary>
    public static Scalar Variance(Vector x) => new(Statistics.Whole(OpKind.Variance, x, 1));
    /// <inheritdoc cref="Variance(Vector)"/>
    public static Scalar Variance(Matrix x) => new(Statistics.Whole(OpKind.Variance, x, 1));

    /// <summary>
    /// The sample variance over one axis of a matrix: axis 0 over rows (one value per column), axis 1 over columns
    /// (one value per row), as <see cref="Sum(Matrix, int)"/>; ∂vⱼ/∂xₖ = 2(xₖ − x̄ⱼ)/(n − 1) within each group of n.
    /// </summary>
    public static Vector Variance(Matrix x, int axis) => new(Statistics.Axis(OpKind.VarianceAxis, x, axis, 1));

    /// <summary>
    /// The population variance of all n elements, v = Σ(xₖ − x̄)²/n (torch.var with correction=0);
    /// ∂v/∂xₖ = 2(xₖ − x̄)/n. 0 for a single element.
    /// </summary>
    public static Scalar PopulationVariance(Vector x) => new(Statistics.Whole(OpKind.Variance, x, 0));
    /// <inheritdoc cref="PopulationVariance(Vector)"/>
    public static Scalar PopulationVariance(Matrix x) => new(Statistics.Whole(OpKind.Variance, x, 0));

    /// <summary>The population variance over one axis of a matrix (see <see cref="Variance(Matrix, int)"/>); ∂vⱼ/∂xₖ = 2(xₖ − x̄ⱼ)/n.</summary>
    public static Vector PopulationVariance(Matrix x, int axis) => new(Statistics.Axis(OpKind.VarianceAxis, x, axis, 0));

    /// <summary>
    /// The sample standard deviation of all n elements, s = √(Σ(xₖ − x̄)²/(n − 1)) (torch.std's default);
    /// ∂s/∂xₖ = (xₖ − x̄)/((n − 1)·s), and 0 when all elements are equal (s = 0), as PyTorch. Needs n ≥ 2.
    /// </summary>
    public static Scalar StandardDeviation(Vector x) => new(Statistics.Whole(OpKind.StandardDeviation, x, 1));
    /// <inheritdoc cref="StandardDeviation(Vector)"/>
    public static Scalar StandardDeviation(Matrix x) => new(Statistics.Whole(OpKind.StandardDeviation, x, 1));

    /// <summary>
    /// The sample standard deviation over one axis of a matrix (axis 0: one per column, axis 1: one per row);
    /// ∂sⱼ/∂xₖ = (xₖ − x̄ⱼ)/((n − 1)·sⱼ), 0 where sⱼ = 0.
    /// </summary>
    public static Vector StandardDeviation(Matrix x, int axis) => new(Statistics.Axis(OpKind.StandardDeviationAxis, x, axis, 1));

    /// <summary>
    /// The population standard deviation of all n elements, s = √(Σ(xₖ − x̄)²/n) (torch.std with correction=0);
    /// ∂s/∂xₖ = (xₖ − x̄)/(n·s), and 0 when all elements are equal.
    /// </summary>
    public static Scalar PopulationStandardDeviation(Vector x) => new(Statistics.Whole(OpKind.StandardDeviation, x, 0));
    /// <inheritdoc cref="PopulationStandardDeviation(Vector)"/>
    public static Scalar PopulationStandardDeviation(Matrix x) => new(Statistics.Whole(OpKind.StandardDeviation, x, 0));

    /// <summary>The population standard deviation over one axis of a matrix; ∂sⱼ/∂xₖ = (xₖ − x̄ⱼ)/(n·sⱼ), 0 where sⱼ = 0.</summary>
    public static Vector PopulationStandardDeviation(Matrix x, int axis) => new(Statistics.Axis(OpKind.StandardDeviationAxis, x, axis, 0));

    // ------------------------------------------------------------------ softmax (Ops/Softmax.cs)

    /// <summary>softmax(x)ₖ = e^xₖ / Σ e^x, stable; ∂L/∂xₖ = yₖ(gₖ − g·y).</summary>
    public static Vector Softmax(Vector x) => new(SoftmaxOps.Apply(OpKind.Softmax, x));

    /// <summary>Softmax of each row.</summary>
    public static Matrix Softmax(Matrix x) => new(SoftmaxOps.Apply(OpKind.Softmax, x));

    /// <summary>log-softmax(x) = x − ln Σ e^x, stable; ∂L/∂xₖ = gₖ − softmax(x)ₖ Σ g.</summary>
    public static Vector LogSoftmax(Vector x) => new(SoftmaxOps.Apply(OpKind.LogSoftmax, x));

    /// <summary>Log-softmax of each row.</summary>
    public static Matrix LogSoftmax(Matrix x) => new(SoftmaxOps.Apply(OpKind.LogSoftmax, x));

    // ------------------------------------------------------------------ views and assembly (Ops/Views.cs)

    /// <summary>The vectors end to end; each input receives its slice of the gradient.</summary>
    public static Vector Concat(params ReadOnlySpan<Vector> parts) => new(Views.Concat(parts));

    /// <summary>The scalars as a vector, yₖ = sₖ (PyTorch's <c>torch.stack</c>); ∂L/∂sₖ = gₖ (stack is unstack in reverse).</summary>
    public static Vector Stack(params ReadOnlySpan<Scalar> parts) => new(Views.Stack(parts, ShapeKind.Scalar, static s => s.Handle));

    /// <summary>
    /// The vectors as the rows of a matrix, Yₖ = vₖ (PyTorch's <c>torch.stack</c>); they must have one length.
    /// ∂L/∂vₖ = row k of G (stack is unstack in reverse).
    /// </summary>
    public static Matrix Stack(params ReadOnlySpan<Vector> parts) => new(Views.Stack(parts, ShapeKind.Vector, static v => v.Handle));

    /// <summary>
    /// The vector cut into consecutive pieces of the given sizes, which must be positive and add up to its length
    /// (PyTorch's <c>torch.split(v, [sizes])</c>). Each piece is a view (<see cref="Vector.Slice"/>), no copy.
    /// </summary>
    public static Vector[] Split(Vector v, params int[] sizes) => Typed(Views.Split(v, sizes), n => new Vector(n));

    /// <summary>
    /// The vector cut into pieces of <paramref name="chunk"/> elements, the last one shorter if the length is not a
    /// multiple (PyTorch's <c>torch.split(v, chunk)</c>); views. <c>Split(v, 3)</c> is this overload.
    /// </summary>
    public static Vector[] Split(Vector v, int chunk) => Typed(Views.Split(v, chunk), n => new Vector(n));

    /// <summary>The matrix cut into consecutive blocks of rows of the given counts (mini-batches); each a view.</summary>
    public static Matrix[] Split(Matrix m, params int[] rows) => Typed(Views.Split(m, rows), n => new Matrix(n));

    /// <summary>The matrix cut into blocks of <paramref name="chunk"/> rows, the last one smaller if need be; each a view.</summary>
    public static Matrix[] Split(Matrix m, int chunk) => Typed(Views.Split(m, chunk), n => new Matrix(n));

    /// <summary>The matrix's rows as vectors (PyTorch's <c>torch.unbind(m)</c>), each a view; the inverse of <see cref="Stack(ReadOnlySpan{Vector})"/>.</summary>
    public static Vector[] Unstack(Matrix m) => Typed(Views.Unstack(m), n => new Vector(n));

    /// <summary>The vector's elements as scalars (PyTorch's <c>torch.unbind(v)</c>), each a view; the inverse of <see cref="Stack(ReadOnlySpan{Scalar})"/>.</summary>
    public static Scalar[] Unstack(Vector v) => Typed(Views.Unstack(v), n => new Scalar(n));

    private static T[] Typed<T>(Node[] nodes, Converter<Node, T> cast) => Array.ConvertAll(nodes, cast);

    /// <summary>A vector seen as a <paramref name="rows"/> × <paramref name="cols"/> matrix, row-major (no copy).</summary>
    public static Matrix Reshape(Vector x, int rows, int cols) => new(Views.Reshape(x, Shape.Matrix(rows, cols)));

    /// <summary>A matrix seen as another <paramref name="rows"/> × <paramref name="cols"/> matrix (no copy).</summary>
    public static Matrix Reshape(Matrix x, int rows, int cols) => new(Views.Reshape(x, Shape.Matrix(rows, cols)));

    /// <summary>A matrix's elements as a vector, row by row (no copy).</summary>
    public static Vector Flatten(Matrix x) => new(Views.Reshape(x, Shape.Vector(x.Rows * x.Cols)));

    /// <summary>The same value with no gradient flowing back through it (PyTorch's <c>detach</c>).</summary>
    public static Scalar Detach(Scalar x) => new(Views.Detach(x));
    /// <inheritdoc cref="Detach(Scalar)"/>
    public static Vector Detach(Vector x) => new(Views.Detach(x));
    /// <inheritdoc cref="Detach(Scalar)"/>
    public static Matrix Detach(Matrix x) => new(Views.Detach(x));

    // ------------------------------------------------------------------ extension (Ops/CustomOp.cs)

    /// <summary>Applies a user-defined op; use <see cref="Node.AsScalar"/>, <see cref="Node.AsVector"/> or <see cref="Node.AsMatrix"/> on the result.</summary>
    public static Node Custom(CustomOp op, params ReadOnlySpan<Node> inputs) => CustomOps.Apply(op, inputs);
}
