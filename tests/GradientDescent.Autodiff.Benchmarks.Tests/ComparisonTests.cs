using Xunit;

namespace GradientDescent.Autodiff.Benchmarks.Tests;

/// <summary>The command line's --threads and --compare, reading BENCH lines back, and the before → now report.</summary>
public sealed class ComparisonTests
{
    private const string Before = """
        # GradientDescent.Autodiff vs TorchSharp (full run)

        ## deep_chain: ...
        BENCH deep_chain ours_ms=20 torch_ms=9000 speedup=450 ns_per_node=20 grad_max_rel_err=0e+0 grad_ok=true
        (deep_chain took 5.2 s)
        BENCH trainer_overhead ours_ms=39.8524 torch_ms=NaN speedup=NaN overhead_pct=0.521664 grad_ok=true
        BENCH op_overhead_add_n1 ours_ms=9.67876E-05 torch_ms=0.0210201 speedup=217.177
        | deep_chain | 1000k ops fwd+bwd | 20 ms | 9 s | 450× |
        BENCH deep_chain ours_ms=19 torch_ms=9400 speedup=494.7 ns_per_node=19 grad_ok=true
        BENCH small_batch_sgd ours_ms=25 torch_ms=700 speedup=28 us_per_step=2.5 torch_us_per_step=70 alloc_bytes_per_step=0
        """;

    private static WorkloadResult Row(string name, double oursMs, double torchMs, bool noSlower = false) =>
        new(name, oursMs, torchMs, "step", [], [new TargetCheck("≥ 300× TorchSharp", "x", true)],
            GradientCheck.Compare("g", [1.0], [1.0]), null, [1.0], [1.0])
        { NoSlowerThanBefore = noSlower };

    private static Comparison Parsed()
    {
        Comparison? c = Comparison.Parse("before.txt", Before.Split('\n'), out string? message);
        Assert.Null(message);
        Assert.NotNull(c);
        return c;
    }

