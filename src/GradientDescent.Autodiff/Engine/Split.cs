using System.Runtime.CompilerServices;

namespace GradientDescent.Autodiff;

/// <summary>
/// An elementwise kernel d ← f(a, b, c) over aligned ranges: operands of d's length are cut to the range, the others
/// (a broadcast scalar, an unused empty span) are passed whole.
/// </summary>
internal interface IElementKernel
{
    void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> d);

    /// <summary>Whether the kernel reads d (d += …) rather than only writing it (see <see cref="Split.Chunk"/>).</summary>
    bool Accumulates { get; }
}

/// <summary>d = v (assign) or d += v in every element, over one range.</summary>
internal readonly struct FillOrAddKernel(double value, bool assign) : IElementKernel
{
    public bool Accumulates => !assign;

    public void Apply(ReadOnlySpan<double> unused1, ReadOnlySpan<double> unused2, ReadOnlySpan<double> unused3, Span<double> d)
    {
        if (assign) d.Fill(value);
        else System.Numerics.Tensors.TensorPrimitives.Add(d, value, d);
    }
}

/// <summary>d = s·a (assign) or d += s·a, over one range.</summary>
internal readonly struct ScaleKernel(double s, bool assign) : IElementKernel
{
    public bool Accumulates => !assign;

    public void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> unused2, ReadOnlySpan<double> unused3, Span<double> d)
    {
        if (assign) System.Numerics.Tensors.TensorPrimitives.Multiply(a, s, d);
        else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a, s, d, d);
    }
}

/// <summary>
/// Splits kernels over <see cref="WorkerPool"/>: elementwise kernels by ranges of elements, row kernels by ranges of
/// rows. Below the grain a kernel runs on the calling thread, with no dispatch at all.
/// </summary>
internal static unsafe class Split
{
    /// <summary>
    /// Elements per range below which an elementwise kernel stays on one thread: 2¹⁵ doubles (256 KB per operand)
    /// take 10–30 µs on one core, well above a dispatch (about 1 µs to a spinning worker, tens to a sleeping one).
    /// </summary>
    internal const int ElementGrain = 1 << 15;

    /// <summary>
    /// Elements per kernel call within a range, for kernels that add into d and for outputs that fit in the cache:
    /// 4,096 doubles (32 KB per operand). TensorPrimitives switches to non-temporal stores for a call of more than
    /// 256 KB, which write past the cache: right for a large output written once, wrong for d += … (d was just read
    /// into the cache) and for an output the next op reads while it is still cached. AMD EPYC, two threads, c = a + b
    /// then Σc then both gradients added into Parameter.Grad, 10⁶ elements (c of 8 MB still written past the cache):
    /// the two in-place adds 450–650 → 220–510 µs over several processes.
    /// </summary>
    internal const int Chunk = 1 << 12;

    /// <summary>
    /// Outputs of at most this many elements (4 MB) are written through the cache even by kernels that only write
    /// (half the last-level cache of the 2-core machines this was measured on, 32 MB shared).
    /// </summary>
    internal const int CachedOutput = 1 << 19;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Chunks<TKernel>(TKernel kernel, int length) where TKernel : struct, IElementKernel =>
        kernel.Accumulates || length <= CachedOutput;

    /// <summary>Runs <paramref name="kernel"/> on d and the operands, split into ranges when d is long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Elementwise<TKernel>(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> d, TKernel kernel, int grain = ElementGrain)
        where TKernel : struct, IElementKernel
    {
        int parts = WorkerPool.PartsFor(d.Length, grain);
        if (parts == 1 && (d.Length <= Chunk || !Chunks(kernel, d.Length))) kernel.Apply(a, b, c, d);
        else Run(a, b, c, d, kernel, parts);
    }

