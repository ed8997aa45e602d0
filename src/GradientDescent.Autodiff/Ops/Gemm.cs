using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff;

/// <summary>
/// The matrix-product kernel behind <see cref="OpKind.MatMul"/> and its rules: C += op(A)·op(B) for row-major
/// storage, where op transposes through the packing order instead of a copy of the matrix.
/// </summary>
/// <remarks>
/// Classic blocking: a block of kc rows of op(B) is packed into panels of <see cref="Nr"/> columns and a block of
/// op(A) into panels of <see cref="Mr"/> rows, both contiguous in the order the micro-kernel reads them; the
/// micro-kernel keeps an Mr × Nr tile of C in eight 256-bit registers and does one fused multiply-add per register
/// per step of k. Large products split their row panels over the machine's cores.
/// </remarks>
internal static class Gemm
{
    private const int Mr = 4;
    private const int Nr = 8;
    private const int Kc = 256;
    /// <summary>
    /// Below this many multiply-adds per k block a product runs on one thread. Measured here, splitting the products
    /// of an MLP 64-128-128-10 at batch 256 (2·10⁶ each) over two cores gained nothing, allocated 8.5 KB per step and
    /// left thread-pool workers spinning against TorchSharp's threads; from about 2·10⁷ the split pays.
    /// </summary>
    private const long ParallelThreshold = 1 << 24;

    /// <summary>C (m×n) += op(A) (m×k) · op(B) (k×n); op(A)ᵢₚ = transA ? a[p·m + i] : a[i·k + p], op(B)ₚⱼ = transB ? b[j·k + p] : b[p·n + j].</summary>
    internal static void MultiplyAdd(ReadOnlySpan<double> a, bool transA, ReadOnlySpan<double> b, bool transB, Span<double> c, int m, int n, int k)
    {
        if (m == 0 || n == 0 || k == 0) return;
        if (m == 1 && !transA)
        {
            // A row vector times a matrix (gᵀM, how the recorded rule of M v writes Mᵀg, and its own rule): the
            // streaming matrix-vector kernels, which read B once in storage order; the blocked path would pack B and
            // pad the single row to Mr = 4.
            LinearAlgebra.RowTimesMatrix(a, b, transB, c, n, k);
            return;
        }
        if (!Vector256.IsHardwareAccelerated || (long)m * n * k < 64)
        {
            Naive(a, transA, b, transB, c, m, n, k);
            return;
        }
        int nPanels = (n + Nr - 1) / Nr;
        int mPanels = (m + Mr - 1) / Mr;
        double[] bPack = ArrayPool<double>.Shared.Rent(nPanels * Nr * Math.Min(k, Kc));
        try
        {
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kc = Math.Min(Kc, k - p0);
                PackB(b, transB, bPack, n, k, p0, kc);
                long work = (long)m * n * kc;
                if (work >= ParallelThreshold && Environment.ProcessorCount > 1 && mPanels > 1)
                {
                    RowPanelsParallel(a, transA, bPack, c, m, n, k, p0, kc, mPanels);
                }
                else
                {
                    RowPanels(a, transA, bPack, c, m, n, k, p0, kc, 0, mPanels);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(bPack);
        }
    }

    private static unsafe void RowPanelsParallel(ReadOnlySpan<double> a, bool transA, double[] bPack, Span<double> c, int m, int n, int k, int p0, int kc, int mPanels)
    {
        // Spans cannot cross into the lambdas: pin them for the duration of the loop.
        fixed (double* pa = a)
        fixed (double* pc = c)
        {
            nint aAddr = (nint)pa, cAddr = (nint)pc;
            int aLength = a.Length, cLength = c.Length;
            int workers = Math.Min(Environment.ProcessorCount, mPanels);
            Parallel.For(0, workers, w =>
            {
                var aa = new ReadOnlySpan<double>((double*)aAddr, aLength);
                var cc = new Span<double>((double*)cAddr, cLength);
                int first = (int)((long)mPanels * w / workers), last = (int)((long)mPanels * (w + 1) / workers);
                RowPanels(aa, transA, bPack, cc, m, n, k, p0, kc, first, last);
            });
        }
    }

    private static void RowPanels(ReadOnlySpan<double> a, bool transA, double[] bPack, Span<double> c, int m, int n, int k, int p0, int kc, int firstPanel, int lastPanel)
    {
        Span<double> aPack = stackalloc double[Mr * Kc];
        Span<double> tile = stackalloc double[Mr * Nr];
        int nPanels = (n + Nr - 1) / Nr;
        for (int ip = firstPanel; ip < lastPanel; ip++)
        {
            int i0 = ip * Mr, rows = Math.Min(Mr, m - i0);
            PackA(a, transA, aPack, m, k, i0, rows, p0, kc);
            for (int jp = 0; jp < nPanels; jp++)
            {
                int j0 = jp * Nr, cols = Math.Min(Nr, n - j0);
                if (rows == Mr && cols == Nr)
                {
                    // A whole tile: the accumulators go straight into C.
                    Kernel(aPack, bPack.AsSpan(jp * Nr * kc, Nr * kc), kc, c.Slice(i0 * n + j0), n);
                    continue;
                }
                tile.Clear();
                Kernel(aPack, bPack.AsSpan(jp * Nr * kc, Nr * kc), kc, tile, Nr);
                for (int r = 0; r < rows; r++)
                {
                    Span<double> cRow = c.Slice((i0 + r) * n + j0, cols);
                    for (int j = 0; j < cols; j++) cRow[j] += tile[r * Nr + j];
                }
            }
        }
    }

    /// <summary>
    /// c[r·stride + j] += Σₚ aPack[p·Mr + r]·bPack[p·Nr + j] for an Mr×Nr tile: the inner loop, eight FMA accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(ReadOnlySpan<double> aPack, ReadOnlySpan<double> bPack, int kc, Span<double> c, int stride)
    {
        ref double ap = ref MemoryMarshal.GetReference(aPack);
        ref double bp = ref MemoryMarshal.GetReference(bPack);
        Vector256<double> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<double> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadUnsafe(ref bp, (nuint)(p * Nr));
            var b1 = Vector256.LoadUnsafe(ref bp, (nuint)(p * Nr + 4));
            var a0 = Vector256.Create(Unsafe.Add(ref ap, p * Mr));
            var a1 = Vector256.Create(Unsafe.Add(ref ap, p * Mr + 1));
            var a2 = Vector256.Create(Unsafe.Add(ref ap, p * Mr + 2));
            var a3 = Vector256.Create(Unsafe.Add(ref ap, p * Mr + 3));
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
        }
        _ = c[3 * stride + Nr - 1];
        ref double t = ref MemoryMarshal.GetReference(c);
        nuint s1 = (nuint)stride, s2 = 2 * s1, s3 = 3 * s1;
        (Vector256.LoadUnsafe(ref t, 0) + c00).StoreUnsafe(ref t, 0);
        (Vector256.LoadUnsafe(ref t, 4) + c01).StoreUnsafe(ref t, 4);
        (Vector256.LoadUnsafe(ref t, s1) + c10).StoreUnsafe(ref t, s1);
        (Vector256.LoadUnsafe(ref t, s1 + 4) + c11).StoreUnsafe(ref t, s1 + 4);
        (Vector256.LoadUnsafe(ref t, s2) + c20).StoreUnsafe(ref t, s2);
        (Vector256.LoadUnsafe(ref t, s2 + 4) + c21).StoreUnsafe(ref t, s2 + 4);
        (Vector256.LoadUnsafe(ref t, s3) + c30).StoreUnsafe(ref t, s3);
        (Vector256.LoadUnsafe(ref t, s3 + 4) + c31).StoreUnsafe(ref t, s3 + 4);
    }

