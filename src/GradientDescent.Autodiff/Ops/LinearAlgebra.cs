using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>
/// Products and transposition. All matrices are row-major; transposes in the rules are expressed as loop orders,
/// never as copies.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>s = a·b (vectors)</term><description>∂L/∂a = g·b, ∂L/∂b = g·a</description></item>
/// <item><term>y = M v</term><description>∂L/∂M = g vᵀ (row i gets gᵢ·v), ∂L/∂v = Mᵀ g</description></item>
/// <item><term>C = A B</term><description>∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G</description></item>
/// <item><term>Y = Aᵀ</term><description>∂L/∂A = Gᵀ ("transpose is its own dual")</description></item>
/// </list>
/// <para>Forward rules (tangents ȧ, ḃ, …; each product is linear in each factor, so the tangent is the product rule,
/// an operand without a tangent dropping its term): ṡ = ȧ·b + a·ḃ, ẏ = Ṁv + Mv̇, Ċ = ȦB + AḂ, Ẏ = Ȧᵀ.</para>
/// </remarks>
internal static class LinearAlgebra
{
    internal static Node Dot(Node a, Node b)
    {
        Tape t = a.Tape;
        int ia = a.Resolve(t, "Dot"), ib = b.Resolve(t, "Dot");
        Shape sa = t.Nodes[ia].Shape, sb = t.Nodes[ib].Shape;
        if (sa != sb)
        {
            throw new ArgumentException($"Dot: the vectors have lengths {sa} and {sb}; a dot product needs equal lengths.");
        }
        int i = t.Append(OpKind.Dot, ia, ib, Shape.Scalar, t.GradFlag(ia, ib));
        t.Values[t.Nodes[i].Offset] = Split.Sum(t.ValueSpan(ia), t.ValueSpan(ib));
        return new Node(t, t.Checked(i));
    }

    internal static Node MatVec(Node m, Node v)
    {
        Tape t = m.Tape;
        int im = m.Resolve(t, "MatVec"), iv = v.Resolve(t, "MatVec");
        Shape sm = t.Nodes[im].Shape, sv = t.Nodes[iv].Shape;
        if (sm.Cols != sv.Rows)
        {
            throw new ArgumentException(
                $"MatVec: a matrix {sm} times a vector {sv} needs the vector's length to equal the matrix's {sm.Cols} columns; transpose the matrix or check the data.");
        }
        int i = t.Append(OpKind.MatVec, im, iv, Shape.Vector(sm.Rows), t.GradFlag(im, iv));
        Span<double> y = t.ValueSpan(i);
        ReadOnlySpan<double> mv = t.ValueSpan(im), vv = t.ValueSpan(iv);
        MatVecSplit(mv, vv, y, sm.Rows, sm.Cols);
        return new Node(t, t.Checked(i));
    }

    /// <summary>
    /// y = M v, yᵢ = Σⱼ Mᵢⱼ vⱼ: one streaming pass over M, a row at a time (a full-batch model's forward pass is exactly
    /// this). Interleaving four rows measured twice as slow here; one row at a time runs at the machine's streaming
    /// read bandwidth. Four FMA accumulators (the fused losses' <see cref="ModelLosses.RowDot"/>), where two left each
    /// row a chain of d/8 dependent multiply-adds: M in the cache, two threads, 10,000 × 100 99–107 → 75–83 µs.
    /// </summary>
    // Never inlined, as ModelLosses.Blocks: inlined into a small caller, its helpers (RowDot, AddRows4) may not be.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static unsafe void MatVecKernel(ReadOnlySpan<double> m, ReadOnlySpan<double> v, Span<double> y, int rows, int cols, bool accumulate)
    {
        if (!Vector256.IsHardwareAccelerated || cols < 8)
        {
            for (int r = 0; r < rows; r++)
            {
                double s = TensorPrimitives.Dot(m.Slice(r * cols, cols), v);
                y[r] = accumulate ? y[r] + s : s;
            }
            return;
        }
        fixed (double* pm = m, pv = v)
        {
            double* end = pm + (long)rows * cols;
            for (int r = 0; r < rows; r++)
            {
                double* row = pm + (long)r * cols;
                PageAhead.Read(row, cols * sizeof(double), end);
                int k = ModelLosses.RowDot(row, pv, cols, out Vector256<double> partial);
                double s = Vector256.Sum(partial);
                for (; k < cols; k++) s += row[k] * pv[k];
                y[r] = accumulate ? y[r] + s : s;
            }
        }
    }

