using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload hvp (issue 11): the Hessian-vector product H·v of logistic regression's mean cross-entropy, X constant
/// n × 100 (n = 10⁴), w and b parameters, reverse-over-reverse: the forward pass, a create-graph backward
/// (<see cref="Tape.Grad(Scalar, IReadOnlyList{Node}, bool)"/>) that records ∇J as nodes, then a fast backward from
/// ⟨∇J, v⟩ (Pearlmutter's trick). Compared with one gradient's time in the same run (target ≤ 4×, the
/// cheap-gradient bound) and with TorchSharp's double backward (<c>autograd.grad(create_graph: true)</c>, then
/// <c>backward</c>).
/// </summary>
public sealed class HessianVectorProduct : IWorkload
{
    private const int D = 100;

    /// <inheritdoc/>
    public string Name => "hvp";

    /// <inheritdoc/>
    public string Description => "Hessian-vector product of logistic regression, X n×100 constant, create-graph backward then backward";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int n = settings.Scale == Scale.Tiny ? 500 : 10_000;
        return [RunOne(n, settings)];
    }

    private WorkloadResult RunOne(int n, RunSettings settings)
    {
        (double[] x, double[] y) = LogRegFullBatch.Data(n, D, seed: (ulong)n + 11);
        double[] w0 = new DeterministicRandom(7).UniformArray(D, -0.1, 0.1);
        double[] v = new DeterministicRandom(8).UniformArray(D, -1, 1);
        const double B0 = 0.05, VB = 0.5;

        // ---- this library: one tape reused with Clear.
        var w = new VectorParameter("w", w0);
        var b = new ScalarParameter("b", B0);
        var tape = new Tape();
        (Scalar Loss, Vector W, Scalar B) Forward()
        {
            tape.Clear();
            Vector wl = tape.Use(w);
            Scalar bl = tape.Use(b);
            Vector z = Ops.MatVec(tape.Constant(x, n, D), wl) + bl;
            return (Loss.BinaryCrossEntropyWithLogits(z, tape.Constant(y)), wl, bl);
        }
        void Gradient()
        {
            w.ZeroGrad();
            b.ZeroGrad();
            Forward().Loss.Backward();
        }
        void Hvp()
        {
            w.ZeroGrad();
            b.ZeroGrad();
            var (loss, wl, bl) = Forward();
            // ∇J as nodes, then H v = ∂⟨∇J, v⟩/∂θ by the fast backward.
            Node[] g = tape.Grad(loss, [wl, bl], createGraph: true);
            Scalar s = Ops.Dot(g[0].AsVector(), tape.Constant(v)) + g[1].AsScalar() * VB;
            s.Backward();
        }
        var hvForward = new double[D + 1];
        void HvpForward()
        {
            // Forward-over-reverse: the same recorded gradient, then one tangent sweep along v.
            var (loss, wl, bl) = Forward();
            Node[] g = tape.Grad(loss, [wl, bl], createGraph: true);
            tape.Jvp(Ops.Concat(g[0].AsVector(), Ops.Stack(g[1].AsScalar())), [w, b], [v, [VB]], hvForward);
        }
        // Steps of about a millisecond: each sample repeats one for ~20 ms, so that a sample is not one step that the
        // scheduler happened to pause (on a loaded machine a single-step median of 7 is mostly such pauses).
        int inner = settings.Scale == Scale.Tiny ? 1 : Harness.Calibrate(Hvp, 20);
        Timing gradient = Harness.Time(Gradient, settings, inner);
        Timing ours = Harness.Time(Hvp, settings, inner);
        Timing forwardOverReverse = Harness.Time(HvpForward, settings, inner);
        Hvp();
        double[] oursHv = [.. w.Grad, b.Grad];
        HvpForward();
        double forwardError = GradientCheck.RelativeError(hvForward, oursHv);
        double ofGradient = ours.MedianMs / gradient.MedianMs;

        // ---- TorchSharp: double backward.
        Timing torchTiming;
        double[] torchHv;
        using (Tensor tx = TorchEnvironment.Leaf(x, [n, D], requiresGrad: false))
        using (Tensor ty = TorchEnvironment.Leaf(y, [n], requiresGrad: false))
        using (Tensor tv = TorchEnvironment.Leaf(v, [D], requiresGrad: false))
        using (Tensor tw = TorchEnvironment.Leaf(w0, [D], requiresGrad: true))
        using (Tensor tb = torch.tensor(B0, dtype: float64, requires_grad: true))
        {
            void TorchHvp()
            {
                TorchEnvironment.ZeroGrad(tw, tb);
                using DisposeScope scope = torch.NewDisposeScope();
                Tensor loss = torch.nn.functional.binary_cross_entropy_with_logits(TorchScalars.Add(tx.mv(tw), tb), ty);
                var g = torch.autograd.grad([loss], [tw, tb], retain_graph: true, create_graph: true);
                TorchScalars.Add((g[0] * tv).sum(), TorchScalars.Mul(g[1], VB)).backward();
            }
            torchTiming = Harness.Time(TorchHvp, settings, settings.Scale == Scale.Tiny ? 1 : Harness.Calibrate(TorchHvp, 20));
            TorchHvp();
            torchHv = [.. TorchEnvironment.Grad(tw), TorchEnvironment.Grad(tb)[0]];
        }

        double speedup = torchTiming.MedianMs / ours.MedianMs;
        return new WorkloadResult(
            $"{Name}_n{n}", ours.MedianMs, torchTiming.MedianMs, "H·v",
            [
                new Extra("grad_ms", gradient.MedianMs, "one gradient ms"),
                new Extra("of_gradient", ofGradient, "× one gradient"),
                new Extra("fwd_over_rev_ms", forwardOverReverse.MedianMs, "forward-over-reverse ms"),
                new Extra("fwd_over_rev_err", forwardError, "forward-over-reverse vs reverse-over-reverse rel err"),
            ],
            [
                new TargetCheck("within 4× of one gradient (fwd+bwd) in the same run", $"{ofGradient:0.00}× ({Report.Time(ours.MedianMs)} vs {Report.Time(gradient.MedianMs)})", ofGradient <= 4),
                new TargetCheck("faster than TorchSharp's double backward", $"{speedup:0.00}×", speedup > 1),
            ],
            GradientCheck.Compare("H·v (w, b)", oursHv, torchHv),
            $"Reverse-over-reverse on one reused tape; TorchSharp: autograd.grad(create_graph) then backward, {TorchEnvironment.Threads} threads.",
            oursHv, torchHv) { OursSpread = ours.Spread, TorchSpread = torchTiming.Spread };
    }
}
