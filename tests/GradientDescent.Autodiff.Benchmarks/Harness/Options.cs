using System.Globalization;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// The command line: <c>[--quick] [--only name[,name…]] [--threads N] [--compare FILE]</c>, or
/// <c>--summarize FILE…</c> alone.
/// </summary>
/// <remarks>
/// Parsed by hand: five flags do not justify a dependency (System.CommandLine would also need a central package
/// version, outside this program's folder).
/// </remarks>
/// <param name="Quick">Run the quick variant (under two minutes).</param>
/// <param name="Only">Workload names (or prefixes) to run; empty = all.</param>
/// <param name="Threads">The library's thread count (<see cref="Parallelism.ThreadCount"/>), or null for its default (the machine's cores).</param>
/// <param name="Compare">The output of an earlier run whose BENCH lines this run is compared with, or null.</param>
/// <param name="Summarize">Saved outputs of earlier runs to summarise (<see cref="Summary"/>) instead of running anything; empty otherwise.</param>
public sealed record Options(bool Quick, IReadOnlyList<string> Only, int? Threads = null, string? Compare = null, IReadOnlyList<string>? Summarize = null)
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        Usage: GradientDescent.Autodiff.Benchmarks [--quick] [--only <name>[,<name>...]] [--threads <N>] [--compare <file>]
               GradientDescent.Autodiff.Benchmarks --summarize <file> [<file>...]
          --quick           smaller sizes and fewer repetitions (finishes within two minutes)
          --only <name>     run only the named workloads (a prefix matches): deep_chain, micrograd_mlp,
                            logreg_full_batch, small_batch_sgd, op_overhead, mlp_epoch, trainer_overhead, jvp, hvp,
                            softmax_regression
          --threads <N>     this library's thread count (Parallelism.ThreadCount, 1 to 256); default the machine's
                            cores. TorchSharp keeps as many threads as cores.
          --compare <file>  an earlier run's output: prints before → now per row (ours and TorchSharp's) and checks
                            the "no slower than before" targets against it
          --summarize <file>...  runs nothing: the saved outputs of several runs, summarised per row (median and
                            range of both engines' times, the speed-up and the ratio to a memory bound)
          --help            this text
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and an error message (or the usage text for --help).</summary>
    public static Options? Parse(IReadOnlyList<string> args, out string? message)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool quick = false;
        var only = new List<string>();
        int? threads = null;
        string? compare = null;
        var summarize = new List<string>();
        bool summarizing = false;
        message = null;
        for (int k = 0; k < args.Count; k++)
        {
            switch (args[k])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--only" when k + 1 < args.Count:
                    only.AddRange(args[++k].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--threads" when k + 1 < args.Count:
                    if (!int.TryParse(args[++k], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 256)
                    {
                        message = $"--threads needs a thread count from 1 to 256, not '{args[k]}'.\n" + Usage;
                        return null;
                    }
                    threads = n;
                    break;
                case "--compare" when k + 1 < args.Count:
                    compare = args[++k];
                    break;
                case "--summarize":
                    summarizing = true;
                    while (k + 1 < args.Count && !args[k + 1].StartsWith("--", StringComparison.Ordinal)) summarize.Add(args[++k]);
                    if (summarize.Count == 0)
                    {
                        message = "--summarize needs a value (the saved outputs of one or more runs of this program).\n" + Usage;
                        return null;
                    }
                    break;
                case "--only" or "--threads" or "--compare":
                    message = $"{args[k]} needs a value ({(args[k] == "--only" ? "a workload name" : args[k] == "--threads" ? "a thread count" : "the file of an earlier run's output")}).\n" + Usage;
                    return null;
                case "--help" or "-h":
                    message = Usage;
                    return null;
                default:
                    message = $"Unknown argument '{args[k]}'.\n" + Usage;
                    return null;
            }
        }
        if (summarizing && (quick || only.Count > 0 || threads is not null || compare is not null))
        {
            message = "--summarize reads saved runs and runs nothing: it takes no other option.\n" + Usage;
            return null;
        }
        return new Options(quick, only, threads, compare, summarize);
    }

    /// <summary>Whether the workload named <paramref name="name"/> is selected.</summary>
    public bool Selects(string name) => Only.Count == 0 || Only.Any(o => name.StartsWith(o, StringComparison.OrdinalIgnoreCase));
}
