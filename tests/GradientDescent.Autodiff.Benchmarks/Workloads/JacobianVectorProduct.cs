using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload jvp (issue 11): forward mode on deep_chain's 1,000,000-op scalar chain, y ← y·a + b repeated (a Multiply
/// and an Add node per step, a and b scalar parameters): record the chain, then one tangent sweep
/// (<see cref="Tape.Jvp(Scalar, ReadOnlySpan{Parameter}, ReadOnlySpan{double[]})"/>) for ẏ = ∂y/∂a·ȧ + ∂y/∂b·ḃ.
/// Compared with the plain forward pass (the recording alone) in the same run, target within 3×, and with
/// TorchSharp's double-backward JVP (g = Jᵀu with <c>create_graph</c> for a dummy u, then J v = ∂⟨g, v⟩/∂u), the
/// usual way to get a JVP from a reverse-mode engine.
/// </summary>
/// <remarks>
/// TorchSharp pays several microseconds per scalar op, so it runs a shorter chain (10,000 ops) and its time is scaled
/// per op to the 1,000,000-op chain, as in deep_chain. The JVPs are compared on a chain of that shorter length, which
/// this library also runs.
/// </remarks>
public sealed class JacobianVectorProduct : IWorkload
{
    // Not (1.5, −0.75): at the chain's fixed point y* = b/(1 − a), ∂y/∂a = 1 and ∂y/∂b = 2, so that direction's J·v is 0.
    private const double A0 = 0.5, B0 = 0.25, VA = 1.5, VB = 0.75;

    /// <inheritdoc/>
    public string Name => "jvp";

    /// <inheritdoc/>
    public string Description => "forward mode on y ← y·a + b, 1,000,000 chained scalar ops: record + one tangent sweep, against the record alone";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int oursOps = settings.Scale == Scale.Tiny ? 2_000 : 1_000_000;
        int torchOps = settings.Scale == Scale.Tiny ? 2_000 : 10_000;

        // ---- this library: the forward pass alone, and forward + tangent sweep, on one reused tape.
        var a = new ScalarParameter("a", A0);
        var b = new ScalarParameter("b", B0);
        Parameter[] parameters = [a, b];
        double[][] direction = [[VA], [VB]];
        var tape = new Tape();
        double sink = 0;
        void Forward() => sink += Record(tape, a, b, oursOps).Value;
        void Jvp() => sink += tape.Jvp(Record(tape, a, b, oursOps), parameters, direction);
        Jvp(); // the tangent arena is allocated once, by the first sweep
        Timing forward = Harness.Time(Forward, settings);
        Timing jvp = Harness.Time(Jvp, settings);
        double allocPerJvp = Harness.AllocatedBytesPerCall(Jvp, calls: 3, warmup: 1);
        int nodes = tape.NodeCount;
        double ratio = jvp.MedianMs / forward.MedianMs;
        double sweepNsPerNode = (jvp.MedianMs - forward.MedianMs) * 1e6 / nodes;

        // ---- J·v of both engines on the shorter chain.
        var checkTape = new Tape();
        double[] ours = [checkTape.Jvp(Record(checkTape, a, b, torchOps), parameters, direction)];

        // ---- TorchSharp: double-backward JVP on the shorter chain.
        using Tensor ta = torch.tensor(A0, dtype: float64, requires_grad: true);
        using Tensor tb = torch.tensor(B0, dtype: float64, requires_grad: true);
        double TorchJvp()
        {
            using DisposeScope scope = torch.NewDisposeScope();
            Tensor y = tb;
            for (int k = 0; k < torchOps / 2; k++) y = TorchScalars.Add(y * ta, tb);
            // g(u) = Jᵀu, linear in u; J v = ∂⟨g(u), v⟩/∂u (at any u, here 0).
            Tensor u = torch.zeros_like(y).requires_grad_(true);
            var g = torch.autograd.grad([y], [ta, tb], [u], create_graph: true);
            Tensor s = TorchScalars.Add(TorchScalars.Mul(g[0], VA), TorchScalars.Mul(g[1], VB));
            var jv = torch.autograd.grad([s], [u]);
            return jv[0].item<double>();
        }
        double[] theirs = [TorchJvp()];
        Timing torchTiming = Harness.Time(() => sink += TorchJvp(), settings);
        double torchScaled = torchTiming.MedianMs * oursOps / torchOps;
        GC.KeepAlive(sink);

        double speedup = torchScaled / jvp.MedianMs;
        return
        [
            new WorkloadResult(
                Name, jvp.MedianMs, torchScaled, $"{oursOps / 1000}k ops fwd+jvp",
                [
                    new Extra("forward_ms", forward.MedianMs, "forward alone ms"),
                    new Extra("of_forward", ratio, "× forward"),
                    new Extra("sweep_ns_per_node", sweepNsPerNode, "sweep ns/node"),
                    new Extra("alloc_bytes_per_jvp", allocPerJvp, "alloc B/jvp"),
                    new Extra("torch_ns_per_node", torchTiming.MedianMs * 1e6 / torchOps, "torch ns/op"),
                ],
                [
                    new TargetCheck("forward + tangent sweep within 3× of the plain forward pass", $"{ratio:0.00}× ({Report.Time(jvp.MedianMs)} vs {Report.Time(forward.MedianMs)})", ratio <= 3),
                    new TargetCheck("0 bytes allocated per JVP (tape and tangent arena reused)", $"{allocPerJvp:0} B", allocPerJvp == 0),
                    new TargetCheck("faster than TorchSharp's double-backward JVP", $"{speedup:0}×", speedup > 1),
                ],
                GradientCheck.Compare($"J·v along (ȧ, ḃ) = ({VA}, {VB}) after {torchOps:N0} ops", ours, theirs),
                $"TorchSharp ran a {torchOps:N0}-op chain ({Report.Time(torchTiming.MedianMs)}), double backward; its time is scaled ×{oursOps / torchOps} per op to {oursOps:N0} ops. {nodes:N0} nodes on our tape.",
                ours, theirs) { OursSpread = jvp.Spread, TorchSpread = torchTiming.Spread },
        ];
    }

    /// <summary>Clears <paramref name="tape"/> and records y = b, then y ← y·a + b for <paramref name="ops"/>/2 steps.</summary>
    private static Scalar Record(Tape tape, ScalarParameter a, ScalarParameter b, int ops)
    {
        tape.Clear();
        Scalar av = tape.Use(a), bv = tape.Use(b);
        Scalar y = bv;
        for (int k = 0; k < ops / 2; k++) y = y * av + bv;
        return y;
    }
}
