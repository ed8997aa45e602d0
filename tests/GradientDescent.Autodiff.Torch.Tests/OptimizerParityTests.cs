using System.Globalization;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// One table for every optimizer: the same three parameters (a vector [3], a matrix [2×4], a scalar) and the same
/// pseudo-random gradient sequence, fed to this library's optimizer and to <c>torch.optim</c>'s (float64, p.grad set
/// by hand), give the same trajectory for 100 steps. Schedules and gradient clipping likewise against torch's.
/// </summary>
public sealed class OptimizerParityTests(ITestOutputHelper output)
{
    private const int Steps = 100;
    private const double Tolerance = 1e-12;

    private static readonly long[][] Shapes = [[3], [2, 4], []];
    // Gradient magnitudes differ by parameter, so the adaptive rules' per-element scaling matters.
    private static readonly double[] GradScales = [1, 0.01, 5];

    /// <summary>name → (this library's optimizer, torch's), over the same parameters in the same order.</summary>
    private static readonly Dictionary<string, (Func<IReadOnlyList<Parameter>, Optimizer> Ours, Func<IEnumerable<TorchParameter>, optim.Optimizer> Torch)> Table = new()
    {
        ["Sgd lr=0.1"] = (p => new Sgd(p, 0.1), p => optim.SGD(p, 0.1)),
        ["Sgd momentum=0.9"] = (p => new Sgd(p, 0.05, momentum: 0.9), p => optim.SGD(p, 0.05, momentum: 0.9)),
        ["Sgd momentum=0.9 dampening=0.5 wd=0.01"] =
            (p => new Sgd(p, 0.05, momentum: 0.9, dampening: 0.5, weightDecay: 0.01), p => optim.SGD(p, 0.05, momentum: 0.9, dampening: 0.5, weight_decay: 0.01)),
        ["Sgd nesterov momentum=0.8 wd=1e-3"] =
            (p => new Sgd(p, 0.05, momentum: 0.8, weightDecay: 1e-3, nesterov: true), p => optim.SGD(p, 0.05, momentum: 0.8, weight_decay: 1e-3, nesterov: true)),
        ["Adam defaults lr=1e-2"] = (p => new Adam(p, 1e-2), p => optim.Adam(p, 1e-2)),
        ["Adam amsgrad"] = (p => new Adam(p, 1e-2, amsGrad: true), p => optim.Adam(p, 1e-2, amsgrad: true)),
        ["Adam betas=(0.8,0.99) eps=1e-6 wd=0.1"] =
            (p => new Adam(p, 3e-2, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1), p => optim.Adam(p, 3e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.1)),
        ["AdamW wd=1e-2"] = (p => new AdamW(p, 1e-2), p => optim.AdamW(p, 1e-2, weight_decay: 1e-2)),
        ["AdamW amsgrad wd=0.1 betas=(0.5,0.9)"] =
            (p => new AdamW(p, 2e-2, beta1: 0.5, beta2: 0.9, weightDecay: 0.1, amsGrad: true), p => optim.AdamW(p, 2e-2, beta1: 0.5, beta2: 0.9, weight_decay: 0.1, amsgrad: true)),
        ["RmsProp defaults"] = (p => new RmsProp(p), p => optim.RMSProp(p)),
        ["RmsProp centered"] = (p => new RmsProp(p, 1e-3, centered: true), p => optim.RMSProp(p, 1e-3, centered: true)),
        ["RmsProp momentum=0.9 alpha=0.9"] = (p => new RmsProp(p, 1e-3, alpha: 0.9, momentum: 0.9), p => optim.RMSProp(p, 1e-3, alpha: 0.9, momentum: 0.9)),
        ["RmsProp centered momentum=0.5 wd=0.1 eps=1e-6"] =
            (p => new RmsProp(p, 1e-3, epsilon: 1e-6, weightDecay: 0.1, momentum: 0.5, centered: true), p => optim.RMSProp(p, 1e-3, eps: 1e-6, weight_decay: 0.1, momentum: 0.5, centered: true)),
        ["Adagrad defaults"] = (p => new Adagrad(p), p => optim.Adagrad(p)),
        ["Adagrad lr_decay=0.01 wd=0.1 s0=0.1 eps=1e-8"] =
            (p => new Adagrad(p, 0.1, learningRateDecay: 0.01, weightDecay: 0.1, initialAccumulatorValue: 0.1, epsilon: 1e-8),
             p => optim.Adagrad(p, 0.1, lr_decay: 0.01, weight_decay: 0.1, initial_accumulator_value: 0.1, eps: 1e-8)),
    };

    public static TheoryData<string> Optimizers => [.. Table.Keys];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Step_SameGradientSequence_SameTrajectoryAsTorchFor100Steps(string config)
    {
        TorchRuntime.EnsureLoaded();
        var (ours, theirs) = Table[config];
        double worst = RunBoth(ours, theirs, schedule: null);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {config} | {worst:E2} |"));
        Assert.True(worst <= Tolerance, $"{config}: max relative error {worst:E3} over {Steps} steps exceeds {Tolerance:E0}");
    }

