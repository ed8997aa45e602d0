using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>
/// Binary elementwise ops with broadcasting: a + b, a − b, a · b, a / b, a^b, max(a, b), min(a, b).
/// </summary>
/// <remarks>
/// <para>Broadcasting: equal shapes combine element by element; a scalar (or a one-element node of no higher kind: a vector of one with a vector or matrix) combines with
/// every element of the other; a vector of length c combines with every row of an r×c matrix. The dual of
/// broadcasting in the backward pass is summation: a broadcast scalar receives Σ of its contributions, a broadcast
/// row receives the column sums.</para>
/// <para>Derivative rules (g = ∂L/∂out):</para>
/// <list type="table">
/// <item><term>a + b</term><description>ḡa = g, ḡb = g</description></item>
/// <item><term>a − b</term><description>ḡa = g, ḡb = −g</description></item>
/// <item><term>a · b</term><description>ḡa = g·b, ḡb = g·a</description></item>
/// <item><term>a / b</term><description>ḡa = g/b, ḡb = −g·a/b²</description></item>
/// <item><term>a ^ b</term><description>ḡa = g·b·a^(b−1) (0 where b = 0), ḡb = g·a^b·ln a (0 where a = 0 and b ≥ 0)</description></item>
/// <item><term>max(a, b)</term><description>g goes to the larger; where a = b each gets g/2 (PyTorch's convention)</description></item>
/// <item><term>min(a, b)</term><description>g goes to the smaller; where a = b each gets g/2</description></item>
/// </list>
/// </remarks>
internal static class Arithmetic
{
    /// <summary>Records a ∘ b. One-element operands take an inlined fast path, where the op folds to one instruction.</summary>
    /// <remarks>
    /// Inlined into the caller's loop, the path is written for the JIT's register allocator. Its ways out return the
    /// node's index, and the handle is made here from registers: when they returned a handle, every op's result went
    /// through a temporary on the stack (three stores and three loads a node; deep_chain forward 5.7 → 5.0 ns a node).
    /// Each path returns on its own: with one return for all of them (the index in a local, −1 for "not yet"), the code
    /// compiled on stack replacement, which a loop in a method called only a few times runs (the quick benchmark's
    /// deep_chain, a user's loop in Main), recorded at 13.7–16 ns a node against 8.4–9.9. And once both handles are found
    /// current, what it keeps for its way out is a's tape and generation and the two indices, not b's tape and generation
    /// as well, which are the same: the micrograd-shaped forward pass, whose loop keeps several handles, 472–476 → 432–438
    /// µs on one thread.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Node Binary(OpKind op, Node a, Node b)
    {
        Tape? t = a.TapeOrNull;
        if (t is not null && t.AreCurrentFast(b.TapeOrNull, a.Generation, b.Generation))
        {
            int ia = a.Index, ib = b.Index;
            // The records are read once, for the scalar test and for the op.
            NodeRecord[] nodes = t.Nodes;
            ref readonly NodeRecord na = ref Tape.Unchecked(nodes, ia);
            ref readonly NodeRecord nb = ref Tape.Unchecked(nodes, ib);
            if ((na.Flags & nb.Flags & NodeFlags.ArenaScalar) != 0)
            {
                double[] values = t.Values;
                double value = ApplyScalar(op, Tape.Unchecked(values, na.Offset), Tape.Unchecked(values, nb.Offset));
                NodeFlags flags = (na.Flags | nb.Flags) & NodeFlags.RequiresGrad;
                int i = t.AppendScalar(op, ia, ib, ShapeKind.Scalar, flags, 0, value);
                if (i >= 0) return new Node(t, i, a.Generation);
            }
            return new Node(t, OneElementOrGeneral(op, t, ia, ib, a.Generation), a.Generation);
        }
        return new Node(t!, General(op, a, b), a.Generation);
    }

