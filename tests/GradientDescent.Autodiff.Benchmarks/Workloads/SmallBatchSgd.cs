using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload 4, small_batch_sgd: 10,000 SGD steps of logistic regression with batches of 32 rows, d = 100
/// (zero gradients, forward, backward, update), cycling over 100 pre-cut batches. Per-step overhead dominates.
/// </summary>
/// <remarks>
/// The gradient check compares the parameters after all the steps (they depend on every step's gradient) and the
/// last step's gradient.
/// </remarks>
public sealed class SmallBatchSgd : IWorkload
{
    private const int D = 100, Batch = 32, Batches = 100;
    private const double LearningRate = 0.1, B0 = 0.05;

    /// <inheritdoc/>
    public string Name => "small_batch_sgd";

    /// <inheritdoc/>
    public string Description => "10,000 SGD steps of logistic regression, batch 32, d = 100";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int steps = settings.Scale switch { Scale.Tiny => 20, Scale.Quick => 2_000, _ => 10_000 };
        (double[] xAll, double[] yAll) = LogRegFullBatch.Data(Batch * Batches, D, seed: 32);
        double[][] xs = [.. Enumerable.Range(0, Batches).Select(k => xAll.AsSpan(k * Batch * D, Batch * D).ToArray())];
        double[][] ys = [.. Enumerable.Range(0, Batches).Select(k => yAll.AsSpan(k * Batch, Batch).ToArray())];
        double[] w0 = new DeterministicRandom(7).UniformArray(D, -0.1, 0.1);

        // ---- this library: one tape, cleared every step.
        var w = new VectorParameter("w", w0);
        var b = new ScalarParameter("b", B0);
        var sgd = new Sgd([w, b], LearningRate);
        var tape = new Tape();
        void OursStep(int s)
        {
            int k = s % Batches;
            sgd.ZeroGrad();
            tape.Clear();
            Vector z = Ops.MatVec(tape.Constant(xs[k], Batch, D), tape.Use(w)) + tape.Use(b);
            Loss.BinaryCrossEntropyWithLogits(z, tape.Constant(ys[k])).Backward();
            sgd.Step();
        }
        void OursRun()
        {
            w0.CopyTo(w.Value, 0);
            b.Value = B0;
            for (int s = 0; s < steps; s++) OursStep(s);
        }
        Timing ours = Harness.Time(OursRun, settings);
        int probe = 0;
        double allocPerStep = Harness.AllocatedBytesPerCall(() => OursStep(probe++), calls: 100, warmup: 10);
        OursRun();
        double[] oursCompared = [.. w.Value, b.Value, .. w.Grad, b.Grad];

        // ---- TorchSharp: the same loop with autograd and an in-place update under no_grad.
        Tensor[] tx = [.. xs.Select(a => TorchEnvironment.Leaf(a, [Batch, D], requiresGrad: false))];
        Tensor[] ty = [.. ys.Select(a => TorchEnvironment.Leaf(a, [Batch], requiresGrad: false))];
        using Tensor tw = TorchEnvironment.Leaf(w0, [D], requiresGrad: true);
        using Tensor tb = torch.tensor(B0, dtype: float64, requires_grad: true);
        using Tensor tw0 = TorchEnvironment.Leaf(w0, [D], requiresGrad: false);
        try
        {
            void TorchStep(int s)
            {
                int k = s % Batches;
                TorchEnvironment.ZeroGrad(tw, tb);
                using (DisposeScope scope = torch.NewDisposeScope())
                {
                    Tensor z = TorchScalars.Add(tx[k].mv(tw), tb);
                    torch.nn.functional.binary_cross_entropy_with_logits(z, ty[k]).backward();
                }
                TorchEnvironment.SgdStep(LearningRate, tw, tb);
            }
            void TorchRun()
            {
                using (torch.no_grad())
                {
                    tw.copy_(tw0);
                    using TorchSharp.Scalar b0 = B0.ToScalar();
                    tb.fill_(b0);
                }
                for (int s = 0; s < steps; s++) TorchStep(s);
            }
            Timing torchTiming = Harness.Time(TorchRun, settings.AtMost(settings.Warmup, settings.Scale == Scale.Full ? 5 : 3));
            TorchRun();
            double[] torchCompared = [.. TorchEnvironment.Values(tw), TorchEnvironment.Values(tb)[0], .. TorchEnvironment.Grad(tw), TorchEnvironment.Grad(tb)[0]];

            double speedup = torchTiming.MedianMs / ours.MedianMs;
            double usPerStep = ours.MedianMs * 1e3 / steps;
            return
            [
                new WorkloadResult(
                    Name, ours.MedianMs, torchTiming.MedianMs, $"{steps:N0} steps",
                    [
                        new Extra("us_per_step", usPerStep, "µs/step"),
                        new Extra("torch_us_per_step", torchTiming.MedianMs * 1e3 / steps, "torch µs/step"),
                        new Extra("alloc_bytes_per_step", allocPerStep, "alloc B/step"),
                    ],
                    [
                        new TargetCheck("≥ 10× TorchSharp", $"{speedup:0.0}×", speedup >= 10),
                        new TargetCheck("0 bytes allocated per step (tape reused with Clear)", $"{allocPerStep:0} B", allocPerStep == 0),
                    ],
                    GradientCheck.Compare($"w, b after {steps:N0} steps and the last ∂L/∂w, ∂L/∂b", oursCompared, torchCompared),
                    steps == 10_000 ? null : $"{steps:N0} steps instead of 10,000 (quick).",
                    oursCompared, torchCompared)
                {
                    NoSlowerThanBefore = true,
                    OursSpread = ours.Spread, TorchSpread = torchTiming.Spread,
                },
            ];
        }
        finally
        {
            foreach (Tensor t in tx.Concat(ty)) t.Dispose();
        }
    }
}
