using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GradientDescent.Autodiff;

/// <summary>
/// Software prefetch of the 4 KB pages a streaming kernel reads next, <see cref="Distance"/> bytes ahead of where it
/// reads now: one prefetch per page; and <see cref="ReadInOrder"/>, for kernels that read several rows side by side.
/// </summary>
/// <remarks>
/// The hardware prefetchers follow a stream only within a 4 KB page. At each new page the stream starts again with
/// demand misses and, in a virtual machine, a two-level page walk. A kernel that does more than load (a dot product
/// and a gradient update per row) then streams well below a plain sum. One prefetch per page, 128 KB ahead, fills the
/// TLB and starts each page's stream before the kernel gets there. Measured on the AMD EPYC development machine (a
/// virtual machine), one thread, X of 10⁶ × 100 (800 MB), alternated with the code before: the fused logistic loss
/// 15.5–16.6 → 18.8–19.9 GB/s, the composed MatVec + MᵀG step 97–101 → 85 ms; in a probe of the same loop, 64 and
/// 256 KB ahead measured alike, and prefetches into L2 or L3 only (T1, T2) did not help. A prefetch is a hint: it
/// never faults and changes no result, and none goes at or past the end the caller gives. Without SSE (not x86) it
/// does nothing.
/// </remarks>
internal static unsafe class PageAhead
{
    /// <summary>How far ahead of the read position the prefetches go, in bytes.</summary>
    internal const int Distance = 128 << 10;

    /// <summary>How far ahead of the read position <see cref="Lines"/> prefetches, in bytes.</summary>
    internal const int LineDistance = 8 << 10;

    private const int PageBytes = 4096;

    private const int LineBytes = 64;

    /// <summary>
    /// Prefetches one line in each page of [<paramref name="at"/> + <see cref="Distance"/>, … + <paramref name="bytes"/>),
    /// none at or past <paramref name="end"/>: call it once per piece the kernel reads (a row, a block of rows), with
    /// the piece's start and length. A piece shorter than a page takes one prefetch, so consecutive pieces still reach
    /// every page.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Read(void* at, long bytes, void* end) => Ahead(at, Distance, bytes, end, PageBytes);

    /// <summary>
    /// Prefetches every 64-byte line of [<paramref name="at"/> + <see cref="LineDistance"/>, … + <paramref name="bytes"/>),
    /// none at or past <paramref name="end"/>: call it once per piece the kernel reads, as <see cref="Read"/>, in a
    /// kernel that does so much per line that the hardware prefetchers fall behind, on data that streams from memory.
    /// </summary>
    /// <remarks>
    /// Measured on an AMD EPYC (Zen 5, AVX-512; a virtual machine whose two threads read 70–80 GB/s with a sum that
    /// prefetches a page ahead): the fused logistic loss, a page ahead only, read an X of 10⁶ × 100 at 24–26 GB/s on
    /// one thread and 38–44 GB/s on two, behind its own cost with X in the cache (17 ns a row, 47 GB/s a thread); with
    /// every line prefetched 8 KB ahead as well, 35–36 and 58–67 GB/s (two threads: 17–21 → 12.0–13.7 ms). 4 KB ahead
    /// measured a little slower, 16 and 32 KB slower again, 2 KB between none and 8 KB, 1 KB slower than none;
    /// non-temporal and L2 prefetches no better than into L1; every second line only, slower than none. On data in the cache the prefetches cost (the
    /// same kernel, one thread, X of 3 MB: 16.8–17.1 → 18.1–21.5 ns a row), so callers use it on data too large to stay
    /// in a last-level cache. MatVec and Mᵀg, whose loops do less per line, gained nothing from it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Lines(void* at, long bytes, void* end) => Ahead(at, LineDistance, bytes, end, LineBytes);

    /// <summary>
    /// One prefetch every <paramref name="step"/> bytes of [<paramref name="at"/> + <paramref name="distance"/>, … +
    /// <paramref name="bytes"/>), none at or past <paramref name="end"/>; nothing without SSE.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Ahead(void* at, int distance, long bytes, void* end, int step)
    {
        if (!Sse.IsSupported) return;
        byte* p = (byte*)at + distance, stop = p + bytes;
        if (stop > (byte*)end) stop = (byte*)end;
        for (; p < stop; p += step) Sse.Prefetch0(p);
    }

    /// <summary>
    /// Loads the <paramref name="count"/> doubles from <paramref name="at"/> once, in address order, and returns their
    /// sum, which callers discard: a block that a kernel is about to read as several interleaved streams (four rows
    /// side by side) then arrives from memory as one sequential stream, which the hardware prefetchers follow. Read
    /// side by side straight from memory, rows of 800 bytes streamed at half the bandwidth of one row at a time (AMD
    /// EPYC, Mᵀg of 10⁶ × 100 on two threads: 40–51 ms two or four rows side by side, 23–25 ms with this pass first);
    /// after this pass they come from L1. Not inlined, so that the loads, whose result nobody uses, are not removed;
    /// fully optimised at once (tier-0 code of these vector loops is many times slower).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static double ReadInOrder(double* at, int count)
    {
        Vector256<double> s0 = default, s1 = default;
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; k + 8 <= count; k += 8)
            {
                s0 += Vector256.Load(at + k);
                s1 += Vector256.Load(at + k + 4);
            }
        }
        double sum = Vector256.Sum(s0 + s1);
        for (; k < count; k++) sum += at[k];
        return sum;
    }
}
