using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>The machine's streaming read bandwidth, measured in the same run as the workloads that are bound by it.</summary>
/// <remarks>
/// Two readers, and the faster one's figure: <see cref="TensorPrimitives.Sum{T}(ReadOnlySpan{T})"/>, and a sum that
/// prefetches one line per 4 KB page 128 KB ahead (<see cref="PagedSum"/>), as the library's streaming kernels do. The
/// hardware prefetchers stop at each 4 KB page; on the AMD EPYC development machine (a virtual machine) the prefetching
/// reader was 10–15 % faster on one thread. A bound that only the plain sum set would let a kernel "beat" it by
/// prefetching; the better of the two keeps the bound the machine's.
/// </remarks>
public static class MemoryBandwidth
{
    /// <summary>
    /// GB/s (10⁹ bytes) of one thread summing <paramref name="data"/>, the better of the two readers (see the class
    /// remarks), each the median of <paramref name="reps"/> passes after one warm-up pass. The array should be much
    /// larger than the last-level cache so that it streams from memory.
    /// </summary>
    public static double ReadGBps(double[] data, int reps)
    {
        ArgumentNullException.ThrowIfNull(data);
        double sink = 0;
        Timing plain = Harness.Time(() => sink += TensorPrimitives.Sum<double>(data), warmup: 1, reps: Math.Max(3, reps));
        Timing paged = Harness.Time(() => sink += PagedSum(data), warmup: 1, reps: Math.Max(3, reps));
        GC.KeepAlive(sink);
        return data.Length * (double)sizeof(double) / (Math.Min(plain.MedianMs, paged.MedianMs) * 1e6);
    }

    /// <summary>Doubles per 4 KB page.</summary>
    private const int PageDoubles = 512;

    /// <summary>How far ahead <see cref="PagedSum"/> prefetches: 128 KB, in doubles.</summary>
    private const int AheadDoubles = 16_384;

    /// <summary>
    /// Σ x a page (4 KB) at a time, four Vector256 accumulators, with one software prefetch per page
    /// <see cref="AheadDoubles"/> ahead (none past the end; none without SSE). Its own loop rather than the library's
    /// PageAhead: the bound must not depend on the code it judges.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe double PagedSum(ReadOnlySpan<double> x)
    {
        Vector256<double> a = default, b = default, c = default, e = default;
        int n = x.Length, at = 0;
        fixed (double* p = x)
        {
            for (; at + PageDoubles <= n; at += PageDoubles)
            {
                if (Sse.IsSupported && at + AheadDoubles < n) Sse.Prefetch0(p + at + AheadDoubles);
                double* q = p + at;
                for (int j = 0; j < PageDoubles; j += 16)
                {
                    a += Vector256.Load(q + j);
                    b += Vector256.Load(q + j + 4);
                    c += Vector256.Load(q + j + 8);
                    e += Vector256.Load(q + j + 12);
                }
            }
        }
        return Vector256.Sum((a + b) + (c + e)) + TensorPrimitives.Sum(x[at..]);
    }

    /// <summary>
    /// GB/s (10⁹ bytes) of <paramref name="threads"/> threads together reading <paramref name="data"/> once: each sums
    /// its own contiguous, disjoint range (equal ranges, the calling thread taking the first); one pass lasts from the
    /// common start to the last thread's end. The better of the two readers (see the class remarks), each the median
    /// of <paramref name="reps"/> passes (at least 3) after one warm-up pass. The array should be at least four times
    /// the last-level cache (<see cref="ArrayLength"/>) so that it streams from memory.
    /// </summary>
    /// <remarks>
    /// A <see cref="ParallelReader"/> started for the call (its own threads rather than the library's pool: the figure is
    /// the machine's). With <paramref name="threads"/> = 1 it measures what <see cref="ReadGBps"/> does.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1 or more than the array's length.</exception>
    public static double ReadGBpsAllCores(double[] data, int reps, int threads)
    {
        using var reader = new ParallelReader(data, threads);
        return Math.Max(Rate(reader, reps, paged: false), Rate(reader, reps, paged: true));
    }

    private static double Rate(ParallelReader reader, int reps, bool paged)
    {
        reader.PassMs(paged);
        var samples = new double[Math.Max(3, reps)];
        for (int p = 0; p < samples.Length; p++) samples[p] = reader.PassMs(paged);
        return reader.GBps(Harness.Median(samples));
    }

    /// <summary>
    /// The length of a double array that streams from memory: four times the last-level cache
    /// (<see cref="MachineInfo.LastLevelCacheBytes"/>), at least 16 M doubles (128 MB).
    /// </summary>
    public static int ArrayLength()
    {
        long cache = MachineInfo.LastLevelCacheBytes() ?? 0;
        return (int)Math.Max(4 * cache / sizeof(double), 16L << 20);
    }

    /// <summary>
    /// The header's figures: one array of <see cref="ArrayLength"/> doubles, read by one thread and by
    /// <paramref name="threads"/> threads together, <paramref name="reps"/> passes each (medians).
    /// </summary>
    public static MeasuredBandwidth Measure(int reps, int threads)
    {
        var data = new double[ArrayLength()];
        // Touch every page before timing (a fresh array's pages are mapped on first write).
        data.AsSpan().Fill(1.0);
        int passes = Math.Max(3, reps);
        double single = ReadGBps(data, passes);
        double all = ReadGBpsAllCores(data, passes, threads);
        return new MeasuredBandwidth(single, all, threads, (long)data.Length * sizeof(double), passes, MachineInfo.LastLevelCacheBytes());
    }
}

