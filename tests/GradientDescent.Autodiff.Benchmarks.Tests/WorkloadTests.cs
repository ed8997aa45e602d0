using Xunit;

namespace GradientDescent.Autodiff.Benchmarks.Tests;

/// <summary>
/// Every benchmark workload, run once at tiny size (not timed): both engines produce the same gradients, and the
/// result rows are complete. Keeps the benchmark program honest without running it.
/// </summary>
public sealed class WorkloadTests
{
    /// <summary>The workload names, for <see cref="Workload_AtTinySize_BothEnginesAgree"/>.</summary>
    public static TheoryData<string> Names => [.. WorkloadCatalog.All.Select(w => w.Name)];

    /// <summary>Workloads that compare two of this library's loops and have no TorchSharp column (it shows n/a).</summary>
    private static readonly string[] WithoutTorch = ["trainer_overhead"];

    [Theory]
    [MemberData(nameof(Names))]
    public void Workload_AtTinySize_BothEnginesAgree(string name)
    {
        TorchEnvironment.EnsureLoaded();
        IWorkload workload = WorkloadCatalog.All.Single(w => w.Name == name);

        IReadOnlyList<WorkloadResult> rows = workload.Run(RunSettings.For(Scale.Tiny));

        Assert.NotEmpty(rows);
        foreach (WorkloadResult row in rows)
        {
            Assert.StartsWith(name, row.Name, StringComparison.Ordinal);
            Assert.NotEmpty(row.OursGradient);
            Assert.Equal(row.OursGradient.Length, row.TorchGradient.Length);
            Assert.Contains(row.OursGradient, v => v != 0);
            Assert.True(row.Check.Passed, $"{row.Name}: {row.Check.What}: max rel err {row.Check.MaxRelativeError:e2} > {row.Check.Tolerance:e0}");
            Assert.True(GradientCheck.RelativeError(row.OursGradient, row.TorchGradient) <= row.Check.Tolerance);
            Assert.True(double.IsFinite(row.OursMs) && row.OursMs > 0, $"{row.Name}: ours_ms = {row.OursMs}");
            if (WithoutTorch.Contains(name)) Assert.True(double.IsNaN(row.TorchMs), $"{row.Name}: no TorchSharp side, torch_ms must be NaN (n/a), got {row.TorchMs}");
            else Assert.True(double.IsFinite(row.TorchMs) && row.TorchMs > 0, $"{row.Name}: torch_ms = {row.TorchMs}");
            Assert.StartsWith($"BENCH {row.Name} ours_ms=", Report.BenchLine(row), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Catalog_HasTheWorkloadsOfTheIssuesInOrder()
    {
        // issue 1's six, then issue 8's trainer_overhead, then issue 11's jvp and hvp, then issue 10's softmax_regression
        Assert.Equal(
            ["deep_chain", "micrograd_mlp", "logreg_full_batch", "small_batch_sgd", "op_overhead", "mlp_epoch", "trainer_overhead", "jvp", "hvp", "softmax_regression"],
            WorkloadCatalog.All.Select(w => w.Name));
    }
}