    /// <summary>Rows of M per range below which a matrix–vector product stays on one thread (in multiply-adds).</summary>
    private const long MatVecGrain = 1 << 16;

    /// <summary>
    /// Elements of M above which Mᵀg reads each block of four rows in address order before it updates the sums
    /// (<see cref="TransposedMatVecKernel"/>): 2²⁰ doubles, 8 MB. Below it M is likely in the cache, where the extra
    /// pass only costs (M in L2: 3.1 → 5.3 µs at 256 × 100); above it, read side by side from memory, four rows streamed at
    /// a third to a half of the bandwidth (32 MB: 0.6–0.7 ms with the pass, 1.1–2.1 ms without; AMD EPYC, 2 threads).
    /// Only the loads' order depends on it, never the arithmetic.
    /// </summary>
    private const long InOrderAbove = 1 << 20;

    /// <summary>
    /// y = M v, or y += M v (<paramref name="accumulate"/>), split by ranges of rows over the pool: each range is
    /// <see cref="MatVecKernel"/> on its rows, so every yᵢ is the same number whatever the thread count.
    /// </summary>
    /// <remarks>
    /// One range a thread, here and in <see cref="TransposedMatVecSplit"/>. Sixteen a thread for an M that streams, as
    /// the fused losses take (<see cref="ModelLosses.Ranges"/>), measured on the AMD EPYC Zen 5 machine with the
    /// composed logistic loss on two threads, alternated step by step: 5 % slower at 10⁵ × 100, no faster at 10⁶ × 100.
    /// </remarks>
    internal static unsafe void MatVecSplit(ReadOnlySpan<double> m, ReadOnlySpan<double> v, Span<double> y, int rows, int cols, bool accumulate = false)
    {
        if (Math.Min(WorkerPool.PartsFor((long)rows * cols, MatVecGrain), rows) <= 1)
        {
            MatVecKernel(m, v, y, rows, cols, accumulate);
            return;
        }
        fixed (double* pm = m, pv = v, py = y)
        {
            Split.Rows(rows, cols, new MatVecRows { M = pm, V = pv, Y = py, Cols = cols, Accumulate = accumulate }, MatVecGrain);
        }
    }

    /// <summary><see cref="MatVecKernel"/> on rows [first, last).</summary>
    private unsafe struct MatVecRows : Split.IRowKernel
    {
        public double* M, V, Y;
        public int Cols;
        public bool Accumulate;

        public readonly void Rows(int first, int last)
        {
            int n = last - first;
            MatVecKernel(new ReadOnlySpan<double>(M + (long)first * Cols, n * Cols), new ReadOnlySpan<double>(V, Cols), new Span<double>(Y + first, n), n, Cols, Accumulate);
        }
    }

