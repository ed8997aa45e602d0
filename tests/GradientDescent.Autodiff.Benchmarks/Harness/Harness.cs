using System.Diagnostics;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>How large the workloads are.</summary>
public enum Scale
{
    /// <summary>Tiny sizes for the (untimed) tests: seconds in all, numbers meaningless.</summary>
    Tiny,
    /// <summary><c>--quick</c>: the sizes where cheap, shorter loops elsewhere; under two minutes in all.</summary>
    Quick,
    /// <summary>The sizes; under fifteen minutes in all.</summary>
    Full,
}

/// <summary>How a workload is run: its size, warm-up iterations (JIT, caches, tape capacity) and timed repetitions.</summary>
/// <param name="Scale">The size of the workload.</param>
/// <param name="Warmup">Untimed iterations before timing (each engine), at least.</param>
/// <param name="Reps">Timed repetitions (each engine); the reported figure is their median.</param>
/// <param name="WarmupMs">
/// Warm-up also lasts at least this long: .NET compiles hot methods again, optimized, in the background only after
/// they have run a while (tiered compilation), so a count of iterations alone can leave slow code in place.
/// </param>
public sealed record RunSettings(Scale Scale, int Warmup, int Reps, double WarmupMs = 0)
{
    /// <summary>The defaults for a scale: tiny = no warm-up and 1 repetition; quick = 2 (≥ 0.5 s) and 7; full = 3 (≥ 1.5 s) and 15.</summary>
    public static RunSettings For(Scale scale) => scale switch
    {
        Scale.Tiny => new RunSettings(scale, 0, 1),
        Scale.Quick => new RunSettings(scale, 2, 7, 500),
        _ => new RunSettings(scale, 3, 15, 1500),
    };

    /// <summary>The same settings with at most <paramref name="reps"/> repetitions and <paramref name="warmup"/> warm-ups (for slow engines).</summary>
    public RunSettings AtMost(int warmup, int reps) => this with { Warmup = Math.Min(Warmup, warmup), Reps = Math.Max(1, Math.Min(Reps, reps)) };
}

/// <summary>Timed repetitions: milliseconds per iteration of each sample.</summary>
/// <param name="SamplesMs">One figure per timed repetition, in milliseconds per iteration.</param>
public sealed record Timing(double[] SamplesMs)
{
    /// <summary>The median sample (the reported figure).</summary>
    public double MedianMs => Harness.Median(SamplesMs);

    /// <summary>The fastest sample.</summary>
    public double MinMs => SamplesMs.Min();

    /// <summary>The slowest sample.</summary>
    public double MaxMs => SamplesMs.Max();

    /// <summary>
    /// How widely the samples spread, relative to the median: the middle half's width (third quartile minus first,
    /// linearly interpolated) over the median; NaN with fewer than four samples (the slow engines' few steps), which
    /// say too little about it. A quiet machine keeps it to a few percent; a neighbour that comes and goes during the
    /// samples widens it, and the median is then less certain than its digits suggest.
    /// </summary>
    public double Spread
    {
        get
        {
            if (SamplesMs.Length < 4) return double.NaN;
            double[] s = [.. SamplesMs];
            Array.Sort(s);
            double median = Harness.Median(s);
            return median > 0 ? (Quantile(s, 0.75) - Quantile(s, 0.25)) / median : double.NaN;
        }
    }

    /// <summary>The <paramref name="q"/> quantile of sorted samples, linearly interpolated between ranks.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double at = q * (sorted.Length - 1);
        int low = (int)Math.Floor(at);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (at - low) * (sorted[high] - sorted[low]);
    }
}

