namespace GradientDescent.Autodiff;

/// <summary>Softmax cross-entropy with integer class labels, fused for stability.</summary>
/// <remarks>
/// For logits x (one row per example, C classes) and labels c: ℓ = (1/B) Σᵢ [lse(xᵢ) − xᵢ,cᵢ] with
/// lse(x) = m + ln Σ e^(x − m), m = max x; ∂ℓ/∂xᵢₖ = (1/B)(softmax(xᵢ)ₖ − [k = cᵢ]). Finite for logits of ±1e4.
/// </remarks>
internal static class SoftmaxCrossEntropyOps
{
    internal static Node Apply(Node logits, int[] labels)
    {
        Tape t = logits.Tape;
        int ix = logits.Resolve(t, "SoftmaxCrossEntropy");
        Shape s = t.Nodes[ix].Shape;
        int rows = s.Kind == ShapeKind.Matrix ? s.Rows : 1, cols = SoftmaxOps.RowLength(s);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"SoftmaxCrossEntropy: {labels.Length} labels for logits {s} ({rows} rows); pass one label per row.", nameof(labels));
        }
        for (int r = 0; r < rows; r++)
        {
            if ((uint)labels[r] >= (uint)cols)
            {
                throw new ArgumentOutOfRangeException(nameof(labels),
                    $"SoftmaxCrossEntropy: label {labels[r]} of row {r} is not a class of logits {s}; labels run from 0 to {cols - 1}.");
            }
        }
        int slot = t.Objects.Count;
        t.Objects.Add(labels);
        int i = t.Append(OpKind.SoftmaxCrossEntropy, ix, slot, Shape.Scalar, t.GradFlag(ix));
        ReadOnlySpan<double> x = t.ValueSpan(ix);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> xr = x.Slice(r * cols, cols);
            sum += Reductions.StableLogSumExp(xr) - xr[labels[r]];
        }
        t.Values[t.Nodes[i].Offset] = sum / rows;
        return new Node(t, t.Checked(i));
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        if (!t.Nodes[ix].RequiresGrad) return;
        var labels = (int[])t.Objects[n.B];
        ReadOnlySpan<double> x = t.ValueSpan(ix);
        Span<double> gx = t.GradSpan(ix);
        int rows = labels.Length, cols = x.Length / rows;
        double scale = t.Grads[n.Offset] / rows;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> xr = x.Slice(r * cols, cols);
            Span<double> gr = gx.Slice(r * cols, cols);
            double lse = Reductions.StableLogSumExp(xr);
            for (int k = 0; k < cols; k++) gr[k] += scale * Math.Exp(xr[k] - lse);
            gr[labels[r]] -= scale;
        }
    }
}