    /// <summary>
    /// Records a ∘ b for nodes <paramref name="a"/> and <paramref name="b"/> of <paramref name="t"/>, current handles in
    /// <paramref name="generation"/>, that the inlined path did not record (not both scalars, or an arena full) and
    /// returns the node's index: one-element operands in the arena, of which one is a vector or matrix, by the scalar
    /// formula with the larger kind (what the inlined path does for scalars), anything else by <see cref="General"/>.
    /// A small method of its own: the one-element steps of op_overhead (vectors of one), recorded by the general path
    /// with the one-element test at its start, took 91–93 ns for + and 102–104 for ×; from a small method, 78–79 and
    /// 93–95 ns.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int OneElementOrGeneral(OpKind op, Tape t, int a, int b, int generation)
    {
        if (t.AreOneElementInArena(a, b))
        {
            ref readonly NodeRecord na = ref t.Nodes[a];
            ref readonly NodeRecord nb = ref t.Nodes[b];
            double value = ApplyScalar(op, t.Values[na.Offset], t.Values[nb.Offset]);
            ShapeKind kind = (ShapeKind)Math.Max((int)na.Kind, (int)nb.Kind);
            int i = t.AppendScalar(op, a, b, kind, (na.Flags | nb.Flags) & NodeFlags.RequiresGrad, 0, value);
            if (i >= 0) return i;
        }
        return General(op, new Node(t, a, generation), new Node(t, b, generation));
    }

    /// <summary>
    /// Records a ∘ b by shapes, spans and kernels, and returns the node's index. Checks the handles first and throws
    /// for a default, stale or foreign one, so that a returned index is a node of a's tape in a's generation.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int General(OpKind op, Node a, Node b)
    {
        Tape t = a.Tape;
        int ia = a.Resolve(t, op);
        int ib = b.Resolve(t, op);
        Shape shape = BroadcastShape(op, t.Nodes[ia].Shape, t.Nodes[ib].Shape);
        int i = t.Append(op, ia, ib, shape, t.GradFlag(ia, ib));
        Span<double> y = t.ValueSpan(i);
        ReadOnlySpan<double> va = t.ValueSpan(ia), vb = t.ValueSpan(ib);
        int cols = shape.Cols;
        if (IsRowBroadcast(va.Length, y.Length) || IsRowBroadcast(vb.Length, y.Length))
        {
            for (int r = 0; r < shape.Rows; r++)
            {
                Kernel(op, Row(va, r, cols, y.Length), Row(vb, r, cols, y.Length), y.Slice(r * cols, cols));
            }
        }
        else if (y.Length > Split.CachedOutput && va.Length == y.Length && vb.Length == y.Length && Summed(op, va, vb, y, out double sum))
        {
            t.RememberSum(i, sum);
        }
        else
        {
            Split.Elementwise(va, vb, default, y, new ForwardKernel(op));
        }
        return t.Checked(i);
    }

    /// <summary>The shape of a ∘ b under the broadcasting rules, or an error naming the op and both shapes.</summary>
    internal static Shape BroadcastShape(OpKind op, Shape a, Shape b)
    {
        if (a == b) return a;
        ShapeKind kind = (ShapeKind)Math.Max((byte)a.Kind, (byte)b.Kind);
        if (b.Length == 1 && b.Kind <= a.Kind) return a with { Kind = kind };
        if (a.Length == 1 && a.Kind <= b.Kind) return b with { Kind = kind };
        if (a.Kind == ShapeKind.Matrix && b.Kind == ShapeKind.Vector && b.Rows == a.Cols) return a;
        if (b.Kind == ShapeKind.Matrix && a.Kind == ShapeKind.Vector && a.Rows == b.Cols) return b;
        if (a.Kind == b.Kind && a.Length == b.Length && a.Kind != ShapeKind.Matrix) return a;
        throw new ArgumentException(
            $"{op}: shapes {a} and {b} do not broadcast. Elementwise ops need equal shapes, a scalar with anything, or a vector of length c with an r×c matrix (added to every row); reshape or transpose one operand.");
    }

    private static bool IsRowBroadcast(int inputLength, int outputLength) => inputLength != outputLength && inputLength != 1;

