using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GradientDescent.Autodiff;

/// <summary>
/// Fused model losses: the mean over the rows of X of a loss of a linear model, z = x·w + b per row, whose value and
/// gradient take one pass over X.
/// </summary>
/// <remarks>
/// <para>For X [n × d], a loss ℓ(z, y) per row and L = (1/n) Σᵢ ℓ(zᵢ, yᵢ) with zᵢ = xᵢ W + b (k outputs per row):
/// ∂L/∂W = (1/n) Σᵢ xᵢᵀ rᵢ, ∂L/∂b = (1/n) Σᵢ rᵢ and ∂L/∂xᵢ = (1/n) W rᵢᵀ, where rᵢ = ∂ℓ/∂zᵢ is the row's residual.
/// Row i's contribution depends on row i alone, so forward computes, per row while the row is in L1, zᵢ, ℓᵢ, rᵢ and
/// adds rᵢ·xᵢ into ∂L/∂W: one read of X gives the value and the parameters' gradient. Backward has one number to apply,
/// the upstream ḡ of the scalar loss, which scales the stored (unscaled) gradients; ∂L/∂X takes a second pass (over
/// ∂L/∂X alone) only when X requires a gradient, from the stored residuals.</para>
/// <list type="bullet">
/// <item><see cref="OpKind.LinearRegressionLoss"/>: k = 1, ℓ = ½(z − y)², r = z − y (the seed's J; ∂J/∂w = mean((h − y)x),
/// ∂J/∂b = mean(h − y)); the target y takes a gradient too: ∂L/∂yᵢ = −rᵢ/n.</item>
/// <item><see cref="OpKind.LogisticRegressionLoss"/>: k = 1, ℓ = max(z, 0) − z·y + ln(1 + e^−|z|) (BCE on the logit,
/// stable for any finite z), r = σ(z) − y, the seed's −(y − ŷ). The labels are data.</item>
/// <item><see cref="OpKind.SoftmaxRegressionLoss"/>: W [d × k], b [k], an integer class cᵢ per row;
/// ℓ = lse(z) − z_c, computed as ln Σ e^(z − m) − (z_c − m) with m = max z; r = softmax(z) − onehot(c).</item>
/// </list>
/// <para>Kernel (k = 1): within a range, blocks of four rows — four dot products a row at a time, one vector exp/log1p
/// for the four logits, one load and store of ∂L/∂w per block (<see cref="LinearRange(OpKind, double*, double*, double, double*, int, int, int, double*, double*, int, bool, out double)"/>);
/// Vector512 where AVX-512 is there, Vector256 otherwise. The softmax loss goes a row at a time: its k dot products
/// four classes at a time (x read once per four), softmax(z) by the composed graph's own steps, and the row's k
/// contributions to ∂L/∂Wᵀ four classes at a time.</para>
/// <para>Rows are split over <see cref="WorkerPool"/> in fixed ranges, each with its own partial sums, added in range
/// order: the result is bit-identical for a given <see cref="Parallelism.ThreadCount"/>. Under <see cref="Tape.NoGrad"/>,
/// or when no input requires a gradient, only the value is computed.</para>
/// <para>Storage: the node's value slot is followed by extra arena slots that hold, in order, (1/n)·Σ rᵢᵀxᵢ laid out
/// k × d (Wᵀ's layout), (1/n)·Σ rᵢ [k], the residuals r [n × k] (only when X or y requires a gradient), Wᵀ [k × d] (for
/// k &gt; 1; for k = 1 a copy of w that starts a 64-byte line) and one block of partial sums per range. Inputs are an
/// operand list (X, W, b, y); the softmax labels sit in the object table at the slot in Aux.</para>
/// <para>Forward rule: L̇ = (1/n) Σᵢ rᵢ·żᵢ with żᵢ = ẋᵢ W + xᵢ Ẇ + ḃ (and − (1/n) Σᵢ rᵢ ẏᵢ for the linear loss's target).</para>
/// </remarks>
internal static unsafe class ModelLosses
{
    /// <summary>Multiply-adds per range below which the rows stay on one thread (as <see cref="Split.ElementGrain"/>).</summary>
    private const long Grain = Split.ElementGrain;

    /// <summary>
    /// The size of X from which the k = 1 kernel prefetches every line ahead (<see cref="PageAhead.Lines"/>): 32 MB,
    /// the L3 that a core of an AMD EPYC shares; below it X is likely to stay in the cache between steps. On the Zen 5
    /// machine, one thread, the prefetches cost 8–25 % of the step with X of 3 MB and about 7 % at 16 MB, broke even at
    /// 24 and 32 MB, and saved 15–25 % at 48 MB and a fifth to a third at 80 and 800 MB.
    /// </summary>
    internal const long StreamingBytes = 32L << 20;

    /// <summary>Ranges per thread when X streams from memory (see <see cref="Ranges"/>).</summary>
    internal const int RangesPerThread = 16;

    /// <summary>
    /// How many ranges the rows of X [n × d] are split into for k outputs a row: one per thread (none below
    /// <see cref="Grain"/> multiply-adds); when X is <see cref="StreamingBytes"/> or more, <see cref="RangesPerThread"/>
    /// per thread, taken as threads come free, so that a thread the machine holds up streams less of X (each range
    /// still at least <see cref="Grain"/> multiply-adds and 16·k rows, so that its partial sums, k·d numbers, stay a
    /// sixteenth of its work at most). A function of the shape and <see cref="Parallelism.ThreadCount"/> alone: the
    /// result is bit-identical for a given thread count.
    /// </summary>
    /// <remarks>
    /// Measured on the AMD EPYC Zen 5 machine (a shared virtual machine), the logistic loss on two threads, alternated
    /// step by step in one process, sets of 41 steps each way. Eight ranges a thread against one, six sets: X of
    /// 10⁶ × 100 faster in all six, by 2–10 % in the median (16.6–26.9 → 15.8–26.3 ms); 10⁵ × 100 0.5–6 % faster in
    /// four and equal in two (1.6–2.7 ms); 10⁴ × 100, which the cache holds, 1 and 8 % slower in two sets (0.135 →
    /// 0.136–0.148 ms), hence the size from which it applies. Sixteen against eight, four sets: faster in all eight
    /// medians, 10⁵ × 100 by 1–7 % (1.46–2.26 → 1.36–2.23 ms: the last range a thread takes is shorter, so the threads
    /// finish closer together), 10⁶ × 100 by 0.5–3 %; thirty-two no better than sixteen.
    /// </remarks>
    internal static int Ranges(int n, int d, int k)
    {
        long work = (long)n * d * k;
        int parts = WorkerPool.PartsFor(work, Grain);
        if (parts > 1 && (long)n * d * sizeof(double) >= StreamingBytes)
        {
            long more = Math.Min((long)parts * RangesPerThread, Math.Min(work / Grain, n / (16L * k)));
            parts = (int)Math.Clamp(more, parts, WorkerPool.MaxThreads);
        }
        return Math.Min(parts, n);
    }

    /// <summary>Doubles in a 64-byte cache line.</summary>
    internal const int LineDoubles = 64 / sizeof(double);