    /// <summary>Rows p0…p0+kc of op(B), as panels of Nr columns: panel j holds [p][0…Nr), zero-padded past n.</summary>
    private static void PackB(ReadOnlySpan<double> b, bool transB, Span<double> pack, int n, int k, int p0, int kc)
    {
        int nPanels = (n + Nr - 1) / Nr;
        for (int jp = 0; jp < nPanels; jp++)
        {
            Span<double> panel = pack.Slice(jp * Nr * kc, Nr * kc);
            int j0 = jp * Nr, cols = Math.Min(Nr, n - j0);
            for (int p = 0; p < kc; p++)
            {
                Span<double> dst = panel.Slice(p * Nr, Nr);
                if (!transB)
                {
                    b.Slice((p0 + p) * n + j0, cols).CopyTo(dst);
                }
                else
                {
                    for (int j = 0; j < cols; j++) dst[j] = b[(j0 + j) * k + p0 + p];
                }
                if (cols < Nr) dst.Slice(cols).Clear();
            }
        }
    }

    /// <summary>Rows i0…i0+rows of op(A), columns p0…p0+kc, as [p][0…Mr), zero-padded past m.</summary>
    private static void PackA(ReadOnlySpan<double> a, bool transA, Span<double> pack, int m, int k, int i0, int rows, int p0, int kc)
    {
        for (int p = 0; p < kc; p++)
        {
            Span<double> dst = pack.Slice(p * Mr, Mr);
            for (int r = 0; r < rows; r++) dst[r] = transA ? a[(p0 + p) * m + i0 + r] : a[(i0 + r) * k + p0 + p];
            if (rows < Mr) dst.Slice(rows).Clear();
        }
    }

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
