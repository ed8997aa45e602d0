using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>
/// Unary elementwise ops, each a forward formula and, beside it, its derivative in terms of the input x and the
/// output y (g = ∂L/∂y; every rule adds g·dy/dx into ∂L/∂x).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>−x</term><description>dy/dx = −1</description></item>
/// <item><term>x + c</term><description>dy/dx = 1</description></item>
/// <item><term>c·x</term><description>dy/dx = c</description></item>
/// <item><term>x^c</term><description>dy/dx = c·x^(c−1) (0 for c = 0)</description></item>
/// <item><term>e^x</term><description>dy/dx = e^x = y</description></item>
/// <item><term>ln x</term><description>dy/dx = 1/x</description></item>
/// <item><term>√x</term><description>dy/dx = 1/(2√x) = 1/(2y)</description></item>
/// <item><term>|x|</term><description>dy/dx = sign x, with the subgradient 0 at x = 0</description></item>
/// <item><term>x²</term><description>dy/dx = 2x</description></item>
/// <item><term>tanh x</term><description>dy/dx = 1 − y²</description></item>
/// <item><term>σ(x)</term><description>dy/dx = σ(x)(1 − σ(x)) = y(1 − y)</description></item>
/// <item><term>relu x</term><description>dy/dx = 1 for x &gt; 0, else 0 (subgradient 0 at x = 0); relu NaN = NaN, like max(x, 0)</description></item>
/// <item><term>softplus x = ln(1 + e^x)</term><description>dy/dx = σ(x)</description></item>
/// <item><term>ln σ(x)</term><description>dy/dx = 1 − σ(x) = σ(−x)</description></item>
/// <item><term>sin x</term><description>dy/dx = cos x</description></item>
/// <item><term>cos x</term><description>dy/dx = −sin x</description></item>
/// <item><term>tan x</term><description>dy/dx = 1 + tan² x = 1 + y²</description></item>
/// <item><term>sinh x</term><description>dy/dx = cosh x</description></item>
/// <item><term>cosh x</term><description>dy/dx = sinh x</description></item>
/// <item><term>arcsin x</term><description>dy/dx = 1/√(1 − x²) (+∞ at x = ±1, NaN outside [−1, 1])</description></item>
/// <item><term>arccos x</term><description>dy/dx = −1/√(1 − x²) (−∞ at x = ±1, NaN outside [−1, 1])</description></item>
/// <item><term>arctan x</term><description>dy/dx = 1/(1 + x²)</description></item>
/// <item><term>log₁₀ x</term><description>dy/dx = 1/(x ln 10)</description></item>
/// <item><term>log₂ x</term><description>dy/dx = 1/(x ln 2)</description></item>
/// <item><term>sign x, ⌊x⌋, ⌈x⌉, round x</term><description>dy/dx = 0 everywhere, declared: piecewise constant, and PyTorch's
/// convention at the jumps (integers, half-integers for round, 0 for sign) too</description></item>
/// <item><term>leaky relu x = x for x &gt; 0, else c·x</term><description>dy/dx = 1 for x &gt; 0, else c (c at x = 0, as
/// PyTorch's leaky_relu_backward)</description></item>
/// <item><term>elu x = x for x &gt; 0, else α(e^x − 1)</term><description>dy/dx = 1 for x &gt; 0, else α·e^x (α at x = 0, as
/// PyTorch's elu_backward; continuous there only for α = 1)</description></item>
/// <item><term>gelu x = x·Φ(x)</term><description>dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)</description></item>
/// <item><term>silu x = x·σ(x)</term><description>dy/dx = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x·σ(−x))</description></item>
/// <item><term>max(x, c)</term><description>dy/dx = 1 for x ≥ c, else 0 (the lower half of clamp)</description></item>
/// <item><term>min(x, c)</term><description>dy/dx = 1 for x ≤ c, else 0 (the upper half of clamp)</description></item>
/// </list>
/// <para>Stable forms: σ(x) = 1/(1 + e^−x) for x ≥ 0 and e^x/(1 + e^x) otherwise; softplus x =
/// max(x, 0) + ln(1 + e^−|x|) with an accurate ln(1 + ·) (log1p), so softplus(−40) ≈ 4.2·10⁻¹⁸ keeps its digits;
/// ln σ(x) = −softplus(−x). None overflows for any finite x.</para>
/// <para>More stable forms: 1 − x² in the derivatives of arcsin and arccos is (1 − x)(1 + x), exact to an ulp near
/// x = ±1, where 1 − x² cancels (x = 1 − 10⁻⁸ would lose half its digits); elu's e^x − 1 is an accurate expm1
/// (<see cref="ExpM1"/>), so elu(−10⁻¹⁰) = −10⁻¹⁰·(1 − 5·10⁻¹¹) to the last digit; gelu's Φ(x) is
/// ½ e^(−x²/2)·erfcx(|x|/√2) in the lower tail (<see cref="ErrorFunction.NormalCdf"/>), not ½(1 + erf(x/√2)), which
/// cancels (PyTorch's form: gelu(−8) off by 2 %, gelu(−10) = 0 instead of −7.6·10⁻²³); silu x = x·σ(x) with the stable σ
/// (no overflow of e^−x for x ≪ 0, where silu x ≈ x·e^x keeps its digits while e^x is normal, x &gt; −708, and is a
/// nonzero subnormal to x ≈ −745, where x/(1 + e^−x) is 0 from −709.8 on), and its derivative
/// σ(x)(1 + x·σ(−x)) takes 1 − σ(x) as σ(−x), which keeps its digits for x ≫ 0. sign NaN = 0, as torch.sign
/// (where Math.Sign throws); the domain errors of the others give NaN, as Math does (arcsin 2, log₁₀ of a negative).</para>
/// </remarks>
internal static class Elementwise
{
    /// <summary>Records op(x). A one-element x takes an inlined fast path, where the op folds to its formula.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Node Unary(OpKind op, Node x, double c = 0)
    {
        Tape? t = x.TapeOrNull;
        if (t is not null && t.IsFastScalar(x))
        {
            ref readonly NodeRecord s = ref Tape.Unchecked(t.Nodes, x.Index);
            double value = ApplyScalar(op, Tape.Unchecked(t.Values, s.Offset), c);
            NodeFlags flags = s.Flags & NodeFlags.RequiresGrad;
            int i = t.AppendScalar(op, x.Index, -1, ShapeKind.Scalar, flags, c, value);
            if (i >= 0) return new Node(t, i, x.Generation);
        }
        return new Node(t!, Record(op, x, c), x.Generation);
    }