    /// <summary>The part of an operand that lines up with output row <paramref name="r"/>.</summary>
    private static ReadOnlySpan<double> Row(ReadOnlySpan<double> x, int r, int cols, int outputLength) =>
        x.Length == outputLength ? x.Slice(r * cols, cols) : x;

    /// <summary>
    /// <see cref="Apply"/> for the scalar fast path: inlined, so that with the op a constant at the call site + − × ÷
    /// fold to one instruction; the rest call <see cref="Apply"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ApplyScalar(OpKind op, double x, double y) => op switch
    {
        OpKind.Add => x + y,
        OpKind.Subtract => x - y,
        OpKind.Multiply => x * y,
        OpKind.Divide => x / y,
        _ => Apply(op, x, y),
    };

    private static double Apply(OpKind op, double x, double y) => op switch
    {
        OpKind.Add => x + y,
        OpKind.Subtract => x - y,
        OpKind.Multiply => x * y,
        OpKind.Divide => x / y,
        OpKind.Power => Math.Pow(x, y),
        OpKind.Maximum => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Max(x, y),
        OpKind.Minimum => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Min(x, y),
        _ => throw new InvalidOperationException($"Arithmetic: {op} is not a binary elementwise op."),
    };

    /// <summary>
    /// y = a ∘ b for + − × ÷ of operands as long as y, with Σ y as it is written (<see cref="Split.ElementwiseSummed{TOp}"/>,
    /// for a long output that a sum or mean would otherwise read back); false for the other ops.
    /// </summary>
    private static bool Summed(OpKind op, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y, out double sum)
    {
        switch (op)
        {
            case OpKind.Add: sum = Split.ElementwiseSummed(default(AddOp), a, b, y); return true;
            case OpKind.Subtract: sum = Split.ElementwiseSummed(default(SubtractOp), a, b, y); return true;
            case OpKind.Multiply: sum = Split.ElementwiseSummed(default(MultiplyOp), a, b, y); return true;
            case OpKind.Divide: sum = Split.ElementwiseSummed(default(DivideOp), a, b, y); return true;
            default: sum = 0; return false;
        }
    }

    private readonly unsafe struct AddOp : IStreamOp
    {
        public Vector256<double> Four(double* a, double* b, nint i) => Vector256.Load(a + i) + Vector256.Load(b + i);

        public double One(double* a, double* b, nint i) => a[i] + b[i];
    }

    private readonly unsafe struct SubtractOp : IStreamOp
    {
        public Vector256<double> Four(double* a, double* b, nint i) => Vector256.Load(a + i) - Vector256.Load(b + i);

        public double One(double* a, double* b, nint i) => a[i] - b[i];
    }

    private readonly unsafe struct MultiplyOp : IStreamOp
    {
        public Vector256<double> Four(double* a, double* b, nint i) => Vector256.Load(a + i) * Vector256.Load(b + i);

        public double One(double* a, double* b, nint i) => a[i] * b[i];
    }

    private readonly unsafe struct DivideOp : IStreamOp
    {
        public Vector256<double> Four(double* a, double* b, nint i) => Vector256.Load(a + i) / Vector256.Load(b + i);

        public double One(double* a, double* b, nint i) => a[i] / b[i];
    }

    /// <summary>d = x ∘ y over one range.</summary>
    private readonly struct ForwardKernel(OpKind op) : IElementKernel
    {
        public bool Accumulates => false;

        public void Apply(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> unused, Span<double> d) => Kernel(op, x, y, d);
    }

