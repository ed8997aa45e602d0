using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>One BENCH line read back from a run's output: the row's name and its numeric figures.</summary>
/// <param name="Name">The row name, e.g. <c>deep_chain</c> or <c>logreg_full_batch_n100000</c>.</param>
/// <param name="Figures">Every <c>key=value</c> whose value is a number (ours_ms, torch_ms, speedup, the extras).</param>
public sealed record BenchRecord(string Name, IReadOnlyDictionary<string, double> Figures)
{
    /// <summary>This library's milliseconds, or NaN if the line has none.</summary>
    public double OursMs => Figure("ours_ms");

    /// <summary>TorchSharp's milliseconds, or NaN (trainer_overhead has no TorchSharp side).</summary>
    public double TorchMs => Figure("torch_ms");

    /// <summary>The figure named <paramref name="key"/>, or NaN.</summary>
    public double Figure(string key) => Figures.TryGetValue(key, out double v) ? v : double.NaN;

    /// <summary>
    /// Reads <c>BENCH name key=value key=value …</c> (what <see cref="Report.BenchLine"/> prints); values that are not
    /// numbers (grad_ok=true) are left out. Null for any other line.
    /// </summary>
    public static BenchRecord? Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        string[] tokens = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < 2 || tokens[0] != "BENCH" || tokens[1].Contains('=', StringComparison.Ordinal)) return null;
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string token in tokens.AsSpan(2))
        {
            int eq = token.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            if (double.TryParse(token.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) figures[token[..eq]] = v;
        }
        return new BenchRecord(tokens[1], figures);
    }
}

/// <summary>
/// This run against an earlier one (<c>--compare FILE</c>): before → now per row, for this library and TorchSharp, and
/// the "no slower than before" targets.
/// </summary>
/// <remarks>
/// <para>TorchSharp's ratio is the control: TorchSharp did not change between the runs, so its ratio shows how much the
/// machine itself (load, clocks) changed. A row is "no slower" when ours now ≤ (1 + <see cref="NoiseMargin"/>) × ours before.</para>
/// <para>Rows whose length depends on the scale (small_batch_sgd runs 2,000 steps with --quick and 10,000 in a full run;
/// trainer_overhead 30 or 100 epochs) are compared per step: whenever both lines have <c>us_per_step</c>, that figure
/// (and <c>torch_us_per_step</c>) is compared instead of the row's whole time, so a quick run compares with a full one.</para>
/// </remarks>
public sealed class Comparison
{
    /// <summary>
    /// How much slower than before still counts as "no slower": 5 %, about the run-to-run spread of medians
    /// on a quiet 2-core machine.
    /// </summary>
    public const double NoiseMargin = 0.05;

    private readonly Dictionary<string, BenchRecord> _before;

    private Comparison(string source, string? run, Dictionary<string, BenchRecord> before)
    {
        Source = source;
        Run = run;
        _before = before;
    }

    /// <summary>Where the earlier run came from (the file name).</summary>
    public string Source { get; }

    /// <summary>What the earlier run's title said it was ("full run", "--quick", …), or null if it had no title.</summary>
    public string? Run { get; }

    /// <summary>The earlier run's rows by name.</summary>
    public IReadOnlyDictionary<string, BenchRecord> Before => _before;

