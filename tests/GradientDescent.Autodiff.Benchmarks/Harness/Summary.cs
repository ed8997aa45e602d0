using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Several saved runs of this program summarised row by row (<c>--summarize FILE…</c>): the median and the range over
/// the runs of this library's time, TorchSharp's, the speed-up and the ratio to a memory bound, so that a table such
/// as the README's ("the median of ten full runs") can be made from the runs' outputs, and remade by anyone.
/// </summary>
/// <remarks>
/// On a shared machine one run is one draw: medians over runs, with their ranges, say what is typical and how far it
/// moves. The speed-up's median is the median of each run's own speed-up (both engines measured in the same process),
/// not the ratio of the two medians. The runs must be of one kind, as their titles say (full runs or --quick ones, at
/// one --threads: the rows' sizes or thread counts differ otherwise), and should come from one CPU; runs of different
/// CPUs are summarised with a warning.
/// </remarks>
public sealed class Summary
{
    private const string CpuPrefix = "- CPU: ";

    private readonly List<(string Source, Comparison Run)> _runs;
    private readonly List<string> _rows;

    private Summary(List<(string Source, Comparison Run)> runs, List<string> rows, IReadOnlyList<string> cpus)
    {
        _runs = runs;
        _rows = rows;
        Cpus = cpus;
    }

    /// <summary>How many runs were read.</summary>
    public int Count => _runs.Count;

    /// <summary>The distinct CPU lines of the runs (as the report names its CPU), in the order first seen.</summary>
    public IReadOnlyList<string> Cpus { get; }

    /// <summary>What the runs were ("full run", "--quick", …), from their titles, or null when they have none.</summary>
    public string? Kind => _runs[0].Run.Run;

    /// <summary>
    /// Reads each run's output (<paramref name="runs"/>: a source name and its lines). Null and a message when there
    /// are no runs, when a run has no BENCH lines, or when the runs are of different kinds.
    /// </summary>
    public static Summary? Parse(IReadOnlyList<(string Source, IReadOnlyList<string> Lines)> runs, out string? message)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            message = "--summarize needs the saved outputs of one or more runs of this program.";
            return null;
        }
        var parsed = new List<(string Source, Comparison Run)>();
        var rows = new List<string>();
        var cpus = new List<string>();
        foreach ((string source, IReadOnlyList<string> lines) in runs)
        {
            Comparison? run = Comparison.Parse(source, lines, out _);
            if (run is null)
            {
                message = $"--summarize {source}: no BENCH lines in it; pass the saved outputs of runs of this program (their lines 'BENCH <row> ours_ms=… torch_ms=…').";
                return null;
            }
            parsed.Add((source, run));
            foreach (string line in lines)
            {
                if (BenchRecord.Parse(line) is { } record && !rows.Contains(record.Name)) rows.Add(record.Name);
            }
            string? cpu = lines.FirstOrDefault(l => l.StartsWith(CpuPrefix, StringComparison.Ordinal))?[CpuPrefix.Length..].Trim();
            if (cpu is not null && !cpus.Contains(cpu)) cpus.Add(cpu);
        }
        if (parsed.Select(p => p.Run.Run).Distinct().Count() > 1)
        {
            message = $"--summarize: the runs are of different kinds ({string.Join(", ", parsed.Select(p => $"{p.Source}: {p.Run.Run ?? "no title"}"))}); "
                + "their rows were measured at other sizes or thread counts, so summarise each kind apart.";
            return null;
        }
        message = null;
        return new Summary(parsed, rows, cpus);
    }

    /// <summary>Reads the files at <paramref name="paths"/> as in <see cref="Parse"/>; null and a message if one cannot be read.</summary>
    public static Summary? Read(IReadOnlyList<string> paths, out string? message)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var runs = new List<(string, IReadOnlyList<string>)>();
        foreach (string path in paths)
        {
            string[]? lines = Report.ReadRun("--summarize", path, "the saved outputs of runs of this program", out message);
            if (lines is null) return null;
            runs.Add((path, lines));
        }
        return Parse(runs, out message);
    }

    /// <summary>
    /// The median and range over the runs of <paramref name="key"/> for the row <paramref name="name"/> (the runs that
    /// have the row and a finite figure), or null when none has it.
    /// </summary>
    public (double Median, double Min, double Max, int Runs)? Figure(string name, string key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        double[] values = [.. _runs.Select(r => r.Run.BeforeOf(name)?.Figure(key) ?? double.NaN).Where(double.IsFinite)];
        return values.Length == 0 ? null : (Harness.Median(values), values.Min(), values.Max(), values.Length);
    }

    /// <summary>
    /// The Markdown report: a heading with the number and kind of runs and the CPU (a warning when the runs name
    /// different CPUs), then per row, in the order the runs print them, the runs that have it and the median [min–max] of
    /// this library's time, TorchSharp's, the speed-up and, where the row has one, the ratio to its memory bound.
    /// </summary>
    public string Table()
    {
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(inv, $"# Summary of {Count} run{(Count == 1 ? "" : "s")} ({Kind ?? "no title"}): {string.Join(", ", _runs.Select(r => r.Source))}");
        s.AppendLine();
        if (Cpus.Count == 1) s.AppendLine(inv, $"CPU: {Cpus[0]}");
        else if (Cpus.Count > 1) s.AppendLine(inv, $"WARNING: the runs name {Cpus.Count} CPUs ({string.Join("; ", Cpus)}): a median over machines describes none of them.");
        else s.AppendLine("CPU: not named in the runs.");
        s.AppendLine();
        s.AppendLine("| row | runs | ours median [range] | TorchSharp median [range] | speed-up median [range] | of bound median [range] |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (string name in _rows)
        {
            int runs = _runs.Count(r => r.Run.BeforeOf(name) is not null);
            s.AppendLine(inv, $"| {name} | {runs} | {Times(Figure(name, "ours_ms"))} | {Times(Figure(name, "torch_ms"))} | {Ratios(Figure(name, "speedup"))} | {Ratios(Figure(name, "of_bound"))} |");
        }
        return s.ToString();
    }

    private static string Times((double Median, double Min, double Max, int Runs)? f) =>
        f is { } v ? $"{Report.Time(v.Median)} [{Report.Time(v.Min)}–{Report.Time(v.Max)}]" : "n/a";

    private static string Ratios((double Median, double Min, double Max, int Runs)? f) =>
        f is { } v ? $"{Report.Factor(v.Median)} [{Report.Factor(v.Min)}–{Report.Factor(v.Max)}]" : "";
}
