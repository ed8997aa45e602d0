using TorchSharp;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Loads TorchSharp through the bridge's loader (<see cref="TorchNativeLoader"/>), so a test that cannot load it fails
/// with the dynamic loader's reason in one line instead of TorchSharp's misleading "doesn't contain a reference to
/// libtorch-cpu-linux-x64", and never skips. Every test that uses torch calls <see cref="EnsureLoaded"/> first.
/// </summary>
internal static class TorchRuntime
{
    private static readonly object ThreadLock = new();

    /// <summary>Ensures the TorchSharp native backend is loaded, or throws <see cref="InvalidOperationException"/> saying why.</summary>
    /// <param name="threads">If given, sets torch's intra-op CPU thread count (torch.set_num_threads).</param>
    public static void EnsureLoaded(int? threads = null)
    {
        TorchNativeLoader.EnsureLoaded();
        if (threads is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(threads));
            lock (ThreadLock)
            {
                torch.set_num_threads(count);
            }
        }
    }
}
