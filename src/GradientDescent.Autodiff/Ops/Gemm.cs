using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>
/// The matrix-product kernel behind <see cref="OpKind.MatMul"/> and its rules: C = op(A)·op(B) or C += op(A)·op(B)
/// for row-major storage, where op transposes through the packing order instead of a copy of the matrix.
/// </summary>
/// <remarks>
/// <para>Classic blocking (GotoBLAS / BLIS): for each block of <see cref="Nc"/> columns and <see cref="Kc"/> steps of
/// k, that block of op(B) is packed into panels of Nr columns; for each Mr rows, that block of op(A) is packed into
/// one panel; the micro-kernel keeps an Mr × Nr tile of C in registers and does one fused multiply-add per register
/// per step of k, reading both panels contiguously. Two micro-kernels: 6 × 8 in twelve 256-bit registers, and
/// 8 × 16 in sixteen 512-bit registers where <see cref="Vector512.IsHardwareAccelerated"/>.</para>
/// <para>Threads. The grid of tiles is cut into fixed ranges of row panels (or of column panels, when C has more of
/// those), one per part; each part packs what it reads and writes only its own tiles. Every element of C is the
/// same chain of operations whichever thread computes it and whichever micro-kernel runs — for each k block in
/// order, acc = 0, acc = fma(aᵢₚ, bₚⱼ, acc) for p in order, then cᵢⱼ = acc (first block of an assigning product)
/// or cᵢⱼ += acc — so results are bit-identical for any thread count and either micro-kernel.</para>
/// </remarks>
internal static class Gemm
{
    /// <summary>Steps of k per packed block: a 6 × 256 (or 8 × 256) panel of A stays in L1 while the kernel sweeps B's panels.</summary>
    internal const int Kc = 256;

    /// <summary>Columns of op(B) per packed block: 256 × 128 doubles (256 KB) stay in L2.</summary>
    internal const int Nc = 128;

    /// <summary>
    /// Multiply-adds per part below which a product is not split: 2¹⁷ take about 6 µs on one core (the 6 × 8 kernel
    /// runs at about 2 · 10¹⁰ multiply-adds per second here), several times the cost of handing a range to a spinning
    /// worker (about 1 µs). The MLP's 32 × 128 × 64 and larger products split in two; its 32 × 10 × 128 does not.
    /// </summary>
    internal const long ParallelGrain = 1 << 17;

    /// <summary>The micro-kernels; <see cref="Default"/> picks by hardware, tests force either.</summary>
    internal enum MicroKernel
    {
        /// <summary>6 × 8 tiles in 256-bit registers (AVX2 and similar).</summary>
        Vector256,

        /// <summary>8 × 16 tiles in 512-bit registers (AVX-512); runs in software where not accelerated.</summary>
        Vector512,
    }

    /// <summary>The micro-kernel for this machine: the 512-bit one where the runtime accelerates Vector512.</summary>
    internal static MicroKernel Default { get; } = Vector512.IsHardwareAccelerated ? MicroKernel.Vector512 : MicroKernel.Vector256;

    /// <summary>
    /// C (m×n) += op(A) (m×k) · op(B) (k×n), or C = op(A)·op(B) when <paramref name="accumulate"/> is false (C's old
    /// contents are then never read, so C may hold anything); op(A)ᵢₚ = transA ? a[p·m + i] : a[i·k + p],
    /// op(B)ₚⱼ = transB ? b[j·k + p] : b[p·n + j]. Uses <see cref="Parallelism.ThreadCount"/> threads for large products.
    /// </summary>
    internal static void MultiplyAdd(ReadOnlySpan<double> a, bool transA, ReadOnlySpan<double> b, bool transB, Span<double> c, int m, int n, int k, bool accumulate = true) =>
        Multiply(a, transA, b, transB, c, m, n, k, accumulate, Default, WorkerPool.Threads);

