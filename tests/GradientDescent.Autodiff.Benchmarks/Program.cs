using System.Diagnostics;
using GradientDescent.Autodiff;
using GradientDescent.Autodiff.Benchmarks;

// Runs every selected workload with this library and with TorchSharp, then prints the table, the BENCH lines, the
// targets, the comparison with an earlier run (--compare) and the notes; or, with --summarize, summarises saved runs.
// Exit code 1 if any workload's gradients disagree, 2 on a command-line error.
Options? options = Options.Parse(args, out string? message);
if (options is null)
{
    Console.Error.WriteLine(message);
    return message == Options.Usage ? 0 : 2;
}
if (options.Summarize is { Count: > 0 } files)
{
    Summary? summary = Summary.Read(files, out string? summaryMessage);
    if (summary is null)
    {
        Console.Error.WriteLine(summaryMessage);
        return 2;
    }
    Console.Write(summary.Table());
    return 0;
}
IWorkload[] selected = [.. WorkloadCatalog.All.Where(w => options.Selects(w.Name))];
if (selected.Length == 0)
{
    Console.Error.WriteLine($"--only {string.Join(",", options.Only)} matches no workload.\n{Options.Usage}");
    return 2;
}

Comparison? comparison = null;
if (options.Compare is not null)
{
    comparison = Comparison.Read(options.Compare, out string? compareMessage);
    if (comparison is null)
    {
        Console.Error.WriteLine(compareMessage);
        return 2;
    }
}

var wall = Stopwatch.StartNew();
if (options.Threads is { } threads) Parallelism.ThreadCount = threads;
TorchEnvironment.EnsureLoaded(Environment.ProcessorCount);
RunSettings settings = RunSettings.For(options.Quick ? Scale.Quick : Scale.Full);
MeasuredBandwidth bandwidth = MemoryBandwidth.Measure(settings.Reps, Environment.ProcessorCount);
Harness.Settle();

Console.WriteLine($"# GradientDescent.Autodiff vs TorchSharp ({(options.Quick ? "--quick" : "full run")}{(options.Threads is { } t ? $", --threads {t}" : "")})");
Console.WriteLine();
foreach (string line in MachineInfo.Describe(options.Threads is not null, bandwidth)) Console.WriteLine($"- {line}");
Console.WriteLine($"- Per engine and workload: at least {settings.Warmup} warm-up iterations and {settings.WarmupMs / 1000:0.0} s of warm-up, then the median of {settings.Reps} timed repetitions (at most 5 in full runs and 3 in quick ones for the long loops: micrograd_mlp on TorchSharp scalars, small_batch_sgd, mlp_epoch).");
Console.WriteLine();

var results = new List<WorkloadResult>();
var disturbed = new List<string>();
foreach (IWorkload workload in selected)
{
    Console.WriteLine($"## {workload.Name}: {workload.Description}");
    var sw = Stopwatch.StartNew();
    Harness.Settle();
    CpuInterference? interference = CpuInterference.Start();
    IReadOnlyList<WorkloadResult> rows = workload.Run(settings);
    foreach (WorkloadResult row in rows)
    {
        Console.WriteLine(Report.BenchLine(row));
        if (!row.Check.Passed)
        {
            Console.Error.WriteLine($"FAIL {row.Name}: the engines' gradients disagree ({row.Check.What}: max rel err {row.Check.MaxRelativeError:e2} > {row.Check.Tolerance:e0}).");
        }
    }
    double others = interference?.OthersShare() ?? double.NaN;
    Console.WriteLine($"({workload.Name} took {sw.Elapsed.TotalSeconds:0.0} s; other processes used {others:P0} of the machine's CPU time meanwhile)");
    if (others > 0.05) disturbed.Add($"{workload.Name} ({others:P0})");
    Console.WriteLine();
    results.AddRange(rows);
}

Console.WriteLine("## Results");
Console.WriteLine();
Console.Write(Report.Table(results));
Console.WriteLine();
Console.WriteLine("## Targets");
Console.WriteLine();
Console.Write(Report.Targets(results, comparison));
Console.WriteLine();
if (comparison is not null)
{
    Console.WriteLine($"## Compared with {comparison.Source}{(comparison.Run is { } run ? $" ({run})" : "")}");
    Console.WriteLine();
    Console.WriteLine($"now/before below 1 is faster now. TorchSharp did not change between the runs: its ratio shows how much the machine itself did. \"No slower\" allows {Comparison.NoiseMargin:0 %} of noise. Rows with a per-step figure (us_per_step) are compared per step, so runs of different lengths (--quick or not) compare.");
    Console.WriteLine();
    Console.Write(comparison.Table(results));
    Console.WriteLine();
}
Console.WriteLine("## Notes");
Console.WriteLine();
Console.Write(Report.Notes(results));
Console.WriteLine();
foreach (WorkloadResult row in results) Console.WriteLine(Report.BenchLine(row));
Console.WriteLine();
string unsteady = Report.Unsteady(results);
if (unsteady.Length > 0)
{
    Console.WriteLine($"UNSTEADY rows (the middle half of the samples spread over more than {WorkloadResult.UnsteadySpread:0 %} of the median: the machine changed while they were measured, and their medians and the targets judged on them are less certain; re-run to confirm):");
    Console.Write(unsteady);
}
if (disturbed.Count > 0)
{
    Console.WriteLine($"WARNING: other processes competed for the CPUs during {string.Join(", ", disturbed)}; those timings (TorchSharp's most) are unreliable. Re-run on a quiet machine.");
}
int failed = results.Count(r => !r.Check.Passed);
Console.WriteLine($"Wall time: {wall.Elapsed.TotalSeconds:0.0} s. Load average at the end: {MachineInfo.LoadAverage()}. Gradient checks: {results.Count - failed} agree, {failed} disagree.");
return failed == 0 ? 0 : 1;