    [Fact]
    public void Step_AdamWWithWarmUpAndCosineSchedule_SameTrajectoryAsTorch()
    {
        // SequentialLR([LinearLR(0.1, 1, 10), CosineAnnealingLR(90)], [10]) driving AdamW, against At(t) set before each step.
        TorchRuntime.EnsureLoaded();
        var schedule = LearningRateSchedule.CosineAnnealing(1e-2, 90, 1e-4).WithLinearWarmUp(10, 0.1);
        double worst = RunBoth(
            p => new AdamW(p, 1e-2, weightDecay: 0.05),
            p => optim.AdamW(p, 1e-2, weight_decay: 0.05),
            (schedule, opt => optim.lr_scheduler.SequentialLR(opt,
                [optim.lr_scheduler.LinearLR(opt, 0.1, 1, 10), optim.lr_scheduler.CosineAnnealingLR(opt, 90, 1e-4)], [10])));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| AdamW + warm-up/cosine schedule | {worst:E2} |"));
        Assert.True(worst <= Tolerance, $"max relative error {worst:E3}");
    }

    /// <summary>
    /// Runs both optimizers over the same start and gradients; returns the largest relative error of any parameter
    /// after any step, ‖p − p_torch‖∞ / ‖p_torch‖∞ per parameter.
    /// </summary>
    private static double RunBoth(
        Func<IReadOnlyList<Parameter>, Optimizer> makeOurs,
        Func<IEnumerable<TorchParameter>, optim.Optimizer> makeTorch,
        (LearningRateSchedule Ours, Func<optim.Optimizer, optim.lr_scheduler.LRScheduler> Torch)? schedule)
    {
        var random = new Random(20261130);
        Parameter[] ours =
        [
            new VectorParameter("v", Draw(random, 3, 1)),
            MatrixParameter.FromRowMajor("M", 2, 4, Draw(random, 8, 1)),
            new ScalarParameter("s", Draw(random, 1, 1)[0]),
        ];
        using var scope = NewDisposeScope();
        TorchParameter[] theirs = [.. ours.Select((p, k) => new TorchParameter(tensor(p.Value, Shapes[k], float64)))];
        Optimizer optimizer = makeOurs(ours);
        optim.Optimizer torchOptimizer = makeTorch(theirs);
        optim.lr_scheduler.LRScheduler? torchSchedule = schedule?.Torch(torchOptimizer);

        double worst = 0;
        for (int t = 0; t < Steps; t++)
        {
            for (int k = 0; k < ours.Length; k++)
            {
                double[] g = Draw(random, ours[k].Value.Length, GradScales[k]);
                g.CopyTo(ours[k].Grad, 0);
                theirs[k].grad = tensor(g, Shapes[k], float64);
            }
            if (schedule is { } s) optimizer.LearningRate = s.Ours.At(t);
            optimizer.Step();
            using (no_grad()) torchOptimizer.step();
            torchSchedule?.step();
            for (int k = 0; k < ours.Length; k++)
            {
                worst = Math.Max(worst, RelativeError(ours[k].Value, theirs[k].data<double>().ToArray()));
            }
        }
        return worst;
    }

    // ---- schedules: At(t) against torch's scheduler driving a torch optimizer's rate ----

    private static readonly Dictionary<string, (LearningRateSchedule Ours, Func<optim.Optimizer, optim.lr_scheduler.LRScheduler> Torch)> Schedules = new()
    {
        ["Step s=7 γ=0.5"] = (LearningRateSchedule.Step(0.1, 7, 0.5), o => optim.lr_scheduler.StepLR(o, 7, 0.5)),
        ["Exponential γ=0.97"] = (LearningRateSchedule.Exponential(0.1, 0.97), o => optim.lr_scheduler.ExponentialLR(o, 0.97)),
        ["CosineAnnealing T=100 η_min=0"] = (LearningRateSchedule.CosineAnnealing(0.1, 100), o => optim.lr_scheduler.CosineAnnealingLR(o, 100)),
        ["CosineAnnealing T=30 η_min=1e-3 (past T)"] = (LearningRateSchedule.CosineAnnealing(0.1, 30, 1e-3), o => optim.lr_scheduler.CosineAnnealingLR(o, 30, 1e-3)),
        ["Linear f0=0.1 f1=1 n=10"] = (LearningRateSchedule.Linear(0.1, 0.1, 1, 10), o => optim.lr_scheduler.LinearLR(o, 0.1, 1, 10)),
        ["Linear f0=1 f1=0.25 n=40"] = (LearningRateSchedule.Linear(0.1, 1, 0.25, 40), o => optim.lr_scheduler.LinearLR(o, 1, 0.25, 40)),
        ["Lambda f(t)=1/(1+0.1t)"] = (LearningRateSchedule.Lambda(0.1, t => 1 / (1 + 0.1 * t)), o => optim.lr_scheduler.LambdaLR(o, t => 1 / (1 + 0.1 * t))),
        ["WarmUp 5 f0=0.2 then Cosine T=95"] = (LearningRateSchedule.CosineAnnealing(0.1, 95).WithLinearWarmUp(5, 0.2),
            o => optim.lr_scheduler.SequentialLR(o, [optim.lr_scheduler.LinearLR(o, 0.2, 1, 5), optim.lr_scheduler.CosineAnnealingLR(o, 95)], [5])),
        ["WarmUp 8 f0=0.5 then Step s=10 γ=0.3"] = (LearningRateSchedule.Step(0.1, 10, 0.3).WithLinearWarmUp(8, 0.5),
            o => optim.lr_scheduler.SequentialLR(o, [optim.lr_scheduler.LinearLR(o, 0.5, 1, 8), optim.lr_scheduler.StepLR(o, 10, 0.3)], [8])),
    };