/// <summary>
/// The measuring harness shared by every workload: warm-up, then timed repetitions with <see cref="Stopwatch"/>, median.
/// </summary>
/// <remarks>
/// A hand-written harness rather than BenchmarkDotNet: each workload must compare two engines on the same data in one
/// process, verify their gradients, and the whole quick run must fit in two minutes; BenchmarkDotNet's per-benchmark
/// process, pilot and overhead stages would spend that budget on its own machinery. Very short steps are repeated
/// <c>inner</c> times per sample so that one sample lasts long enough for the clock.
/// </remarks>
public static class Harness
{
    /// <summary>
    /// Runs <paramref name="iteration"/> <paramref name="warmup"/> times, then <paramref name="reps"/> samples of
    /// <paramref name="inner"/> iterations each, and returns milliseconds per iteration for each sample.
    /// </summary>
    public static Timing Time(Action iteration, int warmup, int reps, int inner = 1, double warmupMs = 0)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inner, 1);
        WarmUp(() =>
        {
            for (int j = 0; j < inner; j++) iteration();
        }, warmup, warmupMs);
        var samples = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int j = 0; j < inner; j++) iteration();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / inner;
        }
        return new Timing(samples);
    }

    /// <summary>Runs <paramref name="iteration"/> warm-up times from <paramref name="settings"/>, then times it.</summary>
    public static Timing Time(Action iteration, RunSettings settings, int inner = 1)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Time(iteration, settings.Warmup, settings.Reps, inner, settings.WarmupMs);
    }

    /// <summary>Runs <paramref name="iteration"/> at least <paramref name="count"/> times and for at least <paramref name="minMs"/> milliseconds.</summary>
    public static void WarmUp(Action iteration, int count, double minMs)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        long start = Stopwatch.GetTimestamp();
        for (int k = 0; k < count || Stopwatch.GetElapsedTime(start).TotalMilliseconds < minMs; k++) iteration();
    }

    /// <inheritdoc cref="WarmUp(Action, int, double)"/>
    public static void WarmUp(Action iteration, RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        WarmUp(iteration, settings.Warmup, settings.WarmupMs);
    }

    /// <summary>
    /// Times a step made of two phases (forward, then backward), each repetition timing both phases of the same
    /// iteration: returns the first phase's, the second phase's and the whole step's samples.
    /// <paramref name="beforeEach"/>, when given, runs untimed before every timed repetition (not during warm-up):
    /// to alternate the step with the measurement it is compared with, so that both see the same machine.
    /// </summary>
    public static (Timing First, Timing Second, Timing Total) TimePhases<T>(Func<T> first, Action<T> second, RunSettings settings, Action? beforeEach = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(settings);
        WarmUp(() => second(first()), settings);
        var a = new double[settings.Reps];
        var b = new double[settings.Reps];
        var total = new double[settings.Reps];
        for (int r = 0; r < settings.Reps; r++)
        {
            beforeEach?.Invoke();
            long t0 = Stopwatch.GetTimestamp();
            T value = first();
            long t1 = Stopwatch.GetTimestamp();
            second(value);
            long t2 = Stopwatch.GetTimestamp();
            a[r] = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            b[r] = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
            total[r] = Stopwatch.GetElapsedTime(t0, t2).TotalMilliseconds;
        }
        return (new Timing(a), new Timing(b), new Timing(total));
    }

    /// <summary>
    /// How many iterations make one sample last about <paramref name="targetMs"/>: times single iterations
    /// (which also warms up) and rounds. At least 1, at most <paramref name="max"/>.
    /// </summary>
    public static int Calibrate(Action iteration, double targetMs, int max = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        iteration();
        int count = 1;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            for (int k = 0; k < count; k++) iteration();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (ms >= targetMs / 4 || count >= max)
            {
                double per = ms / count;
                return (int)Math.Clamp(Math.Ceiling(targetMs / Math.Max(per, 1e-6)), 1, max);
            }
            count *= 4;
        }
    }

    /// <summary>
    /// Bytes this thread allocates per call of <paramref name="step"/> in steady state: the step is run
    /// <paramref name="warmup"/> times first (so storage has grown), then <paramref name="calls"/> times under
    /// <see cref="GC.GetAllocatedBytesForCurrentThread"/>.
    /// </summary>
    public static double AllocatedBytesPerCall(Action step, int calls = 10, int warmup = 2)
    {
        ArgumentNullException.ThrowIfNull(step);
        for (int k = 0; k < warmup; k++) step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int k = 0; k < calls; k++) step();
        long after = GC.GetAllocatedBytesForCurrentThread();
        return (after - before) / (double)calls;
    }

    /// <summary>Bytes still reachable after <paramref name="build"/> returns its object (full GC before and after).</summary>
    public static long RetainedBytes(Func<object> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        object kept = build();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(kept);
        return after - before;
    }

    /// <summary>The median (mean of the two middle values for an even count).</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("Median: no values.", nameof(values));
        double[] sorted = [.. values];
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Collects garbage so that one measurement does not pay for the previous one's garbage.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