    /// <summary>d = x ∘ y where x and y each have d's length or length 1.</summary>
    private static void Kernel(OpKind op, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> d)
    {
        bool xs = x.Length == 1 && d.Length != 1, ys = y.Length == 1 && d.Length != 1;
        switch (op)
        {
            case OpKind.Add:
                if (xs) TensorPrimitives.Add(y, x[0], d);
                else if (ys) TensorPrimitives.Add(x, y[0], d);
                else TensorPrimitives.Add(x, y, d);
                return;
            case OpKind.Subtract:
                if (xs) TensorPrimitives.Subtract(x[0], y, d);
                else if (ys) TensorPrimitives.Subtract(x, y[0], d);
                else TensorPrimitives.Subtract(x, y, d);
                return;
            case OpKind.Multiply:
                if (xs) TensorPrimitives.Multiply(y, x[0], d);
                else if (ys) TensorPrimitives.Multiply(x, y[0], d);
                else TensorPrimitives.Multiply(x, y, d);
                return;
            case OpKind.Divide:
                if (xs) TensorPrimitives.Divide(x[0], y, d);
                else if (ys) TensorPrimitives.Divide(x, y[0], d);
                else TensorPrimitives.Divide(x, y, d);
                return;
            default:
                int sx = xs ? 0 : 1, sy = ys ? 0 : 1;
                for (int k = 0; k < d.Length; k++) d[k] = Apply(op, x[k * sx], y[k * sy]);
                return;
        }
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ia = n.A, ib = n.B;
        OpKind op = n.Op;
        bool ga = t.Nodes[ia].RequiresGrad, gb = t.Nodes[ib].RequiresGrad;
        // A uniform ∂L/∂out (one number) is understood by the same-shape paths; anything else needs it written out.
        if (t.IsUniform(i) && ((ga && !SameShapePath(t, op, 0, i, ia, ib)) || (gb && !SameShapePath(t, op, 1, i, ia, ib)))) t.Materialize(i);
        ReadOnlySpan<double> gOut = t.GradSpan(i);
        if (ga) Accumulate(t, op, 0, i, ia, ib, gOut, n.Cols);
        if (gb) Accumulate(t, op, 1, i, ia, ib, gOut, n.Cols);
    }

    /// <summary>Whether operand <paramref name="wrt"/>'s contribution takes the same-shape path: +, −, or × by a same-shape or one-element factor.</summary>
    private static bool SameShapePath(Tape t, OpKind op, int wrt, int i, int ia, int ib)
    {
        int n = t.Nodes[i].Length, other = t.Nodes[wrt == 0 ? ib : ia].Length;
        return t.Nodes[wrt == 0 ? ia : ib].Length == n && op is OpKind.Add or OpKind.Subtract or OpKind.Multiply
            && (op != OpKind.Multiply || other == n || other == 1);
    }

