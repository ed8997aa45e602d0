using System.Numerics.Tensors;

namespace GradientDescent.Autodiff;

/// <summary>Sums, means and log-sum-exp, over everything or over one axis of a matrix.</summary>
/// <remarks>
/// <list type="table">
/// <item><term>s = Σ x</term><description>∂L/∂xₖ = g ("sum is broadcast in reverse")</description></item>
/// <item><term>s = (1/n) Σ x</term><description>∂L/∂xₖ = g/n</description></item>
/// <item><term>axis 0: yⱼ = Σᵢ Xᵢⱼ</term><description>∂L/∂Xᵢⱼ = gⱼ (a vector of the column sums)</description></item>
/// <item><term>axis 1: yᵢ = Σⱼ Xᵢⱼ</term><description>∂L/∂Xᵢⱼ = gᵢ (a vector of the row sums)</description></item>
/// <item><term>y = ln Σ e^x</term><description>∂L/∂xₖ = g·e^(xₖ − y) = g·softmax(x)ₖ; computed as m + ln Σ e^(x − m) with m = max x, so it never overflows</description></item>
/// </list>
/// <para>Forward rules: a sum or mean is linear, so its tangent is the same reduction of the tangent (ṡ = Σ ẋ,
/// (1/n) Σ ẋ, per axis likewise, by the value's own kernel); ẏ = Σₖ e^(xₖ − y)·ẋₖ = ⟨softmax(x), ẋ⟩ for log-sum-exp.</para>
/// </remarks>
internal static class Reductions
{
    /// <summary>
    /// Records Σ x or its mean. A one-element x takes the scalar fast path: its sum and mean are x itself (x/1 is
    /// exact), recorded as the same op, whose backward is the scalar rules' (∂/∂x = g).
    /// </summary>
    internal static Node Sum(Node x, bool mean)
    {
        Tape t = x.Tape;
        OpKind op = mean ? OpKind.Mean : OpKind.Sum;
        if (t.IsFastOneElement(x))
        {
            ref readonly NodeRecord n = ref Tape.Unchecked(t.Nodes, x.Index);
            int one = t.AppendScalar(op, x.Index, -1, ShapeKind.Scalar, n.Flags & NodeFlags.RequiresGrad, 0, Tape.Unchecked(t.Values, n.Offset));
            if (one >= 0) return new Node(t, one);
        }
        int ix = x.Resolve(t, op);
        int i = t.Append(op, ix, -1, Shape.Scalar, t.GradFlag(ix));
        ReadOnlySpan<double> v = t.ValueSpan(ix);
        if (!t.RecalledSum(ix, out double s)) s = Split.Sum(v);
        t.Values[t.Nodes[i].Offset] = mean ? s / v.Length : s;
        return new Node(t, t.Checked(i));
    }

    internal static Node SumAxis(Node x, int axis, bool mean)
    {
        Tape t = x.Tape;
        OpKind op = mean ? OpKind.MeanAxis : OpKind.SumAxis;
        int ix = x.Resolve(t, op);
        Shape s = t.Nodes[ix].Shape;
        if (s.Kind != ShapeKind.Matrix || axis is not (0 or 1))
        {
            throw new ArgumentException(
                $"{op}: axis {axis} of {s}; per-axis reductions take a matrix and axis 0 (over rows: one value per column) or 1 (over columns: one value per row). Use Sum/Mean for all elements.");
        }
        int rows = s.Rows, cols = s.Cols;
        int i = t.Append(op, ix, -1, Shape.Vector(axis == 0 ? cols : rows), t.GradFlag(ix), axis);
        AxisKernel(t.ValueSpan(ix), t.ValueSpan(i), rows, cols, axis, mean);
        return new Node(t, t.Checked(i));
    }

    /// <summary>y = the sums (or means) of the rows × cols matrix <paramref name="v"/> over <paramref name="axis"/>.</summary>
    private static void AxisKernel(ReadOnlySpan<double> v, Span<double> y, int rows, int cols, int axis, bool mean)
    {
        if (axis == 0)
        {
            y.Clear();
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(y, v.Slice(r * cols, cols), y);
            if (mean) TensorPrimitives.Divide(y, rows, y);
        }
        else
        {
            for (int r = 0; r < rows; r++) y[r] = TensorPrimitives.Sum(v.Slice(r * cols, cols));
            if (mean) TensorPrimitives.Divide(y, cols, y);
        }
    }