    /// <summary><see cref="MultiplyAdd"/> with the micro-kernel and the thread count chosen by the caller (tests force both).</summary>
    internal static void Multiply(ReadOnlySpan<double> a, bool transA, ReadOnlySpan<double> b, bool transB, Span<double> c, int m, int n, int k,
        bool accumulate, MicroKernel kernel, int threads)
    {
        if (m == 0 || n == 0) return;
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException(
                $"Gemm: a [{m}×{k}] times [{k}×{n}] product needs {m * k}, {k * n} and {m * n} elements, got {a.Length}, {b.Length} and {c.Length}; this is a bug in the calling rule.");
        }
        if (!accumulate && (k == 0 || (m == 1 && !transA) || !Vector256.IsHardwareAccelerated || (long)m * n * k < 64))
        {
            // The paths below only add into C.
            c.Slice(0, m * n).Clear();
        }
        if (k == 0) return;
        if (m == 1 && !transA)
        {
            // A row vector times a matrix (gᵀM, how the recorded rule of M v writes Mᵀg, and its own rule): the
            // streaming matrix-vector kernels, which read B once in storage order; the blocked path would pack B and
            // pad the single row to a whole panel.
            LinearAlgebra.RowTimesMatrix(a, b, transB, c, n, k);
            return;
        }
        if (!Vector256.IsHardwareAccelerated || (long)m * n * k < 64)
        {
            Naive(a, transA, b, transB, c, m, n, k);
            return;
        }
        if (kernel == MicroKernel.Vector512) Blocked<Kernel8x16>(a, transA, b, transB, c, m, n, k, accumulate, threads);
        else Blocked<Kernel6x8>(a, transA, b, transB, c, m, n, k, accumulate, threads);
    }

    /// <summary>How many parts a product of <paramref name="work"/> multiply-adds is cut into, at most one per panel of the split dimension.</summary>
    internal static int PartsFor(long work, int panels, int threads)
    {
        if (threads <= 1 || work < 2 * ParallelGrain) return 1;
        return (int)Math.Min(Math.Min(threads, work / ParallelGrain), panels);
    }

    private static unsafe void Blocked<TKernel>(ReadOnlySpan<double> a, bool transA, ReadOnlySpan<double> b, bool transB, Span<double> c, int m, int n, int k,
        bool accumulate, int threads)
        where TKernel : struct, IMicroKernel
    {
        int mPanels = (m + TKernel.Mr - 1) / TKernel.Mr, nPanels = (n + TKernel.Nr - 1) / TKernel.Nr;
        // Split the longer side of the tile grid: each part then packs all of the shorter operand, the smaller copy.
        bool byRows = mPanels >= nPanels;
        int parts = PartsFor((long)m * n * k, byRows ? mPanels : nPanels, threads);
        fixed (double* pa = a, pb = b, pc = c)
        {
            var body = new Body<TKernel>
            {
                A = pa, B = pb, C = pc, M = m, N = n, K = k,
                TransA = transA, TransB = transB, Accumulate = accumulate, ByRows = byRows,
                Panels = byRows ? mPanels : nPanels,
            };
            if (parts == 1) body.Run(0, 1);
            else WorkerPool.Run(parts, ref body);
        }
    }

    /// <summary>One part of a product: the tiles of a range of row panels (or column panels) of C.</summary>
    private unsafe struct Body<TKernel> : IRangeBody where TKernel : struct, IMicroKernel
    {
        public double* A, B, C;
        public int M, N, K, Panels;
        public bool TransA, TransB, Accumulate, ByRows;

        public readonly void Run(int part, int parts)
        {
            int first = (int)((long)Panels * part / parts), last = (int)((long)Panels * (part + 1) / parts);
            if (ByRows) Tiles(first * TKernel.Mr, Math.Min(M, last * TKernel.Mr), 0, N);
            else Tiles(0, M, first * TKernel.Nr, Math.Min(N, last * TKernel.Nr));
        }

        /// <summary>C[i0…i1) × [j0…j1), block by block.</summary>
        private readonly void Tiles(int i0, int i1, int j0, int j1)
        {
            int mr = TKernel.Mr, nr = TKernel.Nr;
            double[] scratch = Scratch();
            Span<double> bPack = scratch.AsSpan(0, Kc * Nc);
            Span<double> aPack = scratch.AsSpan(Kc * Nc, Kc * mr);
            Span<double> tile = scratch.AsSpan(Kc * Nc + Kc * mr, mr * nr);
            var a = new ReadOnlySpan<double>(A, M * K);
            var b = new ReadOnlySpan<double>(B, K * N);
            ref double c = ref *C;
            for (int jc = j0; jc < j1; jc += Nc)
            {
                int nc = Math.Min(Nc, j1 - jc);
                for (int pc = 0; pc < K; pc += Kc)
                {
                    int kc = Math.Min(Kc, K - pc);
                    // The first k block of an assigning product writes C; every later block adds to it.
                    bool add = Accumulate || pc > 0;
                    PackB<TKernel>(b, TransB, bPack, N, K, jc, nc, pc, kc);
                    for (int ic = i0; ic < i1; ic += mr)
                    {
                        int rows = Math.Min(mr, i1 - ic);
                        // Whole panels of A are read in place where packing would not pay: rows of a non-transposed A
                        // (mr streams, each contiguous in p, stay in L1 as well as a packed panel would; repacking them
                        // per column block cost as much as the products themselves when n is small), and Aᵀ when the
                        // block has at most two column panels to reuse the pack (mr contiguous doubles per step, one
                        // row of A apart). Other panels of Aᵀ and edge panels (zero-padded) are packed.
                        bool inPlace = rows == mr && (!TransA || nc <= 2 * nr);
                        if (!inPlace) PackA<TKernel>(a, TransA, aPack, M, K, ic, rows, pc, kc);
                        ref double aPanel = ref !inPlace ? ref aPack[0]
                            : ref TransA ? ref Unsafe.AsRef(in a[pc * M + ic]) : ref Unsafe.AsRef(in a[ic * K + pc]);
                        nint rowStride = !inPlace ? 1 : TransA ? 1 : K, stepStride = !inPlace ? mr : TransA ? M : 1;
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            ref double panel = ref bPack[jr * kc];
                            ref double cTile = ref Unsafe.Add(ref c, (nint)ic * N + jc + jr);
                            if (rows == mr && cols == nr)
                            {
                                TKernel.Run(ref aPanel, rowStride, stepStride, ref panel, kc, ref cTile, N, add);
                                continue;
                            }
                            // An edge tile: computed whole into scratch (the packs are zero-padded), then its valid part.
                            TKernel.Run(ref aPanel, rowStride, stepStride, ref panel, kc, ref tile[0], nr, accumulate: false);
                            for (int r = 0; r < rows; r++)
                            {
                                Span<double> cRow = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref cTile, (nint)r * N), cols);
                                ReadOnlySpan<double> tRow = tile.Slice(r * nr, cols);
                                if (add)
                                {
                                    for (int j = 0; j < cols; j++) cRow[j] += tRow[j];
                                }
                                else
                                {
                                    tRow.CopyTo(cRow);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Per-thread packing space (pool workers are persistent, so this is allocated once per thread).</summary>
    [ThreadStatic]
    private static double[]? t_scratch;

    private static double[] Scratch() => t_scratch ??= new double[Kc * Nc + Kc * 8 + 8 * 16];

    /// <summary>
    /// Columns j0…j0+nc, steps p0…p0+kc of op(B) as panels of Nr columns: panel q holds [p][0…Nr) at q·Nr·kc,
    /// zero-padded past the block. Element by element through references: a span copy per step of a panel (8 or 16
    /// doubles) cost more than the copying itself.
    /// </summary>
    private static void PackB<TKernel>(ReadOnlySpan<double> b, bool transB, Span<double> pack, int n, int k, int j0, int nc, int p0, int kc)
        where TKernel : struct, IMicroKernel
    {
        int nr = TKernel.Nr;
        for (int jr = 0; jr < nc; jr += nr)
        {
            Span<double> panel = pack.Slice(jr * kc, nr * kc);
            ref double to = ref MemoryMarshal.GetReference(panel);
            int cols = Math.Min(nr, nc - jr);
            if (cols < nr) panel.Clear();
            if (!transB)
            {
                // Row p of B, columns j0 + jr …: contiguous.
                ref double from = ref MemoryMarshal.GetReference(b.Slice(p0 * n + j0 + jr, (kc - 1) * n + cols));
                if (cols == nr)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        for (int q = 0; q < nr; q += 4) Vector256.LoadUnsafe(ref from, (nuint)q).StoreUnsafe(ref to, (nuint)q);
                        from = ref Unsafe.Add(ref from, n);
                        to = ref Unsafe.Add(ref to, nr);
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    for (int j = 0; j < cols; j++) Unsafe.Add(ref to, j) = Unsafe.Add(ref from, j);
                    from = ref Unsafe.Add(ref from, n);
                    to = ref Unsafe.Add(ref to, nr);
                }
                continue;
            }
            // Bᵀ: row j of B holds column j of op(B); read it contiguously, write it with stride Nr.
            for (int j = 0; j < cols; j++)
            {
                ref double from = ref MemoryMarshal.GetReference(b.Slice((j0 + jr + j) * k + p0, kc));
                for (int p = 0; p < kc; p++) Unsafe.Add(ref to, p * nr + j) = Unsafe.Add(ref from, p);
            }
        }
    }

    /// <summary>Rows i0…i0+rows, steps p0…p0+kc of op(A) as [p][0…Mr), zero-padded past the rows.</summary>
    private static void PackA<TKernel>(ReadOnlySpan<double> a, bool transA, Span<double> pack, int m, int k, int i0, int rows, int p0, int kc)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.Mr;
        Span<double> panel = pack.Slice(0, kc * mr);
        ref double to = ref MemoryMarshal.GetReference(panel);
        if (rows < mr) panel.Clear();
        if (transA)
        {
            // Aᵀ: row p of A holds step p of op(A)'s rows, contiguous.
            ref double from = ref MemoryMarshal.GetReference(a.Slice(p0 * m + i0, (kc - 1) * m + rows));
            for (int p = 0; p < kc; p++)
            {
                for (int r = 0; r < rows; r++) Unsafe.Add(ref to, r) = Unsafe.Add(ref from, r);
                from = ref Unsafe.Add(ref from, m);
                to = ref Unsafe.Add(ref to, mr);
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            ref double from = ref MemoryMarshal.GetReference(a.Slice((i0 + r) * k + p0, kc));
            for (int p = 0; p < kc; p++) Unsafe.Add(ref to, p * mr + r) = Unsafe.Add(ref from, p);
        }
    }

    /// <summary>cᵢⱼ += Σₚ op(A)ᵢₚ op(B)ₚⱼ, plainly: products too small to pack (fewer than 64 multiply-adds) and machines without SIMD.</summary>
    private static void Naive(ReadOnlySpan<double> a, bool transA, ReadOnlySpan<double> b, bool transB, Span<double> c, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] += s;
            }
        }
    }
}