    public static TheoryData<string> ScheduleNames => [.. Schedules.Keys];

    [Theory]
    [MemberData(nameof(ScheduleNames))]
    public void At_EachStep_EqualsTorchSchedulersRate(string config)
    {
        // torch: the rate its optimizer uses in step t + 1 is the group's lr after t calls of scheduler.step().
        TorchRuntime.EnsureLoaded();
        var (ours, makeTorch) = Schedules[config];
        using var scope = NewDisposeScope();
        var dummy = new TorchParameter(zeros(1, float64));
        var opt = optim.SGD([dummy], 0.1);
        var scheduler = makeTorch(opt);
        double worst = 0;
        for (int t = 0; t < Steps; t++)
        {
            double expected = opt.ParamGroups.First().LearningRate, actual = ours.At(t);
            double error = expected == actual ? 0 : Math.Abs(actual - expected) / Math.Abs(expected);
            Assert.True(error <= Tolerance, string.Create(CultureInfo.InvariantCulture, $"{config}, t = {t}: torch {expected:R}, ours {actual:R}"));
            worst = Math.Max(worst, error);
            scheduler.step();
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {config} | {worst:E2} |"));
    }

    // ---- clipping ----

    [Theory]
    [InlineData(1e6)]     // nothing clipped
    [InlineData(2.0)]
    [InlineData(1e-3)]
    public void ClipByNorm_RandomGradients_SameNormAndGradientsAsTorch(double maxNorm)
    {
        // ‖g‖ = √(Σₖ ‖gₖ‖²); gₖ ← min(1, maxNorm/(‖g‖ + 10⁻⁶))·gₖ, as torch.nn.utils.clip_grad_norm_.
        TorchRuntime.EnsureLoaded();
        var (ours, theirs, scope) = RandomGradients(seed: 7);
        using (scope)
        {
            double total = GradientClipping.ClipByNorm(ours, maxNorm);
            double torchTotal = nn.utils.clip_grad_norm_(theirs, maxNorm);
            Assert.True(Math.Abs(total - torchTotal) <= 1e-14 * torchTotal, $"norm {total:R} vs torch {torchTotal:R}");
            for (int k = 0; k < ours.Length; k++)
            {
                double error = RelativeError(ours[k].Grad, theirs[k].grad!.data<double>().ToArray());
                Assert.True(error <= 1e-14, $"{ours[k]}: gradient relative error {error:E3}");
            }
        }
    }

    [Fact]
    public void ClipByValue_RandomGradients_SameGradientsAsTorch()
    {
        // g ← clamp(g, −v, v), as torch.nn.utils.clip_grad_value_.
        TorchRuntime.EnsureLoaded();
        var (ours, theirs, scope) = RandomGradients(seed: 8);
        using (scope)
        {
            GradientClipping.ClipByValue(ours, 0.3);
            nn.utils.clip_grad_value_(theirs, 0.3);
            for (int k = 0; k < ours.Length; k++)
            {
                Assert.Equal(theirs[k].grad!.data<double>().ToArray(), ours[k].Grad);
            }
        }
    }

    private static (Parameter[] Ours, TorchParameter[] Theirs, IDisposable Scope) RandomGradients(int seed)
    {
        var random = new Random(seed);
        Parameter[] ours = [VectorParameter.Zeros("v", 3), MatrixParameter.Zeros("M", 2, 4), new ScalarParameter("s")];
        var scope = NewDisposeScope();
        TorchParameter[] theirs = [.. ours.Select((p, k) => new TorchParameter(zeros(Shapes[k], float64)))];
        for (int k = 0; k < ours.Length; k++)
        {
            Draw(random, ours[k].Value.Length, GradScales[k]).CopyTo(ours[k].Grad, 0);
            theirs[k].grad = tensor(ours[k].Grad, Shapes[k], float64);
        }
        return (ours, theirs, scope);
    }

    /// <summary>‖a − b‖∞ / ‖b‖∞ (0 when both are zero).</summary>
    private static double RelativeError(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected)
    {
        double diff = 0, scale = 0;
        for (int j = 0; j < expected.Length; j++)
        {
            diff = Math.Max(diff, Math.Abs(actual[j] - expected[j]));
            scale = Math.Max(scale, Math.Abs(expected[j]));
        }
        return diff == 0 ? 0 : diff / scale;
    }

    private static double[] Draw(Random random, int n, double scale)
    {
        var x = new double[n];
        for (int j = 0; j < n; j++) x[j] = scale * (2 * random.NextDouble() - 1);
        return x;
    }
}
