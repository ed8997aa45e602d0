namespace GradientDescent.Autodiff;

/// <summary>
/// How many threads the library's large kernels use: elementwise ops and their rules over long arrays, matrix–vector
/// products by rows, matrix products by row panels, reductions, the fused model losses.
/// </summary>
/// <remarks>
/// <para>
/// The work runs on a persistent pool: <see cref="ThreadCount"/> − 1 background workers, started on first use, and the
/// calling thread. A dispatch allocates nothing and creates no thread; workers that find no work for a moment block
/// instead of spinning. Kernels below a set size run on the calling thread alone (2¹⁵ elements per range for
/// elementwise kernels and sums, 2¹⁶ multiply-adds for matrix–vector products, 2¹⁷ for matrix products: tens of
/// microseconds of one core, against about a microsecond to hand a range to a worker), so scalar graphs and small
/// batches pay no dispatch.
/// </para>
/// <para>
/// Results are deterministic for a given thread count: a kernel is split into <see cref="ThreadCount"/> fixed ranges
/// whatever thread runs each, and partial sums are added in range order. With another thread count a sum may differ
/// in its last bits (a different association of the same terms); elementwise results never do.
/// </para>
/// <para>
/// One large kernel runs on the pool at a time. A kernel started while the pool is busy (another tape on another
/// thread, or a kernel inside a custom op's callback) runs on its own thread instead — the same ranges, so the same
/// numbers — which is why several tapes on several threads can never deadlock. An exception in any range is rethrown
/// on the calling thread after every range has finished.
/// </para>
/// </remarks>
public static class Parallelism
{
    /// <summary>
    /// The number of threads large kernels use, the calling thread included: by default the machine's logical
    /// processors (<see cref="Environment.ProcessorCount"/>), or the value of the environment variable
    /// <c>GRADIENTDESCENT_THREADS</c> when it is set to a positive integer. 1 runs everything on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1 or more than 256.</exception>
    public static int ThreadCount
    {
        get => WorkerPool.Threads;
        set
        {
            if (value is < 1 or > WorkerPool.MaxThreads)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"Parallelism.ThreadCount: {value} threads is not a thread count; use 1 (single-threaded) to {WorkerPool.MaxThreads}, typically Environment.ProcessorCount ({Environment.ProcessorCount} here).");
            }
            WorkerPool.Threads = value;
        }
    }
}