    [Fact]
    public void Options_Threads_ParsedAndRangeChecked()
    {
        Options? o = Options.Parse(["--threads", "1", "--quick"], out string? message);
        Assert.NotNull(o);
        Assert.Null(message);
        Assert.Equal(1, o.Threads);
        Assert.Null(Options.Parse(["--quick"], out _)!.Threads);

        foreach (string bad in new[] { "0", "257", "-2", "two", "1.5" })
        {
            Assert.Null(Options.Parse(["--threads", bad], out message));
            Assert.Contains($"not '{bad}'", message, StringComparison.Ordinal);
        }
        Assert.Null(Options.Parse(["--threads"], out message));
        Assert.Contains("--threads needs a value", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Compare_TakesAFile()
    {
        Options? o = Options.Parse(["--compare", "/tmp/before.txt", "--only", "deep_chain"], out _);
        Assert.Equal("/tmp/before.txt", o!.Compare);
        Assert.Null(Options.Parse(["--compare"], out string? message));
        Assert.Contains("--compare needs a value", message, StringComparison.Ordinal);
    }

    [Fact]
    public void BenchRecord_Parse_ReadsNumbersAndSkipsOtherValues()
    {
        BenchRecord? r = BenchRecord.Parse("BENCH op_overhead_add_n1 ours_ms=9.67876E-05 torch_ms=NaN speedup=217.177 grad_ok=true");
        Assert.NotNull(r);
        Assert.Equal("op_overhead_add_n1", r.Name);
        Assert.Equal(9.67876e-05, r.OursMs);
        Assert.True(double.IsNaN(r.TorchMs));
        Assert.Equal(217.177, r.Figure("speedup"));
        Assert.False(r.Figures.ContainsKey("grad_ok"));
        Assert.True(double.IsNaN(r.Figure("absent")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("BENCH")]
    [InlineData("BENCH ours_ms=1")]
    [InlineData("BENCHMARK deep_chain ours_ms=1")]
    [InlineData("| deep_chain | 19 ms |")]
    public void BenchRecord_Parse_OtherLines_AreNull(string line) => Assert.Null(BenchRecord.Parse(line));

    [Fact]
    public void BenchRecord_Parse_ReadsWhatReportPrints()
    {
        WorkloadResult row = Row("logreg_full_batch_n100000", 12.0034, 20.6574) with { Extras = [new Extra("gbps", 13.3296, "GB/s")] };
        BenchRecord? r = BenchRecord.Parse(Report.BenchLine(row));
        Assert.NotNull(r);
        Assert.Equal(row.Name, r.Name);
        Assert.Equal(12.0034, r.OursMs);
        Assert.Equal(20.6574, r.TorchMs);
        Assert.Equal(13.3296, r.Figure("gbps"));
    }

    [Fact]
    public void Comparison_Parse_LastLineOfARowWins()
    {
        // deep_chain is printed twice (after its section and at the end of a run): the later line counts.
        Comparison c = Parsed();
        Assert.Equal(4, c.Before.Count);
        Assert.Equal("full run", c.Run);
        Assert.Equal(19.0, c.BeforeOf("deep_chain")!.OursMs);
        Assert.Null(c.BeforeOf("mlp_epoch_b32"));
    }

    [Fact]
    public void Comparison_Parse_NoBenchLines_IsNullWithAMessage()
    {
        Assert.Null(Comparison.Parse("notes.txt", ["# a run", "| table |"], out string? message));
        Assert.Contains("--compare notes.txt: no BENCH lines", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Comparison_Read_MissingFile_IsNullWithAMessage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"no-such-run-{Guid.NewGuid():N}.txt");
        Assert.Null(Comparison.Read(path, out string? message));
        Assert.Contains("cannot read it", message, StringComparison.Ordinal);
    }

    [Theory]
    // ours before = 19 ms: 19.95 = 1.05 × 19 is still within the 5 % noise margin; 20 ms is not.
    [InlineData(15.0, true)]
    [InlineData(19.0, true)]
    [InlineData(19.95, true)]
    [InlineData(20.0, false)]
    public void NoSlower_WithinTheNoiseMarginOfBefore_IsMet(double nowMs, bool met)
    {
        TargetCheck t = Comparison.NoSlower(Row("deep_chain", nowMs, 9000), Parsed());
        Assert.True(t.Checked);
        Assert.Equal(met, t.Met);
        Assert.Contains("19 ms → ", t.Figure, StringComparison.Ordinal);
        Assert.Contains("before.txt", t.Figure, StringComparison.Ordinal);
    }

    [Fact]
    public void NoSlower_WithoutBeforeRunOrRow_IsNotChecked()
    {
        TargetCheck none = Comparison.NoSlower(Row("deep_chain", 19, 9000), null);
        Assert.False(none.Checked);
        Assert.Contains("--compare", none.Figure, StringComparison.Ordinal);

        TargetCheck missing = Comparison.NoSlower(Row("micrograd_mlp", 1.3, 700), Parsed());
        Assert.False(missing.Checked);
        Assert.Contains("micrograd_mlp is not in before.txt", missing.Figure, StringComparison.Ordinal);
    }

    [Fact]
    public void Targets_NoSlowerRows_GetTheComparisonTarget_Marked()
    {
        WorkloadResult[] rows = [Row("deep_chain", 38, 9400, noSlower: true), Row("micrograd_mlp", 1.3, 700, noSlower: true), Row("jvp", 28, 27000)];
        string text = Report.Targets(rows, Parsed());
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // Each row's own target, plus "no slower" for the two rows that have it: 3 + 2 lines.
        Assert.Equal(5, lines.Length);
        // deep_chain: 38 ms now against 19 ms before is 2× slower.
        Assert.Contains(lines, l => l.StartsWith("- [ ] deep_chain: no slower than before", StringComparison.Ordinal) && l.EndsWith("(NOT MET)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- [?] micrograd_mlp: no slower than before", StringComparison.Ordinal) && l.EndsWith("(NOT CHECKED)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("jvp: no slower", StringComparison.Ordinal));
    }

    [Fact]
    public void Table_ShowsBeforeNowAndRatios_AndRowsNotInTheBeforeRun()
    {
        string table = Parsed().Table([Row("deep_chain", 9.5, 18800), Row("mlp_epoch_b32", 100, 110)]);
        // ours 19 → 9.5 ms is 0.50× (twice as fast); TorchSharp 9.4 s → 18.8 s is 2.00× (the machine was slower).
        Assert.Contains("| deep_chain | 19 ms → 9.5 ms | 0.50× | 9.4 s → 18.8 s | 2.00× | 495× → 1979× |", table, StringComparison.Ordinal);
        Assert.Contains("| mlp_epoch_b32 | — → 100 ms | not in the before run |", table, StringComparison.Ordinal);
    }

    [Fact]
    public void ThreadsLine_SaysWhereTheLibrarysCountCameFrom()
    {
        Assert.Contains("Parallelism.ThreadCount = 1 (set by --threads)", MachineInfo.ThreadsLine(1, fromCommandLine: true, torchThreads: 2), StringComparison.Ordinal);
        Assert.Contains("torch.get_num_threads() = 2", MachineInfo.ThreadsLine(1, fromCommandLine: true, torchThreads: 2), StringComparison.Ordinal);
    }

    [Fact]
    public void NoSlower_RowsWithAPerStepFigure_AreComparedPerStep()
    {
        // Before: 10,000 steps in 25 ms, 2.5 µs/step. Now (--quick): 2,000 steps in 6 ms, 3 µs/step: fewer ms in all,
        // yet 1.2× slower per step — not met.
        WorkloadResult quick = Row("small_batch_sgd", 6, 150, noSlower: true) with
        {
            Extras = [new Extra("us_per_step", 3, "µs/step"), new Extra("torch_us_per_step", 75, "torch µs/step")],
        };
        TargetCheck t = Comparison.NoSlower(quick, Parsed());
        Assert.True(t.Checked);
        Assert.False(t.Met);
        Assert.Contains("2.5 µs → 3 µs per step (1.20×; TorchSharp 1.07×)", t.Figure, StringComparison.Ordinal);
        Assert.Contains("| small_batch_sgd | 2.5 µs/step → 3 µs/step | 1.20× | 70 µs/step → 75 µs/step | 1.07× | 28.00× → 25.00× |",
            Parsed().Table([quick]), StringComparison.Ordinal);
    }
}
