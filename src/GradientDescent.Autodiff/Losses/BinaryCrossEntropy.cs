using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>Binary cross-entropy on probabilities and on logits, fused into one node each for stability.</summary>
/// <remarks>
/// <para>On probabilities p with targets y (the mean over the N elements):
/// ℓ = −(1/N) Σ [y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100)], and
/// ∂ℓ/∂p = (1/N)(p − y) / max(p(1 − p), ε) with ε = 10⁻¹² as a float (PyTorch's constant, see <see cref="Epsilon"/>).
/// The clamps are PyTorch's: at p = 0 or 1 the loss stays finite (at most 100 per element) and the gradient
/// finite, and where the loss is exactly 0 (p = y ∈ {0, 1}) the gradient is exactly 0.</para>
/// <para>On logits z (p = σ(z)):
/// ℓ = (1/N) Σ [max(z, 0) − z·y + ln(1 + e^−|z|)], and ∂ℓ/∂z = (1/N)(σ(z) − y) — the seed's −(y − ŷ) —
/// with no overflow for any finite z (±1000 included).</para>
/// <para>Targets are data: a target that requires a gradient is an error.</para>
/// <para>Forward rule: ℓ̇ = (1/N) Σ (∂ℓₖ/∂pₖ)·ṗₖ with the same local derivatives.</para>
/// <para>Speed: on logits, e^−|z| and ln(1 + ·) are computed four elements at a time (<see cref="VectorMath"/>, within
/// a few ulps of Math.Exp and the scalar log1p); long inputs split into fixed ranges over the worker pool, the loss's
/// partial sums added in range order (the same bits for a given thread count).</para>
/// </remarks>
internal static class BinaryCrossEntropyOps
{
    /// <summary>The floor PyTorch puts under ln p and ln(1 − p).</summary>
    internal const double LogFloor = -100;

    /// <summary>
    /// The floor PyTorch puts under p(1 − p) in the gradient. PyTorch declares it as the float 1e-12f, which as a
    /// double is 9.999999960041972·10⁻¹³ (4·10⁻⁹ below 10⁻¹²); the same constant keeps saturated gradients equal to
    /// PyTorch's to the last bit instead of 4·10⁻⁹ apart.
    /// </summary>
    internal const double Epsilon = 1e-12f;

    internal static Node Apply(OpKind op, Node prediction, Node target)
    {
        Tape t = prediction.Tape;
        int ip = prediction.Resolve(t, op), iy = target.Resolve(t, op);
        Shape sp = t.Nodes[ip].Shape, sy = t.Nodes[iy].Shape;
        if (sp.Length != sy.Length || sp.Rows != sy.Rows)
        {
            throw new ArgumentException($"{op}: the prediction has shape {sp} but the target {sy}; they must match element for element.");
        }
        if (t.Nodes[iy].RequiresGrad)
        {
            throw new ArgumentException($"{op}: the target requires a gradient; targets are data. Pass a constant, or Ops.Detach(target).");
        }
        ReadOnlySpan<double> p = t.ValueSpan(ip), y = t.ValueSpan(iy);
        if (op == OpKind.BinaryCrossEntropy)
        {
            for (int k = 0; k < p.Length; k++)
            {
                if (!(p[k] >= 0 && p[k] <= 1))
                {
                    throw new ArgumentOutOfRangeException(nameof(prediction),
                        $"BinaryCrossEntropy: prediction element {k} is {p[k]}, not a probability in [0, 1]; apply Ops.Sigmoid first, or use Loss.BinaryCrossEntropyWithLogits on the raw scores.");
                }
            }
        }
        double sum = Sum(op, p, y);
        int i = t.Append(op, ip, iy, Shape.Scalar, t.GradFlag(ip));
        t.Values[t.Nodes[i].Offset] = sum / p.Length;
        return new Node(t, t.Checked(i));
    }

