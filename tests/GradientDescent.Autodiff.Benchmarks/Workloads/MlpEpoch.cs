using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// Workload 6, mlp_epoch: one epoch of SGD on an MLP 64-128-128-10 (relu) with softmax cross-entropy
/// (Loss.SoftmaxCrossEntropy(Matrix, int[])) over 10,000 synthetic rows, batch 32 and batch 256.
/// </summary>
/// <remarks>
/// Labels come from a fixed random linear teacher (argmax of x·T). Both engines start from the same weights and see
/// the same batches in the same order. The gradient check compares the first step's gradients of every parameter
/// (exact agreement expected up to summation order) and the parameters after the whole epoch.
/// </remarks>
public sealed class MlpEpoch : IWorkload
{
    private const int In = 64, Hidden = 128, Classes = 10;
    private const double LearningRate = 0.05;
    private static readonly (int Rows, int Cols)[] Shapes = [(In, Hidden), (Hidden, 1), (Hidden, Hidden), (Hidden, 1), (Hidden, Classes), (Classes, 1)];

    /// <inheritdoc/>
    public string Name => "mlp_epoch";

    /// <inheritdoc/>
    public string Description => "one SGD epoch, MLP 64-128-128-10 relu, softmax cross-entropy, 10,000 rows, batch 32 and 256";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int rows = settings.Scale == Scale.Tiny ? 600 : 10_000;
        (double[] x, int[] labels) = Data(rows, seed: 64);
        double[][] init = InitialParameters(seed: 128);
        return [RunOne(32, x, labels, init, settings), RunOne(256, x, labels, init, settings)];
    }

    /// <summary>X uniform in [−1, 1) (rows × 64), label = argmax of x·T for a fixed random T (64 × 10).</summary>
    public static (double[] X, int[] Labels) Data(int rows, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        double[] teacher = rng.UniformArray(In * Classes, -1, 1);
        double[] x = rng.UniformArray(rows * In, -1, 1);
        var labels = new int[rows];
        Span<double> scores = stackalloc double[Classes];
        for (int r = 0; r < rows; r++)
        {
            scores.Clear();
            for (int k = 0; k < In; k++)
            {
                for (int c = 0; c < Classes; c++) scores[c] += x[r * In + k] * teacher[k * Classes + c];
            }
            labels[r] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<double>(scores);
        }
        return (x, labels);
    }

    private static double[][] InitialParameters(ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        // Uniform in ±1/√fan_in, PyTorch's nn.Linear default range; the bias of a layer uses its weight's fan-in.
        return
        [
            .. Shapes.Select((s, k) =>
            {
                int fanIn = k % 2 == 0 ? s.Rows : Shapes[k - 1].Rows;
                double bound = 1 / Math.Sqrt(fanIn);
                return rng.UniformArray(s.Rows * s.Cols, -bound, bound);
            }),
        ];
    }

    private WorkloadResult RunOne(int batch, double[] x, int[] labels, double[][] init, RunSettings settings)
    {
        int rows = labels.Length;
        int batches = (rows + batch - 1) / batch;
        double[][] xs = new double[batches][];
        int[][] ys = new int[batches][];
        for (int k = 0; k < batches; k++)
        {
            int start = k * batch, count = Math.Min(batch, rows - start);
            xs[k] = x.AsSpan(start * In, count * In).ToArray();
            ys[k] = labels.AsSpan(start, count).ToArray();
        }

        // ---- this library.
        var w1 = MatrixParameter.Zeros("W1", In, Hidden);
        var b1 = VectorParameter.Zeros("b1", Hidden);
        var w2 = MatrixParameter.Zeros("W2", Hidden, Hidden);
        var b2 = VectorParameter.Zeros("b2", Hidden);
        var w3 = MatrixParameter.Zeros("W3", Hidden, Classes);
        var b3 = VectorParameter.Zeros("b3", Classes);
        Parameter[] parameters = [w1, b1, w2, b2, w3, b3];
        var sgd = new Sgd(parameters, LearningRate);
        var tape = new Tape();
        void Reset()
        {
            for (int k = 0; k < parameters.Length; k++) init[k].CopyTo(parameters[k].Value, 0);
        }
        void Gradient(int k)
        {
            sgd.ZeroGrad();
            tape.Clear();
            Matrix h = Ops.Relu(Ops.MatMul(tape.Constant(xs[k], ys[k].Length, In), tape.Use(w1)) + tape.Use(b1));
            h = Ops.Relu(Ops.MatMul(h, tape.Use(w2)) + tape.Use(b2));
            Matrix logits = Ops.MatMul(h, tape.Use(w3)) + tape.Use(b3);
            Loss.SoftmaxCrossEntropy(logits, ys[k]).Backward();
        }
        void Epoch()
        {
            Reset();
            for (int k = 0; k < batches; k++)
            {
                Gradient(k);
                sgd.Step();
            }
        }
        RunSettings epochs = settings.AtMost(settings.Warmup, settings.Scale == Scale.Full ? 5 : 3);
        Timing ours = Harness.Time(Epoch, epochs);
        int probe = 0;
        double allocPerStep = Harness.AllocatedBytesPerCall(() => Gradient(probe++ % batches), calls: 20, warmup: 2);
        Reset();
        Gradient(0);
        double[] oursFirstGrad = [.. parameters.SelectMany(p => p.Grad)];
        Epoch();
        double[] oursFinal = [.. parameters.SelectMany(p => p.Value)];

        // ---- TorchSharp.
        Tensor[] tp = [.. Shapes.Select((s, k) => TorchEnvironment.Leaf(init[k], s.Cols == 1 ? [s.Rows] : [s.Rows, s.Cols], requiresGrad: true))];
        Tensor[] tInit = [.. Shapes.Select((s, k) => TorchEnvironment.Leaf(init[k], s.Cols == 1 ? [s.Rows] : [s.Rows, s.Cols], requiresGrad: false))];
        Tensor[] tx = [.. xs.Select((a, k) => TorchEnvironment.Leaf(a, [ys[k].Length, In], requiresGrad: false))];
        Tensor[] ty = [.. ys.Select(a => torch.tensor(a.Select(v => (long)v).ToArray(), dtype: int64))];
        try
        {
            void TorchGradient(int k)
            {
                TorchEnvironment.ZeroGrad(tp);
                using DisposeScope scope = torch.NewDisposeScope();
                Tensor h = TorchScalars.Add(tx[k].mm(tp[0]), tp[1]).relu();
                h = TorchScalars.Add(h.mm(tp[2]), tp[3]).relu();
                Tensor logits = TorchScalars.Add(h.mm(tp[4]), tp[5]);
                torch.nn.functional.cross_entropy(logits, ty[k]).backward();
            }
            void TorchReset()
            {
                using var noGrad = torch.no_grad();
                for (int k = 0; k < tp.Length; k++) tp[k].copy_(tInit[k]);
            }
            void TorchEpoch()
            {
                TorchReset();
                for (int k = 0; k < batches; k++)
                {
                    TorchGradient(k);
                    TorchEnvironment.SgdStep(LearningRate, tp);
                }
            }
            Timing torchTiming = Harness.Time(TorchEpoch, epochs);
            TorchReset();
            TorchGradient(0);
            double[] torchFirstGrad = [.. tp.SelectMany(TorchEnvironment.Grad)];
            TorchEpoch();
            double[] torchFinal = [.. tp.SelectMany(TorchEnvironment.Values)];

            GradientCheck check = GradientCheck.Worst(
                GradientCheck.Compare("first step's ∂L/∂(W1, b1, W2, b2, W3, b3)", oursFirstGrad, torchFirstGrad),
                GradientCheck.Compare($"all parameters after the epoch ({batches} steps)", oursFinal, torchFinal));
            double speedup = torchTiming.MedianMs / ours.MedianMs;
            TargetCheck target = batch <= 32
                ? new TargetCheck("≥ 1× TorchSharp at batch 32", $"{speedup:0.00}×", speedup >= 1)
                : new TargetCheck($"≥ 0.8× TorchSharp at batch {batch} (libtorch has MKL's GEMM)", $"{speedup:0.00}× (ours/torch = {1 / speedup:0.00})", speedup >= 0.8);
            return new WorkloadResult(
                $"{Name}_b{batch}", ours.MedianMs, torchTiming.MedianMs, $"epoch ({batches} steps)",
                [
                    new Extra("us_per_step", ours.MedianMs * 1e3 / batches, "µs/step"),
                    new Extra("torch_us_per_step", torchTiming.MedianMs * 1e3 / batches, "torch µs/step"),
                    new Extra("alloc_bytes_per_step", allocPerStep, "alloc B/step"),
                ],
                [target, new TargetCheck("0 bytes allocated per step (tape reused with Clear)", $"{allocPerStep:0} B", allocPerStep == 0)],
                check,
                rows == 10_000 ? null : $"{rows} rows (tiny).",
                oursFirstGrad, torchFirstGrad) { OursSpread = ours.Spread, TorchSpread = torchTiming.Spread };
        }
        finally
        {
            foreach (Tensor t in tp.Concat(tInit).Concat(tx).Concat(ty)) t.Dispose();
        }
    }
}
