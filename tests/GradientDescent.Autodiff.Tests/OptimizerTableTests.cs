using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Tests.Support;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// One table of every optimizer (and a few settings of each): all converge on the seed's logistic regression, and
/// none allocates in <see cref="Optimizer.Step"/>.
/// </summary>
public sealed class OptimizerTableTests
{
    /// <summary>name → an optimizer over the given parameters, at a rate that suits the seed's problem.</summary>
    private static readonly Dictionary<string, Func<IReadOnlyList<Parameter>, Optimizer>> Table = new()
    {
        ["Sgd"] = p => new Sgd(p, 10),
        ["Sgd momentum"] = p => new Sgd(p, 2, momentum: 0.9),
        ["Sgd nesterov wd=1e-6"] = p => new Sgd(p, 2, momentum: 0.9, weightDecay: 1e-6, nesterov: true),
        ["Sgd momentum dampening=0.5"] = p => new Sgd(p, 4, momentum: 0.9, dampening: 0.5),
        ["Adam"] = p => new Adam(p, 0.2),
        ["Adam amsgrad"] = p => new Adam(p, 0.2, amsGrad: true),
        ["AdamW wd=1e-6"] = p => new AdamW(p, 0.2, weightDecay: 1e-6),
        ["RmsProp"] = p => new RmsProp(p, 0.02),
        ["RmsProp centered momentum"] = p => new RmsProp(p, 0.005, momentum: 0.5, centered: true),
        ["Adagrad"] = p => new Adagrad(p, 10),
        ["Adagrad lr_decay=1e-3 s0=0.1"] = p => new Adagrad(p, 20, learningRateDecay: 1e-3, initialAccumulatorValue: 0.1),
    };

    public static TheoryData<string> Names => [.. Table.Keys];

    private static readonly LabeledData Data = LabeledData.Admissions();

    /// <summary>J(w, b) = −(1/m) Σ [y ln σ(x·w + b) + (1 − y) ln(1 − σ(x·w + b))] over the admissions data.</summary>
    private static Scalar SeedLoss(Tape tape, VectorParameter w, ScalarParameter b) =>
        Loss.BinaryCrossEntropyWithLogits(
            Ops.MatVec(tape.Constant(Data.FeatureMatrix(), Data.Count, Data.FeatureCount), tape.Use(w)) + tape.Use(b),
            tape.Constant([.. Data.Labels]));

    /// <summary>The minimum J* by Newton's method, ∇²J = XᵀSX/m with S = diag(ŷ(1 − ŷ)), to machine precision.</summary>
    private static readonly Lazy<double> MinimumLoss = new(() =>
    {
        int m = Data.Count;
        double w0 = 0, w1 = 0, b = 0;
        for (int iteration = 0; iteration < 50; iteration++)
        {
            // Gradient g = Xᵀ(ŷ − y)/m and Hessian H = XᵀSX/m over the augmented rows (x₀, x₁, 1).
            var g = new double[3];
            var h = new double[3, 3];
            for (int i = 0; i < m; i++)
            {
                double[] x = [Data.Features[i][0], Data.Features[i][1], 1];
                double yHat = 1 / (1 + Math.Exp(-(w0 * x[0] + w1 * x[1] + b)));
                for (int r = 0; r < 3; r++)
                {
                    g[r] += (yHat - Data.Labels[i]) * x[r] / m;
                    for (int c = 0; c < 3; c++) h[r, c] += yHat * (1 - yHat) * x[r] * x[c] / m;
                }
            }
            double[] step = Solve3(h, g);
            w0 -= step[0];
            w1 -= step[1];
            b -= step[2];
        }
        var tape = new Tape();
        return SeedLoss(tape, new VectorParameter("w", w0, w1), new ScalarParameter("b", b)).Value;
    });