    /// <summary>
    /// gv += Mᵀ g split over the pool: range k of the rows sums Σᵢ gᵢ·Mᵢ into a partial vector of its own, and the
    /// partials are added into gv in range order — deterministic for a given thread count.
    /// </summary>
    internal static unsafe void TransposedMatVecSplit(ReadOnlySpan<double> m, ReadOnlySpan<double> g, Span<double> gv, int rows, int cols)
    {
        int parts = Math.Min(WorkerPool.PartsFor((long)rows * cols, MatVecGrain), rows);
        bool inOrder = (long)rows * cols > InOrderAbove;
        if (parts <= 1)
        {
            TransposedMatVecKernel(m, g, gv, rows, cols, inOrder);
            return;
        }
        // Each range's partial starts on a 64-byte line and ends a line before the next one starts: the kernel stores
        // every element of its partial once per four rows, and partials sharing a line made the two threads take it
        // from each other on every block (10⁴ × 100 on two threads took 240–260 µs against 113 on one; AMD EPYC Zen 5).
        int line = ModelLosses.LineDoubles, stride = (cols + line - 1) / line * line + line;
        double[] partials = System.Buffers.ArrayPool<double>.Shared.Rent(parts * stride + line);
        try
        {
            fixed (double* pm = m, pg = g, pp = partials)
            {
                double* first = ModelLosses.LineUp(pp);
                var body = new TransposedMatVecBody { M = pm, G = pg, Partials = first, Stride = stride, Rows = rows, Cols = cols, InOrder = inOrder };
                WorkerPool.Run(parts, ref body);
                for (int p = 0; p < parts; p++) TensorPrimitives.Add(gv, new ReadOnlySpan<double>(first + (long)p * stride, cols), gv);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(partials);
        }
    }

    private unsafe struct TransposedMatVecBody : IRangeBody
    {
        public double* M, G, Partials;
        public int Stride, Rows, Cols;
        public bool InOrder;

        public readonly void Run(int part, int parts)
        {
            int first = (int)((long)Rows * part / parts), last = (int)((long)Rows * (part + 1) / parts), n = last - first;
            var partial = new Span<double>(Partials + (long)part * Stride, Cols);
            partial.Clear();
            TransposedMatVecKernel(new ReadOnlySpan<double>(M + (long)first * Cols, n * Cols), new ReadOnlySpan<double>(G + first, n), partial, n, Cols, InOrder);
        }
    }

    /// <summary>
    /// gv += Mᵀ g = Σᵢ gᵢ·Mᵢ: the second streaming pass over M, four rows at a time,
    /// gv ← (((gv + g₀M₀) + g₁M₁) + g₂M₂) + g₃M₃ in four multiply-adds, with gv loaded and stored once per four rows
    /// (<see cref="ModelLosses.AddRows4"/>, the fused losses' update); the rows left over one at a time. A row at a
    /// time, gv's loads and stores (one of each per four elements of every row) held the kernel well below the reads
    /// with M in the cache: 47–48 → 17–18 µs at 2,000 × 100 and 0.60 → 0.44 µs at 32 × 100 (a small batch), on two
    /// threads (AMD EPYC); from memory it reads M as fast as MatVec does (23–25 ms at 10⁶ × 100, as before). When M is
    /// too big for the cache (<paramref name="inOrder"/>, see <see cref="InOrderAbove"/>) each block is first read in
    /// address order (<see cref="PageAhead.ReadInOrder"/>), so that it comes from memory as one stream. The blocks start
    /// at the range's first row, so a given range gives the same bits every time.
    /// </summary>
    // Never inlined, as ModelLosses.Blocks: inlined into a small caller, its helpers (RowDot, AddRows4) may not be.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static unsafe void TransposedMatVecKernel(ReadOnlySpan<double> m, ReadOnlySpan<double> g, Span<double> gv, int rows, int cols, bool inOrder)
    {
        if (!Vector256.IsHardwareAccelerated || cols < 4)
        {
            for (int r = 0; r < rows; r++) TensorPrimitives.MultiplyAdd(m.Slice(r * cols, cols), g[r], gv, gv);
            return;
        }
        bool wide = ModelLosses.VectorLanes == 8;
        fixed (double* pm = m, pg = g, pgv = gv)
        {
            double* end = pm + (long)rows * cols;
            long blockBytes = 4L * cols * sizeof(double);
            int r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                double* block = pm + (long)r * cols;
                PageAhead.Read(block, blockBytes, end);
                if (inOrder) PageAhead.ReadInOrder(block, 4 * cols);
                if (wide) ModelLosses.AddRows4Wide(block, cols, 0, Vector256.Load(pg + r), pgv);
                else ModelLosses.AddRows4(block, cols, 0, Vector256.Load(pg + r), pgv);
            }
            for (; r < rows; r++)
            {
                double* row = pm + (long)r * cols;
                double gs = pg[r];
                var g0 = Vector256.Create(gs);
                int k = 0;
                for (; k + 4 <= cols; k += 4)
                {
                    Vector256.FusedMultiplyAdd(Vector256.Load(row + k), g0, Vector256.Load(pgv + k)).Store(pgv + k);
                }
                for (; k < cols; k++) pgv[k] += row[k] * gs;
            }
        }
    }

