using Xunit;

namespace GradientDescent.Autodiff.Benchmarks.Tests;

/// <summary>The harness's arithmetic, the gradient comparison and the command line.</summary>
public sealed class HarnessTests
{
    [Fact]
    public void Median_OddAndEvenCounts()
    {
        Assert.Equal(2.0, Harness.Median([3.0, 1.0, 2.0]));
        Assert.Equal(2.5, Harness.Median([4.0, 1.0, 2.0, 3.0]));
    }

    [Fact]
    public void Time_ReturnsOneSamplePerRepetition()
    {
        int calls = 0;
        Timing t = Harness.Time(() => calls++, warmup: 2, reps: 3, inner: 4);
        Assert.Equal(3, t.SamplesMs.Length);
        Assert.Equal((2 + 3) * 4, calls);
    }

    [Fact]
    public void TimePhases_BeforeEach_RunsOnceBeforeEveryTimedRepetitionAndNotDuringWarmUp()
    {
        var log = new List<string>();
        var settings = new RunSettings(Scale.Tiny, Warmup: 2, Reps: 3);
        (Timing first, Timing second, Timing total) = Harness.TimePhases(
            () =>
            {
                log.Add("first");
                return log.Count;
            },
            _ => log.Add("second"),
            settings,
            beforeEach: () => log.Add("before"));
        Assert.Equal(3, total.SamplesMs.Length);
        Assert.Equal(3, first.SamplesMs.Length);
        Assert.Equal(3, second.SamplesMs.Length);
        string[] warmUp = ["first", "second", "first", "second"];
        string[] timed = ["before", "first", "second", "before", "first", "second", "before", "first", "second"];
        Assert.Equal([.. warmUp, .. timed], log);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ParallelReader_PassesOnDemand_EachAPositiveTime_ThenStopsItsThreads(int threads)
    {
        // Only the plumbing: the threads wait between passes, every pass of either reader finishes, a pass is a
        // rate, and Dispose joins the threads (a reader thread left waiting would hang here) and refuses later passes.
        double[] data = [.. Enumerable.Range(0, 10_007).Select(k => (double)k)];
        var reader = new ParallelReader(data, threads);
        Assert.Equal(10_007L * sizeof(double), reader.Bytes);
        for (int pass = 0; pass < 5; pass++)
        {
            double ms = reader.PassMs(paged: pass % 2 == 0);
            Assert.True(ms > 0 && double.IsFinite(reader.GBps(ms)), $"pass {pass}: {ms} ms");
        }
        reader.Dispose();
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.PassMs(paged: false));
    }

    [Fact]
    public void Spread_IsTheMiddleHalfOverTheMedian_NotMeasuredBelowFourSamples()
    {
        // 1..9 ms: quartiles 3 and 7 (interpolated ranks 2 and 6), median 5: (7 − 3)/5. The order of the samples
        // does not matter; an outlier outside the middle half does not move it.
        Assert.Equal(0.8, new Timing([9.0, 1, 8, 2, 7, 3, 6, 4, 5]).Spread, 12);
        Assert.Equal(0.8, new Timing([900.0, 1, 8, 2, 7, 3, 6, 4, 5]).Spread, 12);
        // 10, 11, 12, 13: quartiles 10.75 and 12.25, median 11.5.
        Assert.Equal(1.5 / 11.5, new Timing([13.0, 10, 12, 11]).Spread, 12);
        // Three samples or fewer say too little.
        Assert.True(double.IsNaN(new Timing([2.0, 3, 4]).Spread));
        Assert.True(double.IsNaN(new Timing([2.0]).Spread));
    }

    [Fact]
    public void Unsteady_ListsRowsWhoseSamplesSpreadMoreThanAFifth_AndTheBenchLineCarriesBothSpreads()
    {
        WorkloadResult Row(string name, double ours, double torch) =>
            new(name, 1, 2, "step", [], [], GradientCheck.Compare("g", [1.0], [1.0]), null, [1.0], [1.0]) { OursSpread = ours, TorchSpread = torch };
        WorkloadResult[] rows = [Row("steady", 0.02, 0.19), Row("ours_moved", 0.25, 0.01), Row("torch_moved", 0.01, 0.21), Row("unmeasured", double.NaN, double.NaN)];
        Assert.Equal([false, true, true, false], rows.Select(r => r.Unsteady));
        string report = Report.Unsteady(rows);
        Assert.DoesNotContain("steady:", report, StringComparison.Ordinal);
        Assert.Contains("- ours_moved: spread 25 % of the median (this library), 1 % (TorchSharp)", report, StringComparison.Ordinal);
        Assert.Contains("- torch_moved: spread 1 % of the median (this library), 21 % (TorchSharp)", report, StringComparison.Ordinal);
        Assert.DoesNotContain("unmeasured", report, StringComparison.Ordinal);
        Assert.Contains(" ours_spread=0.25 torch_spread=0.01 ", Report.BenchLine(rows[1]), StringComparison.Ordinal);
        Assert.DoesNotContain("spread", Report.BenchLine(rows[3]), StringComparison.Ordinal);
    }

