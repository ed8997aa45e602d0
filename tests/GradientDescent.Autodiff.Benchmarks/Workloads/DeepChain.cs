using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload 1, deep_chain: a chain of 1,000,000 scalar ops, y ← y·a + b repeated (a Multiply and an Add node per step,
/// a and b scalar parameters, a = 0.5 so the chain stays bounded), forward + backward. Measures the per-node cost of
/// the tape: time, the backward/forward split, bytes of tape per node, and allocation per step.
/// </summary>
/// <remarks>
/// TorchSharp pays several microseconds per scalar op, so it runs a shorter chain (10,000 ops; fewer in --quick) and
/// its time is scaled per op to the 1,000,000-op chain. The gradients are compared on a chain of that shorter length,
/// which this library also runs.
/// </remarks>
public sealed class DeepChain : IWorkload
{
    private const double A0 = 0.5, B0 = 0.25;

    /// <inheritdoc/>
    public string Name => "deep_chain";

    /// <inheritdoc/>
    public string Description => "y ← y·a + b repeated, 1,000,000 chained scalar ops (Multiply, Add), forward + backward";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int oursOps = settings.Scale == Scale.Tiny ? 2_000 : 1_000_000;
        int torchOps = settings.Scale == Scale.Tiny ? 2_000 : 10_000;

        // ---- this library: forward and backward timed separately, on one reused tape.
        var a = new ScalarParameter("a", A0);
        var b = new ScalarParameter("b", B0);
        var tape = new Tape();
        void Step() => Record(tape, a, b, oursOps).Backward();
        (Timing fwd, Timing bwd, Timing total) = Harness.TimePhases(() => Record(tape, a, b, oursOps), y => y.Backward(), settings);
        int nodes = tape.NodeCount;
        double fwdMs = fwd.MedianMs, bwdMs = bwd.MedianMs, totalMs = total.MedianMs;
        double allocPerStep = Harness.AllocatedBytesPerCall(Step, calls: 3, warmup: 1);

        // Bytes of tape per node: what a fresh tape holds on to after one step (records, values, gradients), over
        // nodes. Storage grows by doubling, so a chain just past a power of two carries slack; the chain of exactly
        // 2^k nodes (k = 20 here) shows the cost per node without it (plus the tape object's few hundred bytes, hence
        // the comparison at 0.1 B).
        tape = new Tape();
        double bytesPerNode = TapeBytesPerNode(a, b, oursOps);
        int powerOfTwo = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(oursOps + 2));
        double bytesPerNodeNoSlack = TapeBytesPerNode(a, b, powerOfTwo - 2);

        // ---- gradients of both engines on the shorter chain.
        a.ZeroGrad();
        b.ZeroGrad();
        var checkTape = new Tape();
        Record(checkTape, a, b, torchOps).Backward();
        double[] ours = [a.Grad, b.Grad];

        // ---- TorchSharp on the shorter chain.
        using Tensor ta = torch.tensor(A0, dtype: float64, requires_grad: true);
        using Tensor tb = torch.tensor(B0, dtype: float64, requires_grad: true);
        void TorchStep()
        {
            TorchEnvironment.ZeroGrad(ta, tb);
            using DisposeScope scope = torch.NewDisposeScope();
            Tensor y = tb;
            for (int k = 0; k < torchOps / 2; k++) y = TorchScalars.Add(y * ta, tb);
            y.backward();
        }
        TorchStep();
        double[] theirs = [TorchEnvironment.Grad(ta)[0], TorchEnvironment.Grad(tb)[0]];
        Timing torchTiming = Harness.Time(TorchStep, settings);
        double torchScaled = torchTiming.MedianMs * oursOps / torchOps;

        double nsPerNode = totalMs * 1e6 / nodes;
        double bwdFwd = bwdMs / fwdMs;
        double speedup = torchScaled / totalMs;
        return
        [
            new WorkloadResult(
                Name, totalMs, torchScaled, $"{oursOps / 1000}k ops fwd+bwd",
                [
                    new Extra("ns_per_node", nsPerNode, "ns/node"),
                    new Extra("fwd_ns_per_node", fwdMs * 1e6 / nodes, "fwd ns/node"),
                    new Extra("bwd_ns_per_node", bwdMs * 1e6 / nodes, "bwd ns/node"),
                    new Extra("bwd_fwd", bwdFwd, "bwd/fwd"),
                    new Extra("bytes_per_node", bytesPerNode, "B/node"),
                    new Extra("bytes_per_node_pow2", bytesPerNodeNoSlack, "B/node at 2^k nodes"),
                    new Extra("alloc_bytes_per_step", allocPerStep, "alloc B/step"),
                    new Extra("torch_ns_per_node", torchTiming.MedianMs * 1e6 / torchOps, "torch ns/op"),
                ],
                [
                    new TargetCheck("≤ 20 ns per node forward + backward", $"{nsPerNode:0.0} ns", nsPerNode <= 20),
                    new TargetCheck("backward/forward ≤ 3", $"{bwdFwd:0.00}", bwdFwd <= 3),
                    new TargetCheck("≤ 48 bytes of tape per node",
                        $"{bytesPerNodeNoSlack:0.0} B at {powerOfTwo:N0} nodes; {bytesPerNode:0.0} B at {nodes:N0} nodes, the excess being the doubling arrays' unused capacity",
                        Math.Round(bytesPerNodeNoSlack, 1) <= 48),
                    new TargetCheck("≥ 300× TorchSharp", $"{speedup:0}×", speedup >= 300),
                    new TargetCheck("0 bytes allocated per step (tape reused with Clear)", $"{allocPerStep:0} B", allocPerStep == 0),
                ],
                GradientCheck.Compare($"∂y/∂a, ∂y/∂b after {torchOps:N0} ops", ours, theirs),
                $"TorchSharp ran a {torchOps:N0}-op chain ({Report.Time(torchTiming.MedianMs)}); its time is scaled ×{oursOps / torchOps} per op to {oursOps:N0} ops. {nodes:N0} nodes on our tape.",
                ours, theirs)
            {
                NoSlowerThanBefore = true,
                OursSpread = total.Spread, TorchSpread = torchTiming.Spread,
            },
        ];
    }

    /// <summary>Bytes a fresh tape retains after one forward + backward of a chain of <paramref name="ops"/> ops, per node.</summary>
    private static double TapeBytesPerNode(ScalarParameter a, ScalarParameter b, int ops)
    {
        Harness.Settle();
        int nodes = 0;
        long retained = Harness.RetainedBytes(() =>
        {
            var fresh = new Tape();
            Record(fresh, a, b, ops).Backward();
            nodes = fresh.NodeCount;
            return fresh;
        });
        return retained / (double)nodes;
    }

    /// <summary>Clears <paramref name="tape"/> and records y = b, then y ← y·a + b for <paramref name="ops"/>/2 steps.</summary>
    private static Scalar Record(Tape tape, ScalarParameter a, ScalarParameter b, int ops)
    {
        tape.Clear();
        a.ZeroGrad();
        b.ZeroGrad();
        Scalar av = tape.Use(a), bv = tape.Use(b);
        Scalar y = bv;
        for (int k = 0; k < ops / 2; k++) y = y * av + bv;
        return y;
    }
}