    /// <summary>
    /// c (1×n) += a (1×k)·op(B): for B (k×n) Σₚ aₚ·Bₚ, the second streaming kernel (<see cref="TransposedMatVecKernel"/>);
    /// for op(B) = Bᵀ, B (n×k), cⱼ += Bⱼ·a, B a added into c by the first (<see cref="MatVecSplit"/>), split over the
    /// pool as it is (a dot product per row of B on one thread took the create-graph gradient of a 10⁴ × 100
    /// logistic regression's Mᵀg, whose own rule this is, 10⁴ calls).
    /// </summary>
    internal static void RowTimesMatrix(ReadOnlySpan<double> a, ReadOnlySpan<double> b, bool transB, Span<double> c, int n, int k)
    {
        if (!transB)
        {
            TransposedMatVecSplit(b, a, c, k, n);
            return;
        }
        MatVecSplit(b, a, c, n, k, accumulate: true);
    }

    internal static Node MatMul(Node a, Node b)
    {
        Tape t = a.Tape;
        int ia = a.Resolve(t, "MatMul"), ib = b.Resolve(t, "MatMul");
        Shape sa = t.Nodes[ia].Shape, sb = t.Nodes[ib].Shape;
        if (sa.Cols != sb.Rows)
        {
            throw new ArgumentException(
                $"MatMul: {sa} times {sb} needs the left's {sa.Cols} columns to equal the right's {sb.Rows} rows; transpose an operand or check the layer sizes.");
        }
        int i = t.Append(OpKind.MatMul, ia, ib, Shape.Matrix(sa.Rows, sb.Cols), t.GradFlag(ia, ib));
        Span<double> cv = t.ValueSpan(i);
        Gemm.MultiplyAdd(t.ValueSpan(ia), false, t.ValueSpan(ib), false, cv, sa.Rows, sb.Cols, sa.Cols, accumulate: false);
        return new Node(t, t.Checked(i));
    }

    internal static Node Transpose(Node a)
    {
        Tape t = a.Tape;
        int ia = a.Resolve(t, "Transpose");
        Shape sa = t.Nodes[ia].Shape;
        if (sa.Kind != ShapeKind.Matrix)
        {
            throw new ArgumentException($"Transpose: expects a matrix, got {sa}; reshape a vector to [1×n] or [n×1] first.");
        }
        int i = t.Append(OpKind.Transpose, ia, -1, Shape.Matrix(sa.Cols, sa.Rows), t.GradFlag(ia));
        TransposeInto(t.ValueSpan(ia), t.ValueSpan(i), sa.Rows, sa.Cols, accumulate: false);
        return new Node(t, t.Checked(i));
    }

    /// <summary>Side of the square tiles <see cref="TransposeInto"/> works in: 32 × 32 doubles of source and destination (16 KB) stay in L1.</summary>
    private const int TransposeTile = 32;