    /// <summary>
    /// The kernel over ranges of d (on the caller alone when <paramref name="parts"/> is 1), in chunks when it adds
    /// into d or d fits in the cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Run<TKernel>(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> d, TKernel kernel, int parts)
        where TKernel : struct, IElementKernel
    {
        fixed (double* pa = a, pb = b, pc = c, pd = d)
        {
            var body = new ElementBody<TKernel>
            {
                Kernel = kernel,
                A = pa, ALength = a.Length,
                B = pb, BLength = b.Length,
                C = pc, CLength = c.Length,
                D = pd, Length = d.Length,
            };
            if (parts == 1) body.Run(0, 1);
            else WorkerPool.Run(parts, ref body);
        }
    }

    /// <summary>
    /// <see cref="PageAhead"/> for the chunk [at, at + n) of an elementwise kernel over d of <paramref name="length"/>
    /// elements whose range ends at <paramref name="stop"/>: the pages the chunks after it read, in d and in each
    /// operand as long as d (a broadcast operand is in L1 already).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Ahead(double* a, int aLength, double* b, int bLength, double* c, int cLength, double* d, int length, int at, int n, int stop)
    {
        long bytes = (long)n * sizeof(double);
        if (aLength == length) PageAhead.Read(a + at, bytes, a + stop);
        if (bLength == length) PageAhead.Read(b + at, bytes, b + stop);
        if (cLength == length) PageAhead.Read(c + at, bytes, c + stop);
        PageAhead.Read(d + at, bytes, d + stop);
    }

    private struct ElementBody<TKernel> : IRangeBody where TKernel : struct, IElementKernel
    {
        public TKernel Kernel;
        public double* A, B, C, D;
        public int ALength, BLength, CLength, Length;

        public readonly void Run(int part, int parts)
        {
            (int start, int end) = WorkerPool.Range(Length, part, parts);
            bool chunks = Chunks(Kernel, Length);
            int chunk = chunks ? Chunk : end - start;
            for (int at = start; at < end; at += chunk)
            {
                int n = Math.Min(chunk, end - at);
                if (chunks) Ahead(A, ALength, B, BLength, C, CLength, D, Length, at, n, end);
                Kernel.Apply(Cut(A, ALength, at, n), Cut(B, BLength, at, n), Cut(C, CLength, at, n), new Span<double>(D + at, n));
            }
        }

        private readonly ReadOnlySpan<double> Cut(double* p, int length, int start, int n) =>
            length == Length ? new ReadOnlySpan<double>(p + start, n) : new ReadOnlySpan<double>(p, length);
    }

    /// <summary>
    /// y = op(a, b) over ranges of y, as <see cref="Elementwise{TKernel}"/> splits them, returning Σ y as
    /// <see cref="Sum(ReadOnlySpan{double}, ReadOnlySpan{double})"/> computes it, bit for bit, added up as y is written
    /// (<see cref="StreamSum.Apply{TOp}"/>, which stores past the cache): for outputs longer than
    /// <see cref="CachedOutput"/>. Operands shorter than y (a broadcast scalar) are the op's to read.
    /// </summary>
    internal static double ElementwiseSummed<TOp>(TOp op, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y)
        where TOp : struct, IStreamOp
    {
        int parts = WorkerPool.PartsFor(y.Length, ElementGrain);
        double* partials = stackalloc double[parts];
        fixed (double* pa = a, pb = b, py = y)
        {
            var body = new SummedBody<TOp>
            {
                Op = op, A = pa, B = pb, Y = py, Length = y.Length, Partials = partials,
                AStream = a.Length == y.Length, BStream = b.Length == y.Length,
            };
            if (parts == 1) body.Run(0, 1);
            else WorkerPool.Run(parts, ref body);
        }
        return Total(partials, parts);
    }

    private struct SummedBody<TOp> : IRangeBody where TOp : struct, IStreamOp
    {
        public TOp Op;
        public double* A, B, Y, Partials;
        public int Length;
        public bool AStream, BStream;

        public readonly void Run(int part, int parts)
        {
            (int start, int end) = WorkerPool.Range(Length, part, parts);
            Partials[part] = StreamSum.Apply(Op, A, B, Y, start, end, AStream, BStream);
        }
    }

    /// <summary>The range sums added in range order; one range is its own sum.</summary>
    private static double Total(double* partials, int parts)
    {
        if (parts == 1) return partials[0];
        double s = 0;
        for (int p = 0; p < parts; p++) s += partials[p];
        return s;
    }

