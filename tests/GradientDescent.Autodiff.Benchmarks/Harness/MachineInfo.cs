using System.Runtime;
using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>What the numbers were measured on.</summary>
public static class MachineInfo
{
    /// <summary>Lines describing the machine, the runtime and TorchSharp (call after <see cref="TorchEnvironment.EnsureLoaded"/>).</summary>
    public static IEnumerable<string> Describe()
    {
        yield return $"CPU: {CpuModel()}, {Environment.ProcessorCount} cores, Vector512 hardware-accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}";
        yield return $"OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})";
        yield return $".NET: {RuntimeInformation.FrameworkDescription}, GC: {(GCSettings.IsServerGC ? "server" : "workstation")}, tiered PGO, build: {BuildConfiguration}";
        yield return $"TorchSharp: {TorchEnvironment.Version} (TorchSharp-cpu), torch.get_num_threads() = {TorchEnvironment.Threads}, float64";
        yield return "This library: single-threaded; TorchSharp: as many intra-op threads as cores.";
        yield return $"Load average at start: {LoadAverage()} (other processes on the machine disturb the timings, TorchSharp's threads most)";
    }

    /// <summary>The 1-, 5- and 15-minute load averages from /proc/loadavg, or "n/a".</summary>
    public static string LoadAverage()
    {
        try
        {
            if (File.Exists("/proc/loadavg")) return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            // Not available: say so.
        }
        return "n/a";
    }

    /// <summary>"Release" or "Debug" (timings of a Debug build are meaningless).</summary>
    public static string BuildConfiguration =>
#if DEBUG
        "Debug (timings meaningless: use -c Release)";
#else
        "Release";
#endif

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null) return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
            // Fall through to the architecture.
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