    /// <summary>
    /// dst (c×r) = src (r×c)ᵀ, or dst += srcᵀ, tile by tile: a plain double loop writes dst with a stride of r elements
    /// and misses the cache on every write once r is large (a 10⁴ × 100 matrix took 20 ms); in 32 × 32 tiles every
    /// cache line fetched is used whole. The same element-by-element copy (or addition), in another order.
    /// </summary>
    private static void TransposeInto(ReadOnlySpan<double> src, Span<double> dst, int rows, int cols, bool accumulate)
    {
        for (int r0 = 0; r0 < rows; r0 += TransposeTile)
        {
            int r1 = Math.Min(rows, r0 + TransposeTile);
            for (int c0 = 0; c0 < cols; c0 += TransposeTile)
            {
                int c1 = Math.Min(cols, c0 + TransposeTile);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        if (accumulate) dst[c * rows + r] += src[r * cols + c];
                        else dst[c * rows + r] = src[r * cols + c];
                    }
                }
            }
        }
    }

    /// <summary>
    /// The recorded (create-graph) rule, the table above with the existing ops: ∂L/∂a = g·b and ∂L/∂b = g·a for the
    /// dot product; ∂L/∂M = g ⊗ v (g as a column times v as a row, a matrix product) and ∂L/∂v = Mᵀg for M v;
    /// G Bᵀ and Aᵀ G for A B; Gᵀ for Aᵀ.
    /// </summary>
    internal static void Record(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ia = n.A, ib = n.B;
        switch (n.Op)
        {
            case OpKind.Dot:
                if (r.Needs(i, ia)) r.Add(ia, RecordedGradients.Times(r.At(ib), g));
                if (r.Needs(i, ib)) r.Add(ib, RecordedGradients.Times(r.At(ia), g));
                return;
            case OpKind.MatVec:
            {
                Shape sm = r.Record(ia).Shape;
                if (r.Needs(i, ia))
                {
                    // g ⊗ v = [r×1]·[1×c]
                    r.Add(ia, MatMul(Views.Reshape(g, Shape.Matrix(sm.Rows, 1)), Views.Reshape(r.At(ib), Shape.Matrix(1, sm.Cols))));
                }
                if (r.Needs(i, ib))
                {
                    // Mᵀg as gᵀM = [1×r]·[r×c]: the product reads M in place, where Transpose(M) would copy it
                    // through strided writes (20 ms for a 10⁴ × 100 M, twenty times the whole gradient).
                    r.Add(ib, Views.Reshape(MatMul(Views.Reshape(g, Shape.Matrix(1, sm.Rows)), r.At(ia)), Shape.Vector(sm.Cols)));
                }
                return;
            }
            case OpKind.MatMul:
                if (r.Needs(i, ia)) r.Add(ia, MatMul(g, Transpose(r.At(ib))));
                if (r.Needs(i, ib)) r.Add(ib, MatMul(Transpose(r.At(ia)), g));
                return;
            case OpKind.Transpose:
                if (r.Needs(i, ia)) r.Add(ia, Transpose(g));
                return;
            default:
                throw new InvalidOperationException($"Grad: no recorded derivative rule for {n.Op} in LinearAlgebra.");
        }
    }

    internal static void Backward(Tape t, int i, ref NodeRecord n)
    {
        int ia = n.A, ib = n.B;
        switch (n.Op)
        {
            case OpKind.Dot:
            {
                double g = t.Grads[n.Offset];
                if (t.Nodes[ia].RequiresGrad) { Span<double> ta = t.GradTarget(ia, out bool assign); Split.Elementwise(t.ValueSpan(ib), default, default, ta, new ScaleKernel(g, assign)); }
                if (t.Nodes[ib].RequiresGrad) { Span<double> tb = t.GradTarget(ib, out bool assign); Split.Elementwise(t.ValueSpan(ia), default, default, tb, new ScaleKernel(g, assign)); }
                return;
            }
            case OpKind.MatVec:
            {
                ReadOnlySpan<double> g = t.GradSpan(i), m = t.ValueSpan(ia), v = t.ValueSpan(ib);
                int c = t.Nodes[ia].Cols;
                if (t.Nodes[ia].RequiresGrad)
                {
                    // ∂L/∂Mᵢ = gᵢ·v
                    Span<double> gm = t.AddTarget(ia);
                    for (int r = 0; r < g.Length; r++) TensorPrimitives.MultiplyAdd(v, g[r], gm.Slice(r * c, c), gm.Slice(r * c, c));
                }
                if (t.Nodes[ib].RequiresGrad)
                {
                    // ∂L/∂v = Σᵢ gᵢ·Mᵢ = Mᵀg: a second pass over M.
                    TransposedMatVecSplit(m, g, t.AddTarget(ib), g.Length, c);
                }
                return;
            }
            case OpKind.MatMul:
            {
                ReadOnlySpan<double> g = t.GradSpan(i), a = t.ValueSpan(ia), b = t.ValueSpan(ib);
                int m = t.Nodes[ia].Rows, k = t.Nodes[ia].Cols, nc = t.Nodes[ib].Cols;
                if (t.Nodes[ia].RequiresGrad)
                {
                    // ∂L/∂A = G Bᵀ (m×k): Bᵀ read through the packing order, not copied.
                    Span<double> target = t.GradTarget(ia, out bool assign);
                    Gemm.MultiplyAdd(g, false, b, true, target, m, k, nc, accumulate: !assign);
                }
                if (t.Nodes[ib].RequiresGrad)
                {
                    // ∂L/∂B = Aᵀ G (k×n).
                    Span<double> target = t.GradTarget(ib, out bool assign);
                    Gemm.MultiplyAdd(a, true, g, false, target, k, nc, m, accumulate: !assign);
                }
                return;
            }
            case OpKind.Transpose:
            {
                if (!t.Nodes[ia].RequiresGrad) return;
                // Y = Aᵀ is r'×c' = c×r; ∂L/∂A = Gᵀ.
                TransposeInto(t.GradSpan(i), t.AddTarget(ia), n.Rows, n.Cols, accumulate: true);
                return;
            }
            default:
                throw new InvalidOperationException($"Backward: no derivative rule for {n.Op} in LinearAlgebra.");
        }
    }

    /// <summary>Forward rules: the product rule on each product, the transpose of the tangent for a transpose (see the class remarks).</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        int ia = n.A, ib = n.B;
        bool ga = t.Nodes[ia].RequiresGrad, gb = ib >= 0 && t.Nodes[ib].RequiresGrad;
        Span<double> d = t.TangentSpan(i);
        switch (n.Op)
        {
            case OpKind.Dot:
            {
                // ṡ = ȧ·b + a·ḃ
                double s = 0;
                if (ga) s = TensorPrimitives.Dot(t.TangentSpan(ia), t.ValueSpan(ib));
                if (gb) s += TensorPrimitives.Dot(t.ValueSpan(ia), t.TangentSpan(ib));
                d[0] = s;
                return;
            }
            case OpKind.MatVec:
            {
                // ẏ = Ṁv + Mv̇: the value's kernel on (Ṁ, v), then on (M, v̇) into scratch, added.
                int rows = t.Nodes[ia].Rows, cols = t.Nodes[ia].Cols;
                if (ga) MatVecSplit(t.TangentSpan(ia), t.ValueSpan(ib), d, rows, cols);
                else d.Clear();
                if (gb)
                {
                    Span<double> mv = t.Scratch(rows);
                    MatVecSplit(t.ValueSpan(ia), t.TangentSpan(ib), mv, rows, cols);
                    TensorPrimitives.Add(d, mv, d);
                }
                return;
            }
            case OpKind.MatMul:
            {
                // Ċ = ȦB + AḂ
                int m = t.Nodes[ia].Rows, k = t.Nodes[ia].Cols, nc = t.Nodes[ib].Cols;
                d.Clear();
                if (ga) Gemm.MultiplyAdd(t.TangentSpan(ia), false, t.ValueSpan(ib), false, d, m, nc, k);
                if (gb) Gemm.MultiplyAdd(t.ValueSpan(ia), false, t.TangentSpan(ib), false, d, m, nc, k);
                return;
            }
            case OpKind.Transpose:
                // Ẏ = Ȧᵀ; A is n.Cols × n.Rows.
                TransposeInto(t.TangentSpan(ia), d, n.Cols, n.Rows, accumulate: false);
                return;
            default:
                throw new InvalidOperationException($"Jvp: no forward-mode rule for {n.Op} in LinearAlgebra.");
        }
    }
}
