namespace GradientDescent.Autodiff.Tests.Batched;

/// <summary>Tests that change <see cref="Parallelism.ThreadCount"/> (a process-wide setting) run alone, one after another.</summary>
[CollectionDefinition(nameof(ThreadCountCollection), DisableParallelization = true)]
public sealed class ThreadCountCollection;

/// <summary>
/// The worker pool (issue 10 §1): every range runs exactly once, exceptions in workers surface on the caller,
/// several tapes on several threads never deadlock, nested dispatches run inline.
/// </summary>
[Collection(nameof(ThreadCountCollection))]
public sealed class WorkerPoolTests : IDisposable
{
    private readonly int _saved = Parallelism.ThreadCount;

    public void Dispose() => Parallelism.ThreadCount = _saved;

    private struct CountingBody(int[] counts, int[] threads) : IRangeBody
    {
        public readonly void Run(int part, int parts)
        {
            Interlocked.Increment(ref counts[part]);
            threads[part] = Environment.CurrentManagedThreadId;
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Run_EveryRangeExactlyOnce_OnSeveralThreads(int threadCount)
    {
        Parallelism.ThreadCount = threadCount;
        for (int round = 0; round < 2000; round++)
        {
            var counts = new int[threadCount];
            var body = new CountingBody(counts, new int[threadCount]);
            WorkerPool.Run(threadCount, ref body);
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    /// <summary>Counts each range's runs and records its thread, after a little work (so that idle threads would join in).</summary>
    private struct SlowCountingBody(int[] counts, int[] threads) : IRangeBody
    {
        public readonly void Run(int part, int parts)
        {
            Thread.SpinWait(2000);
            Interlocked.Increment(ref counts[part]);
            threads[part] = Environment.CurrentManagedThreadId;
        }
    }

    [Theory]
    [InlineData(2, 16)]
    [InlineData(3, 24)]
    [InlineData(2, 3)]
    public void Run_MoreRangesThanThreads_EveryRangeOnce_OnAtMostTheThreadCount(int threadCount, int parts)
    {
        // Eight threads first, so that seven workers exist; then fewer: the workers beyond the count stay idle, and
        // a job of more ranges than threads starts no more workers than the count needs.
        Parallelism.ThreadCount = 8;
        var warm = new CountingBody(new int[8], new int[8]);
        WorkerPool.Run(8, ref warm);
        Parallelism.ThreadCount = threadCount;
        var seen = new HashSet<int>();
        for (int round = 0; round < 300; round++)
        {
            var counts = new int[parts];
            var threads = new int[parts];
            var body = new SlowCountingBody(counts, threads);
            WorkerPool.Run(parts, ref body);
            Assert.All(counts, c => Assert.Equal(1, c));
            seen.UnionWith(threads);
        }
        Assert.True(seen.Count <= threadCount, $"{seen.Count} threads ran the ranges with ThreadCount = {threadCount}");
    }

    /// <summary>Each range waits (up to 10 s) until every range has started: it finishes only if the ranges run at once.</summary>
    private struct RendezvousBody(int[] started, int[] threads) : IRangeBody
    {
        public readonly void Run(int part, int parts)
        {
            threads[part] = Environment.CurrentManagedThreadId;
            Interlocked.Increment(ref started[0]);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref started[0]) < parts && clock.ElapsedMilliseconds < 10_000) Thread.SpinWait(100);
        }
    }

    [Fact]
    public void Run_RangesRunAtOnce_OnTheCallerAndTheWorkers()
    {
        Parallelism.ThreadCount = 3;
        for (int round = 0; round < 20; round++)
        {
            var started = new int[1];
            var threads = new int[3];
            var body = new RendezvousBody(started, threads);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            WorkerPool.Run(3, ref body);
            Assert.True(clock.ElapsedMilliseconds < 10_000, "the ranges did not run at the same time");
            Assert.Equal(3, threads.Distinct().Count());
        }
    }

    private struct ThrowingBody(int failing) : IRangeBody
    {
        public readonly void Run(int part, int parts)
        {
            Thread.SpinWait(1000);
            if (part == failing) throw new ArithmeticException($"range {part} of {parts} failed");
        }
    }

    [Fact]
    public void Run_ExceptionInAWorkerRange_SurfacesOnTheCaller_AndThePoolStillWorks()
    {
        Parallelism.ThreadCount = 4;
        for (int failing = 0; failing < 4; failing++)
        {
            var body = new ThrowingBody(failing);
            var e = Assert.Throws<ArithmeticException>(() => WorkerPool.Run(4, ref body));
            Assert.Equal($"range {failing} of 4 failed", e.Message);
        }
        var counts = new int[4];
        var ok = new CountingBody(counts, new int[4]);
        WorkerPool.Run(4, ref ok);
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    private struct NestedBody(int[] inner) : IRangeBody
    {
        public readonly void Run(int part, int parts)
        {
            // A kernel inside a kernel (a custom op's callback, say) finds the pool busy and runs inline.
            var body = new CountingBody(inner, new int[parts]);
            WorkerPool.Run(parts, ref body);
        }
    }

    [Fact]
    public async Task Run_NestedDispatch_RunsInline_WithoutDeadlock()
    {
        Parallelism.ThreadCount = 2;
        var inner = new int[2];
        var work = Task.Run(() =>
        {
            var body = new NestedBody(inner);
            WorkerPool.Run(2, ref body);
        });
        Assert.Same(work, await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(30))));
        await work;
        Assert.All(inner, c => Assert.Equal(2, c));
    }