    [Theory]
    [MemberData(nameof(Names))]
    public void Step_SeedLogisticRegression_ConvergesToTheNewtonMinimum(string name)
    {
        // 2,000 full-batch steps from w = 0, b = 0 reach J* + 10⁻⁵, where J* ≈ 0.13553 is Newton's minimum, at
        // w ≈ (−14.5, −16.4), b ≈ 16.3: far from the start, so the rates are large (the table's rates suit this problem).
        var w = VectorParameter.Zeros("w", Data.FeatureCount);
        var b = new ScalarParameter("b");
        var optimizer = Table[name]([w, b]);
        var tape = new Tape();
        double first = double.NaN, last = double.NaN;
        for (int step = 0; step < 2000; step++)
        {
            tape.Clear();
            Scalar loss = SeedLoss(tape, w, b);
            if (step == 0) first = loss.Value;
            last = loss.Value;
            loss.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Approx.Equal(Math.Log(2), first, 1e-15, 0, "J at w = 0, b = 0");
        Assert.True(last - MinimumLoss.Value < 1e-5, $"{name}: J = {last:R} after 2,000 steps, J* = {MinimumLoss.Value:R}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Step_AfterTheFirst_AllocatesNothing(string name)
    {
        // State is allocated in the constructor; a step only reads gradients and writes values and state.
        Parameter[] parameters = [new VectorParameter("v", 1.0, -2.0, 3.0), MatrixParameter.Zeros("M", 4, 5), new ScalarParameter("s", 0.5)];
        foreach (var p in parameters) Array.Fill(p.Grad, 0.125);
        var optimizer = Table[name](parameters);
        optimizer.Step();   // JIT and tiering out of the way
        optimizer.Step();

        long allocated = Allocations.Least(() =>
        {
            for (int t = 0; t < 100; t++) optimizer.Step();
        });

        Assert.True(allocated == 0, $"{name}: 100 steps allocated {allocated} bytes");
    }

    [Fact]
    public void ClippingAndSchedules_InTheLoop_AllocateNothing()
    {
        Parameter[] parameters = [new VectorParameter("v", 1.0, -2.0, 3.0), MatrixParameter.Zeros("M", 4, 5)];
        foreach (var p in parameters) Array.Fill(p.Grad, 0.125);
        var schedule = LearningRateSchedule.CosineAnnealing(0.1, 200, 1e-3).WithLinearWarmUp(10, 0.1);
        var optimizer = new Sgd(parameters, 0.1);
        void Once(int t)
        {
            GradientClipping.ClipByNorm(parameters, 1.0);
            GradientClipping.ClipByValue(parameters, 0.1);
            optimizer.LearningRate = schedule.At(t);
            optimizer.Step();
        }
        Once(0);
        Once(1);

        long allocated = Allocations.Least(() =>
        {
            for (int t = 2; t < 100; t++) Once(t);
        });

        Assert.True(allocated == 0, $"98 clipped, scheduled steps allocated {allocated} bytes");
    }

    [Fact]
    public void ReadmeTrainingLoop_OnAdmissions_ReachesTheNewtonMinimum()
    {
        // The README's loop verbatim (AdamW, cosine annealing after a linear warm-up, global-norm clipping) on the
        // seed's data: within 10⁻⁵ of Newton's J* after 1,000 steps.
        var data = LabeledData.Admissions();
        double[] x = data.FeatureMatrix(), y = [.. data.Labels];
        int m = data.Count;
        var w = VectorParameter.Zeros("w", 2);
        var b = new ScalarParameter("b");
        var optimizer = new AdamW([w, b], learningRate: 0.5, weightDecay: 1e-4);
        var schedule = LearningRateSchedule.CosineAnnealing(0.5, period: 1000, minRate: 1e-3).WithLinearWarmUp(50, startFactor: 0.1);
        var tape = new Tape();
        double last = double.NaN;
        for (int t = 0; t < 1000; t++)
        {
            tape.Clear();
            Scalar loss = Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(tape.Constant(x, m, 2), tape.Use(w)) + tape.Use(b), y);
            last = loss.Value;
            loss.Backward();
            GradientClipping.ClipByNorm(optimizer.Parameters, maxNorm: 1.0);   // returns the norm before clipping
            optimizer.LearningRate = schedule.At(t);
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Assert.True(last - MinimumLoss.Value < 1e-5, $"J = {last:R}, J* = {MinimumLoss.Value:R}");
    }

    /// <summary>Solves the 3 × 3 system Hx = g by Cramer's rule.</summary>
    private static double[] Solve3(double[,] h, double[] g)
    {
        static double Det(double[,] a) =>
            a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
            - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]);
        double d = Det(h);
        var x = new double[3];
        for (int c = 0; c < 3; c++)
        {
            var a = (double[,])h.Clone();
            for (int r = 0; r < 3; r++) a[r, c] = g[r];
            x[c] = Det(a) / d;
        }
        return x;
    }
}