    /// <summary>
    /// Reads the BENCH lines of an earlier run's output (a row printed twice, as every run does, counts once: the last
    /// line wins). Null and a message when there is none: the message names the source and says what to pass.
    /// </summary>
    public static Comparison? Parse(string source, IEnumerable<string> lines, out string? message)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(lines);
        const string title = "# GradientDescent.Autodiff vs TorchSharp (";
        var before = new Dictionary<string, BenchRecord>(StringComparer.Ordinal);
        string? run = null;
        foreach (string line in lines)
        {
            if (BenchRecord.Parse(line) is { } record) before[record.Name] = record;
            else if (run is null && line.StartsWith(title, StringComparison.Ordinal) && line.TrimEnd().EndsWith(')')) run = line.TrimEnd()[title.Length..^1];
        }
        if (before.Count == 0)
        {
            message = $"--compare {source}: no BENCH lines in it; pass the saved output of an earlier run of this program (its lines 'BENCH <row> ours_ms=… torch_ms=…').";
            return null;
        }
        message = null;
        return new Comparison(source, run, before);
    }

    /// <summary>Reads <paramref name="path"/> as in <see cref="Parse"/>; null and a message if it cannot be read.</summary>
    public static Comparison? Read(string path, out string? message)
    {
        string[]? lines = Report.ReadRun("--compare", path, "the saved output of an earlier run of this program", out message);
        return lines is null ? null : Parse(Path.GetFileName(path), lines, out message);
    }

    /// <summary>The earlier run's row named <paramref name="name"/>, or null.</summary>
    public BenchRecord? BeforeOf(string name) => _before.GetValueOrDefault(name);

    /// <summary>
    /// The figures compared for <paramref name="now"/>: milliseconds of ours and TorchSharp's, before and now — per
    /// step (<c>us_per_step</c>) when both runs give that, otherwise the row's whole time.
    /// </summary>
    public static (double Before, double Now, double TorchBefore, double TorchNow, bool PerStep) Figures(BenchRecord before, WorkloadResult now)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        double perStepBefore = before.Figure("us_per_step"), perStepNow = now.ExtraValue("us_per_step");
        if (double.IsFinite(perStepBefore) && double.IsFinite(perStepNow))
        {
            return (perStepBefore / 1e3, perStepNow / 1e3, before.Figure("torch_us_per_step") / 1e3, now.ExtraValue("torch_us_per_step") / 1e3, true);
        }
        return (before.OursMs, now.OursMs, before.TorchMs, now.TorchMs, false);
    }

    /// <summary>
    /// The Markdown table: per row of this run, ours before → now and now/before, TorchSharp's the same, and the
    /// speed-up before → now. Rows the earlier run did not have say so; rows compared per step say "/step".
    /// </summary>
    public string Table(IEnumerable<WorkloadResult> now)
    {
        ArgumentNullException.ThrowIfNull(now);
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine("| row | ours before → now | ours now/before | TorchSharp before → now | TorchSharp now/before | speed-up before → now |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (WorkloadResult r in now)
        {
            if (BeforeOf(r.Name) is not { } b)
            {
                s.AppendLine(inv, $"| {r.Name} | — → {Report.Time(r.OursMs)} | not in the before run | — → {Report.Time(r.TorchMs)} | | — → {Report.Factor(r.Speedup)} |");
                continue;
            }
            (double before, double current, double torchBefore, double torchNow, bool perStep) = Figures(b, r);
            string unit = perStep ? "/step" : "";
            s.AppendLine(inv, $"| {r.Name} | {Report.Time(before)}{unit} → {Report.Time(current)}{unit} | {Ratio(current, before)} | {Report.Time(torchBefore)}{unit} → {Report.Time(torchNow)}{unit} | {Ratio(torchNow, torchBefore)} | {Report.Factor(torchBefore / before)} → {Report.Factor(torchNow / current)} |");
        }
        return s.ToString();
    }

    /// <summary>
    /// The "no slower than before" target of <paramref name="row"/> against <paramref name="comparison"/>: met when
    /// ours now ≤ (1 + <see cref="NoiseMargin"/>) × ours before; not checked without an earlier run or without the row in it.
    /// </summary>
    public static TargetCheck NoSlower(WorkloadResult row, Comparison? comparison)
    {
        ArgumentNullException.ThrowIfNull(row);
        var inv = CultureInfo.InvariantCulture;
        string description = string.Create(inv, $"no slower than before (ours now ≤ {1 + NoiseMargin:0.00}× before: {NoiseMargin:0 %} noise margin)");
        if (comparison is null) return new TargetCheck(description, "no before run (pass --compare FILE)", Met: false, Checked: false);
        if (comparison.BeforeOf(row.Name) is not { } b)
        {
            return new TargetCheck(description, $"{row.Name} is not in {comparison.Source}", Met: false, Checked: false);
        }
        (double before, double current, double torchBefore, double torchNow, bool perStep) = Figures(b, row);
        if (!(before > 0))
        {
            return new TargetCheck(description, $"{row.Name} has no time in {comparison.Source}", Met: false, Checked: false);
        }
        double ratio = current / before;
        string unit = perStep ? " per step" : "";
        string figure = string.Create(inv, $"{Report.Time(before)} → {Report.Time(current)}{unit} ({ratio:0.00}×; TorchSharp {Ratio(torchNow, torchBefore)}) vs {comparison.Source}");
        return new TargetCheck(description, figure, ratio <= 1 + NoiseMargin);
    }

    private static string Ratio(double now, double before) =>
        double.IsFinite(now / before) ? (now / before).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "n/a";
}
