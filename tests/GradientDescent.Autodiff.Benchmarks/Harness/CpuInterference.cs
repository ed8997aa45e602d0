using System.Globalization;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// How much of the machine's CPU time other processes took while a workload ran (Linux: /proc/stat minus this
/// process's /proc/self/stat). TorchSharp's threads wait for each other, so on a two-core machine even one busy
/// neighbour can multiply its times; a run with interference says so next to its numbers.
/// </summary>
public sealed class CpuInterference
{
    private readonly long _total, _busy, _self;

    private CpuInterference(long total, long busy, long self)
    {
        _total = total;
        _busy = busy;
        _self = self;
    }

    /// <summary>The counters now, or null where /proc is not available.</summary>
    public static CpuInterference? Start()
    {
        try
        {
            if (!File.Exists("/proc/stat") || !File.Exists("/proc/self/stat")) return null;
            // "cpu  user nice system idle iowait irq softirq steal ...": idle and iowait are not busy.
            long[] cpu = [.. File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
            long total = cpu.Sum(), busy = total - cpu[3] - cpu[4];
            // /proc/self/stat: fields after the ")" of the command name; utime and stime are fields 14 and 15.
            string stat = File.ReadAllText("/proc/self/stat");
            string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long self = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
            return new CpuInterference(total, busy, self);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The share (0 to 1) of all CPUs' time since <see cref="Start"/> used by other processes, or NaN.</summary>
    public double OthersShare()
    {
        CpuInterference? now = Start();
        if (now is null || now._total <= _total) return double.NaN;
        double others = (now._busy - _busy) - (now._self - _self);
        return Math.Max(0, others / (now._total - _total));
    }
}