    [Fact]
    public async Task Run_FromSeveralTapesOnSeveralThreads_NoDeadlock_SameNumbers()
    {
        // Four threads, each with its own tape and parameters, differentiate graphs whose kernels are large enough to
        // be split: whoever finds the pool busy runs its ranges itself, so all finish, with the numbers a lone
        // thread gets (the ranges depend on the thread count only).
        Parallelism.ThreadCount = 2;
        const int N = 200_000;
        double[] reference = LargeGraphGradient(N, seed: 1);
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int round = 0; round < 5; round++)
            {
                double[] g = LargeGraphGradient(N, seed: 1);
                Assert.Equal(reference, g);
            }
        })).ToArray();
        Task all = Task.WhenAll(tasks);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(120))));
        await all;
    }

    /// <summary>∂/∂w of mean(σ(x ⊙ w) + exp(0.001·w)) − Σ w²/n on vectors of <paramref name="n"/>: every kernel split.</summary>
    internal static double[] LargeGraphGradient(int n, int seed)
    {
        var rng = new Random(seed);
        double[] x = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2)];
        var w = new VectorParameter("w", [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5)]);
        var tape = new Tape();
        Vector wv = tape.Use(w);
        Vector y = Ops.Sigmoid(tape.Constant(x) * wv) + Ops.Exp(0.001 * wv);
        Scalar loss = Ops.Mean(y) - Ops.Sum(wv * wv) / n;
        loss.Backward();
        return w.Grad;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void ThreadCount_OutOfRange_IsAClearError(int value)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.ThreadCount = value);
        Assert.Contains("Parallelism.ThreadCount", e.Message);
        Assert.Contains("use 1 (single-threaded) to 256", e.Message);
    }

    [Fact]
    public void Range_CoversTheLengthInOrder_OnCacheLineBoundaries()
    {
        foreach (int length in new[] { 1, 7, 8, 100, 65_536, 1_000_003 })
        {
            for (int parts = 1; parts <= 5; parts++)
            {
                int next = 0;
                for (int p = 0; p < parts; p++)
                {
                    (int start, int end) = WorkerPool.Range(length, p, parts);
                    Assert.Equal(next, start);
                    Assert.True(end >= start);
                    if (p < parts - 1) Assert.Equal(0, end % 8);
                    next = end;
                }
                Assert.Equal(length, next);
            }
        }
    }
}