/// <summary>
/// A GEMM micro-kernel: for an Mr × Nr tile, c[r·stride + j] = Σₚ a[r·rowStride + p·stepStride]·b[p·Nr + j] (or +=
/// when accumulating), each sum a chain of fused multiply-adds in p order from 0. A is a packed panel (strides 1, Mr)
/// or Mr whole rows of a row-major A read in place (strides k, 1).
/// </summary>
internal interface IMicroKernel
{
    static abstract int Mr { get; }

    static abstract int Nr { get; }

    static abstract void Run(ref double a, nint rowStride, nint stepStride, ref double b, int kc, ref double c, nint stride, bool accumulate);
}

/// <summary>6 × 8: twelve 256-bit accumulators, two loads of B and six broadcasts of A per step (15 of 16 registers).</summary>
internal struct Kernel6x8 : IMicroKernel
{
    public static int Mr => 6;

    public static int Nr => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref double a, nint rowStride, nint stepStride, ref double b, int kc, ref double c, nint stride, bool accumulate)
    {
        nint r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride;
        Vector256<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<double> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadUnsafe(ref b);
            var b1 = Vector256.LoadUnsafe(ref b, 4);
            var ai = Vector256.Create(a);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(Unsafe.Add(ref a, r1));
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(Unsafe.Add(ref a, r2));
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(Unsafe.Add(ref a, r3));
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(Unsafe.Add(ref a, r4));
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(Unsafe.Add(ref a, r5));
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            a = ref Unsafe.Add(ref a, stepStride);
            b = ref Unsafe.Add(ref b, 8);
        }
        Store(ref c, c00, c01, accumulate);
        Store(ref Unsafe.Add(ref c, stride), c10, c11, accumulate);
        Store(ref Unsafe.Add(ref c, 2 * stride), c20, c21, accumulate);
        Store(ref Unsafe.Add(ref c, 3 * stride), c30, c31, accumulate);
        Store(ref Unsafe.Add(ref c, 4 * stride), c40, c41, accumulate);
        Store(ref Unsafe.Add(ref c, 5 * stride), c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref double c, Vector256<double> v0, Vector256<double> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.LoadUnsafe(ref c);
            v1 += Vector256.LoadUnsafe(ref c, 4);
        }
        v0.StoreUnsafe(ref c);
        v1.StoreUnsafe(ref c, 4);
    }
}