    /// <summary>Σₖ ℓ(pₖ, yₖ): one range on the calling thread, or fixed ranges over the pool with the partial sums added in order.</summary>
    private static unsafe double Sum(OpKind op, ReadOnlySpan<double> p, ReadOnlySpan<double> y)
    {
        fixed (double* pp = p, py = y)
        {
            return Split.Sum(p.Length, new LossSum { Op = op, P = pp, Y = py });
        }
    }

    private unsafe struct LossSum : Split.IRangeSum
    {
        public OpKind Op;
        public double* P, Y;

        public readonly double Sum(int start, int end) =>
            RangeSum(Op, new ReadOnlySpan<double>(P + start, end - start), new ReadOnlySpan<double>(Y + start, end - start));
    }

    /// <summary>Σₖ ℓ(pₖ, yₖ) over one range: on logits four lanes at a time, the lanes added at the end, then the tail.</summary>
    private static double RangeSum(OpKind op, ReadOnlySpan<double> p, ReadOnlySpan<double> y)
    {
        double sum = 0;
        int k = 0;
        if (op == OpKind.BinaryCrossEntropyWithLogits && Vector256.IsHardwareAccelerated)
        {
            ref double pr = ref MemoryMarshal.GetReference(p);
            ref double yr = ref MemoryMarshal.GetReference(y);
            Vector256<double> acc = Vector256<double>.Zero;
            for (; k + 4 <= p.Length; k += 4) acc += OnLogit(Vector256.LoadUnsafe(ref pr, (nuint)k), Vector256.LoadUnsafe(ref yr, (nuint)k));
            sum = Vector256.Sum(acc);
        }
        for (; k < p.Length; k++) sum += op == OpKind.BinaryCrossEntropy ? OnProbability(p[k], y[k]) : OnLogit(p[k], y[k]);
        return sum;
    }

    /// <summary>
    /// −[y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100)], with ln(1 − p) as log1p(−p), as PyTorch computes it:
    /// Math.Log(1 − p) would lose p's digits for small p (relative error 8·10⁻⁸ at p = 10⁻¹⁰, all of them below 10⁻¹⁶).
    /// </summary>
    internal static double OnProbability(double p, double y) =>
        -(y * Math.Max(Math.Log(p), LogFloor) + (1 - y) * Math.Max(Elementwise.Log1P(-p), LogFloor));

    /// <summary>max(z, 0) − z·y + ln(1 + e^−|z|), the logarithm by log1p (so a confident, correct logit keeps a loss of e^−|z|, not 0).</summary>
    internal static double OnLogit(double z, double y) => Math.Max(z, 0) - z * y + Elementwise.Log1P(Math.Exp(-Math.Abs(z)));

    /// <summary>
    /// <see cref="OnLogit(double, double)"/> on four elements: the same operations, with e^−|z| by VectorMath.Exp (≤ 2 ulps)
    /// and ln(1 + e^−|z|) by <see cref="VectorMath.Log1PUnit"/> (its argument is in (0, 1]; ≤ 3 ulps, no logarithm).
    /// </summary>
    private static Vector256<double> OnLogit(Vector256<double> z, Vector256<double> y) =>
        Vector256.Max(z, Vector256<double>.Zero) - z * y + VectorMath.Log1PUnit(VectorMath.Exp(-Vector256.Abs(z)));

