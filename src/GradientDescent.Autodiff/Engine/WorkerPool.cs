using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace GradientDescent.Autodiff;

/// <summary>A kernel split into fixed ranges: <see cref="Run"/> does range <c>part</c> of <c>parts</c>.</summary>
/// <remarks>
/// Implemented by small structs holding the kernel's arguments (arrays, or pointers to storage pinned by the caller
/// for the duration of <see cref="WorkerPool.Run{TBody}"/>), so a dispatch allocates nothing.
/// </remarks>
internal interface IRangeBody
{
    void Run(int part, int parts);
}

/// <summary>
/// The persistent pool behind <see cref="Parallelism"/>: <see cref="Threads"/> − 1 background workers and the calling
/// thread share the ranges of one kernel at a time.
/// </summary>
/// <remarks>
/// <para>Protocol. The pool is taken with a compare-exchange; a caller that finds it taken runs every range itself
/// (same ranges, same numbers). The owner publishes the job and then a ticket, one 64-bit word holding the job's epoch
/// (high half) and the next range to take (low half). Everyone — workers and the owner — takes ranges by
/// compare-exchanging the ticket from (epoch, k) to (epoch, k + 1), so a worker that woke late and still holds an old
/// epoch can never take a range of a newer job. The owner waits until every range has finished, then rethrows the
/// exception of the lowest failed range, if any.</para>
/// <para>A kernel may have more ranges than threads: the ranges are then taken in order as threads come free, so a
/// thread the machine holds up (a busy neighbour on a shared host, a worker still waking) does fewer of them. Only the
/// first <see cref="Threads"/> − 1 workers take ranges: workers started under a larger thread count stay idle, so at
/// most <see cref="Threads"/> threads run a kernel.</para>
/// <para>Idle workers spin for <see cref="SpinMicroseconds"/> after their last range (a backward pass dispatches
/// kernels a few microseconds apart), then block on a monitor: an idle pool costs no CPU.</para>
/// </remarks>
internal static class WorkerPool
{
    internal const int MaxThreads = 256;

    /// <summary>How long an idle worker keeps polling for the next job before it blocks.</summary>
    private const int SpinMicroseconds = 50;

    private static int s_threads = DefaultThreads();
    private static long s_ticket;
    private static int s_busy;
    private static Job? s_job;
    private static int s_parts;
    private static int s_remaining;
    private static int s_sleepers;
    private static int s_started;
    private static readonly object s_gate = new();
    private static readonly Exception?[] s_errors = new Exception?[MaxThreads];

    /// <summary>The thread count in use (see <see cref="Parallelism.ThreadCount"/>).</summary>
    internal static int Threads
    {
        get => Volatile.Read(ref s_threads);
        set => Volatile.Write(ref s_threads, value);
    }

    private static int DefaultThreads()
    {
        string? setting = Environment.GetEnvironmentVariable("GRADIENTDESCENT_THREADS");
        if (int.TryParse(setting, out int n) && n is >= 1 and <= MaxThreads) return n;
        return Math.Clamp(Environment.ProcessorCount, 1, MaxThreads);
    }

    /// <summary>
    /// How many ranges a kernel of <paramref name="work"/> units is split into: one per thread, but none smaller than
    /// <paramref name="minWorkPerPart"/> (below that the dispatch costs more than it saves). Depends only on the
    /// work and the thread count, never on the pool's state, so results are reproducible.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int PartsFor(long work, long minWorkPerPart)
    {
        if (work < 2 * minWorkPerPart) return 1;
        int threads = Threads;
        if (threads == 1) return 1;
        return (int)Math.Min(threads, work / minWorkPerPart);
    }

    /// <summary>
    /// Range <paramref name="part"/> of <paramref name="parts"/> equal ranges of 0…<paramref name="length"/>, with
    /// inner boundaries on multiples of 8 elements (one cache line of doubles), so that no two threads write one line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (int Start, int End) Range(int length, int part, int parts)
    {
        int start = part == 0 ? 0 : (int)((long)length * part / parts) & ~7;
        int end = part == parts - 1 ? length : (int)((long)length * (part + 1) / parts) & ~7;
        return (start, end);
    }

