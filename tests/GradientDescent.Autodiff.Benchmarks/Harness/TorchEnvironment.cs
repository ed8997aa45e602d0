using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>Loads TorchSharp once, sets its thread count, and small helpers to read tensors back.</summary>
/// <remarks>
/// TorchSharp's own message when the native backend does not load ("... doesn't contain a reference to
/// libtorch-cpu-linux-x64") hides the cause; on Linux it is usually the dynamic loader rejecting libLibTorchSharp.so,
/// which this class reports by loading the library directly.
/// </remarks>
public static class TorchEnvironment
{
    private static readonly Lazy<string?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Ensures TorchSharp works, sets float64 as its default type and its intra-op thread count to
    /// <paramref name="threads"/> (default: the machine's cores); throws with the loader's real message otherwise.
    /// </summary>
    public static void EnsureLoaded(int? threads = null)
    {
        if (LoadFailure.Value is { } failure) throw new InvalidOperationException(failure);
        int wanted = threads ?? Environment.ProcessorCount;
        if (torch.get_num_threads() != wanted) torch.set_num_threads(wanted);
        torch.set_default_dtype(float64);
    }

    /// <summary>torch.get_num_threads().</summary>
    public static int Threads => torch.get_num_threads();

    /// <summary>The TorchSharp assembly's version.</summary>
    public static string Version
    {
        get
        {
            Assembly assembly = typeof(torch).Assembly;
            string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            return (informational ?? assembly.GetName().Version?.ToString() ?? "unknown").Split('+')[0];
        }
    }

    /// <summary>A tensor's values, row-major, as a new array.</summary>
    public static double[] Values(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using Tensor c = t.detach().contiguous();
        return c.data<double>().ToArray();
    }

    /// <summary>∂L/∂<paramref name="parameter"/> as a new array (zeros if no gradient was computed yet).</summary>
    public static double[] Grad(Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        using Tensor? g = parameter.grad;
        return g is null ? new double[parameter.numel()] : Values(g);
    }

    /// <summary>Sets the accumulated gradient of each parameter to zero (as optimizer.zero_grad(set_to_none: false)).</summary>
    public static void ZeroGrad(params ReadOnlySpan<Tensor> parameters)
    {
        foreach (Tensor p in parameters)
        {
            using Tensor? g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>p ← p − η·∂L/∂p for each parameter, without recording (plain SGD, as this library's <see cref="Sgd"/>).</summary>
    public static void SgdStep(double learningRate, params ReadOnlySpan<Tensor> parameters)
    {
        using var noGrad = torch.no_grad();
        foreach (Tensor p in parameters)
        {
            using Tensor? g = p.grad;
            if (g is not null)
            {
                using TorchSharp.Scalar alpha = (-learningRate).ToScalar();
                p.add_(g, alpha);
            }
        }
    }

    /// <summary>A float64 leaf tensor holding a copy of <paramref name="values"/> in the given shape.</summary>
    public static Tensor Leaf(double[] values, long[] shape, bool requiresGrad)
    {
        ArgumentNullException.ThrowIfNull(values);
        return torch.tensor(values, shape, dtype: float64, requires_grad: requiresGrad);
    }

    /// <summary>Several leaves' values flattened and concatenated, in order.</summary>
    public static double[] Concat(IEnumerable<double[]> parts) => [.. parts.SelectMany(p => p)];

    private static string? TryLoad()
    {
        try
        {
            using Tensor probe = torch.ones(2, dtype: float64);
            double sum = probe.sum().item<double>();
            return sum == 2.0 ? null : $"TorchSharp loaded but torch.ones(2).sum() returned {sum}, not 2.";
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException
                                      or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
        {
            var text = new System.Text.StringBuilder("TorchSharp failed to load.");
            for (Exception? x = e; x is not null; x = x.InnerException) text.Append("\n  ").Append(x.GetType().Name).Append(": ").Append(x.Message);
            if (OperatingSystem.IsLinux()) text.Append('\n').Append(DescribeShimLoad());
            return text.ToString();
        }
    }

    private static string DescribeShimLoad()
    {
        const string shim = "libLibTorchSharp.so";
        string[] candidates = [Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", shim), Path.Combine(AppContext.BaseDirectory, shim)];
        string? path = candidates.FirstOrDefault(File.Exists);
        if (path is null) return $"{shim} is not in the output folder ({string.Join(", ", candidates)}).";
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return $"dlopen({path}) succeeds; the failure is elsewhere (libtorch itself or TorchSharp's loader).";
        }
        catch (DllNotFoundException e)
        {
            return $"dlopen({path}) fails: {e.Message}\nIf it names GLIBCXX_3.4.32, build/TorchSharpGlibcxxFix.targets did not patch this copy.";
        }
    }
}
