using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>Softmax cross-entropy with integer class labels, fused for stability.</summary>
/// <remarks>
/// For logits x (one row per example, C classes) and labels c: ℓ = (1/B) Σᵢ [lse(xᵢ) − xᵢ,cᵢ] with
/// lse(x) = m + ln Σ e^(x − m), m = max x, each row's term computed as ln Σ e^(x − m) − (x_c − m);
/// ∂ℓ/∂xᵢₖ = (1/B)(softmax(xᵢ)ₖ − [k = cᵢ]). Finite for logits of ±1e4. Forward: ℓ̇ = Σᵢₖ (∂ℓ/∂xᵢₖ)·ẋᵢₖ.
/// The exponentials run four at a time (<see cref="VectorMath.Exp(System.Runtime.Intrinsics.Vector256{double})"/>, within an ulp of Math.Exp); backward splits
/// large batches by rows over the worker pool (each row's gradient depends on that row alone).
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
            (double m, double lnS) = Shift(xr);
            sum += lnS - (xr[labels[r]] - m);
        }
        t.Values[t.Nodes[i].Offset] = sum / rows;
        return new Node(t, t.Checked(i));
    }

    /// <summary>The recorded (create-graph) rule: (g/B)·(softmax(x) − onehot(c)), the softmax op carrying it to the next order.</summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ix = n.A;
        if (!r.Needs(i, ix)) return;
        var labels = (int[])r.Tape.Objects[n.B];
        Shape s = r.Record(ix).Shape;
        int cols = SoftmaxOps.RowLength(s);
        var onehot = new double[s.Length];
        for (int row = 0; row < labels.Length; row++) onehot[row * cols + labels[row]] = 1;
        Node p = SoftmaxOps.Apply(OpKind.Softmax, r.At(ix));
        r.Add(ix, RecordedGradients.Times(RecordedGradients.Minus(p, r.Constant(s, onehot)), r.Over(g, labels.Length)));
    }

    internal static unsafe void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ix = n.A;
        if (!t.Nodes[ix].RequiresGrad) return;
        var labels = (int[])t.Objects[n.B];
        ReadOnlySpan<double> x = t.ValueSpan(ix);
        Span<double> gx = t.GradTarget(ix, out bool assign);
        int rows = labels.Length, cols = x.Length / rows;
        double scale = t.Grads[n.Offset] / rows;
        fixed (double* px = x, pg = gx)
        fixed (int* pl = labels)
        {
            Split.Rows(rows, cols, new BackwardRows { X = px, G = pg, Labels = pl, Cols = cols, Scale = scale, Assign = assign });
        }
    }

    /// <summary>∂L/∂xᵢ (=|+=) (g/B)(softmax(xᵢ) − onehot(cᵢ)) for a range of rows.</summary>
    private unsafe struct BackwardRows : Split.IRowKernel
    {
        public double* X, G;
        public int* Labels;
        public int Cols;
        public double Scale;
        public bool Assign;

        public readonly void Rows(int first, int last)
        {
            int cols = Cols;
            for (int r = first; r < last; r++)
            {
                var xr = new ReadOnlySpan<double>(X + (long)r * cols, cols);
                var gr = new Span<double>(G + (long)r * cols, cols);
                (double m, double lnS) = Shift(xr);
                ScaledSoftmax(xr, m, lnS, Scale, gr, Assign);
                gr[Labels[r]] -= Scale;
            }
        }
    }

    /// <summary>
    /// g (=|+=) scale·softmax(x), softmax(x)ₖ = e^((xₖ − m) − ln Σ e^(x − m)) from <see cref="Shift"/>'s m and log-sum;
    /// four at a time by <see cref="VectorMath.Exp(Vector256{double})"/>. g may be x itself (each element is read
    /// before it is written).
    /// </summary>
    internal static void ScaledSoftmax(ReadOnlySpan<double> x, double m, double lnS, double scale, Span<double> g, bool assign)
    {
        int k = 0, cols = x.Length;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double xs = ref MemoryMarshal.GetReference(x);
            ref double gs = ref MemoryMarshal.GetReference(g);
            Vector256<double> mv = Vector256.Create(m), lv = Vector256.Create(lnS), sv = Vector256.Create(scale);
            for (; k + 4 <= cols; k += 4)
            {
                Vector256<double> d = sv * VectorMath.Exp(Vector256.LoadUnsafe(ref xs, (nuint)k) - mv - lv);
                if (!assign) d = Vector256.LoadUnsafe(ref gs, (nuint)k) + d;
                d.StoreUnsafe(ref gs, (nuint)k);
            }
        }
        for (; k < cols; k++)
        {
            double d = scale * Math.Exp(x[k] - m - lnS);
            g[k] = assign ? d : g[k] + d;
        }
    }

    /// <summary>Forward rule: ℓ̇ = (1/B) Σᵢ [Σₖ softmax(xᵢ)ₖ·ẋᵢₖ − ẋᵢ,cᵢ], the rows of backward's rule applied to ẋ.</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        var labels = (int[])t.Objects[n.B];
        ReadOnlySpan<double> x = t.ValueSpan(n.A), dx = t.TangentSpan(n.A);
        int rows = labels.Length, cols = x.Length / rows;
        double s = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> xr = x.Slice(r * cols, cols), dr = dx.Slice(r * cols, cols);
            (double m, double lnS) = Shift(xr);
            for (int k = 0; k < cols; k++) s += Math.Exp(xr[k] - m - lnS) * dr[k];
            s -= dr[labels[r]];
        }
        t.TangentSpan(i)[0] = s / rows;
    }

    /// <summary>
    /// m = max x and ln Σ e^(x − m), so that ℓ = ln Σ e^(x − m) − (x_c − m) and softmax(x)ₖ = e^((xₖ − m) − ln Σ e^(x − m)).
    /// Subtracting m before anything else, as PyTorch's log-softmax does, keeps xₖ − m exact near the maximum; going
    /// through lse(x) = m + ln Σ e^(x − m) would round the loss of a confident row to the ulp of m (9·10⁻¹³ at m = 10⁴)
    /// and lose its digits. For a non-finite m the log-sum is 0, which leaves m − x_c and e^(x − m) as before.
    /// </summary>
    internal static (double Max, double LogSum) Shift(ReadOnlySpan<double> x)
    {
        double m = TensorPrimitives.Max(x);
        if (!double.IsFinite(m)) return (m, 0);
        return (m, Math.Log(VectorMath.SumExp(x, m)));
    }
}
