using System.Numerics.Tensors;

namespace GradientDescent.Autodiff;

/// <summary>Softmax and log-softmax of a vector, or of each row of a matrix, computed stably.</summary>
/// <remarks>
/// <list type="table">
/// <item><term>yₖ = e^(xₖ − m) / Σⱼ e^(xⱼ − m), m = max x</term><description>∂L/∂xₖ = yₖ (gₖ − Σⱼ gⱼ yⱼ)</description></item>
/// <item><term>yₖ = xₖ − m − ln Σⱼ e^(xⱼ − m)</term><description>∂L/∂xₖ = gₖ − e^(yₖ) Σⱼ gⱼ</description></item>
/// </list>
/// <para>Forward rules (per row): ẏₖ = yₖ(ẋₖ − Σⱼ yⱼẋⱼ) for softmax, ẏₖ = ẋₖ − Σⱼ e^(yⱼ)ẋⱼ for log-softmax: the
/// Jacobians diag(y) − yyᵀ and I − 1·softmax(x)ᵀ applied to ẋ, where backward applies their transposes to g.</para>
/// <para>Subtracting the maximum keeps every exponent ≤ 0: inputs of ±1e4 give exact probabilities, no NaN.</para>
/// <para>The forward exponentials run four at a time (<see cref="VectorMath"/>, within an ulp of Math.Exp).</para>
/// </remarks>
internal static class SoftmaxOps
{
    internal static Node Apply(OpKind op, Node x)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, op);
        Shape s = t.Nodes[ix].Shape;
        if (s.Kind == ShapeKind.Scalar)
        {
            throw new ArgumentException($"{op}: expects a vector or a matrix (one distribution per row), got a scalar.");
        }
        int i = t.Append(op, ix, -1, s, t.GradFlag(ix));
        ReadOnlySpan<double> v = t.ValueSpan(ix);
        Span<double> y = t.ValueSpan(i);
        int cols = RowLength(s);
        for (int r = 0; r < v.Length / cols; r++)
        {
            ReadOnlySpan<double> xr = v.Slice(r * cols, cols);
            Span<double> yr = y.Slice(r * cols, cols);
            // The formulas above as written: shift by m = max x (the largest exponent is exactly 0, and xₖ − m is
            // rounded relative to itself), not by lse(x), which is rounded to the ulp of |x| and would put that
            // rounding into every output: a tie at ±1e4 would give 0.49999999999991, not ½.
            TensorPrimitives.Subtract(xr, TensorPrimitives.Max(xr), yr);
            if (op == OpKind.Softmax)
            {
                VectorMath.Exp(yr, yr);
                TensorPrimitives.Divide(yr, TensorPrimitives.Sum(yr), yr);
            }
            else
            {
                TensorPrimitives.Subtract(yr, Math.Log(VectorMath.SumExp(yr, 0)), yr);
            }
        }
        return new Node(t, t.Checked(i));
    }

    /// <summary>Length of one distribution: a vector is one, a matrix has one per row.</summary>
    internal static int RowLength(Shape s) => s.Kind == ShapeKind.Matrix ? s.Cols : s.Length;

    /// <summary>
    /// The recorded (create-graph) rule, the table above with ops: softmax gives y ⊙ (g − ⟨g, y⟩) (per row for a
    /// matrix, the row sums filling each row), log-softmax gives g − e^y·Σg.
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ix = n.A;
        if (!r.Needs(i, ix)) return;
        Node y = r.At(i);
        bool matrix = n.Kind == ShapeKind.Matrix;
        int cols = RowLength(n.Shape);
        if (n.Op == OpKind.Softmax)
        {
            Node gy = RecordedGradients.Times(g, y);
            Node dot = matrix ? r.ColumnBroadcast(Reductions.SumAxis(gy, 1, mean: false), cols) : Reductions.Sum(gy, mean: false);
            r.Add(ix, RecordedGradients.Times(y, RecordedGradients.Minus(g, dot)));
        }
        else
        {
            Node sum = matrix ? r.ColumnBroadcast(Reductions.SumAxis(g, 1, mean: false), cols) : Reductions.Sum(g, mean: false);
            r.Add(ix, RecordedGradients.Minus(g, RecordedGradients.Times(Elementwise.Unary(OpKind.Exp, y), sum)));
        }
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        if (!t.Nodes[ix].RequiresGrad) return;
        ReadOnlySpan<double> g = t.GradSpan(i), y = t.ValueSpan(i);
        Span<double> gx = t.AddTarget(ix);
        int cols = RowLength(n.Shape);
        for (int r = 0; r < y.Length / cols; r++)
        {
            ReadOnlySpan<double> gr = g.Slice(r * cols, cols), yr = y.Slice(r * cols, cols);
            Span<double> gxr = gx.Slice(r * cols, cols);
            if (n.Op == OpKind.Softmax)
            {
                double dot = TensorPrimitives.Dot(gr, yr);
                for (int k = 0; k < cols; k++) gxr[k] += yr[k] * (gr[k] - dot);
            }
            else
            {
                double sum = TensorPrimitives.Sum(gr);
                for (int k = 0; k < cols; k++) gxr[k] += gr[k] - Math.Exp(yr[k]) * sum;
            }
        }
    }

    /// <summary>Forward rules (see the class remarks).</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        ReadOnlySpan<double> dx = t.TangentSpan(n.A), y = t.ValueSpan(i);
        Span<double> d = t.TangentSpan(i);
        int cols = RowLength(n.Shape);
        for (int r = 0; r < y.Length / cols; r++)
        {
            ReadOnlySpan<double> dxr = dx.Slice(r * cols, cols), yr = y.Slice(r * cols, cols);
            Span<double> dr = d.Slice(r * cols, cols);
            if (n.Op == OpKind.Softmax)
            {
                double dot = TensorPrimitives.Dot(dxr, yr);
                for (int k = 0; k < cols; k++) dr[k] = yr[k] * (dxr[k] - dot);
            }
            else
            {
                double dot = 0;
                for (int k = 0; k < cols; k++) dot += Math.Exp(yr[k]) * dxr[k];
                for (int k = 0; k < cols; k++) dr[k] = dxr[k] - dot;
            }
        }
    }
}
