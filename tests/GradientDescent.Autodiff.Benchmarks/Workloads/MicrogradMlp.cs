using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload 2, micrograd_mlp: one training step of micrograd's demo, built from scalar nodes — an MLP 2-16-16-1
/// (relu hidden layers, linear output) on 100 moons-like points, SVM max-margin loss
/// mean(relu(1 − y·score)) + 10⁻⁴·Σp², forward + backward (about 66,000 nodes).
/// </summary>
/// <remarks>
/// Both engines record exactly micrograd's sequence of scalar operations (a neuron is ((b + w₀x₀) + w₁x₁) + …, sums
/// run left to right), so their gradients agree to the last bit. TorchSharp runs it with 0-dimensional tensors, and
/// also vectorized (the same model as matrix products) as an extra figure.
/// </remarks>
public sealed class MicrogradMlp : IWorkload
{
    private const double Alpha = 1e-4;
    private static readonly int[] Sizes = [2, 16, 16, 1];

    /// <inheritdoc/>
    public string Name => "micrograd_mlp";

    /// <inheritdoc/>
    public string Description => "micrograd demo training step: MLP 2-16-16-1 on 100 moons points, scalar nodes, SVM loss + L2";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int points = settings.Scale == Scale.Tiny ? 10 : 100;
        (double[] x, double[] y) = Moons(points, noise: 0.1, seed: 1337);
        double[] init = InitialParameters(seed: 42);

        // ---- this library: one ScalarParameter per weight and bias, micrograd's order.
        ScalarParameter[] parameters = [.. init.Select((v, k) => new ScalarParameter($"p{k}", v))];
        var tape = new Tape();
        var model = new OursModel(tape, parameters, x, y);
        void Step()
        {
            foreach (ScalarParameter p in parameters) p.ZeroGrad();
            model.Loss().Backward();
        }
        (Timing forward, Timing backward, Timing ours) = Harness.TimePhases(
            () =>
            {
                foreach (ScalarParameter p in parameters) p.ZeroGrad();
                return model.Loss();
            },
            loss => loss.Backward(),
            settings);
        double bwdFwd = backward.MedianMs / forward.MedianMs;
        int nodes = tape.NodeCount;
        double allocPerStep = Harness.AllocatedBytesPerCall(Step, calls: 5, warmup: 1);
        Step();
        double[] oursGrad = [.. parameters.Select(p => p.Grad)];