    [Fact]
    public void RelativeError_IsRelativeToEachValue_WithAFloorAtAThousandthOfTheLargest()
    {
        Assert.Equal(0.0, GradientCheck.RelativeError([1.0, -2.0], [1.0, -2.0]));
        Assert.Equal(0.01, GradientCheck.RelativeError([1.01, 100.0], [1.0, 100.0]), 12);
        // 1e-6 vs 0: measured against 1e-3 · 1 rather than 0.
        Assert.Equal(1e-3, GradientCheck.RelativeError([1.0, 1e-6], [1.0, 0.0]), 12);
    }

    [Fact]
    public void RelativeError_LengthMismatchOrNaN_IsInfinite()
    {
        Assert.Equal(double.PositiveInfinity, GradientCheck.RelativeError([1.0], [1.0, 2.0]));
        Assert.Equal(double.PositiveInfinity, GradientCheck.RelativeError([double.NaN], [1.0]));
    }

    [Fact]
    public void Options_ParsesQuickAndOnly_RejectsUnknown()
    {
        Options? o = Options.Parse(["--quick", "--only", "deep_chain,logreg"], out string? message);
        Assert.NotNull(o);
        Assert.Null(message);
        Assert.True(o.Quick);
        Assert.True(o.Selects("logreg_full_batch"));
        Assert.False(o.Selects("mlp_epoch"));

        Assert.Null(Options.Parse(["--fast"], out message));
        Assert.Contains("Unknown argument", message, StringComparison.Ordinal);
        Assert.Null(Options.Parse(["--only"], out message));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ReadGBpsAllCores_SmallArray_ReturnsAPositiveFiniteFigure(int threads)
    {
        // Only the plumbing: threads start, every pass finishes, the figure is a rate. No timing is asserted.
        double[] data = [.. Enumerable.Range(0, 4096).Select(k => (double)k)];
        double gbps = MemoryBandwidth.ReadGBpsAllCores(data, reps: 3, threads);
        Assert.True(gbps > 0 && double.IsFinite(gbps), $"{gbps} GB/s");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(512)]
    [InlineData(16_384 + 513)]
    [InlineData(100_003)]
    public void PagedSum_AnyLength_IsTheSumOfEveryElement(int n)
    {
        // The paged reader sums whole 4 KB pages in four vector accumulators and the rest with TensorPrimitives:
        // integers below 2⁵³ sum exactly in any order, so Σ k for k < n is n(n − 1)/2 exactly; a lost tail or page
        // would show.
        double[] data = [.. Enumerable.Range(0, n).Select(k => (double)k)];
        Assert.Equal(n * (n - 1.0) / 2, MemoryBandwidth.PagedSum(data));
    }

    [Fact]
    public void ReadGBpsAllCores_NoThreadsOrMoreThreadsThanElements_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MemoryBandwidth.ReadGBpsAllCores(new double[4], 3, 0));
        Assert.Contains("4 elements", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryBandwidth.ReadGBpsAllCores(new double[4], 3, 5));
    }

    [Theory]
    [InlineData("32768K", 32L << 20)]
    [InlineData("1M", 1L << 20)]
    [InlineData("512", 512L)]
    [InlineData(" 48K\n", 48L << 10)]
    public void ParseCacheSize_SysfsFormats_Bytes(string text, long bytes) =>
        Assert.Equal(bytes, MachineInfo.ParseCacheSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("K")]
    [InlineData("-1K")]
    [InlineData("lots")]
    public void ParseCacheSize_NotASize_IsNull(string text) => Assert.Null(MachineInfo.ParseCacheSize(text));

    [Fact]
    public void DescribeCpu_FirstProcessor_NameFamilyModelAndAvx512()
    {
        // Two processors; the second's different numbers must not be read.
        const string cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
            + "flags\t\t: fpu sse avx2 avx512f avx512dq\n\nprocessor\t: 1\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: Other\n";
        Assert.Equal("AMD EPYC (family 26, model 2, avx512f)", MachineInfo.DescribeCpu(cpuinfo));
        Assert.Equal("Intel(R) Xeon(R) Platinum (family 6, model 143, no avx512f)",
            MachineInfo.DescribeCpu("cpu family: 6\nmodel: 143\nmodel name: Intel(R) Xeon(R) Platinum\nflags: avx2 avx512fp16\n"));
        Assert.Equal("Some CPU", MachineInfo.DescribeCpu("model name : Some CPU\n"));
        Assert.Null(MachineInfo.DescribeCpu("processor : 0\nflags : avx2\n"));
    }

    [Fact]
    public void ArrayLength_IsAtLeastFourLastLevelCachesAnd128MB()
    {
        long length = MemoryBandwidth.ArrayLength();
        Assert.True(length * sizeof(double) >= 128L << 20);
        if (MachineInfo.LastLevelCacheBytes() is { } cache) Assert.True(length * sizeof(double) >= 4 * cache);
    }
}