    /// <summary>Records the linear or logistic regression loss of X [n × d], w [d], b and y [n].</summary>
    internal static Node Linear(OpKind op, Node x, Node w, Node b, Node y)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, op), iw = w.Resolve(t, op), ib = b.Resolve(t, op), iy = y.Resolve(t, op);
        Shape sx = t.Nodes[ix].Shape, sw = t.Nodes[iw].Shape, sb = t.Nodes[ib].Shape, sy = t.Nodes[iy].Shape;
        string name = Name(op);
        if (sx.Kind != ShapeKind.Matrix)
        {
            throw new ArgumentException($"{name}: X has shape {sx}; pass the data as a matrix [n × d], one example per row.", nameof(x));
        }
        if (sw.Kind != ShapeKind.Vector || sw.Length != sx.Cols)
        {
            throw new ArgumentException($"{name}: X is [{sx.Rows}×{sx.Cols}] but w has shape {sw}; w needs one weight per column of X ({sx.Cols}).", nameof(w));
        }
        if (sb.Length != 1)
        {
            throw new ArgumentException($"{name}: the bias b has shape {sb}; it must be a scalar.", nameof(b));
        }
        if (sy.Kind != ShapeKind.Vector || sy.Length != sx.Rows)
        {
            throw new ArgumentException($"{name}: X has {sx.Rows} rows but y has shape {sy}; pass one target per row of X.", nameof(y));
        }
        if (op == OpKind.LogisticRegressionLoss && t.Nodes[iy].RequiresGrad)
        {
            throw new ArgumentException($"{name}: the labels y require a gradient; labels are data. Pass a constant, or Ops.Detach(y).", nameof(y));
        }
        return Record(t, op, ix, iw, ib, iy, labels: null);
    }

    /// <summary>Records the softmax regression loss of X [n × d], W [d × k], b [k] and one class label per row.</summary>
    internal static Node Softmax(Node x, Node w, Node b, int[] labels)
    {
        const OpKind op = OpKind.SoftmaxRegressionLoss;
        Tape t = x.Tape;
        int ix = x.Resolve(t, op), iw = w.Resolve(t, op), ib = b.Resolve(t, op);
        Shape sx = t.Nodes[ix].Shape, sw = t.Nodes[iw].Shape, sb = t.Nodes[ib].Shape;
        const string name = "SoftmaxRegression";
        if (sx.Kind != ShapeKind.Matrix)
        {
            throw new ArgumentException($"{name}: X has shape {sx}; pass the data as a matrix [n × d], one example per row.", nameof(x));
        }
        if (sw.Kind != ShapeKind.Matrix || sw.Rows != sx.Cols)
        {
            throw new ArgumentException($"{name}: X is [{sx.Rows}×{sx.Cols}] but W has shape {sw}; W must be [d × k] = [{sx.Cols} × classes] (for a layer's weight [k × d], pass its transpose).", nameof(w));
        }
        if (sb.Kind != ShapeKind.Vector || sb.Length != sw.Cols)
        {
            throw new ArgumentException($"{name}: W is [{sw.Rows}×{sw.Cols}] but b has shape {sb}; b needs one bias per class ({sw.Cols}).", nameof(b));
        }
        if (labels.Length != sx.Rows)
        {
            throw new ArgumentException($"{name}: {labels.Length} labels for X of {sx.Rows} rows; pass one label per row.", nameof(labels));
        }
        for (int r = 0; r < labels.Length; r++)
        {
            if ((uint)labels[r] >= (uint)sw.Cols)
            {
                throw new ArgumentOutOfRangeException(nameof(labels),
                    $"{name}: label {labels[r]} of row {r} is not a class of W [{sw.Rows}×{sw.Cols}]; labels run from 0 to {sw.Cols - 1}.");
            }
        }
        return Record(t, op, ix, iw, ib, -1, labels);
    }

    /// <summary>The public name of the loss, for errors.</summary>
    private static string Name(OpKind op) => op switch
    {
        OpKind.LinearRegressionLoss => "LinearRegression",
        OpKind.LogisticRegressionLoss => "LogisticRegression",
        _ => "SoftmaxRegression",
    };

    /// <summary>Where the parts of a node's extra storage start, relative to its value slot.</summary>
    private readonly record struct Layout(int N, int D, int K, bool Residuals, int Parts)
    {
        public int GradW => 1;
        public int GradB => 1 + K * D;
        public int Residual => GradB + K;
        /// <summary>The weights as the kernel reads them: Wᵀ [k × d] for k &gt; 1; for k = 1, w copied to a 64-byte line (room for d + 8).</summary>
        public int Transposed => Residual + (Residuals ? N * K : 0);
        public int Partials => Transposed + (K > 1 ? K * D : D + LineDoubles);
        /// <summary>
        /// One range's block: its loss sum, Σ rᵢᵀxᵢ [k × d], Σ rᵢ [k], z of the current four rows [4 × k], and room
        /// for Σ rᵢxᵢ to be moved up to 7 places on while the range runs (k = 1; see <see cref="RowsBody.Run"/>).
        /// </summary>
        public int PartialLength => 1 + K * D + 5 * K + LineDoubles;
        public int Total => Partials + Parts * PartialLength;
    }

    /// <summary>Appends the node (inputs X, W, b and y, or −1 for the softmax loss) and runs the one pass over X.</summary>
    private static Node Record(Tape t, OpKind op, int ix, int iw, int ib, int iy, int[]? labels)
    {
        bool gradient = !t.IsNoGrad && (t.Nodes[ix].RequiresGrad || t.Nodes[iw].RequiresGrad || t.Nodes[ib].RequiresGrad || (iy >= 0 && t.Nodes[iy].RequiresGrad));
        NodeFlags flags = gradient ? NodeFlags.RequiresGrad : NodeFlags.None;
        int n = t.Nodes[ix].Rows, d = t.Nodes[ix].Cols, k = op == OpKind.SoftmaxRegressionLoss ? t.Nodes[iw].Cols : 1;
        bool residuals = gradient && (t.Nodes[ix].RequiresGrad || (op == OpKind.LinearRegressionLoss && t.Nodes[iy].RequiresGrad));
        int parts = Ranges(n, d, k);
        var layout = new Layout(n, d, k, residuals, parts);

        int start = t.Operands.Count;
        t.Operands.Add(ix);
        t.Operands.Add(iw);
        t.Operands.Add(ib);
        if (iy >= 0) t.Operands.Add(iy);
        double aux = 0;
        if (labels is not null)
        {
            aux = t.Objects.Count;
            t.Objects.Add(labels);
        }
        // The node is a scalar; its extra slots (gradients, residuals, scratch) follow its value in the arena, so they
        // are appended as one vector and the record is then narrowed to the scalar it is.
        int i = t.Append(op, start, iy >= 0 ? 4 : 3, Shape.Vector(layout.Total), flags, aux);
        ref NodeRecord node = ref t.Nodes[i];
        node.Rows = 1;
        node.Cols = 1;
        node.Kind = ShapeKind.Scalar;

        Span<double> store = t.Values.AsSpan(node.Offset, layout.Total);
        ReadOnlySpan<double> w = t.ValueSpan(iw);
        ReadOnlySpan<double> wt = w;
        if (k > 1)
        {
            // Wᵀ [k × d], so that zᵢₖ = xᵢ·Wᵀₖ and ∂L/∂Wᵀₖ += rᵢₖ xᵢ run along contiguous rows.
            Span<double> transposed = store.Slice(layout.Transposed, k * d);
            for (int j = 0; j < d; j++)
            {
                for (int c = 0; c < k; c++) transposed[c * d + j] = w[j * k + c];
            }
            wt = transposed;
        }
        bool needW = gradient && t.Nodes[iw].RequiresGrad;
        bool needB = gradient && t.Nodes[ib].RequiresGrad;
        fixed (double* px = t.ValueSpan(ix), pw = wt, pb = t.ValueSpan(ib), py = iy >= 0 ? t.ValueSpan(iy) : default, pstore = store)
        fixed (int* pl = labels)
        {
            // k = 1: w copied to the start of a 64-byte line, so that the dot products' loads of w never straddle two
            // lines (a parameter's own array starts wherever the collector put it). The same values, the same sums.
            double* weights = pw;
            if (k == 1)
            {
                weights = LineUp(pstore + layout.Transposed);
                new ReadOnlySpan<double>(pw, d).CopyTo(new Span<double>(weights, d));
            }
            var body = new RowsBody
            {
                Op = op, X = px, Wt = weights, B = pb, Y = py, Labels = pl,
                Residuals = residuals ? pstore + layout.Residual : null,
                Partials = pstore + layout.Partials,
                N = n, D = d, K = k, PartialLength = layout.PartialLength, Lanes = VectorLanes,
                NeedW = needW, NeedB = needB, PrefetchLines = (long)n * d * sizeof(double) >= StreamingBytes,
            };
            WorkerPool.Run(parts, ref body);
        }

        // The ranges' partial sums, added in range order (the same order for a given thread count).
        double loss = 0;
        Span<double> gw = store.Slice(layout.GradW, k * d), gb = store.Slice(layout.GradB, k);
        gw.Clear();
        gb.Clear();
        for (int p = 0; p < parts; p++)
        {
            ReadOnlySpan<double> block = store.Slice(layout.Partials + p * layout.PartialLength, layout.PartialLength);
            loss += block[0];
            if (needW) TensorPrimitives.Add(gw, block.Slice(1, k * d), gw);
            if (needB) TensorPrimitives.Add(gb, block.Slice(1 + k * d, k), gb);
        }
        store[0] = loss / n;
        if (needW) TensorPrimitives.Divide(gw, n, gw);
        if (needB) TensorPrimitives.Divide(gb, n, gb);
        return new Node(t, t.Checked(i));
    }

    /// <summary>
    /// One range of rows: per row z, ℓ and r, and r·x added into the range's partial ∂L/∂Wᵀ while the row is in L1
    /// (four rows at a time: <see cref="LinearRange(OpKind, double*, double*, double, double*, int, int, int, double*, double*, int, bool, out double)"/> for k = 1, <see cref="ClassRows"/> for the softmax loss).
    /// </summary>
    private struct RowsBody : IRangeBody
    {
        public OpKind Op;
        public double* X, Wt, B, Y, Residuals, Partials;
        public int* Labels;
        public int N, D, K, PartialLength, Lanes;
        public bool NeedW, NeedB, PrefetchLines;

        public readonly void Run(int part, int parts)
        {
            int first = (int)((long)N * part / parts), last = (int)((long)N * (part + 1) / parts);
            int d = D, k = K;
            double* block = Partials + (long)part * PartialLength;
            new Span<double>(block, PartialLength).Clear();
            var gwt = new Span<double>(block + 1, k * d);
            double* gb = block + 1 + k * d;
            if (k == 1 && Op != OpKind.SoftmaxRegressionLoss)
            {
                // Σ rᵢxᵢ is summed s < Lanes places further on in the block, where its address and X's agree modulo a
                // vector's width: when d is a multiple of the width, the kernel's vector loads of X and its loads and
                // stores of Σ rᵢxᵢ in the gradient's sums then all start on a vector boundary, none straddling two
                // cache lines (see LinearRange). It moves back to its place once the range is done.
                int s = (int)(((nint)X - (nint)(block + 1)) / sizeof(double)) & (Lanes - 1);
                double* gw = block + 1 + s;
                block[0] = LinearRange(Op, X, Wt, B[0], Y, d, first, last, NeedW ? gw : null, Residuals, Lanes, PrefetchLines, out double sumR);
                if (NeedW && s != 0) new ReadOnlySpan<double>(gw, d).CopyTo(gwt);
                if (NeedB) gb[0] = sumR;
                return;
            }
            block[0] = ClassRows(in this, first, last, block);
        }
    }

    /// <summary>
    /// The rows [first, last) of <paramref name="body"/>'s range for the softmax loss over k classes: per row
    /// z = xWᵀ + b, ℓ and r = ∂ℓ/∂z in place of z and r into the range's partial ∂L/∂b; then r·x into its partial
    /// ∂L/∂Wᵀ four rows at a time, as the k = 1 kernel does (each class's row of ∂L/∂Wᵀ loaded and stored once per four
    /// rows, g ← (((g + r₀x₀) + r₁x₁) + r₂x₂) + r₃x₃ in four multiply-adds, the rows still in L1), the rows left over
    /// one at a time. Returns Σ ℓ.
    /// z, ∂L/∂b and the residuals are written and read a vector at a time where a vector wrote them: a vector load of
    /// values stored one at a time waits for the stores to reach the cache. For a fixed range the order of every
    /// operation is fixed, so the result repeats bit for bit.
    /// </summary>
    // Fully optimised at once and never inlined, as Blocks: it runs once per range and step with a long loop inside.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static double ClassRows(in RowsBody body, int first, int last, double* block)
    {
        int d = body.D, k = body.K;
        double* g = block + 1, gb = g + (long)k * d, zs = gb + k;
        double* end = body.X + (long)last * d;
        double loss = 0;
        int i = first;
        if (body.Lanes >= 4)
        {
            for (; i + 4 <= last; i += 4)
            {
                double* x0 = body.X + (long)i * d;
                for (int q = 0; q < 4; q++) loss += ClassRow(in body, i + q, x0 + q * d, zs + q * k, gb, end);
                if (body.NeedW) AddClassRows4(x0, d, k, zs, g, body.Lanes);
            }
        }
        for (; i < last; i++)
        {
            double* x = body.X + (long)i * d;
            loss += ClassRow(in body, i, x, zs, gb, end);
            if (body.NeedW) AddClassRows(x, zs, g, d, k);
        }
        return loss;
    }

    /// <summary>
    /// Row i's z = xWᵀ + b into <paramref name="z"/>, then its residual r in place; r added into ∂L/∂b and stored as
    /// the row's residuals (when kept). Returns ℓ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ClassRow(in RowsBody body, int i, double* x, double* z, double* gb, double* end)
    {
        int d = body.D, k = body.K;
        PageAhead.Read(x, d * sizeof(double), end);
        ClassDots(x, body.Wt, body.B, d, k, z);
        double loss = SoftmaxRow(new Span<double>(z, k), body.Labels[i]);
        if (body.NeedB) AddClasses(z, gb, gb, k);
        if (body.Residuals != null) AddClasses(z, null, body.Residuals + (long)i * k, k);
        return loss;
    }

    /// <summary>
    /// ∂L/∂Wᵀᶜ ← (((∂L/∂Wᵀᶜ + r₀ᶜx₀) + r₁ᶜx₁) + r₂ᶜx₂) + r₃ᶜx₃ for the k classes and the four rows of d doubles
    /// from x₀, their residuals r [4 × k]: a class at a time by <see cref="AddRows4"/> (or <see cref="AddRows4Wide"/> with 8 lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddClassRows4(double* x0, int d, int k, double* r, double* g, int lanes)
    {
        for (int c = 0; c < k; c++)
        {
            var rc = Vector256.Create(r[c], r[k + c], r[2 * k + c], r[3 * k + c]);
            if (lanes == 8) AddRows4Wide(x0, d, 0, rc, g + (long)c * d);
            else AddRows4(x0, d, 0, rc, g + (long)c * d);
        }
    }

    /// <summary>
    /// to = r + g over k classes (to = r when <paramref name="g"/> is null): four at a time, then one at a time, as
    /// <see cref="ClassDots"/> and <see cref="SoftmaxCrossEntropyOps.ScaledSoftmax"/> write r.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddClasses(double* r, double* g, double* to, int k)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 4 <= k; c += 4)
            {
                Vector256<double> v = Vector256.Load(r + c);
                (g == null ? v : Vector256.Load(g + c) + v).Store(to + c);
            }
        }
        for (; c < k; c++) to[c] = g == null ? r[c] : g[c] + r[c];
    }

    /// <summary>
    /// zᶜ = x·Wᵀᶜ + bᶜ for the k classes (Wᵀ [k × d] from <paramref name="wt"/>): four classes at a time, x read once per
    /// four (two accumulators a class, columns eight at a time, then four, then one); classes left over one at a time
    /// (<see cref="RowDot"/>'s four accumulators, then the columns left over). The bias is added to each dot product
    /// once it is complete, as the composed graph's MatMul + b does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ClassDots(double* x, double* wt, double* b, int d, int k, double* z)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 4 <= k; c += 4)
            {
                double* w0 = wt + (long)c * d, w1 = w0 + d, w2 = w1 + d, w3 = w2 + d;
                Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
                int j = 0;
                for (; j + 8 <= d; j += 8)
                {
                    Vector256<double> u = Vector256.Load(x + j), v = Vector256.Load(x + j + 4);
                    a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w0 + j), a0);
                    a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w1 + j), a1);
                    a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w2 + j), a2);
                    a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w3 + j), a3);
                    b0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w0 + j + 4), b0);
                    b1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w1 + j + 4), b1);
                    b2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w2 + j + 4), b2);
                    b3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w3 + j + 4), b3);
                }
                if (j + 4 <= d)
                {
                    Vector256<double> u = Vector256.Load(x + j);
                    a0 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w0 + j), a0);
                    a1 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w1 + j), a1);
                    a2 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w2 + j), a2);
                    a3 = Vector256.FusedMultiplyAdd(u, Vector256.Load(w3 + j), a3);
                    j += 4;
                }
                Vector256<double> sum = Sum4(a0 + b0, a1 + b1, a2 + b2, a3 + b3);
                for (; j < d; j++) sum = Vector256.FusedMultiplyAdd(Vector256.Create(x[j]), Vector256.Create(w0[j], w1[j], w2[j], w3[j]), sum);
                (sum + Vector256.Load(b + c)).Store(z + c);
            }
        }
        for (; c < k; c++)
        {
            double* wc = wt + (long)c * d;
            int j = 0;
            double sum = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                j = RowDot(x, wc, d, out Vector256<double> partial);
                sum = Vector256.Sum(partial);
            }
            for (; j < d; j++) sum = Math.FusedMultiplyAdd(x[j], wc[j], sum);
            z[c] = sum + b[c];
        }
    }

    /// <summary>
    /// ∂L/∂Wᵀᶜ += rᶜ·x for the k classes (g [k × d]), each element by one fused multiply-add: four classes at a time,
    /// x loaded once per four, then the classes left over.
    /// </summary>
    private static void AddClassRows(double* x, double* r, double* g, int d, int k)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 4 <= k; c += 4)
            {
                double* g0 = g + (long)c * d, g1 = g0 + d, g2 = g1 + d, g3 = g2 + d;
                Vector256<double> r0 = Vector256.Create(r[c]), r1 = Vector256.Create(r[c + 1]), r2 = Vector256.Create(r[c + 2]), r3 = Vector256.Create(r[c + 3]);
                int j = 0;
                for (; j + 4 <= d; j += 4)
                {
                    Vector256<double> u = Vector256.Load(x + j);
                    Vector256.FusedMultiplyAdd(u, r0, Vector256.Load(g0 + j)).Store(g0 + j);
                    Vector256.FusedMultiplyAdd(u, r1, Vector256.Load(g1 + j)).Store(g1 + j);
                    Vector256.FusedMultiplyAdd(u, r2, Vector256.Load(g2 + j)).Store(g2 + j);
                    Vector256.FusedMultiplyAdd(u, r3, Vector256.Load(g3 + j)).Store(g3 + j);
                }
                for (; j < d; j++)
                {
                    double xj = x[j];
                    g0[j] = Math.FusedMultiplyAdd(xj, r[c], g0[j]);
                    g1[j] = Math.FusedMultiplyAdd(xj, r[c + 1], g1[j]);
                    g2[j] = Math.FusedMultiplyAdd(xj, r[c + 2], g2[j]);
                    g3[j] = Math.FusedMultiplyAdd(xj, r[c + 3], g3[j]);
                }
            }
        }
        for (; c < k; c++)
        {
            double* gc = g + (long)c * d;
            double rc = r[c];
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<double> rv = Vector256.Create(rc);
                for (; j + 4 <= d; j += 4) Vector256.FusedMultiplyAdd(Vector256.Load(x + j), rv, Vector256.Load(gc + j)).Store(gc + j);
            }
            for (; j < d; j++) gc[j] = Math.FusedMultiplyAdd(x[j], rc, gc[j]);
        }
    }

    /// <summary>
    /// Columns per vector of the blocked k = 1 kernel on this machine: 8 with AVX-512 (Vector512), 4 with AVX2
    /// (Vector256), 1 (the row-at-a-time loop) otherwise.
    /// </summary>
    internal static readonly int VectorLanes = Vector512.IsHardwareAccelerated ? 8 : Vector256.IsHardwareAccelerated ? 4 : 1;

    /// <summary>The first address at or after <paramref name="p"/> that starts a 64-byte line (at most 7 doubles on).</summary>
    internal static double* LineUp(double* p) => (double*)(((nint)p + 63) & ~(nint)63);

    /// <summary>
    /// The linear or logistic loss summed over rows [first, last) of X [· × d] (k = 1): returns Σ ℓᵢ, sets
    /// <paramref name="sumR"/> = Σ rᵢ, adds Σ rᵢ·xᵢ into <paramref name="gw"/> (when not null) and stores rᵢ into
    /// <paramref name="residuals"/> (when not null).
    /// </summary>
    /// <remarks>
    /// With <paramref name="lanes"/> 4 or 8 the rows go in blocks of four, each read twice while it is in L1 (3.2 kB
    /// at d = 100): the four dot products zᵢ = xᵢ·w + b a row at a time (four accumulators a row), ℓ and r of the four
    /// logits in one pass of the vector exp/log1p (for the logistic loss, its steps placed between the next block's
    /// four dot products, which do not depend on them), and ∂L/∂w loaded and stored once per block:
    /// g ← (((g + r₀x₀) + r₁x₁) + r₂x₂) + r₃x₃ in four multiply-adds. A remainder of n mod 4 rows, and lanes = 1 (no
    /// Vector256 hardware), take the row-at-a-time loop. The blocks start at <paramref name="first"/>: for a fixed
    /// range the operations and their order are fixed, so the result repeats bit for bit. When d is a multiple of the
    /// vector width, g's vector sums start at the first column where X's rows meet a vector boundary (the columns
    /// before it one at a time), so that none of their loads of X straddles two cache lines, nor, when the caller
    /// places g as the rows lie (RowsBody does), any load or store of g; each column's sum is the same expression, so
    /// where X and g lie does not change a bit of the result. (The dot products keep their order from column 0,
    /// which fixes how their sums are rounded.)
    /// </remarks>
    internal static double LinearRange(OpKind op, double* x, double* w, double bias, double* y, int d, int first, int last,
        double* gw, double* residuals, int lanes, bool prefetchLines, out double sumR)
    {
        double loss = 0;
        sumR = 0;
        bool logistic = op == OpKind.LogisticRegressionLoss;
        int i = (lanes, logistic) switch
        {
            (8, true) => Blocks<Lanes8, LogisticRows>(x, w, bias, y, d, first, last, gw, residuals, prefetchLines, ref loss, ref sumR),
            (8, false) => Blocks<Lanes8, SquaredRows>(x, w, bias, y, d, first, last, gw, residuals, prefetchLines, ref loss, ref sumR),
            (4, true) => Blocks<Lanes4, LogisticRows>(x, w, bias, y, d, first, last, gw, residuals, prefetchLines, ref loss, ref sumR),
            (4, false) => Blocks<Lanes4, SquaredRows>(x, w, bias, y, d, first, last, gw, residuals, prefetchLines, ref loss, ref sumR),
            _ => first,
        };
        var wr = new ReadOnlySpan<double>(w, d);
        for (; i < last; i++)
        {
            var xr = new ReadOnlySpan<double>(x + (long)i * d, d);
            double r = TensorPrimitives.Dot(xr, wr) + bias;
            loss += LinearRow(op, ref r, y[i]);
            if (gw != null)
            {
                var g = new Span<double>(gw, d);
                TensorPrimitives.MultiplyAdd(xr, r, g, g);
            }
            sumR += r;
            if (residuals != null) residuals[i] = r;
        }
        return loss;
    }

    /// <summary>
    /// <see cref="LinearRange(OpKind, double*, double*, double, double*, int, int, int, double*, double*, int, bool, out double)"/>
    /// on arrays, at any vector width (8 runs on any machine, in software where AVX-512 is missing): for the tests of
    /// the block edges. An empty <paramref name="gw"/> or <paramref name="residuals"/> skips that output.
    /// </summary>
    internal static double LinearRange(OpKind op, double[] x, double[] w, double bias, double[] y, int first, int last,
        double[] gw, double[] residuals, int lanes, out double sumR)
    {
        int d = w.Length;
        if (x.Length != y.Length * d || first < 0 || first > last || last > y.Length || (gw.Length != 0 && gw.Length != d)
            || (residuals.Length != 0 && residuals.Length != y.Length) || lanes is not (1 or 4 or 8))
        {
            throw new ArgumentException($"LinearRange: X of {x.Length} for w of {d} and y of {y.Length}, rows [{first}, {last}), "
                + $"∂L/∂w of {gw.Length}, residuals of {residuals.Length}, {lanes} lanes do not fit; this is a bug in the caller.");
        }
        fixed (double* px = x, pw = w, py = y, pg = gw, pr = residuals)
        {
            return LinearRange(op, px, pw, bias, py, d, first, last, gw.Length == 0 ? null : pg, residuals.Length == 0 ? null : pr, lanes,
                prefetchLines: false, out sumR);
        }
    }

    /// <summary>
    /// The blocks of four rows of [first, last), the loss and Σ r added into <paramref name="loss"/> and
    /// <paramref name="sumR"/>; returns where the rows left over (fewer than four) start.
    /// </summary>
    // Fully optimised at once: it runs once per range and step with a long loop inside, so tiering would leave it in
    // on-stack-replacement code for the first many steps. Never inlined: inlined into a small caller (LinearRange into
    // RowsBody.Run, itself into the pool's job), the inliner's budget ran out before its own helpers (Dot4, RowDot,
    // AddRows4), which then ran as separate methods starting in tier-0 code: the fused logistic step at n = 10⁵ took
    // 18–20 ms instead of 2 in the quick benchmark, and stayed slower after tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static int Blocks<TLanes, TRows>(double* x, double* w, double bias, double* y, int d, int first, int last,
        double* gw, double* residuals, bool prefetchLines, ref double loss, ref double sumR)
        where TLanes : struct, IBlockLanes
        where TRows : struct, IBlockRows
    {
        Vector256<double> loss4 = Vector256<double>.Zero, sumR4 = Vector256<double>.Zero, b4 = Vector256.Create(bias);
        int i = first;
        if (i + 4 > last) return i;
        // When d is a multiple of the vector width, every row of X starts at the same place in a vector-wide span of
        // memory; ∂L/∂w's sums then start `head` columns into the row, where the next vector boundary is, and go a
        // vector at a time from there, so that no load of X (and, when g lies as the rows do, no load or store of g)
        // straddles two cache lines. Each column's sum is the same expression whatever head is.
        int width = TLanes.Width;
        int head = d % width == 0 ? (width - (int)((nint)x / sizeof(double) % width)) % width : 0;
        double* end = x + (long)last * d;
        long blockBytes = 4L * d * sizeof(double);
        PageAhead.Read(x + (long)i * d, blockBytes, end);
        Vector256<double> z = Dot4<TLanes>(x + (long)i * d, w, d) + b4;
        for (; i + 4 <= last; i += 4)
        {
            // This block's residuals and losses (TRows), the next block's four dot products, which do not depend on
            // them, and then this block's gradient, which does. The logistic residuals are a long chain of dependent
            // steps (e^−|z|, a division, ln(1 + t)): placed before all four dot products, the processor's window filled
            // before the chain was done and the two ran one after the other, so each step goes before one of the
            // dot products. With AddRows4's four multiply-adds, one thread, X in L2: 23.1–24.4 → 21.0–22.1 ns a row
            // (19.7–20.3 → 17.0–17.6 without ∂L/∂w), AMD EPYC. As each block's dot products start, the pages a little
            // further on are prefetched, and, for an X that streams from memory, each line 8 KB on (PageAhead).
            double* x0 = x + (long)i * d, xn = x0 + 4 * d;
            PageAhead.Read(xn, blockBytes, end);
            if (prefetchLines) PageAhead.Lines(xn, blockBytes, end);
            bool more = i + 8 <= last;
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default, yv = Vector256.Load(y + i);
            int j = 0;
            Vector256<double> t = TRows.Start(z);
            if (more) j = TLanes.Dot(xn, w, d, out a0);
            Vector256<double> r = TRows.Residual(z, yv, t);
            if (more) TLanes.Dot(xn + d, w, d, out a1);
            loss4 += TRows.Loss(z, yv, t, r);
            if (more)
            {
                TLanes.Dot(xn + 2 * d, w, d, out a2);
                TLanes.Dot(xn + 3 * d, w, d, out a3);
                z = Sum4(a0, a1, a2, a3) + DotTail(xn, w, d, j) + b4;
            }
            sumR4 += r;
            if (residuals != null) r.Store(residuals + i);
            if (gw != null) TLanes.AddRows4(x0, d, head, r, gw);
        }
        loss += Vector256.Sum(loss4);
        sumR += Vector256.Sum(sumR4);
        return i;
    }

    /// <summary>
    /// A loss of <see cref="Blocks"/> on four logits (or predictions) z with targets y, in three steps that the loop
    /// places between the next block's dot products: <see cref="Start"/> (what both others need), the residuals
    /// r = ∂ℓ/∂z, and the losses.
    /// </summary>
    private interface IBlockRows
    {
        static abstract Vector256<double> Start(Vector256<double> z);

        static abstract Vector256<double> Residual(Vector256<double> z, Vector256<double> y, Vector256<double> start);

        static abstract Vector256<double> Loss(Vector256<double> z, Vector256<double> y, Vector256<double> start,
            Vector256<double> r);
    }

    /// <summary>ℓ = ½(h − y)², r = h − y.</summary>
    private readonly struct SquaredRows : IBlockRows
    {
        public static Vector256<double> Start(Vector256<double> z) => default;

        public static Vector256<double> Residual(Vector256<double> z, Vector256<double> y, Vector256<double> start) => z - y;

        public static Vector256<double> Loss(Vector256<double> z, Vector256<double> y, Vector256<double> start,
            Vector256<double> r) => Vector256.Create(0.5) * (r * r);
    }

    /// <summary>
    /// ℓ = max(z, 0) − z·y + ln(1 + t), r = σ(z) − y, both from t = e^−|z| (<see cref="Start"/>), as
    /// <see cref="LinearRow"/> takes them a row at a time: e^−|z| by <see cref="VectorMath.Exp(Vector256{double})"/> (as
    /// the composed graph's BinaryCrossEntropyWithLogits computes it four at a time, within 2 ulps of Math.Exp),
    /// σ(z) = (1 or t)/(1 + t) with one division, and ln(1 + t) by <see cref="VectorMath.Log1PUnit"/> (within 3 ulps of
    /// the scalar log1p, as the composed graph's).
    /// </summary>
    private readonly struct LogisticRows : IBlockRows
    {
        public static Vector256<double> Start(Vector256<double> z) => VectorMath.Exp(-Vector256.Abs(z));

        public static Vector256<double> Residual(Vector256<double> z, Vector256<double> y, Vector256<double> start) =>
            Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<double>.Zero), Vector256<double>.One, start)
                / (Vector256<double>.One + start) - y;

        public static Vector256<double> Loss(Vector256<double> z, Vector256<double> y, Vector256<double> start,
            Vector256<double> r) => Vector256.Max(z, Vector256<double>.Zero) - z * y + VectorMath.Log1PUnit(start);
    }

    /// <summary>The two kernels of a block of four rows at one vector width, for <see cref="Blocks"/>.</summary>
    private interface IBlockLanes
    {
        /// <summary>Doubles in a vector.</summary>
        static abstract int Width { get; }

        /// <summary>x·w over the first columns, a multiple of 4, in four lanes; returns how many columns.</summary>
        static abstract int Dot(double* x, double* w, int d, out Vector256<double> sum);

        /// <summary>
        /// g ← (((g + r₀x₀) + r₁x₁) + r₂x₂) + r₃x₃ over d columns for the four rows from x₀, in four multiply-adds: the
        /// first <paramref name="head"/> columns one at a time, then vectors.
        /// </summary>
        static abstract void AddRows4(double* x0, int d, int head, Vector256<double> r, double* g);
    }

    /// <summary>Vector256 (AVX2).</summary>
    private readonly struct Lanes4 : IBlockLanes
    {
        public static int Width => 4;
        public static int Dot(double* x, double* w, int d, out Vector256<double> sum) => RowDot(x, w, d, out sum);
        public static void AddRows4(double* x0, int d, int head, Vector256<double> r, double* g) => ModelLosses.AddRows4(x0, d, head, r, g);
    }

    /// <summary>Vector512 (AVX-512).</summary>
    private readonly struct Lanes8 : IBlockLanes
    {
        public static int Width => 8;
        public static int Dot(double* x, double* w, int d, out Vector256<double> sum) => RowDotWide(x, w, d, out sum);
        public static void AddRows4(double* x0, int d, int head, Vector256<double> r, double* g) => AddRows4Wide(x0, d, head, r, g);
    }

    /// <summary>
    /// (x₀·w, x₁·w, x₂·w, x₃·w) for the four rows of d doubles from x₀, for the first block of <see cref="Blocks"/>
    /// (the loop interleaves the same four dot products with the residual steps): a row at a time (one sequential
    /// stream, which the hardware prefetcher follows; four rows side by side measured slower from memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Dot4<TLanes>(double* x0, double* w, int d)
        where TLanes : struct, IBlockLanes
    {
        int j = TLanes.Dot(x0, w, d, out Vector256<double> a0);
        TLanes.Dot(x0 + d, w, d, out Vector256<double> a1);
        TLanes.Dot(x0 + 2 * d, w, d, out Vector256<double> a2);
        TLanes.Dot(x0 + 3 * d, w, d, out Vector256<double> a3);
        return Sum4(a0, a1, a2, a3) + DotTail(x0, w, d, j);
    }

    /// <summary>x·w over the first columns, a multiple of 4, in four lanes (four accumulators); returns how many columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RowDot(double* x, double* w, int d, out Vector256<double> sum)
    {
        Vector256<double> a = default, b = default, c = default, e = default;
        int j = 0;
        for (; j + 16 <= d; j += 16)
        {
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(w + j), a);
            b = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 4), Vector256.Load(w + j + 4), b);
            c = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 8), Vector256.Load(w + j + 8), c);
            e = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 12), Vector256.Load(w + j + 12), e);
        }
        if (j + 8 <= d)
        {
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(w + j), a);
            b = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 4), Vector256.Load(w + j + 4), b);
            j += 8;
        }
        if (j + 4 <= d)
        {
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(w + j), a);
            j += 4;
        }
        sum = (a + b) + (c + e);
        return j;
    }

    /// <summary><see cref="RowDot"/> with Vector512 loads, four accumulators, the halves added at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RowDotWide(double* x, double* w, int d, out Vector256<double> sum)
    {
        Vector512<double> a = default, b = default, c = default, e = default;
        int j = 0;
        for (; j + 32 <= d; j += 32)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.Load(x + j), Vector512.Load(w + j), a);
            b = Vector512.FusedMultiplyAdd(Vector512.Load(x + j + 8), Vector512.Load(w + j + 8), b);
            c = Vector512.FusedMultiplyAdd(Vector512.Load(x + j + 16), Vector512.Load(w + j + 16), c);
            e = Vector512.FusedMultiplyAdd(Vector512.Load(x + j + 24), Vector512.Load(w + j + 24), e);
        }
        if (j + 16 <= d)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.Load(x + j), Vector512.Load(w + j), a);
            b = Vector512.FusedMultiplyAdd(Vector512.Load(x + j + 8), Vector512.Load(w + j + 8), b);
            j += 16;
        }
        if (j + 8 <= d)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.Load(x + j), Vector512.Load(w + j), a);
            j += 8;
        }
        a = (a + b) + (c + e);
        Vector256<double> s = a.GetLower() + a.GetUpper();
        if (j + 4 <= d)
        {
            s = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(w + j), s);
            j += 4;
        }
        sum = s;
        return j;
    }

    /// <summary>(Σ a₀, Σ a₁, Σ a₂, Σ a₃), each as (a[0] + a[1]) + (a[2] + a[3]): two horizontal adds and a lane swap on AVX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Sum4(Vector256<double> a0, Vector256<double> a1, Vector256<double> a2, Vector256<double> a3)
    {
        if (Avx.IsSupported)
        {
            // h01 = (a0[0]+a0[1], a1[0]+a1[1], a0[2]+a0[3], a1[2]+a1[3]), h23 likewise; their low halves side by side
            // plus their high halves side by side.
            Vector256<double> h01 = Avx.HorizontalAdd(a0, a1), h23 = Avx.HorizontalAdd(a2, a3);
            return Avx.Permute2x128(h01, h23, 0x20) + Avx.Permute2x128(h01, h23, 0x31);
        }
        return Vector256.Create(
            (a0[0] + a0[1]) + (a0[2] + a0[3]), (a1[0] + a1[1]) + (a1[2] + a1[3]),
            (a2[0] + a2[1]) + (a2[2] + a2[3]), (a3[0] + a3[1]) + (a3[2] + a3[3]));
    }

    /// <summary>The four rows' dot products over the last columns [j, d), fewer than a vector's width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> DotTail(double* x0, double* w, int d, int j)
    {
        if (j == d) return Vector256<double>.Zero;
        double* x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        double t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (; j < d; j++)
        {
            double v = w[j];
            t0 = Math.FusedMultiplyAdd(x0[j], v, t0);
            t1 = Math.FusedMultiplyAdd(x1[j], v, t1);
            t2 = Math.FusedMultiplyAdd(x2[j], v, t2);
            t3 = Math.FusedMultiplyAdd(x3[j], v, t3);
        }
        return Vector256.Create(t0, t1, t2, t3);
    }

    /// <summary>
    /// g ← (((g + r₀x₀) + r₁x₁) + r₂x₂) + r₃x₃ over d columns for the four rows from x₀, in four multiply-adds, one load
    /// and store of g: columns [0, head) one at a time, then four at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddRows4(double* x0, int d, int head, Vector256<double> r, double* g)
    {
        double* x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        Vector256<double> r0 = Vector256.Create(r[0]), r1 = Vector256.Create(r[1]), r2 = Vector256.Create(r[2]), r3 = Vector256.Create(r[3]);
        AddRowsScalar(x0, d, r, g, 0, head);
        int j = head;
        for (; j + 4 <= d; j += 4)
        {
            Vector256<double> a = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + j), r0, Vector256.Load(g + j));
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + j), r1, a);
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + j), r2, a);
            Vector256.FusedMultiplyAdd(Vector256.Load(x3 + j), r3, a).Store(g + j);
        }
        AddRowsScalar(x0, d, r, g, j, d);
    }

    /// <summary><see cref="AddRows4"/> with Vector512 loads (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddRows4Wide(double* x0, int d, int head, Vector256<double> r, double* g)
    {
        double* x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        Vector512<double> r0 = Vector512.Create(r[0]), r1 = Vector512.Create(r[1]), r2 = Vector512.Create(r[2]), r3 = Vector512.Create(r[3]);
        AddRowsScalar(x0, d, r, g, 0, head);
        int j = head;
        for (; j + 8 <= d; j += 8)
        {
            Vector512<double> a = Vector512.FusedMultiplyAdd(Vector512.Load(x0 + j), r0, Vector512.Load(g + j));
            a = Vector512.FusedMultiplyAdd(Vector512.Load(x1 + j), r1, a);
            a = Vector512.FusedMultiplyAdd(Vector512.Load(x2 + j), r2, a);
            Vector512.FusedMultiplyAdd(Vector512.Load(x3 + j), r3, a).Store(g + j);
        }
        if (j + 4 <= d)
        {
            Vector256<double> a = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + j), r0.GetLower(), Vector256.Load(g + j));
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + j), r1.GetLower(), a);
            a = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + j), r2.GetLower(), a);
            Vector256.FusedMultiplyAdd(Vector256.Load(x3 + j), r3.GetLower(), a).Store(g + j);
            j += 4;
        }
        AddRowsScalar(x0, d, r, g, j, d);
    }

    /// <summary>The same sum, one column at a time, over columns [j, end) (fewer than a vector's width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRowsScalar(double* x0, int d, Vector256<double> r, double* g, int j, int end)
    {
        if (j == end) return;
        double* x1 = x0 + d, x2 = x1 + d, x3 = x2 + d;
        double r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
        for (; j < end; j++)
        {
            double a = Math.FusedMultiplyAdd(x0[j], r0, g[j]);
            a = Math.FusedMultiplyAdd(x1[j], r1, a);
            a = Math.FusedMultiplyAdd(x2[j], r2, a);
            g[j] = Math.FusedMultiplyAdd(x3[j], r3, a);
        }
    }

    /// <summary>The row's loss for the logit (or prediction) z; z is replaced by the residual r = ∂ℓ/∂z.</summary>
    private static double LinearRow(OpKind op, ref double z, double y)
    {
        double h = z;
        if (op == OpKind.LinearRegressionLoss)
        {
            // ℓ = ½(h − y)², r = h − y
            double e = h - y;
            z = e;
            return 0.5 * (e * e);
        }
        // ℓ = max(z, 0) − z·y + ln(1 + t), r = σ(z) − y, both from the one exponential t = e^−|z|:
        // σ(z) = 1/(1 + t) for z ≥ 0 and t/(1 + t) for z < 0, the same operations as Elementwise.Sigmoid and
        // BinaryCrossEntropyOps.OnLogit's scalar form, one e^x fewer. Used for the rows left over from the blocks of
        // four (which take LogisticRows) and by the forward-mode rule. z is summed in another order than MatVec's, so
        // the loss and gradients equal the composed graph's to rounding, not bit for bit.
        double t = Math.Exp(-Math.Abs(h));
        z = (h >= 0 ? 1 / (1 + t) : t / (1 + t)) - y;
        return Math.Max(h, 0) - h * y + Elementwise.Log1P(t);
    }

    /// <summary>
    /// The row's softmax cross-entropy for the logits z and class c: ℓ = ln Σ e^(z − m) − (z_c − m), m = max z, and
    /// softmax(z) by the composed graph's own steps (<see cref="SoftmaxCrossEntropyOps.Shift"/>,
    /// <see cref="SoftmaxCrossEntropyOps.ScaledSoftmax"/>); z is replaced by the residual softmax(z) − onehot(c).
    /// </summary>
    private static double SoftmaxRow(Span<double> z, int label)
    {
        (double m, double lnS) = SoftmaxCrossEntropyOps.Shift(z);
        double loss = lnS - (z[label] - m);
        SoftmaxCrossEntropyOps.ScaledSoftmax(z, m, lnS, 1, z, assign: true);
        z[label] -= 1;
        return loss;
    }

    /// <summary>The node's inputs: X, W (or w), b and, for the linear and logistic losses, y.</summary>
    private static (int X, int W, int B, int Y) Inputs(Tape t, in NodeRecord n) =>
        (t.Operands[n.A], t.Operands[n.A + 1], t.Operands[n.A + 2], n.B > 3 ? t.Operands[n.A + 3] : -1);

    private static Layout LayoutOf(Tape t, in NodeRecord n)
    {
        var (ix, iw, _, iy) = Inputs(t, n);
        int rows = t.Nodes[ix].Rows, d = t.Nodes[ix].Cols, k = n.Op == OpKind.SoftmaxRegressionLoss ? t.Nodes[iw].Cols : 1;
        bool residuals = t.Nodes[ix].RequiresGrad || (n.Op == OpKind.LinearRegressionLoss && t.Nodes[iy].RequiresGrad);
        return new Layout(rows, d, k, residuals, Parts: 0);
    }

    /// <summary>
    /// Backward: ḡ = ∂L'/∂L scales the stored gradients: ∂/∂W += ḡ·(1/n)Σ xᵢᵀrᵢ, ∂/∂b += ḡ·(1/n)Σ rᵢ,
    /// ∂/∂xᵢ += (ḡ/n)·W rᵢᵀ (a pass over ∂L/∂X from the stored residuals), ∂/∂yᵢ += −(ḡ/n)·rᵢ (linear loss).
    /// </summary>
    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        var (ix, iw, ib, iy) = Inputs(t, n);
        Layout layout = LayoutOf(t, n);
        int rows = layout.N, d = layout.D, k = layout.K;
        ReadOnlySpan<double> store = t.Values.AsSpan(n.Offset, layout.Partials);
        double g = t.Grads[n.Offset];
        if (t.Nodes[iw].RequiresGrad)
        {
            Span<double> target = t.AddTarget(iw);
            ReadOnlySpan<double> gwt = store.Slice(layout.GradW, k * d);
            if (k == 1)
            {
                TensorPrimitives.MultiplyAdd(gwt, g, target, target);
            }
            else
            {
                // The stored gradient is laid out as Wᵀ [k × d]; W is [d × k].
                for (int j = 0; j < d; j++)
                {
                    for (int c = 0; c < k; c++) target[j * k + c] += g * gwt[c * d + j];
                }
            }
        }
        if (t.Nodes[ib].RequiresGrad)
        {
            Span<double> target = t.AddTarget(ib);
            TensorPrimitives.MultiplyAdd(store.Slice(layout.GradB, k), g, target, target);
        }
        if (!layout.Residuals) return;
        double scale = g / rows;
        ReadOnlySpan<double> residuals = store.Slice(layout.Residual, rows * k);
        if (t.Nodes[ix].RequiresGrad)
        {
            ReadOnlySpan<double> wt = k == 1 ? t.ValueSpan(iw) : store.Slice(layout.Transposed, k * d);
            fixed (double* pg = t.AddTarget(ix), pr = residuals, pw = wt)
            {
                Split.Rows(rows, (long)d * k, new InputRows { G = pg, R = pr, Wt = pw, D = d, K = k, Scale = scale });
            }
        }
        if (iy >= 0 && t.Nodes[iy].RequiresGrad)
        {
            // ∂L/∂yᵢ = −rᵢ/n
            Span<double> target = t.AddTarget(iy);
            TensorPrimitives.MultiplyAdd(residuals, -scale, target, target);
        }
    }

    /// <summary>∂/∂xᵢ += (ḡ/n)·Σₖ rᵢₖ Wᵀₖ for a range of rows.</summary>
    private struct InputRows : Split.IRowKernel
    {
        public double* G, R, Wt;
        public int D, K;
        public double Scale;

        public readonly void Rows(int first, int last)
        {
            int d = D, k = K;
            for (int i = first; i < last; i++)
            {
                var gx = new Span<double>(G + (long)i * d, d);
                for (int c = 0; c < k; c++)
                {
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(Wt + (long)c * d, d), Scale * R[(long)i * k + c], gx, gx);
                }
            }
        }
    }

    /// <summary>
    /// The recorded (create-graph) rule, the composed graph's gradient written with ops: Z = X W + b,
    /// R = ∂ℓ/∂Z (Z − y, σ(Z) − y or softmax(Z) − onehot), c = ḡ/n; ∂/∂W = Xᵀ R·c, ∂/∂b = Σᵢ Rᵢ·c,
    /// ∂/∂X = R·c Wᵀ, ∂/∂y = −R·c.
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        Tape t = r.Tape;
        var (ix, iw, ib, iy) = Inputs(t, n);
        bool nx = r.Needs(i, ix), nw = r.Needs(i, iw), nb = r.Needs(i, ib), ny = iy >= 0 && n.Op == OpKind.LinearRegressionLoss && r.Needs(i, iy);
        if (!(nx || nw || nb || ny)) return;
        int rows = r.Record(ix).Rows, d = r.Record(ix).Cols;
        Node x = r.At(ix), w = r.At(iw), b = r.At(ib);
        Node c = r.Over(g, rows);
        Node scaled;
        if (n.Op == OpKind.SoftmaxRegressionLoss)
        {
            var labels = (int[])t.Objects[(int)n.Aux];
            int k = r.Record(iw).Cols;
            var onehot = new double[rows * k];
            for (int row = 0; row < rows; row++) onehot[row * k + labels[row]] = 1;
            Node z = RecordedGradients.Plus(LinearAlgebra.MatMul(x, w), b);
            Node residual = RecordedGradients.Minus(SoftmaxOps.Apply(OpKind.Softmax, z), r.Constant(Shape.Matrix(rows, k), onehot));
            scaled = RecordedGradients.Times(residual, c);
            if (nw) r.Add(iw, LinearAlgebra.MatMul(LinearAlgebra.Transpose(x), scaled));
            if (nb) r.Add(ib, Reductions.SumAxis(scaled, 0, mean: false));
            if (nx) r.Add(ix, LinearAlgebra.MatMul(scaled, LinearAlgebra.Transpose(w)));
            return;
        }
        Node h = RecordedGradients.Plus(LinearAlgebra.MatVec(x, w), b);
        Node y = r.At(iy);
        Node res = n.Op == OpKind.LinearRegressionLoss
            ? RecordedGradients.Minus(h, y)
            : RecordedGradients.Minus(Elementwise.Unary(OpKind.Sigmoid, h), y);
        scaled = RecordedGradients.Times(res, c);
        Node column = Views.Reshape(scaled, Shape.Matrix(rows, 1));
        // ∂/∂w = Σᵢ cᵣᵢ xᵢ, written as the row (c·r)ᵀ X
        if (nw) r.Add(iw, LinearAlgebra.MatMul(Views.Reshape(scaled, Shape.Matrix(1, rows)), x));
        if (nb) r.Add(ib, Reductions.Sum(scaled, mean: false));
        if (nx) r.Add(ix, LinearAlgebra.MatMul(column, Views.Reshape(w, Shape.Matrix(1, d))));
        if (ny) r.Add(iy, RecordedGradients.Negate(scaled));
    }

    /// <summary>Forward rule: L̇ = (1/n) Σᵢ Σₖ rᵢₖ·żᵢₖ, żᵢ = ẋᵢ W + xᵢ Ẇ + ḃ, minus (1/n) Σᵢ rᵢ ẏᵢ for the linear loss's target.</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        var (ix, iw, ib, iy) = Inputs(t, n);
        int rows = t.Nodes[ix].Rows, d = t.Nodes[ix].Cols, k = n.Op == OpKind.SoftmaxRegressionLoss ? t.Nodes[iw].Cols : 1;
        bool tx = t.Nodes[ix].RequiresGrad, tw = t.Nodes[iw].RequiresGrad, tb = t.Nodes[ib].RequiresGrad;
        bool ty = iy >= 0 && n.Op == OpKind.LinearRegressionLoss && t.Nodes[iy].RequiresGrad;
        ReadOnlySpan<double> x = t.ValueSpan(ix), w = t.ValueSpan(iw), b = t.ValueSpan(ib);
        ReadOnlySpan<double> dx = tx ? t.TangentSpan(ix) : default, dw = tw ? t.TangentSpan(iw) : default, db = tb ? t.TangentSpan(ib) : default;
        ReadOnlySpan<double> y = iy >= 0 ? t.ValueSpan(iy) : default, dy = ty ? t.TangentSpan(iy) : default;
        int[]? labels = n.Op == OpKind.SoftmaxRegressionLoss ? (int[])t.Objects[(int)n.Aux] : null;
        Span<double> z = k <= 64 ? stackalloc double[k] : new double[k];
        double sum = 0;
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<double> xr = x.Slice(row * d, d);
            for (int c = 0; c < k; c++)
            {
                double s = b[c];
                for (int j = 0; j < d; j++) s += xr[j] * w[j * k + c];
                z[c] = s;
            }
            if (labels is not null) SoftmaxRow(z, labels[row]);
            else LinearRow(n.Op, ref z[0], y[row]);
            for (int c = 0; c < k; c++)
            {
                double dz = tb ? db[c] : 0;
                for (int j = 0; j < d; j++)
                {
                    if (tx) dz += dx[row * d + j] * w[j * k + c];
                    if (tw) dz += xr[j] * dw[j * k + c];
                }
                sum += z[c] * dz;
            }
            if (ty) sum -= z[0] * dy[row];
        }
        t.TangentSpan(i)[0] = sum / rows;
    }
}
