using System.Runtime;
using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>What the numbers were measured on.</summary>
public static class MachineInfo
{
    /// <summary>
    /// Lines describing the machine, the runtime, both engines' thread counts and the memory bandwidth (call after
    /// <see cref="TorchEnvironment.EnsureLoaded"/> and after setting <see cref="Parallelism.ThreadCount"/>).
    /// </summary>
    /// <param name="threadsFromCommandLine">Whether <c>--threads</c> set the library's thread count.</param>
    /// <param name="bandwidth">The read bandwidth measured in this run.</param>
    public static IEnumerable<string> Describe(bool threadsFromCommandLine, MeasuredBandwidth bandwidth)
    {
        ArgumentNullException.ThrowIfNull(bandwidth);
        yield return $"CPU: {CpuModel()}, {Environment.ProcessorCount} cores, Vector512 hardware-accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}";
        yield return $"OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})";
        yield return $".NET: {RuntimeInformation.FrameworkDescription}, GC: {(GCSettings.IsServerGC ? "server" : "workstation")}, tiered PGO, build: {BuildConfiguration}";
        yield return $"TorchSharp: {TorchEnvironment.Version} (TorchSharp-cpu), float64";
        yield return ThreadsLine(Parallelism.ThreadCount, threadsFromCommandLine, TorchEnvironment.Threads);
        yield return bandwidth.Describe();
        yield return $"Load average at start: {LoadAverage()} (other processes on the machine disturb the timings, TorchSharp's threads most)";
    }

    /// <summary>The header's thread line: this library's thread count and where it came from, and TorchSharp's.</summary>
    public static string ThreadsLine(int libraryThreads, bool fromCommandLine, int torchThreads)
    {
        string source = fromCommandLine
            ? "set by --threads"
            : Environment.GetEnvironmentVariable("GRADIENTDESCENT_THREADS") is { Length: > 0 } env && libraryThreads.ToString(System.Globalization.CultureInfo.InvariantCulture) == env.Trim()
                ? "from GRADIENTDESCENT_THREADS"
                : "default: the machine's cores";
        return $"Threads: this library Parallelism.ThreadCount = {libraryThreads} ({source}); TorchSharp torch.get_num_threads() = {torchThreads} (as many as cores)";
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

    /// <summary>
    /// The size of the largest (last-level) data or unified cache of CPU 0, from
    /// /sys/devices/system/cpu/cpu0/cache/index*/{level,type,size}; null where that is not available.
    /// </summary>
    public static long? LastLevelCacheBytes()
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        try
        {
            if (!Directory.Exists(root)) return null;
            long? best = null;
            int bestLevel = 0;
            foreach (string index in Directory.EnumerateDirectories(root, "index*"))
            {
                string type = ReadTrimmed(Path.Combine(index, "type"));
                if (type == "Instruction") continue;
                if (!int.TryParse(ReadTrimmed(Path.Combine(index, "level")), out int level)) continue;
                if (ParseCacheSize(ReadTrimmed(Path.Combine(index, "size"))) is not { } bytes) continue;
                if (level > bestLevel || (level == bestLevel && bytes > best))
                {
                    bestLevel = level;
                    best = bytes;
                }
            }
            return best;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A sysfs cache size ("32768K", "1M", "512") in bytes, or null if it is not one.</summary>
    public static long? ParseCacheSize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.Length == 0) return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) ? n * unit : null;
    }

    private static string ReadTrimmed(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "";

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
            if (File.Exists("/proc/cpuinfo") && DescribeCpu(File.ReadAllText("/proc/cpuinfo")) is { } cpu) return cpu;
        }
        catch (IOException)
        {
            // Fall through to the architecture.
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>
    /// The first processor of a /proc/cpuinfo text: its model name, then its family and model numbers and whether its
    /// flags list avx512f, e.g. "AMD EPYC (family 26, model 2, avx512f)"; null without a model name. A virtual machine
    /// may name only the vendor's line ("AMD EPYC"), and the numbers tell its generations apart (family 25 is Zen 3 or
    /// Zen 4, family 26 Zen 5), as the flag tells whether AVX-512 is there for the JIT to use.
    /// </summary>
    public static string? DescribeCpu(string cpuinfo)
    {
        ArgumentNullException.ThrowIfNull(cpuinfo);
        string? name = null, family = null, model = null, flags = null;
        foreach (string line in cpuinfo.Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                if (name is not null) break;
                continue;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "model name": name ??= value; break;
                case "cpu family": family ??= value; break;
                case "model": model ??= value; break;
                case "flags": flags ??= value; break;
            }
        }
        if (name is null) return null;
        var details = new List<string>(3);
        if (family is not null) details.Add($"family {family}");
        if (model is not null) details.Add($"model {model}");
        if (flags is not null) details.Add(flags.Split(' ').Contains("avx512f") ? "avx512f" : "no avx512f");
        return details.Count == 0 ? name : $"{name} ({string.Join(", ", details)})";
    }
}