    internal static Node LogSumExp(Node x)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "LogSumExp");
        Shape s = t.Nodes[ix].Shape;
        Shape outShape = s.Kind == ShapeKind.Matrix ? Shape.Vector(s.Rows) : Shape.Scalar;
        int i = t.Append(OpKind.LogSumExp, ix, -1, outShape, t.GradFlag(ix));
        ReadOnlySpan<double> v = t.ValueSpan(ix);
        Span<double> y = t.ValueSpan(i);
        int cols = s.Kind == ShapeKind.Matrix ? s.Cols : s.Length;
        for (int r = 0; r < y.Length; r++) y[r] = StableLogSumExp(v.Slice(r * cols, cols));
        return new Node(t, t.Checked(i));
    }

    /// <summary>ln Σ e^x = m + ln Σ e^(x − m), m = max x; −∞ for all −∞, +∞ if any +∞.</summary>
    internal static double StableLogSumExp(ReadOnlySpan<double> x)
    {
        double m = TensorPrimitives.Max(x);
        if (double.IsInfinity(m) || double.IsNaN(m)) return m;
        double s = 0;
        for (int k = 0; k < x.Length; k++) s += Math.Exp(x[k] - m);
        return m + Math.Log(s);
    }

    /// <summary>
    /// The recorded (create-graph) rule, the table above with ops: the sum's dual is a broadcast (0 + g), the mean's
    /// a broadcast of g/n; over axis 0 g is added to every row, over axis 1 it fills every column (g·1ᵀ); log-sum-exp
    /// gives g·softmax(x), with the softmax op (whose own recorded rule carries it to the next order).
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ix = n.A;
        if (!r.Needs(i, ix)) return;
        Shape s = r.Record(ix).Shape;
        switch (n.Op)
        {
            case OpKind.Sum:
                r.Add(ix, r.Broadcast(g, s));
                return;
            case OpKind.Mean:
                r.Add(ix, r.Broadcast(r.Over(g, s.Length), s));
                return;
            case OpKind.SumAxis:
            case OpKind.MeanAxis:
            {
                bool axis0 = n.Aux == 0;
                Node gs = n.Op == OpKind.MeanAxis ? r.Over(g, axis0 ? s.Rows : s.Cols) : g;
                r.Add(ix, axis0 ? RecordedGradients.Plus(r.Zeros(s), gs) : r.ColumnBroadcast(gs, s.Cols));
                return;
            }
            case OpKind.LogSumExp:
            {
                Node p = SoftmaxOps.Apply(OpKind.Softmax, r.At(ix));
                r.Add(ix, RecordedGradients.Times(p, s.Kind == ShapeKind.Matrix ? r.ColumnBroadcast(g, s.Cols) : g));
                return;
            }
            default:
                throw new InvalidOperationException($"Grad: no recorded derivative rule for {n.Op} in Reductions.");
        }
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        if (!t.Nodes[ix].RequiresGrad) return;
        switch (n.Op)
        {
            case OpKind.Sum:
            case OpKind.Mean:
            {
                // ∂L/∂xₖ = g (sum) or g/n (mean) for every k: stored as a fill when it is the first contribution.
                // In a plain pass the fill is deferred: the input's gradient is marked uniform, one number.
                Span<double> target = t.GradTarget(ix, out bool assign);
                double g = n.Op == OpKind.Sum ? t.Grads[n.Offset] : t.Grads[n.Offset] / target.Length;
                if (assign && t.TrySetUniform(ix, target, g)) return;
                Split.Elementwise(default, default, default, target, new FillOrAddKernel(g, assign));
                return;
            }
            case OpKind.SumAxis:
            case OpKind.MeanAxis:
            {
                Span<double> gx = t.AddTarget(ix);
                ReadOnlySpan<double> g = t.GradSpan(i);
                int rows = t.Nodes[ix].Rows, cols = t.Nodes[ix].Cols;
                bool mean = n.Op == OpKind.MeanAxis;
                if (n.Aux == 0)
                {
                    double scale = mean ? 1.0 / rows : 1.0;
                    for (int r = 0; r < rows; r++) TensorPrimitives.MultiplyAdd(g, scale, gx.Slice(r * cols, cols), gx.Slice(r * cols, cols));
                }
                else
                {
                    for (int r = 0; r < rows; r++) TensorPrimitives.Add(gx.Slice(r * cols, cols), mean ? g[r] / cols : g[r], gx.Slice(r * cols, cols));
                }
                return;
            }
            case OpKind.LogSumExp:
            {
                Span<double> gx = t.AddTarget(ix);
                ReadOnlySpan<double> g = t.GradSpan(i), x = t.ValueSpan(ix), y = t.ValueSpan(i);
                int cols = x.Length / y.Length;
                for (int r = 0; r < y.Length; r++)
                {
                    for (int k = 0; k < cols; k++) gx[r * cols + k] += g[r] * Math.Exp(x[r * cols + k] - y[r]);
                }
                return;
            }
            default:
                throw new InvalidOperationException($"Backward: no derivative rule for {n.Op} in Reductions.");
        }
    }

    /// <summary>Forward rules (see the class remarks).</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        ReadOnlySpan<double> dx = t.TangentSpan(ix);
        Span<double> d = t.TangentSpan(i);
        switch (n.Op)
        {
            case OpKind.Sum:
                d[0] = TensorPrimitives.Sum(dx);
                return;
            case OpKind.Mean:
                d[0] = TensorPrimitives.Sum(dx) / dx.Length;
                return;
            case OpKind.SumAxis:
            case OpKind.MeanAxis:
                AxisKernel(dx, d, t.Nodes[ix].Rows, t.Nodes[ix].Cols, (int)n.Aux, n.Op == OpKind.MeanAxis);
                return;
            case OpKind.LogSumExp:
            {
                // ẏ = Σₖ e^(xₖ − y)·ẋₖ, the weights of backward's rule.
                ReadOnlySpan<double> x = t.ValueSpan(ix), y = t.ValueSpan(i);
                int cols = x.Length / y.Length;
                for (int r = 0; r < y.Length; r++)
                {
                    double s = 0;
                    for (int k = 0; k < cols; k++) s += Math.Exp(x[r * cols + k] - y[r]) * dx[r * cols + k];
                    d[r] = s;
                }
                return;
            }
            default:
                throw new InvalidOperationException($"Jvp: no forward-mode rule for {n.Op} in Reductions.");
        }
    }
}