/// <summary>Streaming read bandwidth of one thread and of several, measured on one array.</summary>
/// <param name="SingleThreadGBps">GB/s of one thread.</param>
/// <param name="AllCoresGBps">GB/s of <paramref name="Threads"/> threads reading disjoint ranges together.</param>
/// <param name="Threads">The threads of the multi-core figure.</param>
/// <param name="ArrayBytes">The array's size in bytes.</param>
/// <param name="Passes">Timed passes per figure (the median is reported).</param>
/// <param name="LastLevelCacheBytes">The last-level cache the array was sized against, or null if unknown.</param>
public sealed record MeasuredBandwidth(double SingleThreadGBps, double AllCoresGBps, int Threads, long ArrayBytes, int Passes, long? LastLevelCacheBytes)
{
    /// <summary>The header line, e.g. "Memory: streaming read 30.1 GB/s on 2 threads (all cores), 20.3 GB/s on one thread (…)".</summary>
    public string Describe()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string cache = LastLevelCacheBytes is { } c ? string.Create(inv, $"{(double)ArrayBytes / c:0.#}× the {c >> 20} MB last-level cache") : "last-level cache unknown";
        return string.Create(inv, $"Memory: streaming read {AllCoresGBps:0.0} GB/s on {Threads} threads together (each summing its own range), {SingleThreadGBps:0.0} GB/s on one thread ({AllCoresGBps / SingleThreadGBps:0.00}×); the faster of TensorPrimitives.Sum and a sum prefetching a page ahead, over a {ArrayBytes >> 20} MB array ({cache}), median of {Passes} passes each");
    }
}

/// <summary>
/// Threads that read one array together, one pass at a time on demand: each sums its own contiguous, disjoint range
/// (equal ranges, the calling thread taking the first) with one of <see cref="MemoryBandwidth"/>'s two readers, and a
/// pass lasts from the common start to the last thread's end. The threads wait between passes, so that passes can
/// alternate with the steps of the kernel they bound (the two then see the same machine, the same neighbours and
/// what the last-level cache holds at the time).
/// </summary>
/// <remarks>
/// Its own threads, started by the constructor and stopped by <see cref="Dispose"/>, rather than the library's pool:
/// the figure is the machine's, the bound the library's kernels are measured against, and must not depend on the
/// code it judges.
/// </remarks>
public sealed class ParallelReader : IDisposable
{
    private readonly double[] _data;
    private readonly int _threads;
    private readonly Barrier _start;
    private readonly Barrier _finish;
    private readonly Thread[] _workers;
    // One slot per thread, a cache line apart, so that the threads' results do not share a line.
    private readonly double[] _sums;
    private bool _paged;
    private bool _stopping;
    private bool _disposed;

    /// <summary>Starts <paramref name="threads"/> − 1 reader threads (the caller is the first reader) over <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1 or more than the array's length.</exception>
    public ParallelReader(double[] data, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (threads < 1 || threads > Math.Max(1, data.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads,
                $"MemoryBandwidth: {threads} reader threads for an array of {data.Length} elements; use 1 to {Math.Max(1, data.Length)}, typically Environment.ProcessorCount ({Environment.ProcessorCount}).");
        }
        _data = data;
        _threads = threads;
        _sums = new double[threads * 8];
        _start = new Barrier(threads);
        _finish = new Barrier(threads);
        _workers = new Thread[threads - 1];
        for (int k = 0; k < _workers.Length; k++)
        {
            int part = k + 1;
            _workers[k] = new Thread(() =>
            {
                while (true)
                {
                    _start.SignalAndWait();
                    if (_stopping) return;
                    Read(part);
                    _finish.SignalAndWait();
                }
            })
            { IsBackground = true, Name = $"bandwidth reader {part}" };
            _workers[k].Start();
        }
    }

    /// <summary>Bytes one pass reads: the whole array.</summary>
    public long Bytes => _data.LongLength * sizeof(double);

    /// <summary>
    /// Milliseconds of one pass over the array by all the threads, each summing its range with
    /// <see cref="MemoryBandwidth.PagedSum"/> (<paramref name="paged"/>) or TensorPrimitives.Sum.
    /// </summary>
    public double PassMs(bool paged)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The barriers are full fences: the workers read _paged after the start barrier.
        _paged = paged;
        long t0 = Stopwatch.GetTimestamp();
        _start.SignalAndWait();
        Read(0);
        _finish.SignalAndWait();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    /// <summary>GB/s (10⁹ bytes) of a pass that lasted <paramref name="passMs"/> milliseconds.</summary>
    public double GBps(double passMs) => Bytes / (passMs * 1e6);

    private void Read(int part)
    {
        int from = (int)((long)_data.Length * part / _threads), to = (int)((long)_data.Length * (part + 1) / _threads);
        var range = _data.AsSpan(from, to - from);
        _sums[part * 8] += _paged ? MemoryBandwidth.PagedSum(range) : TensorPrimitives.Sum<double>(range);
    }

    /// <summary>Stops and joins the reader threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping = true;
        _start.SignalAndWait();
        foreach (Thread w in _workers) w.Join();
        _start.Dispose();
        _finish.Dispose();
        GC.KeepAlive(_sums);
    }
}
