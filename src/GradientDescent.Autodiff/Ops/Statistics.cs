using System.Numerics.Tensors;

namespace GradientDescent.Autodiff;

/// <summary>
/// Variance and standard deviation, of all elements or over one axis of a matrix, as fused ops with their own
/// derivative rules (g = ∂L/∂out; n elements per group, x̄ their mean, c the correction: 1 for the sample statistics,
/// PyTorch's default, 0 for the population ones).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>v = Σ(xₖ − x̄)²/(n − c)</term><description>∂v/∂xₖ = 2(xₖ − x̄)/(n − c) (the terms through x̄ cancel: Σ(xₖ − x̄) = 0)</description></item>
/// <item><term>s = √v</term><description>∂s/∂xₖ = (xₖ − x̄)/((n − c)·s), and 0 where s = 0 (all elements of the group equal), as
/// PyTorch's std_backward, which masks the 0/0 there to 0</description></item>
/// <item><term>axis 0</term><description>one statistic per column, over its rows (as <see cref="Ops.Sum(Matrix, int)"/>)</description></item>
/// <item><term>axis 1</term><description>one statistic per row, over its columns</description></item>
/// </list>
/// <para>Forward: the corrected two-pass algorithm (Chan, Golub and LeVeque, "Algorithms for computing the sample
/// variance", 1983): m = Σx/n, then with dₖ = xₖ − m, Σ(x − x̄)² = Σdₖ² − (Σdₖ)²/n, where the second term removes the
/// rounding error of m to first order. Its error is a few ulps of Σ(x − x̄)², whatever the mean: the variance of
/// 10⁸ + 1, 10⁸ + 2, 10⁸ + 3 comes out 1 exactly, where the one-pass Σx²/n − x̄² gives 0 or worse. The rule takes
/// x̄ = m + Σdₖ/n, the same refined mean. Rounding can take Σdₖ² − (Σdₖ)²/n a hair below 0 when all elements are
/// equal; it is clamped at 0, so the standard deviation is 0 there, never NaN.</para>
/// <para>Forward rules: ẏ = Σₖ (∂y/∂xₖ)·ẋₖ per group, with the same ∂y/∂xₖ (see <see cref="Tangent"/>).</para>
/// <para>Degrees of freedom: n − c ≤ 0 (a sample statistic of one element) throws when the node is built. PyTorch
/// returns NaN there, with a warning ("degrees of freedom is &lt;= 0"), and a NaN gradient.</para>
/// <para>The node's Aux: the correction for <see cref="OpKind.Variance"/> and <see cref="OpKind.StandardDeviation"/>;
/// axis + 2·correction for <see cref="OpKind.VarianceAxis"/> and <see cref="OpKind.StandardDeviationAxis"/>.</para>
/// </remarks>
internal static class Statistics
{
    /// <summary>Records the variance (or standard deviation) of all elements of <paramref name="x"/>.</summary>
    internal static Node Whole(OpKind op, Node x, int correction)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, op);
        Shape s = t.Nodes[ix].Shape;
        CheckDegreesOfFreedom(op, s, s.Length, correction, "all elements");
        int i = t.Append(op, ix, -1, Shape.Scalar, t.GradFlag(ix), correction);
        Forward(t, ix, i, 1, s.Length, byRow: true, correction, op == OpKind.StandardDeviation);
        return new Node(t, t.Checked(i));
    }

    /// <summary>Records the variance (or standard deviation) over axis <paramref name="axis"/> of the matrix <paramref name="x"/>.</summary>
    internal static Node Axis(OpKind op, Node x, int axis, int correction)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, op);
        Shape s = t.Nodes[ix].Shape;
        if (s.Kind != ShapeKind.Matrix || axis is not (0 or 1))
        {
            throw new ArgumentException(
                $"{op}: axis {axis} of {s}; per-axis statistics take a matrix and axis 0 (over rows: one value per column) or 1 (over columns: one value per row). Use the overload without an axis for all elements.");
        }
        int rows = s.Rows, cols = s.Cols;
        CheckDegreesOfFreedom(op, s, axis == 0 ? rows : cols, correction, axis == 0 ? "each column (axis 0)" : "each row (axis 1)");
        int i = t.Append(op, ix, -1, Shape.Vector(axis == 0 ? cols : rows), t.GradFlag(ix), axis + 2 * correction);
        Forward(t, ix, i, rows, cols, byRow: axis == 1, correction, op == OpKind.StandardDeviationAxis);
        return new Node(t, t.Checked(i));
    }

    private static void CheckDegreesOfFreedom(OpKind op, Shape shape, int n, int correction, string over)
    {
        if (n - correction > 0) return;
        string name = op is OpKind.Variance or OpKind.VarianceAxis ? "variance" : "standard deviation";
        throw new ArgumentException(
            $"{op}: the sample {name} over {over} of {shape} divides by n − 1 = {n - correction}: it needs at least 2 elements per group, got {n}. " +
            $"Use the population {name} (correction 0; 0 for a single element) or more elements. PyTorch returns NaN here, with a warning.");
    }

    /// <summary>
    /// For <paramref name="v"/> as a rows × cols matrix, grouped by row (<paramref name="byRow"/>) or by column: each
    /// group's refined mean x̄ and Σ(x − x̄)², by the corrected two-pass algorithm (<paramref name="sums"/>: scratch
    /// for the columns' Σdₖ).
    /// </summary>
    private static void Moments(ReadOnlySpan<double> v, int rows, int cols, bool byRow, Span<double> mean, Span<double> squares, Span<double> sums)
    {
        if (byRow)
        {
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<double> row = v.Slice(r * cols, cols);
                double m = TensorPrimitives.Sum(row) / cols, d = 0, q = 0;
                for (int k = 0; k < row.Length; k++)
                {
                    double e = row[k] - m;
                    d += e;
                    q += e * e;
                }
                mean[r] = m + d / cols;
                squares[r] = Math.Max(q - d * d / cols, 0);
            }
            return;
        }
        // By column: the same sums, accumulated row by row (contiguous memory); mean holds m until the refinement.
        mean.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(mean, v.Slice(r * cols, cols), mean);
        TensorPrimitives.Divide(mean, rows, mean);
        squares.Clear();
        sums.Clear();
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> row = v.Slice(r * cols, cols);
            for (int j = 0; j < cols; j++)
            {
                double e = row[j] - mean[j];
                sums[j] += e;
                squares[j] += e * e;
            }
        }
        for (int j = 0; j < cols; j++)
        {
            mean[j] += sums[j] / rows;
            squares[j] = Math.Max(squares[j] - sums[j] * sums[j] / rows, 0);
        }
    }

    private static void Forward(Tape t, int ix, int i, int rows, int cols, bool byRow, int correction, bool sqrt)
    {
        Span<double> y = t.ValueSpan(i);
        Span<double> work = t.Scratch(2 * y.Length);
        Moments(t.ValueSpan(ix), rows, cols, byRow, work[..y.Length], y, work[y.Length..]);
        int n = byRow ? cols : rows;
        TensorPrimitives.Divide(y, n - correction, y);
        if (sqrt) TensorPrimitives.Sqrt(y, y);
    }

    /// <summary>
    /// The recorded (create-graph) rule, the table above with ops: ∂L/∂xₖ = (xₖ − x̄)·σ with σ = 2g/(n − c) for the
    /// variance and g/((n − c)·s) for the standard deviation, x̄ the mean op's node (per group, filled across the
    /// group). Where s = 0 (a group of equal elements) the standard deviation's σ is 0, declared, as the numeric
    /// rule's (s is shifted to 1 there so no 0/0 is recorded).
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ix = n.A;
        if (!r.Needs(i, ix)) return;
        bool whole = n.Op is OpKind.Variance or OpKind.StandardDeviation;
        bool sqrt = n.Op is OpKind.StandardDeviation or OpKind.StandardDeviationAxis;
        int aux = (int)n.Aux;
        int correction = whole ? aux : aux >> 1;
        Shape s = r.Record(ix).Shape;
        bool byRow = !whole && (aux & 1) == 1;
        int count = whole ? s.Length : byRow ? s.Cols : s.Rows;
        Node x = r.At(ix), y = r.At(i);

        Node scale;
        if (!sqrt)
        {
            scale = RecordedGradients.Scale(g, 2.0 / (count - correction));
        }
        else
        {
            ReadOnlySpan<double> sv = r.Tape.ValueSpan(i);
            bool anyZero = false;
            foreach (double v in sv) anyZero |= v == 0;
            if (whole && anyZero) return; // s = 0: the derivative is 0, declared
            Node safe = anyZero ? RecordedGradients.Plus(y, r.Mask(i, v => v == 0 ? 1 : 0)) : y;
            scale = RecordedGradients.Over(g, RecordedGradients.Scale(safe, count - correction));
            if (anyZero) scale = RecordedGradients.Times(scale, r.Mask(i, v => v == 0 ? 0 : 1));
        }

        Node centred;
        if (whole)
        {
            centred = RecordedGradients.Minus(x, Reductions.Sum(x, mean: true));
            r.Add(ix, RecordedGradients.Times(centred, scale));
        }
        else if (byRow)
        {
            centred = RecordedGradients.Minus(x, r.ColumnBroadcast(Reductions.SumAxis(x, 1, mean: true), s.Cols));
            r.Add(ix, RecordedGradients.Times(centred, r.ColumnBroadcast(scale, s.Cols)));
        }
        else
        {
            centred = RecordedGradients.Minus(x, Reductions.SumAxis(x, 0, mean: true));
            r.Add(ix, RecordedGradients.Times(centred, scale));
        }
    }

    /// <summary>
    /// g·∂out/∂xₖ ÷ (xₖ − x̄) for a group of <paramref name="count"/> elements whose statistic is <paramref name="y"/>:
    /// g·2/(n − c) for the variance, g/((n − c)·s) for the standard deviation, 0 where s = 0 (PyTorch's convention at a
    /// group of equal elements). Linear in g: backward passes ∂L/∂out, forward Σₖ (xₖ − x̄)ẋₖ.
    /// </summary>
    private static double Scale(bool sqrt, double g, double y, int count, int correction) =>
        sqrt ? (y == 0 ? 0 : g / ((count - correction) * y)) : g * 2 / (count - correction);

    /// <summary>The parts of a statistics node: whole or per axis, square-rooted or not, the correction, the groups.</summary>
    private static (bool Sqrt, int Correction, int Rows, int Cols, bool ByRow, int Count) Layout(Tape t, in NodeRecord n)
    {
        bool whole = n.Op is OpKind.Variance or OpKind.StandardDeviation;
        bool sqrt = n.Op is OpKind.StandardDeviation or OpKind.StandardDeviationAxis;
        int aux = (int)n.Aux;
        int correction = whole ? aux : aux >> 1;
        ref readonly NodeRecord input = ref t.Nodes[n.A];
        int rows = whole ? 1 : input.Rows, cols = whole ? input.Length : input.Cols;
        bool byRow = whole || (aux & 1) == 1;
        return (sqrt, correction, rows, cols, byRow, byRow ? cols : rows);
    }

    /// <summary>
    /// Forward rule: ẏ = Σₖ (∂y/∂xₖ)·ẋₖ per group = <see cref="Scale"/>(Σₖ (xₖ − x̄)·ẋₖ): 2/(n − c)·Σ(xₖ − x̄)ẋₖ for the
    /// variance, Σ(xₖ − x̄)ẋₖ/((n − c)·s) for the standard deviation (0 where s = 0).
    /// </summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        var (sqrt, correction, rows, cols, byRow, count) = Layout(t, n);
        ReadOnlySpan<double> x = t.ValueSpan(n.A), y = t.ValueSpan(i), dx = t.TangentSpan(n.A);
        Span<double> d = t.TangentSpan(i);
        Span<double> work = t.Scratch(3 * y.Length);
        Span<double> mean = work[..y.Length], squares = work.Slice(y.Length, y.Length);
        Moments(x, rows, cols, byRow, mean, squares, work[(2 * y.Length)..]);
        d.Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                int group = byRow ? r : j;
                d[group] += (x[r * cols + j] - mean[group]) * dx[r * cols + j];
            }
        }
        for (int k = 0; k < y.Length; k++) d[k] = Scale(sqrt, d[k], y[k], count, correction);
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        if (!t.Nodes[ix].RequiresGrad) return;
        var (sqrt, correction, rows, cols, byRow, count) = Layout(t, n);

        ReadOnlySpan<double> x = t.ValueSpan(ix), y = t.ValueSpan(i), g = t.GradSpan(i);
        Span<double> gx = t.AddTarget(ix);
        Span<double> work = t.Scratch(3 * y.Length);
        Span<double> mean = work[..y.Length], scale = work.Slice(y.Length, y.Length);
        Moments(x, rows, cols, byRow, mean, scale, work[(2 * y.Length)..]);
        // scale = ∂out/∂xₖ ÷ (xₖ − x̄), per group, times g: 2/(n − c) for the variance, 1/((n − c)·s) for the standard
        // deviation (0 where s = 0: PyTorch's convention at a group of equal elements).
        for (int k = 0; k < y.Length; k++) scale[k] = Scale(sqrt, g[k], y[k], count, correction);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> row = x.Slice(r * cols, cols);
            Span<double> grow = gx.Slice(r * cols, cols);
            if (byRow)
            {
                double m = mean[r], s = scale[r];
                for (int j = 0; j < cols; j++) grow[j] += s * (row[j] - m);
            }
            else
            {
                for (int j = 0; j < cols; j++) grow[j] += scale[j] * (row[j] - mean[j]);
            }
        }
    }
}