    /// <summary>
    /// Records op(x) out of line and returns the node's index, which the inlined path makes its handle from (an index,
    /// not a handle, as <see cref="Arithmetic.Binary"/>'s ways out). Checks the handle and throws for a default, stale
    /// or foreign one, so that a returned index is a node of x's tape in x's generation. A vector or matrix of one
    /// element in the arena (the inlined path takes scalars only) takes the scalar formula with x's kind.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Record(OpKind op, Node x, double c)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, op);
        ref readonly NodeRecord s = ref t.Nodes[ix];
        if (t.AreOneElementInArena(ix, ix))
        {
            int one = t.AppendScalar(op, ix, -1, s.Kind, s.Flags & NodeFlags.RequiresGrad, c, ApplyScalar(op, t.Values[s.Offset], c));
            if (one >= 0) return one;
        }
        int i = t.Append(op, ix, -1, s.Shape, s.Flags & NodeFlags.RequiresGrad, c);
        ReadOnlySpan<double> x0 = t.ValueSpan(ix);
        Span<double> y = t.ValueSpan(i);
        if (y.Length > Split.CachedOutput && Summed(op, x0, y, c, out double sum)) t.RememberSum(i, sum);
        else Split.Elementwise(x0, default, default, y, new ForwardKernel(op, c));
        return t.Checked(i);
    }

    /// <summary>
    /// <see cref="Apply"/> for the scalar fast path: inlined, so that with the op a constant at the call site the
    /// cheap ops fold to their formula; the rest call <see cref="Apply"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ApplyScalar(OpKind op, double x, double c) => op switch
    {
        OpKind.Negate => -x,
        OpKind.AddConstant => x + c,
        OpKind.MultiplyConstant => x * c,
        OpKind.Relu => x > 0 || double.IsNaN(x) ? x : 0,
        _ => Apply(op, x, c),
    };

    internal static double Apply(OpKind op, double x, double c) => op switch
    {
        OpKind.Negate => -x,
        OpKind.AddConstant => x + c,
        OpKind.MultiplyConstant => x * c,
        OpKind.PowerConstant => Math.Pow(x, c),
        OpKind.Exp => Math.Exp(x),
        OpKind.Log => Math.Log(x),
        OpKind.Sqrt => Math.Sqrt(x),
        OpKind.Abs => Math.Abs(x),
        OpKind.Square => x * x,
        OpKind.Tanh => Math.Tanh(x),
        OpKind.Sigmoid => Sigmoid(x),
        OpKind.Relu => x > 0 || double.IsNaN(x) ? x : 0,
        OpKind.Softplus => Softplus(x),
        OpKind.LogSigmoid => -Softplus(-x),
        OpKind.Sin => Math.Sin(x),
        OpKind.Cos => Math.Cos(x),
        OpKind.Tan => Math.Tan(x),
        OpKind.Sinh => Math.Sinh(x),
        OpKind.Cosh => Math.Cosh(x),
        OpKind.Asin => Math.Asin(x),
        OpKind.Acos => Math.Acos(x),
        OpKind.Atan => Math.Atan(x),
        OpKind.Log10 => Math.Log10(x),
        OpKind.Log2 => Math.Log2(x),
        // torch.sign: (0 < x) − (x < 0), so sign NaN = 0 and sign(−0) = +0.
        OpKind.Sign => x > 0 ? 1 : x < 0 ? -1 : 0,
        OpKind.Floor => Math.Floor(x),
        OpKind.Ceiling => Math.Ceiling(x),
        // Math.Round's default is MidpointRounding.ToEven, torch.round's rule: round(2.5) = 2, round(−0.5) = −0.
        OpKind.Round => Math.Round(x),
        OpKind.LeakyRelu => x > 0 ? x : c * x,
        // PyTorch's branch: x ≤ 0 is the exponential side, so NaN takes the identity side (NaN either way).
        OpKind.Elu => x <= 0 ? c * ExpM1(x) : x,
        OpKind.Gelu => x * ErrorFunction.NormalCdf(x),
        OpKind.Silu => x * Sigmoid(x),
        OpKind.MaxConstant => double.IsNaN(x) ? x : Math.Max(x, c),
        OpKind.MinConstant => double.IsNaN(x) ? x : Math.Min(x, c),
        _ => throw new InvalidOperationException($"Elementwise: {op} is not a unary elementwise op."),
    };

    /// <summary>σ(x) without overflow: 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) for x &lt; 0.</summary>
    internal static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    /// <summary>ln(1 + e^x) without overflow: max(x, 0) + ln(1 + e^−|x|), the logarithm by <see cref="Log1P"/>.</summary>
    internal static double Softplus(double x) => Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x)));

    /// <summary>
    /// ln(1 + x), accurate to a few ulps for small x, where Math.Log(1 + x) (and double.LogP1, which computes just
    /// that) loses x's digits: softplus(−40) = e^−40 ≈ 4.2·10⁻¹⁸ would come out 0, softplus(−20) wrong in the 8th digit.
    /// With u = 1 ⊕ x (rounded), ln(1 + x) = x when u = 1, else ln(u)·x/(u − 1): the rounding of u cancels in the
    /// ratio (Goldberg, "What every computer scientist should know about floating-point arithmetic", Theorem 4).
    /// </summary>
    internal static double Log1P(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>
    /// e^x − 1, accurate to a few ulps for small x, where Math.Exp(x) − 1 (and double.ExpM1, which computes just that)
    /// loses x's digits. With u = e^x (rounded), e^x − 1 = x when u = 1, −1 when u − 1 = −1, else (u − 1)·x/ln u: the
    /// rounding of u cancels in the ratio (Kahan's method, the dual of <see cref="Log1P"/>).
    /// </summary>
    internal static double ExpM1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        if (um1 == -1 || double.IsPositiveInfinity(u)) return um1;
        return um1 * x / Math.Log(u);
    }

    /// <summary>silu′(x) = σ(x)(1 + x·σ(−x)): 1 − σ(x) as σ(−x), so it does not cancel for x ≫ 0.</summary>
    private static double SiluDerivative(double x) => Sigmoid(x) * (1 + x * Sigmoid(-x));

    /// <summary>
    /// y = op(x) for the ops cheap enough to run at memory speed, with Σ y as it is written
    /// (<see cref="Split.ElementwiseSummed{TOp}"/>, for a long output that a sum or mean would otherwise read back): the
    /// values <see cref="Forward"/> gives; false for the other ops. Not e^x, which is not memory-bound: in the fused
    /// loop its forward on 10⁶ elements (two threads) took 885–1,190 µs against 724–837 µs for VectorMath's own loop,
    /// more than the 140 µs the sum saves, with plain stores as with non-temporal ones (which also slow its backward,
    /// that reads y).
    /// </summary>
    private static bool Summed(OpKind op, ReadOnlySpan<double> x, Span<double> y, double c, out double sum)
    {
        switch (op)
        {
            case OpKind.Negate: sum = Split.ElementwiseSummed(default(NegateOp), x, default, y); return true;
            case OpKind.AddConstant: sum = Split.ElementwiseSummed(new AddConstantOp(c), x, default, y); return true;
            case OpKind.MultiplyConstant: sum = Split.ElementwiseSummed(new MultiplyConstantOp(c), x, default, y); return true;
            case OpKind.Square: sum = Split.ElementwiseSummed(default(SquareOp), x, default, y); return true;
            case OpKind.Relu: sum = Split.ElementwiseSummed(default(ReluOp), x, default, y); return true;
            default: sum = 0; return false;
        }
    }

    private readonly unsafe struct NegateOp : IStreamOp
    {
        public Vector256<double> Four(double* x, double* unused, nint i) => -Vector256.Load(x + i);

        public double One(double* x, double* unused, nint i) => -x[i];
    }

    private readonly unsafe struct AddConstantOp(double c) : IStreamOp
    {
        public Vector256<double> Four(double* x, double* unused, nint i) => Vector256.Load(x + i) + Vector256.Create(c);

        public double One(double* x, double* unused, nint i) => x[i] + c;
    }

    private readonly unsafe struct MultiplyConstantOp(double c) : IStreamOp
    {
        public Vector256<double> Four(double* x, double* unused, nint i) => Vector256.Load(x + i) * Vector256.Create(c);

        public double One(double* x, double* unused, nint i) => x[i] * c;
    }

    private readonly unsafe struct SquareOp : IStreamOp
    {
        public Vector256<double> Four(double* x, double* unused, nint i)
        {
            Vector256<double> v = Vector256.Load(x + i);
            return v * v;
        }

        public double One(double* x, double* unused, nint i) => x[i] * x[i];
    }

    private readonly unsafe struct ReluOp : IStreamOp
    {
        public Vector256<double> Four(double* x, double* unused, nint i) => Relu(Vector256.Load(x + i));

        public double One(double* x, double* unused, nint i) => Apply(OpKind.Relu, x[i], 0);
    }

    /// <summary>y = op(x) over one range.</summary>
    private readonly struct ForwardKernel(OpKind op, double c) : IElementKernel
    {
        public bool Accumulates => false;

        public void Apply(ReadOnlySpan<double> x, ReadOnlySpan<double> unused1, ReadOnlySpan<double> unused2, Span<double> y) => Forward(op, x, y, c);
    }

    private static void Forward(OpKind op, ReadOnlySpan<double> x, Span<double> y, double c)
    {
        switch (op)
        {
            case OpKind.Negate: TensorPrimitives.Negate(x, y); return;
            case OpKind.AddConstant: TensorPrimitives.Add(x, c, y); return;
            case OpKind.MultiplyConstant: TensorPrimitives.Multiply(x, c, y); return;
            // Four at a time (VectorMath.Exp, within 2 ulps of Math.Exp): the runtime's double Exp is element by element
            // before AVX-512, about as slow as Math.Exp.
            case OpKind.Exp when Vector256.IsHardwareAccelerated && !Vector512.IsHardwareAccelerated: VectorMath.Exp(x, y); return;
            case OpKind.Relu: ReluKernel(x, y); return;
            case OpKind.Exp: TensorPrimitives.Exp(x, y); return;
            case OpKind.Log: TensorPrimitives.Log(x, y); return;
            case OpKind.Sqrt: TensorPrimitives.Sqrt(x, y); return;
            case OpKind.Abs: TensorPrimitives.Abs(x, y); return;
            case OpKind.Square: TensorPrimitives.Multiply(x, x, y); return;
            // Not TensorPrimitives.Tanh: for doubles it cancels near 0 (relative error 8·10⁻⁸ at x = 10⁻¹⁰, and a zero
            // of the wrong sign below about 10⁻¹⁷, where tanh x = x); Math.Tanh, element by element, is exact to an ulp.
            default:
                for (int k = 0; k < x.Length; k++) y[k] = Apply(op, x[k], c);
                return;
        }
    }

    /// <summary>y = relu x = x where x &gt; 0 or x is NaN, else 0 (+0, as x·[x &gt; 0] would not give for −0), four at a time.</summary>
    private static void ReluKernel(ReadOnlySpan<double> x, Span<double> y)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double yr = ref MemoryMarshal.GetReference(y);
            for (; k + 4 <= x.Length; k += 4)
            {
                Relu(Vector256.LoadUnsafe(ref xr, (nuint)k)).StoreUnsafe(ref yr, (nuint)k);
            }
        }
        for (; k < x.Length; k++) y[k] = Apply(OpKind.Relu, x[k], 0);
    }

    /// <summary>relu of four lanes: v where v &gt; 0 or v is NaN, else +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Relu(Vector256<double> v)
    {
        Vector256<double> keep = Vector256.GreaterThan(v, Vector256<double>.Zero) | ~Vector256.Equals(v, v);
        return Vector256.ConditionalSelect(keep, v, Vector256<double>.Zero);
    }

    /// <summary>dy/dx for one element, from the input <paramref name="x"/>, the output <paramref name="y"/> and the op's constant.</summary>
    internal static double Derivative(OpKind op, double x, double y, double c) => op switch
    {
        OpKind.Negate => -1,
        OpKind.AddConstant => 1,
        OpKind.MultiplyConstant => c,
        OpKind.PowerConstant => c == 0 ? 0 : c * Math.Pow(x, c - 1),
        OpKind.Exp => y,
        OpKind.Log => 1 / x,
        OpKind.Sqrt => 1 / (2 * y),
        OpKind.Abs => x > 0 ? 1 : x < 0 ? -1 : 0,
        OpKind.Square => 2 * x,
        OpKind.Tanh => 1 - y * y,
        OpKind.Sigmoid => y * (1 - y),
        OpKind.Relu => x > 0 ? 1 : 0,
        OpKind.Softplus => Sigmoid(x),
        OpKind.LogSigmoid => Sigmoid(-x),
        OpKind.Sin => Math.Cos(x),
        OpKind.Cos => -Math.Sin(x),
        OpKind.Tan => 1 + y * y,
        OpKind.Sinh => Math.Cosh(x),
        OpKind.Cosh => Math.Sinh(x),
        // 1 − x² as (1 − x)(1 + x): no cancellation near ±1; negative (so NaN) outside [−1, 1], 0 (so ±∞) at ±1.
        OpKind.Asin => 1 / Math.Sqrt((1 - x) * (1 + x)),
        OpKind.Acos => -1 / Math.Sqrt((1 - x) * (1 + x)),
        OpKind.Atan => 1 / (1 + x * x),
        OpKind.Log10 => 1 / (x * Ln10),
        OpKind.Log2 => 1 / (x * Ln2),
        // Piecewise constant: the derivative is 0 wherever it exists, and 0 is PyTorch's value at the jumps too.
        OpKind.Sign or OpKind.Floor or OpKind.Ceiling or OpKind.Round => 0,
        OpKind.LeakyRelu => x > 0 ? 1 : c,
        OpKind.Elu => x <= 0 ? c * Math.Exp(x) : 1,
        OpKind.Gelu => ErrorFunction.NormalCdf(x) + x * ErrorFunction.NormalPdf(x),
        OpKind.Silu => SiluDerivative(x),
        OpKind.MaxConstant => x >= c ? 1 : 0,
        OpKind.MinConstant => x <= c ? 1 : 0,
        _ => throw new InvalidOperationException($"Backward: no derivative rule for {op} in Elementwise."),
    };

    /// <summary>
    /// The recorded (create-graph) rule: ∂L/∂x = g·dy/dx with dy/dx as nodes of x and y (the table above), so it can be
    /// differentiated again. Derivatives that are piecewise constant are declared: relu, leaky relu, |x| (sign x),
    /// max/min with a constant and elu's positive side are constant masks (their own derivative is 0), and sign,
    /// ⌊x⌋, ⌈x⌉ and round contribute nothing (dy/dx = 0). gelu′ = Φ(x) + x·φ(x) needs Φ as a differentiable node:
    /// <see cref="NormalCdfOp"/>, whose own recorded rule is φ(x) = e^(−x²/2)/√(2π) in ops.
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ix = n.A;
        if (!r.Needs(i, ix)) return;
        Node x = r.At(ix), y = r.At(i);
        double c = n.Aux;
        Node d;
        switch (n.Op)
        {
            case OpKind.Negate: r.Add(ix, RecordedGradients.Negate(g)); return;
            case OpKind.AddConstant: r.Add(ix, g); return;
            case OpKind.MultiplyConstant: r.Add(ix, RecordedGradients.Scale(g, c)); return;
            case OpKind.PowerConstant:
                if (c == 0) return; // x⁰ = 1: dy/dx = 0, declared
                d = RecordedGradients.Scale(Unary(OpKind.PowerConstant, x, c - 1), c);
                break;
            case OpKind.Exp: d = y; break;
            case OpKind.Log: r.Add(ix, RecordedGradients.Over(g, x)); return;
            case OpKind.Sqrt: r.Add(ix, RecordedGradients.Over(g, RecordedGradients.Scale(y, 2))); return;
            case OpKind.Abs: d = r.Mask(ix, v => v > 0 ? 1 : v < 0 ? -1 : 0); break;
            case OpKind.Square: d = RecordedGradients.Scale(x, 2); break;
            case OpKind.Tanh: d = OneMinus(Unary(OpKind.Square, y)); break;
            case OpKind.Sigmoid: d = RecordedGradients.Times(y, OneMinus(y)); break;
            case OpKind.Relu: d = r.Mask(ix, v => v > 0 ? 1 : 0); break;
            case OpKind.Softplus: d = Unary(OpKind.Sigmoid, x); break;
            case OpKind.LogSigmoid: d = Unary(OpKind.Sigmoid, RecordedGradients.Negate(x)); break;
            case OpKind.Sin: d = Unary(OpKind.Cos, x); break;
            case OpKind.Cos: d = RecordedGradients.Negate(Unary(OpKind.Sin, x)); break;
            case OpKind.Tan: d = RecordedGradients.Shift(Unary(OpKind.Square, y), 1); break;
            case OpKind.Sinh: d = Unary(OpKind.Cosh, x); break;
            case OpKind.Cosh: d = Unary(OpKind.Sinh, x); break;
            case OpKind.Asin:
            case OpKind.Acos:
            {
                // ±g/√((1 − x)(1 + x))
                Node root = Unary(OpKind.Sqrt, RecordedGradients.Times(OneMinus(x), RecordedGradients.Shift(x, 1)));
                Node q = RecordedGradients.Over(g, root);
                r.Add(ix, n.Op == OpKind.Asin ? q : RecordedGradients.Negate(q));
                return;
            }
            case OpKind.Atan: r.Add(ix, RecordedGradients.Over(g, RecordedGradients.Shift(Unary(OpKind.Square, x), 1))); return;
            case OpKind.Log10: r.Add(ix, RecordedGradients.Over(g, RecordedGradients.Scale(x, Ln10))); return;
            case OpKind.Log2: r.Add(ix, RecordedGradients.Over(g, RecordedGradients.Scale(x, Ln2))); return;
            case OpKind.Sign:
            case OpKind.Floor:
            case OpKind.Ceiling:
            case OpKind.Round:
                return; // dy/dx = 0, declared
            case OpKind.LeakyRelu: d = r.Mask(ix, v => v > 0 ? 1 : c); break;
            case OpKind.Elu:
                // 1 for x > 0, else α·e^x: [x > 0] + [x ≤ 0]·α·e^min(x, 0) (the min keeps e^x of a large positive x,
                // masked out, from being ∞, where 0·∞ would be NaN; on x ≤ 0 it is the identity, to every order)
                d = RecordedGradients.Plus(r.Mask(ix, v => v <= 0 ? 0 : 1),
                    RecordedGradients.Times(r.Mask(ix, v => v <= 0 ? 1 : 0), RecordedGradients.Scale(Unary(OpKind.Exp, Unary(OpKind.MinConstant, x, 0)), c)));
                break;
            case OpKind.Gelu:
                // Φ(x) + x·φ(x)
                d = RecordedGradients.Plus(NormalCdfOp.Record(x), RecordedGradients.Times(x, NormalCdfOp.Density(x)));
                break;
            case OpKind.Silu:
                // σ(x)(1 + x·σ(−x))
                d = RecordedGradients.Times(Unary(OpKind.Sigmoid, x),
                    RecordedGradients.Shift(RecordedGradients.Times(x, Unary(OpKind.Sigmoid, RecordedGradients.Negate(x))), 1));
                break;
            case OpKind.MaxConstant: d = r.Mask(ix, v => v >= c ? 1 : 0); break;
            case OpKind.MinConstant: d = r.Mask(ix, v => v <= c ? 1 : 0); break;
            default:
                throw new InvalidOperationException($"Grad: no recorded derivative rule for {n.Op} in Elementwise.");
        }
        r.Add(ix, RecordedGradients.Times(g, d));
    }

    /// <summary>1 − x, recorded.</summary>
    private static Node OneMinus(Node x) => RecordedGradients.Shift(RecordedGradients.Negate(x), 1);

    /// <summary>ln 10, as PyTorch's log10 rule writes it.</summary>
    private const double Ln10 = 2.302585092994046;
    /// <summary>ln 2.</summary>
    private const double Ln2 = 0.6931471805599453;

    /// <summary>
    /// ∂L/∂x (=, or += when x already holds a contribution) g·dy/dx, split over the pool for long arrays. The common
    /// derivatives are vectorised; the rest go element by element through <see cref="Derivative"/>.
    /// </summary>
    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        if (!t.Nodes[ix].RequiresGrad) return;
        ReadOnlySpan<double> g = t.GradSpan(i), x = t.ValueSpan(ix), y = t.ValueSpan(i);
        Span<double> gx = t.GradTarget(ix, out bool assign);
        if (t.IsUniform(i))
        {
            // ∂L/∂y is one number g: −g, g and c·g are uniform again (stored once when first); the rest g·dy/dx.
            double g0 = g[0];
            if (n.Op is OpKind.Negate or OpKind.AddConstant or OpKind.MultiplyConstant)
            {
                double value = n.Op == OpKind.Negate ? -g0 : n.Op == OpKind.MultiplyConstant ? g0 * n.Aux : g0;
                if (assign && t.TrySetUniform(ix, gx, value)) return;
                Split.Elementwise(default, default, default, gx, new FillOrAddKernel(value, assign));
                return;
            }
            // g·eˣ = g·y: kept as (g, y) when it is the first contribution (a parameter adds it straight into its Grad).
            if (n.Op == OpKind.Exp && assign && t.TrySetScaled(ix, gx, g0, i)) return;
            Split.Elementwise(default, x, y, gx, new UniformBackwardKernel(n.Op, n.Aux, assign, g0));
            return;
        }
        Split.Elementwise(g, x, y, gx, new BackwardKernel(n.Op, n.Aux, assign));
    }

    /// <summary>gx (=|+=) g·dy/dx for one number g, over one range.</summary>
    private readonly struct UniformBackwardKernel(OpKind op, double c, bool assign, double g) : IElementKernel
    {
        public bool Accumulates => !assign;

        public void Apply(ReadOnlySpan<double> unused, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> gx)
        {
            switch (op)
            {
                case OpKind.Exp:
                    if (assign) TensorPrimitives.Multiply(y, g, gx);
                    else TensorPrimitives.MultiplyAdd(y, g, gx, gx);
                    return;
                default:
                    if (assign)
                    {
                        for (int k = 0; k < gx.Length; k++) gx[k] = g * Derivative(op, x[k], y[k], c);
                    }
                    else
                    {
                        for (int k = 0; k < gx.Length; k++) gx[k] += g * Derivative(op, x[k], y[k], c);
                    }
                    return;
            }
        }
    }

    /// <summary>gx (=|+=) g·dy/dx over one range.</summary>
    private readonly struct BackwardKernel(OpKind op, double c, bool assign) : IElementKernel
    {
        public bool Accumulates => !assign;

        public void Apply(ReadOnlySpan<double> g, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> gx)
        {
            switch (op)
            {
                case OpKind.Negate:
                    if (assign) TensorPrimitives.Negate(g, gx);
                    else TensorPrimitives.Subtract(gx, g, gx);
                    return;
                case OpKind.AddConstant:
                    if (assign) g.CopyTo(gx);
                    else TensorPrimitives.Add(gx, g, gx);
                    return;
                case OpKind.MultiplyConstant:
                    if (assign) TensorPrimitives.Multiply(g, c, gx);
                    else TensorPrimitives.MultiplyAdd(g, c, gx, gx);
                    return;
                case OpKind.Exp:
                    if (assign) TensorPrimitives.Multiply(g, y, gx);
                    else TensorPrimitives.MultiplyAdd(g, y, gx, gx);
                    return;
                case OpKind.Relu:
                    ReluBackward(g, x, gx, assign);
                    return;
                default:
                    if (assign)
                    {
                        for (int k = 0; k < g.Length; k++) gx[k] = g[k] * Derivative(op, x[k], y[k], c);
                    }
                    else
                    {
                        for (int k = 0; k < g.Length; k++) gx[k] += g[k] * Derivative(op, x[k], y[k], c);
                    }
                    return;
            }
        }
    }

    /// <summary>gx (=|+=) g·[x &gt; 0]: the mask as 1 or 0 multiplied in, so ∞·0 gives NaN as element by element.</summary>
    private static void ReluBackward(ReadOnlySpan<double> g, ReadOnlySpan<double> x, Span<double> gx, bool assign)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double gr = ref MemoryMarshal.GetReference(g);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double dr = ref MemoryMarshal.GetReference(gx);
            Vector256<double> one = Vector256<double>.One;
            for (; k + 4 <= g.Length; k += 4)
            {
                Vector256<double> mask = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref xr, (nuint)k), Vector256<double>.Zero), one, Vector256<double>.Zero);
                Vector256<double> v = Vector256.LoadUnsafe(ref gr, (nuint)k) * mask;
                if (!assign) v += Vector256.LoadUnsafe(ref dr, (nuint)k);
                v.StoreUnsafe(ref dr, (nuint)k);
            }
        }
        for (; k < g.Length; k++)
        {
            double v = g[k] * (x[k] > 0 ? 1 : 0);
            gx[k] = assign ? v : gx[k] + v;
        }
    }

    /// <summary>
    /// Forward rule: ẏ = (dy/dx)·ẋ element by element, dy/dx being <see cref="Derivative"/>, the same local derivative
    /// backward multiplies g by (so relu, |x|, max/min with a constant give their masks, and sign, floor, ceiling and
    /// round their declared 0).
    /// </summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        OpKind op = n.Op;
        double c = n.Aux;
        ReadOnlySpan<double> dx = t.TangentSpan(ix), x = t.ValueSpan(ix), y = t.ValueSpan(i);
        Span<double> d = t.TangentSpan(i);
        switch (op)
        {
            case OpKind.Negate: TensorPrimitives.Negate(dx, d); return;
            case OpKind.AddConstant: dx.CopyTo(d); return;
            case OpKind.MultiplyConstant: TensorPrimitives.Multiply(dx, c, d); return;
            case OpKind.Exp: TensorPrimitives.Multiply(dx, y, d); return;
            default:
                for (int k = 0; k < d.Length; k++) d[k] = Derivative(op, x[k], y[k], c) * dx[k];
                return;
        }
    }
}