    /// <summary>σ(z) as <see cref="Elementwise.Sigmoid"/> computes it — 1/(1 + e^−z) for z ≥ 0, e^z/(1 + e^z) otherwise — on four elements.</summary>
    private static Vector256<double> Sigmoid(Vector256<double> z)
    {
        Vector256<double> e = VectorMath.Exp(-Vector256.Abs(z)), d = Vector256<double>.One + e;
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<double>.Zero), Vector256<double>.One / d, e / d);
    }

    /// <summary>
    /// The recorded (create-graph) rule, the formulas above with ops: (g/N)·(p − y)/max(p(1 − p), ε) on probabilities
    /// (the clamp as <see cref="OpKind.MaxConstant"/>, whose derivative is 0 below ε, as the clamped rule's), and
    /// (g/N)·(σ(z) − y) on logits.
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ip = n.A;
        if (!r.Needs(i, ip)) return;
        Node p = r.At(ip), y = r.At(n.B);
        Node scale = r.Over(g, r.Record(ip).Length);
        Node d;
        if (n.Op == OpKind.BinaryCrossEntropy)
        {
            Node variance = RecordedGradients.Times(p, RecordedGradients.Shift(RecordedGradients.Negate(p), 1));
            d = RecordedGradients.Over(RecordedGradients.Minus(p, y), Elementwise.Unary(OpKind.MaxConstant, variance, Epsilon));
        }
        else
        {
            d = RecordedGradients.Minus(Elementwise.Unary(OpKind.Sigmoid, p), y);
        }
        r.Add(ip, RecordedGradients.Times(d, scale));
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ip = n.A;
        if (!t.Nodes[ip].RequiresGrad) return;
        ReadOnlySpan<double> p = t.ValueSpan(ip), y = t.ValueSpan(n.B);
        Span<double> gp = t.GradTarget(ip, out bool assign);
        double scale = t.Grads[n.Offset] / p.Length;
        Split.Elementwise(p, y, default, gp, new BackwardKernel(n.Op, scale, assign));
    }

    /// <summary>gp (=|+=) g·∂ℓₖ/∂pₖ over one range; on logits four elements at a time.</summary>
    private readonly struct BackwardKernel(OpKind op, double g, bool assign) : IElementKernel
    {
        public bool Accumulates => !assign;

        public void Apply(ReadOnlySpan<double> p, ReadOnlySpan<double> y, ReadOnlySpan<double> unused, Span<double> gp)
        {
            int k = 0;
            if (op == OpKind.BinaryCrossEntropyWithLogits && Vector256.IsHardwareAccelerated)
            {
                ref double pr = ref MemoryMarshal.GetReference(p);
                ref double yr = ref MemoryMarshal.GetReference(y);
                ref double gr = ref MemoryMarshal.GetReference(gp);
                var gv = Vector256.Create(g);
                for (; k + 4 <= p.Length; k += 4)
                {
                    // g·(σ(z) − y), as Local computes it
                    Vector256<double> d = gv * (Sigmoid(Vector256.LoadUnsafe(ref pr, (nuint)k)) - Vector256.LoadUnsafe(ref yr, (nuint)k));
                    if (!assign) d = Vector256.LoadUnsafe(ref gr, (nuint)k) + d;
                    d.StoreUnsafe(ref gr, (nuint)k);
                }
            }
            for (; k < p.Length; k++)
            {
                double d = Local(op, g, p[k], y[k]);
                gp[k] = assign ? d : gp[k] + d;
            }
        }
    }

    /// <summary>
    /// g·∂ℓₖ/∂pₖ for one element: g·(p − y)/max(p(1 − p), ε) on a probability, g·(σ(z) − y) on a logit. Linear in g:
    /// backward passes ∂L/∂ℓ/N, forward the element's tangent.
    /// </summary>
    private static double Local(OpKind op, double g, double p, double y) =>
        op == OpKind.BinaryCrossEntropy ? g * (p - y) / Math.Max(p * (1 - p), Epsilon) : g * (Elementwise.Sigmoid(p) - y);

    /// <summary>Forward rule: ℓ̇ = (1/N) Σₖ (∂ℓₖ/∂pₖ)·ṗₖ (the target is data: no tangent).</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        ReadOnlySpan<double> p = t.ValueSpan(n.A), y = t.ValueSpan(n.B), dp = t.TangentSpan(n.A);
        double s = 0;
        for (int k = 0; k < p.Length; k++) s += Local(n.Op, dp[k], p[k], y[k]);
        t.TangentSpan(i)[0] = s / p.Length;
    }
}
