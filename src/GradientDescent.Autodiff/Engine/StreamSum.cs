using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GradientDescent.Autodiff;

/// <summary>
/// An elementwise op y = f(a, b) that <see cref="StreamSum.Apply{TOp}"/> can fuse with the sum of its output: four
/// elements at a time and one at a time, reading from a and b (or only a, or a and a constant the op holds) what it
/// needs. The two forms give the values the op's own kernel gives at the same positions.
/// </summary>
internal unsafe interface IStreamOp
{
    /// <summary>y[i … i + 3].</summary>
    Vector256<double> Four(double* a, double* b, nint i);

    /// <summary>y[i].</summary>
    double One(double* a, double* b, nint i);
}

/// <summary>
/// Σ over a range of doubles in one fixed order, and an elementwise op that writes its output and returns the same sum
/// of it without reading it back.
/// </summary>
/// <remarks>
/// <para>The order, from the range's first element (so the result does not depend on where the array lies in memory):
/// four accumulators of four lanes take the blocks of sixteen in turn (accumulator m adds elements 16j + 4m … 16j + 4m + 3
/// lane by lane), then they are added as (s₀ + s₁) + (s₂ + s₃) and its lanes as (l₀ + l₁) + (l₂ + l₃), then the fewer
/// than sixteen elements left, one by one. Four independent chains keep the adder busy on data in the cache, where
/// TensorPrimitives.Sum waits on one (AMD EPYC, Σ of a parameter, two threads: 1,000 elements 207 → 71–95 ns, 20,000
/// 5.2 → 1.8 µs, 10⁵ 13.8 → 5.5–10.6 µs); on data from memory it reads a page ahead (<see cref="PageAhead"/>; 10⁶
/// elements 132 → 65–116 µs).</para>
/// <para>Why an elementwise op should return the sum of its output: a loss is a sum or a mean of an elementwise
/// expression, and an output too long for the cache is read back from memory by the sum that follows, as much traffic
/// as writing it. Added up in registers as it is computed, and written with non-temporal stores (straight to memory,
/// no read of the lines first), the output costs one write and the sum nothing. Probe, AMD EPYC, one thread, 10⁶
/// elements, c = a + b then Σ c then the two gradient adds: 1.33–1.40 ms with TensorPrimitives' add and sum,
/// 1.04–1.10 ms fused; the op into a buffer on the stack then copied out did not pay (1.75 ms), nor plain stores with the
/// sum fused (1.29–1.34 ms). In the library, op_overhead at 10⁶ on two threads (a step: the op, Σ, backward), over
/// the day's runs of each build (bimodal between processes on that host): add 0.53–1.05 → 0.37–0.79 ms, ×
/// 1.01–1.73 → 0.50–1.09 ms.</para>
/// </remarks>
internal static unsafe class StreamSum
{
    /// <summary>Elements per 4 KB page: where the sums prefetch.</summary>
    private const int PageElements = 4096 / sizeof(double);

    /// <summary>Σ x[start … end) in the order above.</summary>
    internal static double Range(double* x, int start, int end)
    {
        Vector256<double> s0 = Vector256<double>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int k = start;
        while (k + 16 <= end)
        {
            PageAhead.Read(x + k, PageElements * sizeof(double), x + end);
            int stop = Math.Min(k + PageElements, end);
            for (; k + 16 <= stop; k += 16)
            {
                s0 += Vector256.Load(x + k);
                s1 += Vector256.Load(x + k + 4);
                s2 += Vector256.Load(x + k + 8);
                s3 += Vector256.Load(x + k + 12);
            }
        }
        double s = Lanes((s0 + s1) + (s2 + s3));
        for (; k < end; k++) s += x[k];
        return s;
    }

    /// <summary>
    /// y[start … end) = op(a, b) and returns Σ y over the range exactly as <see cref="Range"/> would add it up. The
    /// stores are non-temporal where AVX has them and y[start] lies on a 32-byte boundary (the tape puts long outputs on
    /// a cache line, and ranges start at multiples of eight elements), plain otherwise; the elements after the last
    /// block of sixteen are stored plainly. <paramref name="aStream"/> and <paramref name="bStream"/> say which operands
    /// are read along the range (and prefetched a page ahead).
    /// </summary>
    internal static double Apply<TOp>(TOp op, double* a, double* b, double* y, int start, int end, bool aStream, bool bStream)
        where TOp : struct, IStreamOp
    {
        bool stream = Avx.IsSupported && ((nint)(y + start) & 31) == 0;
        Vector256<double> s0 = Vector256<double>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int k = start;
        while (k + 16 <= end)
        {
            if (aStream) PageAhead.Read(a + k, PageElements * sizeof(double), a + end);
            if (bStream) PageAhead.Read(b + k, PageElements * sizeof(double), b + end);
            int stop = Math.Min(k + PageElements, end);
            for (; k + 16 <= stop; k += 16)
            {
                s0 += Put(op.Four(a, b, k), y + k, stream);
                s1 += Put(op.Four(a, b, k + 4), y + k + 4, stream);
                s2 += Put(op.Four(a, b, k + 8), y + k + 8, stream);
                s3 += Put(op.Four(a, b, k + 12), y + k + 12, stream);
            }
        }
        if (stream) Sse.StoreFence();
        double s = Lanes((s0 + s1) + (s2 + s3));
        for (; k + 4 <= end; k += 4)
        {
            Vector256<double> v = op.Four(a, b, k);
            v.Store(y + k);
            s += v.GetElement(0);
            s += v.GetElement(1);
            s += v.GetElement(2);
            s += v.GetElement(3);
        }
        for (; k < end; k++)
        {
            double v = op.One(a, b, k);
            y[k] = v;
            s += v;
        }
        return s;
    }

    /// <summary>Stores v at y (past the cache when <paramref name="stream"/>) and returns it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Put(Vector256<double> v, double* y, bool stream)
    {
        if (stream) Avx.StoreAlignedNonTemporal(y, v);
        else v.Store(y);
        return v;
    }

    /// <summary>(l₀ + l₁) + (l₂ + l₃): the lanes in a fixed order (Vector256.Sum's is the runtime's to choose).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Lanes(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));
}