    /// <summary>
    /// Runs <c>body.Run(p, parts)</c> for p = 0 … parts − 1 on the pool and the calling thread, and returns when all
    /// have finished. With one part, or when the pool is busy, runs them all on the calling thread. There may be more
    /// parts than threads (at most <see cref="MaxThreads"/>); at most <see cref="Threads"/> threads run them.
    /// </summary>
    internal static void Run<TBody>(int parts, ref TBody body) where TBody : struct, IRangeBody
    {
        if (parts <= 1)
        {
            body.Run(0, 1);
            return;
        }
        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) body.Run(p, parts);
            return;
        }
        Job<TBody> job = Job<TBody>.ForThisThread();
        job.Body = body;
        try
        {
            EnsureWorkers(Math.Min(parts, Threads) - 1);
            s_job = job;
            s_parts = parts;
            Volatile.Write(ref s_remaining, parts);
            long epoch = (Volatile.Read(ref s_ticket) >> 32) + 1;
            Interlocked.Exchange(ref s_ticket, epoch << 32);
            if (Volatile.Read(ref s_sleepers) > 0)
            {
                lock (s_gate) Monitor.PulseAll(s_gate);
            }
            TakeRanges(epoch);
            var spin = new SpinWait();
            while (Volatile.Read(ref s_remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
            ThrowFirstError(parts);
        }
        finally
        {
            body = job.Body;
            job.Body = default;
            s_job = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>Takes and runs ranges of job <paramref name="epoch"/> until none is left.</summary>
    private static void TakeRanges(long epoch)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref s_ticket);
            if (ticket >> 32 != epoch) return;
            int part = (int)ticket;
            Job? job = s_job;
            int parts = s_parts;
            if (job is null || part >= parts) return;
            if (Interlocked.CompareExchange(ref s_ticket, ticket + 1, ticket) != ticket) continue;
            // The exchange succeeded with range `part` of this epoch still untaken, so the job is not finished and
            // the fields read above are this epoch's.
            try
            {
                job.Run(part, parts);
            }
            catch (Exception e)
            {
                s_errors[part] = e;
            }
            Interlocked.Decrement(ref s_remaining);
        }
    }

    private static void ThrowFirstError(int parts)
    {
        Exception? first = null;
        for (int p = 0; p < parts; p++)
        {
            first ??= s_errors[p];
            s_errors[p] = null;
        }
        if (first is not null) ExceptionDispatchInfo.Capture(first).Throw();
    }

    private static void EnsureWorkers(int wanted)
    {
        if (Volatile.Read(ref s_started) >= wanted) return;
        lock (s_gate)
        {
            while (s_started < wanted)
            {
                int index = s_started;
                var thread = new Thread(() => WorkerLoop(index))
                {
                    IsBackground = true,
                    Name = $"GradientDescent.Autodiff worker {s_started + 1}",
                };
                thread.Start();
                s_started++;
            }
        }
    }

    /// <summary>Worker <paramref name="index"/> (0-based): waits for jobs and, while it is among the first <see cref="Threads"/> − 1, takes their ranges.</summary>
    private static void WorkerLoop(int index)
    {
        long seen = Volatile.Read(ref s_ticket) >> 32;
        long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        while (true)
        {
            long epoch = Volatile.Read(ref s_ticket) >> 32;
            if (epoch == seen)
            {
                long start = Stopwatch.GetTimestamp();
                while ((epoch = Volatile.Read(ref s_ticket) >> 32) == seen && Stopwatch.GetTimestamp() - start < spinTicks)
                {
                    Thread.SpinWait(16);
                }
                if (epoch == seen)
                {
                    lock (s_gate)
                    {
                        // Dekker with the owner: announce the sleep (a full fence), then re-check the ticket; the owner
                        // publishes the ticket (a full fence), then reads the sleeper count.
                        Interlocked.Increment(ref s_sleepers);
                        while ((epoch = Volatile.Read(ref s_ticket) >> 32) == seen) Monitor.Wait(s_gate);
                        Interlocked.Decrement(ref s_sleepers);
                    }
                }
            }
            seen = epoch;
            if (index < Threads - 1) TakeRanges(epoch);
        }
    }

    /// <summary>A job as the workers see it: one virtual call per range.</summary>
    private abstract class Job
    {
        public abstract void Run(int part, int parts);
    }

    /// <summary>The job wrapping a struct body; one instance per body type and calling thread, reused.</summary>
    private sealed class Job<TBody> : Job where TBody : struct, IRangeBody
    {
        [ThreadStatic]
        private static Job<TBody>? t_instance;

        public TBody Body;

        public static Job<TBody> ForThisThread() => t_instance ??= new Job<TBody>();

        public override void Run(int part, int parts) => Body.Run(part, parts);
    }
}
