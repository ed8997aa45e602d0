using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload 5, op_overhead: one op (add, multiply, exp) on vectors of 1, 16, 1,000 and 1,000,000 elements with
/// gradient — use the parameters, apply the op, sum, backward — as one step. At size 1 this is the fixed cost of an
/// op; at 1,000,000 it is the kernels' throughput.
/// </summary>
/// <remarks>
/// This library's step is tape.Clear(), tape.Use(a) (and b), the op, Ops.Sum, Backward; TorchSharp's is the op, sum()
/// and backward() on leaf tensors. Neither zeroes gradients inside the timed loop (both accumulate). Short steps are
/// repeated within one sample so that a sample lasts a few milliseconds.
/// </remarks>
public sealed class OpOverhead : IWorkload
{
    private static readonly string[] OpNames = ["add", "mul", "exp"];

    /// <inheritdoc/>
    public string Name => "op_overhead";

    /// <inheritdoc/>
    public string Description => "one op (add, mul, exp) on vectors of 1, 16, 1,000, 1,000,000 elements, forward + backward into a sum";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int[] sizes = settings.Scale == Scale.Tiny ? [1, 16, 1_000] : [1, 16, 1_000, 1_000_000];
        double sampleMs = settings.Scale switch { Scale.Tiny => 0.1, Scale.Quick => 3, _ => 10 };
        RunSettings perOp = settings with { WarmupMs = settings.WarmupMs / 2 };
        var results = new List<WorkloadResult>();
        foreach (string op in OpNames)
        {
            foreach (int n in sizes) results.Add(RunOne(op, n, perOp, sampleMs));
        }
        return results;
    }

    private WorkloadResult RunOne(string op, int n, RunSettings settings, double sampleMs)
    {
        var rng = new DeterministicRandom((ulong)(n * 31 + op.Length));
        double[] a0 = rng.UniformArray(n, 0.5, 1.5), b0 = rng.UniformArray(n, 0.5, 1.5);
        bool binary = op != "exp";

        // ---- this library.
        var pa = new VectorParameter("a", a0);
        var pb = new VectorParameter("b", b0);
        var tape = new Tape();
        void Step()
        {
            tape.Clear();
            Vector a = tape.Use(pa);
            Vector y = op switch
            {
                "add" => a + tape.Use(pb),
                "mul" => a * tape.Use(pb),
                _ => Ops.Exp(a),
            };
            Ops.Sum(y).Backward();
        }
        int inner = settings.Scale == Scale.Tiny ? 1 : Harness.Calibrate(Step, sampleMs);
        Timing ours = Harness.Time(Step, settings, inner);
        double allocPerStep = Harness.AllocatedBytesPerCall(Step, calls: 100, warmup: 2);
        pa.ZeroGrad();
        pb.ZeroGrad();
        Step();
        double[] oursGrad = binary ? [.. pa.Grad, .. pb.Grad] : [.. pa.Grad];

        // ---- TorchSharp.
        using Tensor ta = TorchEnvironment.Leaf(a0, [n], requiresGrad: true);
        using Tensor tb = TorchEnvironment.Leaf(b0, [n], requiresGrad: binary);
        void TorchStep()
        {
            using DisposeScope scope = torch.NewDisposeScope();
            Tensor y = op switch
            {
                "add" => TorchScalars.Add(ta, tb),
                "mul" => ta * tb,
                _ => ta.exp(),
            };
            y.sum().backward();
        }
        int torchInner = settings.Scale == Scale.Tiny ? 1 : Harness.Calibrate(TorchStep, sampleMs);
        Timing torchTiming = Harness.Time(TorchStep, settings, torchInner);
        TorchEnvironment.ZeroGrad(ta, tb);
        TorchStep();
        double[] torchGrad = binary ? [.. TorchEnvironment.Grad(ta), .. TorchEnvironment.Grad(tb)] : TorchEnvironment.Grad(ta);

        double nsPerStep = ours.MedianMs * 1e6;
        double speedup = torchTiming.MedianMs / ours.MedianMs;
        var targets = new List<TargetCheck>();
        if (n == 1) targets.Add(new TargetCheck("≤ 100 ns per op (whole step) at size 1", $"{nsPerStep:0} ns", nsPerStep <= 100));
        if (n == 1_000_000) targets.Add(new TargetCheck("≥ 1× TorchSharp at 1,000,000", $"{speedup:0.00}×", speedup >= 1));
        targets.Add(new TargetCheck("0 bytes allocated per step (tape reused with Clear)", $"{allocPerStep:0} B", allocPerStep == 0));
        var extras = new List<Extra>
        {
            new("ns_per_op", nsPerStep, "ns/op"),
            new("torch_ns_per_op", torchTiming.MedianMs * 1e6, "torch ns/op"),
            new("alloc_bytes_per_step", allocPerStep, "alloc B/step"),
        };
        return new WorkloadResult(
            $"{Name}_{op}_n{n}", ours.MedianMs, torchTiming.MedianMs, "step",
            extras, targets,
            GradientCheck.Compare(binary ? "∂L/∂a, ∂L/∂b" : "∂L/∂a", oursGrad, torchGrad),
            n == 1 ? $"step = Clear + Use + {op} + Sum + Backward ({tape.NodeCount} nodes); {inner} steps per timed sample (TorchSharp {torchInner})." : null,
            oursGrad, torchGrad) { OursSpread = ours.Spread, TorchSpread = torchTiming.Spread };
    }
}
