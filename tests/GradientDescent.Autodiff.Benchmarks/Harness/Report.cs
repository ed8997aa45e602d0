using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>Prints results: the Markdown table, the machine-readable BENCH lines and the targets.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The Markdown table: workload, ours, TorchSharp, speed-up, extra figures, gradient agreement.</summary>
    public static string Table(IEnumerable<WorkloadResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var s = new StringBuilder();
        s.AppendLine("| workload | unit | ours | TorchSharp | speed-up | extra | grad max rel err |");
        s.AppendLine("|---|---|---:|---:|---:|---|---:|");
        foreach (WorkloadResult r in results)
        {
            string extras = string.Join(", ", r.Extras.Select(e => $"{e.Label} {e.Formatted}"));
            string check = $"{r.Check.MaxRelativeError.ToString("0.0e+0", Inv)}{(r.Check.Passed ? "" : " **FAIL**")}";
            s.AppendLine(Inv, $"| {r.Name} | {r.Unit} | {Time(r.OursMs)} | {Time(r.TorchMs)} | {(double.IsNaN(r.Speedup) ? "n/a" : r.Speedup.ToString("0.00", Inv) + "×")} | {extras} | {check} |");
        }
        return s.ToString();
    }

    /// <summary>One line per row: <c>BENCH name ours_ms=… torch_ms=… speedup=… key=value…</c>.</summary>
    public static string BenchLine(WorkloadResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var s = new StringBuilder();
        s.Append(Inv, $"BENCH {r.Name} ours_ms={G(r.OursMs)} torch_ms={G(r.TorchMs)} speedup={G(r.Speedup)}");
        foreach (Extra e in r.Extras) s.Append(Inv, $" {e.Key}={G(e.Value)}");
        if (!double.IsNaN(r.OursSpread)) s.Append(Inv, $" ours_spread={G(r.OursSpread)}");
        if (!double.IsNaN(r.TorchSpread)) s.Append(Inv, $" torch_spread={G(r.TorchSpread)}");
        s.Append(Inv, $" grad_max_rel_err={r.Check.MaxRelativeError.ToString("0.###e+0", Inv)} grad_ok={(r.Check.Passed ? "true" : "false")}");
        return s.ToString();
    }

    /// <summary>
    /// The targets of every row, each marked met ([x]), not met ([ ]) or not checked ([?]), with the figure; rows with
    /// <see cref="WorkloadResult.NoSlowerThanBefore"/> get that target from <paramref name="comparison"/>.
    /// </summary>
    public static string Targets(IEnumerable<WorkloadResult> results, Comparison? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var s = new StringBuilder();
        foreach (WorkloadResult r in results)
        {
            IEnumerable<TargetCheck> targets = r.NoSlowerThanBefore ? r.Targets.Append(Comparison.NoSlower(r, comparison)) : r.Targets;
            foreach (TargetCheck t in targets)
            {
                (string box, string flag) = (t.Checked, t.Met) switch
                {
                    (false, _) => ("?", "  (NOT CHECKED)"),
                    (true, true) => ("x", ""),
                    _ => (" ", "  (NOT MET)"),
                };
                s.AppendLine(Inv, $"- [{box}] {r.Name}: {t.Description} — {t.Figure}{flag}");
            }
        }
        return s.ToString();
    }

    /// <summary>Notes on how figures were obtained (scaling, subsets) and gradient-check reasons.</summary>
    public static string Notes(IEnumerable<WorkloadResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var s = new StringBuilder();
        foreach (WorkloadResult r in results)
        {
            if (r.Note is not null) s.AppendLine(Inv, $"- {r.Name}: {r.Note}");
            s.AppendLine(Inv, $"- {r.Name}: gradient check on {r.Check.What}: max rel err {r.Check.MaxRelativeError:0.0e+0} (tolerance {r.Check.Tolerance:0e+0}{(r.Check.Reason is null ? "" : "; " + r.Check.Reason)}) — {(r.Check.Passed ? "agree" : "DISAGREE")}");
        }
        return s.ToString();
    }

    /// <summary>
    /// The rows whose samples spread more than <see cref="WorkloadResult.UnsteadySpread"/> of their median (either
    /// engine), one line each with both spreads; empty when every row was steady.
    /// </summary>
    public static string Unsteady(IEnumerable<WorkloadResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var s = new StringBuilder();
        foreach (WorkloadResult r in results.Where(r => r.Unsteady))
        {
            s.AppendLine(Inv, $"- {r.Name}: spread {Percent(r.OursSpread)} of the median (this library), {Percent(r.TorchSpread)} (TorchSharp)");
        }
        return s.ToString();
    }

    private static string Percent(double spread) => double.IsNaN(spread) ? "n/a" : (100 * spread).ToString("0", Inv) + " %";

    /// <summary>A duration in the most readable unit.</summary>
    public static string Time(double ms) => ms switch
    {
        double.NaN => "n/a",
        < 1e-3 => $"{(ms * 1e6).ToString("0.#", Inv)} ns",
        < 1 => $"{(ms * 1e3).ToString("0.##", Inv)} µs",
        < 1000 => $"{ms.ToString("0.##", Inv)} ms",
        _ => $"{(ms / 1000).ToString("0.##", Inv)} s",
    };

    /// <summary>A ratio such as a speed-up: 1.23× below 100, 123× from 100 on, n/a when not finite.</summary>
    public static string Factor(double v) => double.IsFinite(v) ? v.ToString(v >= 100 ? "0" : "0.00", Inv) + "×" : "n/a";

    /// <summary>
    /// The lines of a saved run's output, or null and a message that names the option and the file and says what to
    /// pass (<paramref name="wanted"/>) when it cannot be read.
    /// </summary>
    public static string[]? ReadRun(string option, string path, string wanted, out string? message)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            message = null;
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            message = $"{option} {path}: cannot read it ({e.Message}); pass {wanted}.";
            return null;
        }
    }

    private static string G(double v) => v.ToString("G6", Inv);
}