    /// <summary>
    /// The recorded (create-graph) rule: the table above with g a node and every factor a node of a, b or the result,
    /// so the contribution can be differentiated again; a broadcast operand's contribution is summed over the
    /// positions it reached (<see cref="RecordedGradients.AddReduced"/>: "broadcast is sum in reverse"). The kinks of
    /// max and min are declared constant masks (1, 0, or ½ at a tie; their derivative is 0). a^b keeps the numeric
    /// rule's zeros: where a = 0 and b = 0 the base is taken as 1 in b·a^(b−1), where a = 0 and b ≥ 0 the logarithm
    /// in a^b·ln a is taken of 1 (a constant shift, so it changes no derivative elsewhere).
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ia = n.A, ib = n.B;
        bool ga = r.Needs(i, ia), gb = r.Needs(i, ib);
        if (!ga && !gb) return;
        Node a = r.At(ia), b = r.At(ib), y = r.At(i);
        switch (n.Op)
        {
            case OpKind.Add:
                if (ga) r.AddReduced(ia, g);
                if (gb) r.AddReduced(ib, g);
                return;
            case OpKind.Subtract:
                if (ga) r.AddReduced(ia, g);
                if (gb) r.AddReduced(ib, RecordedGradients.Negate(g));
                return;
            case OpKind.Multiply:
                // ḡa = g·b, ḡb = g·a
                if (ga) r.AddReduced(ia, RecordedGradients.Times(g, b));
                if (gb) r.AddReduced(ib, RecordedGradients.Times(g, a));
                return;
            case OpKind.Divide:
                // ḡa = g/b, ḡb = −g·a/b² = −g·y/b
                if (ga) r.AddReduced(ia, RecordedGradients.Over(g, b));
                if (gb) r.AddReduced(ib, RecordedGradients.Negate(RecordedGradients.Over(RecordedGradients.Times(g, y), b)));
                return;
            case OpKind.Power:
            {
                if (ga)
                {
                    // ḡa = g·b·a^(b−1), 0 where b = 0 (the base shifted to 1 where a = b = 0, so 0·∞ does not arise)
                    Node baseA = ShiftWhere(r, t => t.X == 0 && t.Y == 0, i, ia, ib, a);
                    Node d = RecordedGradients.Times(b, Arithmetic.Binary(OpKind.Power, baseA, RecordedGradients.Shift(b, -1)));
                    r.AddReduced(ia, RecordedGradients.Times(g, d));
                }
                if (gb)
                {
                    // ḡb = g·a^b·ln a, 0 where a = 0 and b ≥ 0 (ln taken of a + 1 there)
                    Node logBase = ShiftWhere(r, t => t.X == 0 && t.Y >= 0, i, ia, ib, a);
                    r.AddReduced(ib, RecordedGradients.Times(g, RecordedGradients.Times(y, RecordedGradients.Unary(OpKind.Log, logBase))));
                }
                return;
            }
            case OpKind.Maximum:
            case OpKind.Minimum:
                // The numeric rule is linear in g: its value at g = 1 is the mask (1, 0, or ½ at a tie).
                if (ga) r.AddReduced(ia, RecordedGradients.Times(g, OutputMask(r, n.Op, 0, i, ia, ib)));
                if (gb) r.AddReduced(ib, RecordedGradients.Times(g, OutputMask(r, n.Op, 1, i, ia, ib)));
                return;
            default:
                throw new InvalidOperationException($"Grad: no recorded derivative rule for {n.Op} in Arithmetic.");
        }
    }

    /// <summary>Local(op, wrt, 1, x, y, result) at every output position: the constant mask of max or min.</summary>
    private static Node OutputMask(RecordedGradients r, OpKind op, int wrt, int i, int ia, int ib)
    {
        Tape t = r.Tape;
        ReadOnlySpan<double> x = t.ValueSpan(ia), y = t.ValueSpan(ib), result = t.ValueSpan(i);
        int n = result.Length, cols = t.Nodes[i].Cols;
        var mask = new double[n];
        for (int k = 0; k < n; k++) mask[k] = Local(op, wrt, 1, Broadcast(x, k, k % cols, n), Broadcast(y, k, k % cols, n), result[k]);
        return r.Constant(t.Nodes[i].Shape, mask);
    }

    /// <summary>a, plus 1 at the output positions where <paramref name="where"/> holds of (a, b) (unchanged, and no node, when it holds nowhere).</summary>
    private static Node ShiftWhere(RecordedGradients r, Func<(double X, double Y), bool> where, int i, int ia, int ib, Node a)
    {
        Tape t = r.Tape;
        ReadOnlySpan<double> x = t.ValueSpan(ia), y = t.ValueSpan(ib);
        int n = t.Nodes[i].Length, cols = t.Nodes[i].Cols;
        double[]? shift = null;
        for (int k = 0; k < n; k++)
        {
            if (where((Broadcast(x, k, k % cols, n), Broadcast(y, k, k % cols, n)))) (shift ??= new double[n])[k] = 1;
        }
        return shift is null ? a : RecordedGradients.Plus(a, r.Constant(t.Nodes[i].Shape, shift));
    }

    /// <summary>
    /// Forward rule: ẏ = (∂y/∂a)·ȧ + (∂y/∂b)·ḃ element by element, an operand that carries no tangent contributing
    /// nothing. The local derivatives are <see cref="Local"/>'s (linear in its g, so the tangent goes where the
    /// gradient goes); a broadcast operand's tangent is broadcast like its value ("sum is broadcast in reverse").
    /// </summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        int ia = n.A, ib = n.B;
        OpKind op = n.Op;
        bool ga = t.Nodes[ia].RequiresGrad, gb = t.Nodes[ib].RequiresGrad;
        Span<double> d = t.TangentSpan(i);
        ReadOnlySpan<double> x = t.ValueSpan(ia), y = t.ValueSpan(ib);
        int len = d.Length;
        // Fast paths: equal shapes and the common ops.
        if (x.Length == len && y.Length == len && op is OpKind.Add or OpKind.Subtract or OpKind.Multiply)
        {
            ReadOnlySpan<double> da = ga ? t.TangentSpan(ia) : default, db = gb ? t.TangentSpan(ib) : default;
            switch (op)
            {
                case OpKind.Add when ga && gb: TensorPrimitives.Add(da, db, d); return;
                case OpKind.Subtract when ga && gb: TensorPrimitives.Subtract(da, db, d); return;
                case OpKind.Add or OpKind.Subtract when ga: da.CopyTo(d); return;
                case OpKind.Add: db.CopyTo(d); return;
                case OpKind.Subtract: TensorPrimitives.Negate(db, d); return;
                case OpKind.Multiply:
                    // ẏ = ȧ·b + a·ḃ
                    if (ga) TensorPrimitives.Multiply(da, y, d);
                    else d.Clear();
                    if (gb) TensorPrimitives.MultiplyAdd(x, db, d, d);
                    return;
            }
        }
        d.Clear();
        if (ga) AccumulateTangent(t, op, 0, i, ia, ib, t.TangentSpan(ia), d, n.Cols);
        if (gb) AccumulateTangent(t, op, 1, i, ia, ib, t.TangentSpan(ib), d, n.Cols);
    }

    /// <summary>d += (∂y/∂operand <paramref name="wrt"/>)·(its tangent), the tangent broadcast to the output's shape.</summary>
    private static void AccumulateTangent(Tape t, OpKind op, int wrt, int i, int ia, int ib, ReadOnlySpan<double> tangent, Span<double> d, int cols)
    {
        ReadOnlySpan<double> x = t.ValueSpan(ia), y = t.ValueSpan(ib), result = t.ValueSpan(i);
        int n = d.Length;
        for (int k = 0; k < n; k++)
        {
            int j = k % cols;
            d[k] += Local(op, wrt, Broadcast(tangent, k, j, n), Broadcast(x, k, j, n), Broadcast(y, k, j, n), result[k]);
        }
    }

    /// <summary>∂L/∂(operand <paramref name="wrt"/>) for one element: the local derivative times g.</summary>
    internal static double Local(OpKind op, int wrt, double g, double x, double y, double result)
    {
        switch (op)
        {
            case OpKind.Add: return g;
            case OpKind.Subtract: return wrt == 0 ? g : -g;
            case OpKind.Multiply: return wrt == 0 ? g * y : g * x;
            case OpKind.Divide: return wrt == 0 ? g / y : -g * x / (y * y);
            case OpKind.Power:
                if (wrt == 0) return y == 0 ? 0 : g * y * Math.Pow(x, y - 1);
                return x == 0 && y >= 0 ? 0 : g * result * Math.Log(x);
            case OpKind.Maximum:
                return x == y ? g / 2 : (wrt == 0) == (x > y) ? g : 0;
            case OpKind.Minimum:
                return x == y ? g / 2 : (wrt == 0) == (x < y) ? g : 0;
            default:
                throw new InvalidOperationException($"Backward: no derivative rule for {op} in Arithmetic.");
        }
    }

    /// <summary>
    /// Puts operand <paramref name="wrt"/>'s contribution into its gradient — stored when it is the first, added
    /// otherwise — summing over broadcast positions.
    /// </summary>
    private static void Accumulate(Tape t, OpKind op, int wrt, int i, int ia, int ib, ReadOnlySpan<double> g, int cols)
    {
        int n = g.Length;

        // Fast paths: same shape and the common ops need no scratch; split over the pool when long. + and − read no
        // values, × the other factor's.
        if (SameShapePath(t, op, wrt, i, ia, ib))
        {
            int input = wrt == 0 ? ia : ib;
            ReadOnlySpan<double> other = op == OpKind.Multiply ? t.ValueSpan(wrt == 0 ? ib : ia) : default;
            Span<double> same = t.GradTarget(input, out bool assign);
            if (t.IsUniform(i))
            {
                // ∂L/∂out is one number g: the contribution is ±g, or g·c for a one-element factor c (uniform again:
                // stored once when it is the first), or g·other.
                double g0 = g[0];
                if (op == OpKind.Multiply && other.Length == n)
                {
                    // g·other: kept as (g, other) when it is the first contribution.
                    if (assign && t.TrySetScaled(input, same, g0, wrt == 0 ? ib : ia)) return;
                    Split.Elementwise(other, default, default, same, new ScaleKernel(g0, assign));
                    return;
                }
                double value = op == OpKind.Multiply ? g0 * other[0] : op == OpKind.Subtract && wrt == 1 ? -g0 : g0;
                if (assign && t.TrySetUniform(input, same, value)) return;
                Split.Elementwise(default, default, default, same, new FillOrAddKernel(value, assign));
                return;
            }
            Split.Elementwise(g, op == OpKind.Multiply ? other : default, default, same, new BackwardKernel(op, wrt, assign));
            return;
        }
        Span<double> target = t.AddTarget(wrt == 0 ? ia : ib);
        ReadOnlySpan<double> x = t.ValueSpan(ia), y = t.ValueSpan(ib);

        // A broadcast operand of a sum or difference receives g itself, reduced: no contribution to compute.
        if (op == OpKind.Add || (op == OpKind.Subtract && wrt == 0))
        {
            ReduceInto(g, target, cols);
            return;
        }

        // General case: the contribution in the output's shape, then reduced onto the operand's shape.
        Span<double> c = t.Scratch(n);
        ReadOnlySpan<double> result = t.ValueSpan(i);
        if (x.Length == n && y.Length == n)
        {
            for (int k = 0; k < n; k++) c[k] = Local(op, wrt, g[k], x[k], y[k], result[k]);
        }
        else
        {
            int rows = n / cols;
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    int k = r * cols + j;
                    c[k] = Local(op, wrt, g[k], Broadcast(x, k, j, n), Broadcast(y, k, j, n), result[k]);
                }
            }
        }
        ReduceInto(c, target, cols);
    }

    /// <summary>target (=|+=) g, −g or g·other over one range (the same-shape fast paths of the rule).</summary>
    private readonly struct BackwardKernel(OpKind op, int wrt, bool assign) : IElementKernel
    {
        public bool Accumulates => !assign;

        public void Apply(ReadOnlySpan<double> g, ReadOnlySpan<double> other, ReadOnlySpan<double> unused, Span<double> target)
        {
            if (op == OpKind.Multiply)
            {
                if (other.Length == 1)
                {
                    if (assign) TensorPrimitives.Multiply(g, other[0], target);
                    else TensorPrimitives.MultiplyAdd(g, other[0], target, target);
                }
                else
                {
                    if (assign) TensorPrimitives.Multiply(g, other, target);
                    else TensorPrimitives.MultiplyAdd(g, other, target, target);
                }
                return;
            }
            bool negate = op == OpKind.Subtract && wrt == 1;
            if (assign)
            {
                if (negate) TensorPrimitives.Negate(g, target);
                else g.CopyTo(target);
            }
            else
            {
                if (negate) TensorPrimitives.Subtract(target, g, target);
                else TensorPrimitives.Add(target, g, target);
            }
        }
    }

    private static double Broadcast(ReadOnlySpan<double> v, int k, int col, int n) =>
        v.Length == n ? v[k] : v.Length == 1 ? v[0] : v[col];

    /// <summary>target += c, summing c over the positions the target was broadcast to (all, or every row).</summary>
    internal static void ReduceInto(ReadOnlySpan<double> c, Span<double> target, int cols)
    {
        if (target.Length == c.Length)
        {
            TensorPrimitives.Add(target, c, target);
        }
        else if (target.Length == 1)
        {
            target[0] += TensorPrimitives.Sum(c);
        }
        else
        {
            for (int r = 0; r < c.Length / cols; r++) TensorPrimitives.Add(target, c.Slice(r * cols, cols), target);
        }
    }
}