/// <summary>8 × 16: sixteen 512-bit accumulators, two loads of B and eight broadcasts of A per step (19 of 32 registers).</summary>
internal struct Kernel8x16 : IMicroKernel
{
    public static int Mr => 8;

    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref double a, nint rowStride, nint stepStride, ref double b, int kc, ref double c, nint stride, bool accumulate)
    {
        nint r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride, r6 = 6 * rowStride, r7 = 7 * rowStride;
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<double> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadUnsafe(ref b);
            var b1 = Vector512.LoadUnsafe(ref b, 8);
            var ai = Vector512.Create(a);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(Unsafe.Add(ref a, r1));
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(Unsafe.Add(ref a, r2));
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(Unsafe.Add(ref a, r3));
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(Unsafe.Add(ref a, r4));
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(Unsafe.Add(ref a, r5));
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(Unsafe.Add(ref a, r6));
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(Unsafe.Add(ref a, r7));
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            a = ref Unsafe.Add(ref a, stepStride);
            b = ref Unsafe.Add(ref b, 16);
        }
        Store(ref c, c00, c01, accumulate);
        Store(ref Unsafe.Add(ref c, stride), c10, c11, accumulate);
        Store(ref Unsafe.Add(ref c, 2 * stride), c20, c21, accumulate);
        Store(ref Unsafe.Add(ref c, 3 * stride), c30, c31, accumulate);
        Store(ref Unsafe.Add(ref c, 4 * stride), c40, c41, accumulate);
        Store(ref Unsafe.Add(ref c, 5 * stride), c50, c51, accumulate);
        Store(ref Unsafe.Add(ref c, 6 * stride), c60, c61, accumulate);
        Store(ref Unsafe.Add(ref c, 7 * stride), c70, c71, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref double c, Vector512<double> v0, Vector512<double> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector512.LoadUnsafe(ref c);
            v1 += Vector512.LoadUnsafe(ref c, 8);
        }
        v0.StoreUnsafe(ref c);
        v1.StoreUnsafe(ref c, 8);
    }
}
