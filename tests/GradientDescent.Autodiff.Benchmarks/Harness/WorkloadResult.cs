using System.Globalization;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>A workload: runs with both engines on the same data and reports one or more result rows.</summary>
public interface IWorkload
{
    /// <summary>The name used by <c>--only</c> and as the prefix of every row's name.</summary>
    string Name { get; }

    /// <summary>What the workload does, in one line.</summary>
    string Description { get; }

    /// <summary>Runs the workload with both engines and returns one result per size or variant.</summary>
    IReadOnlyList<WorkloadResult> Run(RunSettings settings);
}

/// <summary>An extra figure of a result row: printed as <c>key=value</c> on its BENCH line and in the table.</summary>
/// <param name="Key">The machine-readable key (ns_per_node, bwd_fwd, gbps, bytes_per_node, alloc_bytes_per_step, ...).</param>
/// <param name="Value">The figure.</param>
/// <param name="Label">A short human label for the table.</param>
public sealed record Extra(string Key, double Value, string Label)
{
    /// <summary>The value with up to four significant digits (integers as integers).</summary>
    public string Formatted => Format(Value);

    /// <summary>Formats a figure with up to four significant digits, invariant culture.</summary>
    public static string Format(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) return value.ToString(CultureInfo.InvariantCulture);
        if (value == Math.Round(value) && Math.Abs(value) < 1e12) return value.ToString("0", CultureInfo.InvariantCulture);
        return value.ToString(Math.Abs(value) >= 1000 ? "0" : "G4", CultureInfo.InvariantCulture);
    }
}

/// <summary>A target from the issue and whether this run met it.</summary>
/// <param name="Description">The target, e.g. "≤ 20 ns per node forward + backward".</param>
/// <param name="Figure">The measured figure, e.g. "13.2 ns".</param>
/// <param name="Met">Whether the figure meets the target.</param>
/// <param name="Checked">False when the run could not check the target (a comparison without an earlier run); Met is then false.</param>
public sealed record TargetCheck(string Description, string Figure, bool Met, bool Checked = true);

/// <summary>
/// Whether two engines computed the same gradients: the largest elementwise relative error, each difference
/// measured against max(|torch value|, 10⁻³ · the largest |torch value|) so that components far below the
/// gradient's scale (where only absolute agreement is meaningful) cannot inflate it.
/// </summary>
/// <param name="What">What was compared, e.g. "∂L/∂w, ∂L/∂b".</param>
/// <param name="MaxRelativeError">The largest relative error over all compared values.</param>
/// <param name="Tolerance">The largest acceptable value (10⁻⁹ unless a documented reason applies).</param>
/// <param name="Reason">Why a looser tolerance applies, or null.</param>
public sealed record GradientCheck(string What, double MaxRelativeError, double Tolerance, string? Reason)
{
    /// <summary>The tolerance for two float64 engines.</summary>
    public const double DefaultTolerance = 1e-9;

    /// <summary>Whether the engines agree.</summary>
    public bool Passed => MaxRelativeError <= Tolerance;

    /// <summary>Compares two flattened gradients (or parameter vectors) of equal length.</summary>
    public static GradientCheck Compare(string what, ReadOnlySpan<double> ours, ReadOnlySpan<double> torch,
        double tolerance = DefaultTolerance, string? reason = null) =>
        new(what, RelativeError(ours, torch), tolerance, reason);

    /// <summary>The error measure described on <see cref="GradientCheck"/>; infinity on a length mismatch or NaN.</summary>
    public static double RelativeError(ReadOnlySpan<double> ours, ReadOnlySpan<double> torch)
    {
        if (ours.Length != torch.Length || ours.Length == 0) return double.PositiveInfinity;
        double scale = 0;
        foreach (double v in torch) scale = Math.Max(scale, Math.Abs(v));
        double floor = Math.Max(scale * 1e-3, double.Epsilon);
        double worst = 0;
        for (int k = 0; k < ours.Length; k++)
        {
            double e = Math.Abs(ours[k] - torch[k]) / Math.Max(Math.Abs(torch[k]), floor);
            if (double.IsNaN(e)) return double.PositiveInfinity;
            worst = Math.Max(worst, e);
        }
        return worst;
    }

    /// <summary>The worse of two checks (for workloads that compare several things).</summary>
    public static GradientCheck Worst(GradientCheck a, GradientCheck b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.MaxRelativeError / a.Tolerance >= b.MaxRelativeError / b.Tolerance ? a : b;
    }
}

/// <summary>One row of the report: both engines' timings for one workload variant, its extras, targets and gradient check.</summary>
/// <param name="Name">The row name on the BENCH line, e.g. <c>logreg_full_batch_n100000</c>.</param>
/// <param name="OursMs">Median milliseconds of this library for the unit of work the row names.</param>
/// <param name="TorchMs">Median milliseconds of TorchSharp for the same unit (scaled when <see cref="Note"/> says so).</param>
/// <param name="Unit">The unit of work timed, e.g. "fwd+bwd", "step", "epoch".</param>
/// <param name="Extras">The extra figures (ns_per_node, gbps, ...).</param>
/// <param name="Targets">The targets for this row and whether they were met.</param>
/// <param name="Check">The gradient comparison.</param>
/// <param name="Note">How the figures were obtained where it is not obvious (scaling, subsets), or null.</param>
/// <param name="OursGradient">This library's compared values, flattened.</param>
/// <param name="TorchGradient">TorchSharp's compared values, flattened.</param>
public sealed record WorkloadResult(
    string Name,
    double OursMs,
    double TorchMs,
    string Unit,
    IReadOnlyList<Extra> Extras,
    IReadOnlyList<TargetCheck> Targets,
    GradientCheck Check,
    string? Note,
    double[] OursGradient,
    double[] TorchGradient)
{
    /// <summary>
    /// Whether the row has the target "no slower than before", checked against an earlier run given with
    /// <c>--compare</c> (see <see cref="Comparison.NoSlower"/>).
    /// </summary>
    public bool NoSlowerThanBefore { get; init; }

    /// <summary>The spread of this library's samples (<see cref="Timing.Spread"/>), or NaN if not measured.</summary>
    public double OursSpread { get; init; } = double.NaN;

    /// <summary>The spread of TorchSharp's samples (<see cref="Timing.Spread"/>), or NaN if not measured.</summary>
    public double TorchSpread { get; init; } = double.NaN;

    /// <summary>
    /// A spread above which a row is reported as unsteady: its samples moved with the machine while it was measured.
    /// On the quiet development machine most rows spread 1–10 %; a fifth of the median is well outside that.
    /// </summary>
    public const double UnsteadySpread = 0.20;

    /// <summary>Whether either engine's samples spread more than <see cref="UnsteadySpread"/> (NaN, unmeasured, does not count).</summary>
    public bool Unsteady => OursSpread > UnsteadySpread || TorchSpread > UnsteadySpread;

    /// <summary>TorchSharp's time over ours: above 1 means this library is faster.</summary>
    public double Speedup => TorchMs / OursMs;

    /// <summary>The extra with key <paramref name="key"/>, or NaN.</summary>
    public double ExtraValue(string key) => Extras.FirstOrDefault(e => e.Key == key)?.Value ?? double.NaN;
}
