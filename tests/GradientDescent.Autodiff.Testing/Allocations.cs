namespace GradientDescent.Autodiff.Testing;

/// <summary>
/// The bytes a piece of code allocates on the calling thread in its steady state, for the tests that promise 0 B a
/// step: the fewest that one of a few runs allocated.
/// </summary>
/// <remarks>
/// The runtime allocates on a thread for reasons of its own, at moments a test does not control: a method reaching its
/// call count for tiered compilation, code compiled on stack replacement, a structure created on first use. Under the
/// parallel tests of CI such allocations landed inside measured windows (6,680 bytes in the tape's reserved-capacity
/// test, 200 bytes in the optimizer loop's), while the same tests alone allocated nothing. Code that allocates does so
/// in every run of it, so the fewest bytes of three runs is what it allocates; a test that asserts 0 still fails for
/// code that allocates.
/// </remarks>
public static class Allocations
{
    /// <summary>
    /// Runs <paramref name="work"/> up to <paramref name="runs"/> times, stopping after a run that allocated nothing,
    /// and returns the fewest bytes a run allocated on this thread.
    /// </summary>
    public static long Least(Action work, int runs = 3)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Least(() => work, w => w(), runs);
    }

    /// <summary>
    /// <see cref="Least(Action, int)"/> for work that needs fresh state each run: <paramref name="setup"/> makes it
    /// outside the measured window (a new tape, say), <paramref name="work"/> is measured.
    /// </summary>
    public static long Least<T>(Func<T> setup, Action<T> work, int runs = 3)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        long least = long.MaxValue;
        for (int run = 0; run < runs && least != 0; run++)
        {
            T state = setup();
            long before = GC.GetAllocatedBytesForCurrentThread();
            work(state);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
