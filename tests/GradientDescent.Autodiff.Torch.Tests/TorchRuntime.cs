using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Loads TorchSharp once for the test run and turns a load failure into an exception that carries the real cause.
/// TorchSharp's own message on failure ("... doesn't contain a reference to libtorch-cpu-linux-x64") is misleading:
/// on Linux the usual cause is that the dynamic loader rejects libLibTorchSharp.so (for example
/// "version `GLIBCXX_3.4.32' not found"). Every test that uses torch calls <see cref="EnsureLoaded"/> first, so such
/// tests fail with that message instead of skipping or failing obscurely.
/// </summary>
internal static class TorchRuntime
{
    private const string ShimName = "libLibTorchSharp.so";

    private static readonly Lazy<string?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly object ThreadLock = new();

    /// <summary>
    /// Ensures the TorchSharp native backend is loaded, or throws <see cref="InvalidOperationException"/> with the
    /// exception chain and, on Linux, the dynamic loader's own error for libLibTorchSharp.so.
    /// </summary>
    /// <param name="threads">If given, sets torch's intra-op CPU thread count (torch.set_num_threads).</param>
    public static void EnsureLoaded(int? threads = null)
    {
        if (LoadFailure.Value is { } failure)
        {
            throw new InvalidOperationException(failure);
        }

        if (threads is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(threads));
            lock (ThreadLock)
            {
                torch.set_num_threads(count);
            }
        }
    }

    /// <summary>Null when torch loaded; otherwise a full description of why it did not.</summary>
    private static string? TryLoad()
    {
        try
        {
            // Any torch call runs the static constructor that loads the native backend; make it do real work.
            using torch.Tensor probe = torch.ones(2, dtype: torch.float64);
            double sum = probe.sum().item<double>();
            return sum == 2.0 ? null : $"TorchSharp loaded but torch.ones(2).sum() returned {sum}, not 2.";
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException
                                      or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
        {
            return Describe(e);
        }
    }

    private static string Describe(Exception failure)
    {
        var text = new StringBuilder("TorchSharp failed to load.");
        for (Exception? e = failure; e is not null; e = e.InnerException)
        {
            text.Append(Environment.NewLine).Append("  ").Append(e.GetType().FullName).Append(": ").Append(e.Message);
        }

        if (OperatingSystem.IsLinux())
        {
            text.Append(Environment.NewLine).Append(DescribeShimLoad());
        }

        return text.ToString();
    }

    /// <summary>dlopen libLibTorchSharp.so from the test output directly, to surface the loader's own message.</summary>
    private static string DescribeShimLoad()
    {
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", ShimName),
            Path.Combine(AppContext.BaseDirectory, ShimName),
        ];
        string? path = candidates.FirstOrDefault(File.Exists);
        if (path is null)
        {
            return $"{ShimName} is not in the test output ({string.Join(", ", candidates)}); is TorchSharp-cpu referenced?";
        }

        if (NativeLibrary.TryLoad(path, out IntPtr handle))
        {
            NativeLibrary.Free(handle);
            return $"dlopen({path}) succeeds, so the failure is elsewhere (libtorch itself, or TorchSharp's managed loader).";
        }

        try
        {
            // TryLoad gives no reason; Load throws DllNotFoundException carrying dlerror()'s text.
            handle = NativeLibrary.Load(path);
            NativeLibrary.Free(handle);
            return $"dlopen({path}) failed once and then succeeded.";
        }
        catch (DllNotFoundException e)
        {
            return $"dlopen({path}) fails: {e.Message}"
                + Environment.NewLine
                + "If this says \"version `GLIBCXX_3.4.32' not found\", the build step build/TorchSharpGlibcxxFix.targets "
                + "did not run or did not patch this copy (check the build log for 'patched GLIBCXX_3.4.32').";
        }
    }
}