        // ---- TorchSharp with scalar (0-dimensional) tensors: the same graph, op for op.
        Tensor[] scalars = [.. init.Select(v => torch.tensor(v, dtype: float64, requires_grad: true))];
        try
        {
            void TorchScalarStep()
            {
                TorchEnvironment.ZeroGrad(scalars);
                using DisposeScope scope = torch.NewDisposeScope();
                TorchScalarLoss(scalars, x, y).backward();
            }
            RunSettings slow = settings.AtMost(warmup: 1, reps: settings.Scale == Scale.Full ? 5 : 3) with { WarmupMs = 0 };
            Timing torchScalar = Harness.Time(TorchScalarStep, slow);
            TorchScalarStep();
            double[] torchScalarGrad = [.. scalars.Select(s => TorchEnvironment.Grad(s)[0])];

            // ---- TorchSharp vectorized: X[n×2] through matrix products; gradients mapped back to micrograd's order.
            Tensor[] layers = VectorizedParameters(init);
            using Tensor tx = TorchEnvironment.Leaf(x, [points, 2], requiresGrad: false);
            using Tensor ty = TorchEnvironment.Leaf(y, [points], requiresGrad: false);
            try
            {
                void TorchVectorStep()
                {
                    TorchEnvironment.ZeroGrad(layers);
                    using DisposeScope scope = torch.NewDisposeScope();
                    TorchVectorLoss(layers, tx, ty).backward();
                }
                Timing torchVector = Harness.Time(TorchVectorStep, settings);
                TorchVectorStep();
                double[] torchVectorGrad = FlattenVectorized(layers);

                GradientCheck check = GradientCheck.Worst(
                    GradientCheck.Compare("all 337 ∂L/∂p vs TorchSharp scalar", oursGrad, torchScalarGrad),
                    GradientCheck.Compare("all 337 ∂L/∂p vs TorchSharp vectorized", oursGrad, torchVectorGrad));
                double nsPerNode = ours.MedianMs * 1e6 / nodes;
                return
                [
                    new WorkloadResult(
                        Name, ours.MedianMs, torchScalar.MedianMs, "train step",
                        [
                            new Extra("ns_per_node", nsPerNode, "ns/node"),
                            new Extra("nodes", nodes, "nodes"),
                            new Extra("bwd_fwd", bwdFwd, "bwd/fwd"),
                            new Extra("alloc_bytes_per_step", allocPerStep, "alloc B/step"),
                            new Extra("torch_vec_ms", torchVector.MedianMs, "torch vectorized ms"),
                            new Extra("speedup_vs_torch_vec", torchVector.MedianMs / ours.MedianMs, "vs torch vec"),
                        ],
                        [
                            new TargetCheck("≤ 1 ms per training step", Report.Time(ours.MedianMs), ours.MedianMs <= 1),
                            new TargetCheck("≥ 300× TorchSharp (scalar)", $"{torchScalar.MedianMs / ours.MedianMs:0}×", torchScalar.MedianMs / ours.MedianMs >= 300),
                            new TargetCheck("0 bytes allocated per step (tape reused with Clear)", $"{allocPerStep:0} B", allocPerStep == 0),
                        ],
                        check,
                        $"{nodes:N0} nodes per step; TorchSharp scalar: {torchScalar.SamplesMs.Length} timed steps, not scaled; TorchSharp vectorized (extra): {Report.Time(torchVector.MedianMs)}.",
                        oursGrad, torchScalarGrad)
                    {
                        NoSlowerThanBefore = true,
                        OursSpread = ours.Spread, TorchSpread = torchScalar.Spread,
                    },
                ];
            }
            finally
            {
                foreach (Tensor t in layers) t.Dispose();
            }
        }
        finally
        {
            foreach (Tensor t in scalars) t.Dispose();
        }
    }

    /// <summary>
    /// sklearn's make_moons: the upper half circle (label −1 here) and the lower, shifted one (+1), each point moved by
    /// Gaussian noise; deterministic. Returns x row-major [n×2] and y ∈ {−1, +1}.
    /// </summary>
    public static (double[] X, double[] Y) Moons(int n, double noise, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        int outer = n / 2, inner = n - outer;
        var x = new double[2 * n];
        var y = new double[n];
        for (int k = 0; k < n; k++)
        {
            bool isOuter = k < outer;
            int m = isOuter ? outer : inner, j = isOuter ? k : k - outer;
            double t = m == 1 ? 0 : Math.PI * j / (m - 1);
            x[2 * k] = (isOuter ? Math.Cos(t) : 1 - Math.Cos(t)) + noise * rng.NextGaussian();
            x[2 * k + 1] = (isOuter ? Math.Sin(t) : 0.5 - Math.Sin(t)) + noise * rng.NextGaussian();
            y[k] = isOuter ? -1 : 1;
        }
        return (x, y);
    }

    /// <summary>micrograd's initialisation, deterministic: weights uniform in [−1, 1), biases 0; order layer, neuron, (w…, b).</summary>
    private static double[] InitialParameters(ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var p = new List<double>();
        for (int l = 0; l + 1 < Sizes.Length; l++)
        {
            for (int j = 0; j < Sizes[l + 1]; j++)
            {
                for (int i = 0; i < Sizes[l]; i++) p.Add(rng.Uniform(-1, 1));
                p.Add(0);
            }
        }
        return [.. p];
    }

    /// <summary>This library's model: scalar handles reused across points, buffers allocated once.</summary>
    private sealed class OursModel(Tape tape, ScalarParameter[] parameters, double[] x, double[] y)
    {
        private readonly Scalar[] _p = new Scalar[parameters.Length];
        private readonly Scalar[] _a = new Scalar[16];
        private readonly Scalar[] _b = new Scalar[16];

        /// <summary>Clears the tape and records the total loss of one step.</summary>
        public Scalar Loss()
        {
            tape.Clear();
            for (int k = 0; k < _p.Length; k++) _p[k] = tape.Use(parameters[k]);
            int n = y.Length;
            Scalar dataLoss = default;
            for (int i = 0; i < n; i++)
            {
                double x0 = x[2 * i], x1 = x[2 * i + 1];
                int at = 0;
                for (int j = 0; j < 16; j++, at += 3)
                {
                    _a[j] = Ops.Relu(_p[at + 2] + _p[at] * x0 + _p[at + 1] * x1);
                }
                for (int j = 0; j < 16; j++, at += 17)
                {
                    Scalar act = _p[at + 16];
                    for (int k = 0; k < 16; k++) act += _p[at + k] * _a[k];
                    _b[j] = Ops.Relu(act);
                }
                Scalar score = _p[at + 16];
                for (int k = 0; k < 16; k++) score += _p[at + k] * _b[k];
                Scalar loss = Ops.Relu(score * -y[i] + 1.0);
                dataLoss = i == 0 ? loss : dataLoss + loss;
            }
            dataLoss *= 1.0 / n;
            Scalar reg = _p[0] * _p[0];
            for (int k = 1; k < _p.Length; k++) reg += _p[k] * _p[k];
            return dataLoss + reg * Alpha;
        }
    }

    /// <summary>The same sequence of scalar operations on 0-dimensional tensors.</summary>
    private static Tensor TorchScalarLoss(Tensor[] p, double[] x, double[] y)
    {
        var a = new Tensor[16];
        var b = new Tensor[16];
        int n = y.Length;
        Tensor? dataLoss = null;
        for (int i = 0; i < n; i++)
        {
            double x0 = x[2 * i], x1 = x[2 * i + 1];
            int at = 0;
            for (int j = 0; j < 16; j++, at += 3)
            {
                a[j] = TorchScalars.Add(TorchScalars.Add(p[at + 2], TorchScalars.Mul(p[at], x0)), TorchScalars.Mul(p[at + 1], x1)).relu();
            }
            for (int j = 0; j < 16; j++, at += 17)
            {
                Tensor act = p[at + 16];
                for (int k = 0; k < 16; k++) act = TorchScalars.Add(act, p[at + k] * a[k]);
                b[j] = act.relu();
            }
            Tensor score = p[at + 16];
            for (int k = 0; k < 16; k++) score = TorchScalars.Add(score, p[at + k] * b[k]);
            Tensor loss = TorchScalars.Add(TorchScalars.Mul(score, -y[i]), 1.0).relu();
            dataLoss = dataLoss is null ? loss : TorchScalars.Add(dataLoss, loss);
        }
        dataLoss = TorchScalars.Mul(dataLoss!, 1.0 / n);
        Tensor reg = p[0] * p[0];
        for (int k = 1; k < p.Length; k++) reg = TorchScalars.Add(reg, p[k] * p[k]);
        return TorchScalars.Add(dataLoss, TorchScalars.Mul(reg, Alpha));
    }

    /// <summary>W₁[2×16], b₁, W₂[16×16], b₂, W₃[16×1], b₃ from micrograd's flat order (W[i, j] = weight i of neuron j).</summary>
    private static Tensor[] VectorizedParameters(double[] flat)
    {
        var result = new List<Tensor>();
        int at = 0;
        for (int l = 0; l + 1 < Sizes.Length; l++)
        {
            int nin = Sizes[l], nout = Sizes[l + 1];
            var w = new double[nin * nout];
            var b = new double[nout];
            for (int j = 0; j < nout; j++)
            {
                for (int i = 0; i < nin; i++) w[i * nout + j] = flat[at++];
                b[j] = flat[at++];
            }
            result.Add(TorchEnvironment.Leaf(w, [nin, nout], requiresGrad: true));
            result.Add(TorchEnvironment.Leaf(b, [nout], requiresGrad: true));
        }
        return [.. result];
    }

    /// <summary>The vectorized parameters' gradients in micrograd's flat order.</summary>
    private static double[] FlattenVectorized(Tensor[] layers)
    {
        var result = new List<double>();
        for (int l = 0; l + 1 < Sizes.Length; l++)
        {
            int nin = Sizes[l], nout = Sizes[l + 1];
            double[] gw = TorchEnvironment.Grad(layers[2 * l]), gb = TorchEnvironment.Grad(layers[2 * l + 1]);
            for (int j = 0; j < nout; j++)
            {
                for (int i = 0; i < nin; i++) result.Add(gw[i * nout + j]);
                result.Add(gb[j]);
            }
        }
        return [.. result];
    }

    /// <summary>The same model and loss with matrix products: relu(X W₁ + b₁), relu(· W₂ + b₂), · W₃ + b₃.</summary>
    private static Tensor TorchVectorLoss(Tensor[] p, Tensor x, Tensor y)
    {
        Tensor h1 = TorchScalars.Add(x.mm(p[0]), p[1]).relu();
        Tensor h2 = TorchScalars.Add(h1.mm(p[2]), p[3]).relu();
        Tensor score = TorchScalars.Add(h2.mm(p[4]), p[5]).squeeze(1);
        Tensor dataLoss = TorchScalars.Add(score * -y, 1.0).relu().mean();
        Tensor reg = TorchScalars.Square(p[0]).sum();
        for (int k = 1; k < p.Length; k++) reg = TorchScalars.Add(reg, TorchScalars.Square(p[k]).sum());
        return TorchScalars.Add(dataLoss, TorchScalars.Mul(reg, Alpha));
    }
}
