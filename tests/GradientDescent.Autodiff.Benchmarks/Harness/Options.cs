namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>The command line: <c>[--quick] [--only name[,name…]]</c>.</summary>
/// <remarks>
/// Parsed by hand: two flags do not justify a dependency (System.CommandLine would also need a central package
/// version, outside this program's folder).
/// </remarks>
/// <param name="Quick">Run the quick variant (under two minutes).</param>
/// <param name="Only">Workload names (or prefixes) to run; empty = all.</param>
public sealed record Options(bool Quick, IReadOnlyList<string> Only)
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        Usage: GradientDescent.Autodiff.Benchmarks [--quick] [--only <name>[,<name>...]]
          --quick        smaller sizes and fewer repetitions (finishes within two minutes)
          --only <name>  run only the named workloads (a prefix matches): deep_chain, micrograd_mlp,
                         logreg_full_batch, small_batch_sgd, op_overhead, mlp_epoch, trainer_overhead, jvp
          --help         this text
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and an error message (or the usage text for --help).</summary>
    public static Options? Parse(IReadOnlyList<string> args, out string? message)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool quick = false;
        var only = new List<string>();
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
                case "--only":
                    message = "--only needs a workload name.\n" + Usage;
                    return null;
                case "--help" or "-h":
                    message = Usage;
                    return null;
                default:
                    message = $"Unknown argument '{args[k]}'.\n" + Usage;
                    return null;
            }
        }
        return new Options(quick, only);
    }

    /// <summary>Whether the workload named <paramref name="name"/> is selected.</summary>
    public bool Selects(string name) => Only.Count == 0 || Only.Any(o => name.StartsWith(o, StringComparison.OrdinalIgnoreCase));
}
