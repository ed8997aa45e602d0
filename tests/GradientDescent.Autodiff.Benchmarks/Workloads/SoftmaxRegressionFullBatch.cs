using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload 10, softmax_regression: the full-batch gradient of softmax regression (the seeds' logistic model with
/// k classes), X constant (n × 100, n = 100,000; 20,000 with --quick), W [100 × 10] and b [10] parameters, one class
/// label per row: Ops.MatMul(X, W) + b → Loss.SoftmaxCrossEntropy, forward + backward. Second row,
/// softmax_regression_fused_n…: the same loss and gradient through the fused
/// <see cref="Loss.SoftmaxRegression(Matrix, Matrix, Vector, int[])"/>, one pass over X. TorchSharp:
/// cross_entropy(X.mm(W) + b, labels), mean over the rows.
/// </summary>
/// <remarks>
/// Not one of the performance issue's targets: it says whether a user of the third model the fused losses cover is
/// better off in TorchSharp, where libtorch computes X·W and Xᵀ·G as matrix products. One copy of X per engine.
/// </remarks>
public sealed class SoftmaxRegressionFullBatch : IWorkload
{
    private const int D = 100;
    private const int K = 10;

    /// <inheritdoc/>
    public string Name => "softmax_regression";

    /// <inheritdoc/>
    public string Description => "full-batch softmax regression gradient, X n×100 constant, 10 classes, MatMul + b → softmax cross-entropy";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int n = settings.Scale switch { Scale.Tiny => 500, Scale.Quick => 20_000, _ => 100_000 };
        var rng = new DeterministicRandom(11);
        double[] x = rng.UniformArray(n * D, -1, 1);
        int[] labels = [.. Enumerable.Range(0, n).Select(_ => (int)(rng.NextDouble() * K))];
        double[] w0 = new DeterministicRandom(12).UniformArray(D * K, -0.1, 0.1);
        double[] b0 = new DeterministicRandom(13).UniformArray(K, -0.1, 0.1);

        // ---- this library: W [d × k] row-major, as TorchSharp's [d, k] tensor.
        var w = MatrixParameter.FromRowMajor("W", D, K, w0);
        var b = new VectorParameter("b", b0);
        var tape = new Tape();
        (Timing Time, double Alloc, double[] Grad) Ours(Func<Scalar> forward)
        {
            void Step()
            {
                w.ZeroGrad();
                b.ZeroGrad();
                forward().Backward();
            }
            Timing time = Harness.Time(Step, settings);
            double alloc = Harness.AllocatedBytesPerCall(Step, calls: 3, warmup: 1);
            Step();
            return (time, alloc, [.. w.Grad, .. b.Grad]);
        }
        (Timing composed, double composedAlloc, double[] composedGrad) = Ours(() =>
        {
            tape.Clear();
            Matrix z = Ops.MatMul(tape.Constant(x, n, D), tape.Use(w)) + tape.Use(b);
            return Loss.SoftmaxCrossEntropy(z, labels);
        });
        (Timing fused, double fusedAlloc, double[] fusedGrad) = Ours(() =>
        {
            tape.Clear();
            return Loss.SoftmaxRegression(tape.Constant(x, n, D), tape.Use(w), tape.Use(b), labels);
        });

        // ---- TorchSharp: its own copy of X, labels as int64.
        Timing torchTiming;
        double[] torchGrad;
        using (Tensor tx = TorchEnvironment.Leaf(x, [n, D], requiresGrad: false))
        using (Tensor tl = torch.tensor(labels.Select(l => (long)l).ToArray(), dtype: int64))
        using (Tensor tw = TorchEnvironment.Leaf(w0, [D, K], requiresGrad: true))
        using (Tensor tb = TorchEnvironment.Leaf(b0, [K], requiresGrad: true))
        {
            void TorchStep()
            {
                TorchEnvironment.ZeroGrad(tw, tb);
                using DisposeScope scope = torch.NewDisposeScope();
                torch.nn.functional.cross_entropy(TorchScalars.Add(tx.mm(tw), tb), tl).backward();
            }
            torchTiming = Harness.Time(TorchStep, settings);
            TorchStep();
            torchGrad = [.. TorchEnvironment.Grad(tw), .. TorchEnvironment.Grad(tb)];
        }

        double mb = 8.0 * x.Length / 1e6;
        string threads = $"this library uses {Parallelism.ThreadCount} threads, TorchSharp {TorchEnvironment.Threads}";
        WorkloadResult Row(string name, Timing ours, double alloc, double[] grad, string what, string note) =>
            new(name, ours.MedianMs, torchTiming.MedianMs, "fwd+bwd",
                [
                    new Extra("us_per_row", ours.MedianMs * 1e3 / n * Parallelism.ThreadCount, "µs a row a thread"),
                    new Extra("alloc_bytes_per_step", alloc, "alloc B/step"),
                ],
                [new TargetCheck("0 bytes allocated per step (tape reused with Clear)", $"{alloc:0} B", alloc == 0)],
                GradientCheck.Compare(what, grad, torchGrad),
                note, grad, torchGrad) { OursSpread = ours.Spread, TorchSpread = torchTiming.Spread };
        return
        [
            Row($"{Name}_n{n}", composed, composedAlloc, composedGrad, "∂L/∂W, ∂L/∂b",
                $"X is {mb:0} MB, {K} classes; MatMul (the GEMM kernel), + b, SoftmaxCrossEntropy; TorchSharp: cross_entropy(X.mm(W) + b); {threads}. Not a target of the performance issue."),
            Row($"{Name}_fused_n{n}", fused, fusedAlloc, fusedGrad, "∂L/∂W, ∂L/∂b (fused)",
                $"Loss.SoftmaxRegression: per row the {K} logits, the softmax and the row's contribution to ∂L/∂W while it is in L1, rows split over {Parallelism.ThreadCount} threads; TorchSharp as the row above."),
        ];
    }
}
