using Xunit;

namespace GradientDescent.Autodiff.Benchmarks.Tests;

/// <summary>--summarize: several saved runs summarised per row (median and range over the runs).</summary>
public sealed class SummaryTests
{
    private static string Run(string kind, string cpu, params string[] benchLines) =>
        $"# GradientDescent.Autodiff vs TorchSharp ({kind})\n\n- CPU: {cpu}\n" + string.Join('\n', benchLines) + "\n";

    private static Summary Parsed(params string[] outputs)
    {
        Summary? summary = Summary.Parse([.. outputs.Select((o, k) => ($"run{k + 1}.txt", (IReadOnlyList<string>)o.Split('\n')))], out string? message);
        Assert.Null(message);
        Assert.NotNull(summary);
        return summary;
    }

    [Fact]
    public void Options_Summarize_TakesFilesAndNoOtherOption()
    {
        Options? o = Options.Parse(["--summarize", "a.txt", "b.txt"], out string? message);
        Assert.Null(message);
        Assert.Equal(["a.txt", "b.txt"], o!.Summarize);
        Assert.Empty(Options.Parse(["--quick"], out _)!.Summarize!);

        Assert.Null(Options.Parse(["--summarize"], out message));
        Assert.Contains("--summarize needs a value", message, StringComparison.Ordinal);
        Assert.Null(Options.Parse(["--summarize", "--quick"], out message));
        Assert.Contains("--summarize needs a value", message, StringComparison.Ordinal);
        Assert.Null(Options.Parse(["--summarize", "a.txt", "--quick"], out message));
        Assert.Contains("takes no other option", message, StringComparison.Ordinal);
        Assert.Null(Options.Parse(["--only", "deep_chain", "--summarize", "a.txt"], out message));
        Assert.Contains("takes no other option", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_Figure_IsTheMedianAndRangeOverTheRunsThatHaveTheRow()
    {
        // Odd count: the middle value; even count: the mean of the two middle ones. The speed-up is each run's own
        // (not torch median / ours median: 900/20 = 45); a row missing from a run, or a figure that is not a number,
        // is left out of that row's figures.
        Summary three = Parsed(
            Run("full run", "X", "BENCH deep_chain ours_ms=10 torch_ms=900 speedup=90", "BENCH hvp_n10000 ours_ms=1 torch_ms=1.5 speedup=1.5"),
            Run("full run", "X", "BENCH deep_chain ours_ms=30 torch_ms=800 speedup=26.7", "BENCH trainer_overhead ours_ms=12 torch_ms=NaN speedup=NaN"),
            Run("full run", "X", "BENCH deep_chain ours_ms=20 torch_ms=1000 speedup=50"));
        Assert.Equal(3, three.Count);
        Assert.Equal((20.0, 10.0, 30.0, 3), three.Figure("deep_chain", "ours_ms"));
        Assert.Equal((900.0, 800.0, 1000.0, 3), three.Figure("deep_chain", "torch_ms"));
        Assert.Equal((50.0, 26.7, 90.0, 3), three.Figure("deep_chain", "speedup"));
        Assert.Equal((1.0, 1.0, 1.0, 1), three.Figure("hvp_n10000", "ours_ms"));
        Assert.Null(three.Figure("trainer_overhead", "torch_ms"));
        Assert.Null(three.Figure("deep_chain", "of_bound"));
        Assert.Null(three.Figure("jvp", "ours_ms"));

        Summary four = Parsed(
            Run("full run", "X", "BENCH logreg_full_batch_fused_n100000 ours_ms=2 of_bound=1.1"),
            Run("full run", "X", "BENCH logreg_full_batch_fused_n100000 ours_ms=4 of_bound=1.5"),
            Run("full run", "X", "BENCH logreg_full_batch_fused_n100000 ours_ms=1 of_bound=1.3"),
            Run("full run", "X", "BENCH logreg_full_batch_fused_n100000 ours_ms=3 of_bound=1.2"));
        Assert.Equal((2.5, 1.0, 4.0, 4), four.Figure("logreg_full_batch_fused_n100000", "ours_ms"));
        var bound = four.Figure("logreg_full_batch_fused_n100000", "of_bound")!.Value;
        Assert.Equal(1.25, bound.Median, 12);
    }

    [Fact]
    public void Summary_Table_RowsInTheOrderPrinted_WithTheCpuAndTheRunsPerRow()
    {
        // A run prints each BENCH line twice (after its workload and at the end): a row counts once per run.
        Summary summary = Parsed(
            Run("full run", "AMD EPYC, 2 cores", "BENCH micrograd_mlp ours_ms=1 torch_ms=800 speedup=800", "BENCH deep_chain ours_ms=12 torch_ms=11000 speedup=917",
                "BENCH micrograd_mlp ours_ms=1 torch_ms=800 speedup=800", "BENCH deep_chain ours_ms=12 torch_ms=11000 speedup=917"),
            Run("full run", "AMD EPYC, 2 cores", "BENCH deep_chain ours_ms=14 torch_ms=10000 speedup=714",
                "BENCH logreg_full_batch_fused_n100000 ours_ms=2.1 torch_ms=24 speedup=11.4 of_bound=1.24"));
        string table = summary.Table();
        Assert.Contains("# Summary of 2 runs (full run): run1.txt, run2.txt", table, StringComparison.Ordinal);
        Assert.Contains("CPU: AMD EPYC, 2 cores", table, StringComparison.Ordinal);
        Assert.DoesNotContain("WARNING", table, StringComparison.Ordinal);
        string[] rows = [.. table.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| row", StringComparison.Ordinal))];
        Assert.Equal(3, rows.Length);
        Assert.Equal("| micrograd_mlp | 1 | 1 ms [1 ms–1 ms] | 800 ms [800 ms–800 ms] | 800× [800×–800×] |  |", rows[0]);
        Assert.Equal("| deep_chain | 2 | 13 ms [12 ms–14 ms] | 10.5 s [10 s–11 s] | 816× [714×–917×] |  |", rows[1]);
        Assert.Equal("| logreg_full_batch_fused_n100000 | 1 | 2.1 ms [2.1 ms–2.1 ms] | 24 ms [24 ms–24 ms] | 11.40× [11.40×–11.40×] | 1.24× [1.24×–1.24×] |", rows[2]);
    }

    [Fact]
    public void Summary_Table_RunsOfSeveralCpus_CarryAWarning()
    {
        string table = Parsed(
            Run("full run", "AMD EPYC, 2 cores", "BENCH deep_chain ours_ms=12"),
            Run("full run", "Intel(R) Xeon(R), 2 cores", "BENCH deep_chain ours_ms=16")).Table();
        Assert.Contains("WARNING: the runs name 2 CPUs (AMD EPYC, 2 cores; Intel(R) Xeon(R), 2 cores)", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_Parse_RunsOfDifferentKindsOrWithoutBenchLines_AreRefused()
    {
        Assert.Null(Summary.Parse([], out string? message));
        Assert.Contains("one or more runs", message, StringComparison.Ordinal);

        Assert.Null(Summary.Parse(
            [("full.txt", Run("full run", "X", "BENCH deep_chain ours_ms=12").Split('\n')), ("quick.txt", Run("--quick", "X", "BENCH deep_chain ours_ms=3").Split('\n'))],
            out message));
        Assert.Contains("different kinds (full.txt: full run, quick.txt: --quick)", message, StringComparison.Ordinal);

        Assert.Null(Summary.Parse([("full.txt", Run("full run", "X", "BENCH deep_chain ours_ms=12").Split('\n')), ("notes.md", ["# notes", "nothing here"])], out message));
        Assert.Contains("--summarize notes.md: no BENCH lines in it", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_Read_MissingFile_IsNullWithAMessage()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-run-{Guid.NewGuid():N}.txt");
        Assert.Null(Summary.Read([missing], out string? message));
        Assert.Contains($"--summarize {missing}: cannot read it", message, StringComparison.Ordinal);
    }
}