    /// <summary>
    /// Σ x (<paramref name="y"/> empty) or Σ xₖyₖ: one partial sum per range, added in range order, so the result
    /// depends on the thread count only. A range of Σ x is added up in <see cref="StreamSum.Range"/>'s order, the one
    /// in which <see cref="ElementwiseSummed{TOp}"/> adds up the output it writes; a range of Σ xₖyₖ is TensorPrimitives'
    /// dot.
    /// </summary>
    internal static double Sum(ReadOnlySpan<double> x, ReadOnlySpan<double> y = default)
    {
        if (!y.IsEmpty && WorkerPool.PartsFor(x.Length, ElementGrain) == 1) return System.Numerics.Tensors.TensorPrimitives.Dot(x, y);
        fixed (double* px = x, py = y)
        {
            return Sum(x.Length, new SumOrDot { X = px, Y = py });
        }
    }

    /// <summary>Σ x or Σ xₖyₖ over one range.</summary>
    private struct SumOrDot : IRangeSum
    {
        public double* X, Y;

        public readonly double Sum(int start, int end) =>
            Y == null
                ? StreamSum.Range(X, start, end)
                : System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<double>(X + start, end - start), new ReadOnlySpan<double>(Y + start, end - start));
    }

    /// <summary>A sum over a range of elements [start, end), one term of an ordered sum (see <see cref="Sum{TSum}"/>).</summary>
    internal interface IRangeSum
    {
        double Sum(int start, int end);
    }

    /// <summary>
    /// Σ over 0…<paramref name="length"/> as one partial sum per range (fixed ranges, <see cref="WorkerPool.Range"/>),
    /// added in range order: the result depends on the thread count only. Below two grains, one range on the caller.
    /// The kernel holds its own pointers: the caller pins the storage for the duration of the call.
    /// </summary>
    internal static double Sum<TSum>(int length, TSum kernel) where TSum : struct, IRangeSum
    {
        int parts = WorkerPool.PartsFor(length, ElementGrain);
        if (parts == 1) return kernel.Sum(0, length);
        double* partials = stackalloc double[parts];
        var body = new SumBody<TSum> { Kernel = kernel, Partials = partials, Length = length };
        WorkerPool.Run(parts, ref body);
        return Total(partials, parts);
    }

    private struct SumBody<TSum> : IRangeBody where TSum : struct, IRangeSum
    {
        public TSum Kernel;
        public double* Partials;
        public int Length;

        public readonly void Run(int part, int parts)
        {
            (int start, int end) = WorkerPool.Range(Length, part, parts);
            Partials[part] = Kernel.Sum(start, end);
        }
    }

    /// <summary>A kernel over a range of rows [first, last).</summary>
    internal interface IRowKernel
    {
        void Rows(int first, int last);
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> over rows 0…<paramref name="rows"/>, split into ranges of rows when the whole
    /// is at least two grains of work (<paramref name="workPerRow"/> units per row against <paramref name="grain"/>).
    /// The kernel holds its own pointers: the caller pins the storage for the duration of the call.
    /// </summary>
    internal static void Rows<TKernel>(int rows, long workPerRow, TKernel kernel, long grain = ElementGrain) where TKernel : struct, IRowKernel
    {
        int parts = WorkerPool.PartsFor(rows * workPerRow, grain);
        parts = Math.Min(parts, rows);
        if (parts <= 1)
        {
            kernel.Rows(0, rows);
            return;
        }
        var body = new RowBody<TKernel> { Kernel = kernel, Count = rows };
        WorkerPool.Run(parts, ref body);
    }

    private struct RowBody<TKernel> : IRangeBody where TKernel : struct, IRowKernel
    {
        public TKernel Kernel;
        public int Count;

        public readonly void Run(int part, int parts)
        {
            int first = (int)((long)Count * part / parts), last = (int)((long)Count * (part + 1) / parts);
            Kernel.Rows(first, last);
        }
    }
}
