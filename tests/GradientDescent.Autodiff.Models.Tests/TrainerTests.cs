using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>
/// The training loop: the ready models converge on the embedded data, early stopping stops and restores, a
/// non-finite loss names where and which op, cancellation returns what was trained, reports arrive in order, and a
/// step allocates nothing.
/// </summary>
public sealed class TrainerTests
{
    /// <summary>Collects reports synchronously, in the order given (unlike <see cref="Progress{T}"/>, which posts).</summary>
    private sealed class ListProgress(Action<EpochReport>? onReport = null) : IProgress<EpochReport>
    {
        public List<EpochReport> Reports { get; } = [];

        public void Report(EpochReport value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    /// <summary>n rows of one feature x ∈ [−1, 1] with the binary label [x &gt; 0] (separable at 0).</summary>
    private static Table Line(int n, ulong seed, bool flip = false)
    {
        var random = new SplitMix64(seed);
        var x = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = 2 * random.NextDouble() - 1;
            y[i] = (x[i] > 0) ^ flip ? 1 : 0;
        }
        return Table.Create(x, 1, y, TargetKind.Binary);
    }

    [Fact]
    public void Fit_LogisticRegressionOnAdmissions_AccuracyAtLeast0_9()
    {
        // Standardised exam scores, Adam, batches of 16; the data are separable up to a few points (Newton's minimum
        // classifies 93 of 100), so ≥ 0.9 on the rows trained on is the bar.
        Table data = SampleData.Admissions();
        Table scaled = Standardizer.Fit(data).Transform(data);
        var model = new LogisticRegression(data.FeatureCount, new RandomSource(7));
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.05), (x, t) => model.Loss(x, t.Values), new TrainerOptions
        {
            Epochs = 100,
            BatchSize = 16,
            Seed = 3,
            Metrics = [("accuracy", (x, table) => Metrics.BinaryAccuracy(model.Logits(x).Value, table.Targets, threshold: 0))],
        });
        TrainingResult result = trainer.Fit(scaled);
        Assert.Equal(StopReason.EpochLimit, result.Reason);
        Assert.Equal(100, result.History.Count);
        Assert.True(result.Last!.TrainingLoss < result.History[0].TrainingLoss, $"loss {result.History[0].TrainingLoss:R} → {result.Last.TrainingLoss:R}");
        Assert.True(result.Last.Metric("accuracy") >= 0.9, $"accuracy {result.Last.Metric("accuracy"):R}");
    }

    [Fact]
    public void Fit_SoftmaxRegressionOnIris_HeldOutAccuracyAtLeast0_95()
    {
        // Iris, 120 rows to train, 30 held out: setosa is separable, the other two nearly so, and a linear softmax
        // model scores 0.9–1 held out depending on which 30 rows are drawn (0.9 for split seed 11, 1.0 for this one).
        // The metric is computed on the validation rows.
        var (train, test) = SampleData.Iris().Split(0.8, seed: 1);
        var scaler = Standardizer.Fit(train);
        var model = new SoftmaxRegression(train.FeatureCount, train.ClassCount, new RandomSource(5));
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.05), (x, t) => model.Loss(x, t.Labels), new TrainerOptions
        {
            Epochs = 100,
            BatchSize = 16,
            Seed = 4,
            Metrics = [("accuracy", (x, table) => Metrics.Accuracy(model.Forward(x).Value, 3, table.Labels))],
        });
        TrainingResult result = trainer.Fit(scaler.Transform(train), scaler.Transform(test));
        Assert.True(result.Last!.Metric("accuracy") >= 0.95, $"held-out accuracy {result.Last.Metric("accuracy"):R}");
        Assert.True(result.Last.ValidationLoss < 0.3, $"validation loss {result.Last.ValidationLoss:R}");
    }

    [Fact]
    public void Fit_ProgressReports_OnePerEpochInOrderWithTheHistory()
    {
        // 40 rows in batches of 16: ⌈40/16⌉ = 3 steps per epoch, so epoch e ends at step 3e.
        var model = new LogisticRegression(1, new RandomSource(1));
        var progress = new ListProgress();
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.5), (x, t) => model.Loss(x, t.Values),
            new TrainerOptions { Epochs = 7, BatchSize = 16 });
        TrainingResult result = trainer.Fit(Line(40, 1), progress: progress);
        Assert.Equal(7, progress.Reports.Count);
        Assert.Equal(progress.Reports, result.History);
        for (int e = 0; e < 7; e++)
        {
            Assert.Equal(e + 1, progress.Reports[e].Epoch);
            Assert.Equal(3 * (e + 1), progress.Reports[e].Steps);
            Assert.Null(progress.Reports[e].ValidationLoss);
        }
        Assert.Equal(21, result.Steps);
    }

    [Fact]
    public void Fit_ValidationLossRises_StopsAfterPatienceAndRestoresTheBestEpoch()
    {
        // The validation labels are the training labels flipped: as the model learns [x > 0], the validation loss
        // rises. The best epoch is then early (most likely epoch 1), training stops `patience` epochs after it, and
        // the model gets the best epoch's parameters back.
        const int Patience = 3;
        var model = new LogisticRegression(1, new RandomSource(2));
        var atBest = new List<double[]>();
        var progress = new ListProgress(r =>
        {
            if (r.IsBest) atBest = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
        });
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.1), (x, t) => model.Loss(x, t.Values),
            new TrainerOptions { Epochs = 100, BatchSize = 8, Patience = Patience });
        TrainingResult result = trainer.Fit(Line(64, 3), Line(32, 4, flip: true), progress);

        Assert.Equal(StopReason.EarlyStopping, result.Reason);
        Assert.NotNull(result.BestEpoch);
        Assert.Equal(result.BestEpoch + Patience, result.History.Count);
        Assert.True(result.RestoredBest);
        // no epoch after the best one improved, and the best one's loss is the minimum of the history
        Assert.Equal(result.History.Min(r => r.ValidationLoss), result.History[result.BestEpoch!.Value - 1].ValidationLoss);
        Assert.All(result.History.Skip(result.BestEpoch.Value), r => Assert.False(r.IsBest));
        Assert.Equal(atBest, model.Parameters().Select(p => p.Value));
    }

    [Fact]
    public void Fit_RestoreBestOff_KeepsTheLastEpochsParameters()
    {
        var model = new LogisticRegression(1, new RandomSource(2));
        double[][] last = [];
        var progress = new ListProgress(_ => last = [.. model.Parameters().Select(p => (double[])p.Value.Clone())]);
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.1), (x, t) => model.Loss(x, t.Values),
            new TrainerOptions { Epochs = 100, BatchSize = 8, Patience = 2, RestoreBest = false });
        TrainingResult result = trainer.Fit(Line(64, 3), Line(32, 4, flip: true), progress);
        Assert.Equal(StopReason.EarlyStopping, result.Reason);
        Assert.False(result.RestoredBest);
        Assert.Equal(last, model.Parameters().Select(p => p.Value));
    }

    [Fact]
    public void Fit_ValidationKeepsImproving_RunsAllEpochsAndEndsOnTheBest()
    {
        // Same distribution in both tables: the validation loss falls every epoch of a short run.
        var model = new LogisticRegression(1, new RandomSource(6));
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.5), (x, t) => model.Loss(x, t.Values),
            new TrainerOptions { Epochs = 5, BatchSize = 64, Shuffle = false, Patience = 2 });
        TrainingResult result = trainer.Fit(Line(64, 7), Line(64, 8));
        Assert.Equal(StopReason.EpochLimit, result.Reason);
        Assert.Equal(5, result.BestEpoch);
        Assert.All(result.History, r => Assert.True(r.IsBest));
    }

    [Fact]
    public void Fit_PatienceWithoutValidation_ThrowsSayingWhatToPass()
    {
        var model = new LogisticRegression(1, new RandomSource(1));
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.5), (x, t) => model.Loss(x, t.Values), new TrainerOptions { Patience = 3 });
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(Line(10, 1)));
        Assert.Contains("pass a validation table", e.Message);
    }

    [Fact]
    public void Fit_NonFiniteLoss_NamesEpochBatchStepAndOp()
    {
        // 8 rows in table order, batches of 2: rows 4 and 5 (batch 3) have x = −1, the others x > 0. From epoch 2 on
        // the loss adds mean(ln x), which is NaN for batch 3 only: the first NaN is at epoch 2, batch 3 of 4, the
        // run's step 4 + 3 = 7, and the op that made it is Log. Nothing of step 7 is applied.
        double[] x = [0.5, 1, 2, 1.5, -1, -1, 0.25, 3];
        double[] y = [1, 1, 1, 1, 0, 0, 1, 1];
        var data = Table.Create(x, 1, y, TargetKind.Binary);
        var model = new LogisticRegression(1, new RandomSource(3));
        bool poisoned = false;
        double[][] afterStep6 = [];
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.1),
            (x, t) => poisoned ? model.Loss(x, t.Values) + Ops.Mean(Ops.Log(Ops.Flatten(x))) : model.Loss(x, t.Values),
            new TrainerOptions { Epochs = 5, BatchSize = 2, Shuffle = false });
        trainer.AfterStep = s =>
        {
            if (s == 6) afterStep6 = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
        };
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(data, progress: new ListProgress(_ => poisoned = true)));

        Assert.Equal((2, 3, 7L, "Log"), (e.Epoch, e.Batch, e.Step, e.Op));
        Assert.True(double.IsNaN(e.Loss));
        Assert.Contains("epoch 2, batch 3 of 4 (step 7)", e.Message);
        Assert.Contains("op Log", e.Message);
        Assert.IsType<ArithmeticException>(e.InnerException);
        Assert.Equal(afterStep6, model.Parameters().Select(p => p.Value));
        Assert.All(model.Parameters(), p => Assert.All(p.Grad, g => Assert.Equal(0.0, g)));
    }

    [Fact]
    public void Fit_CancelledDuringAStep_StopsAfterThatStepAndKeepsTheParameters()
    {
        // 40 rows in batches of 16: 3 steps per epoch. Cancelling from inside step 5's loss (epoch 2, batch 2) lets
        // that step finish (backward, update), then Fit returns: 5 steps, 1 completed epoch, the trained parameters.
        var model = new LogisticRegression(1, new RandomSource(8));
        double[][] initial = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
        using var cancellation = new CancellationTokenSource();
        int calls = 0;
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.5), (x, t) =>
        {
            if (++calls == 5) cancellation.Cancel();
            return model.Loss(x, t.Values);
        }, new TrainerOptions { Epochs = 50, BatchSize = 16 });
        double[][] afterStep5 = [];
        trainer.AfterStep = s =>
        {
            if (s == 5) afterStep5 = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
        };
        TrainingResult result = trainer.Fit(Line(40, 9), cancellationToken: cancellation.Token);

        Assert.Equal((StopReason.Cancelled, 5L, 1), (result.Reason, result.Steps, result.History.Count));
        Assert.False(result.RestoredBest);
        Assert.NotEqual(initial, model.Parameters().Select(p => p.Value));
        Assert.Equal(afterStep5, model.Parameters().Select(p => p.Value));
    }

    [Fact]
    public void Fit_CancelledAtAnEpochsEnd_StartsNoFurtherEpochAndKeepsTheLastParameters()
    {
        // Cancelled while epoch 2 is reported: epoch 3 never starts, so 2 · 3 = 6 steps, 2 reports, and with a
        // validation table the best epoch is named but not restored (a cancelled run keeps what it trained).
        var model = new LogisticRegression(1, new RandomSource(8));
        using var cancellation = new CancellationTokenSource();
        double[][] atEpoch2 = [];
        var progress = new ListProgress(r =>
        {
            if (r.Epoch != 2) return;
            atEpoch2 = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
            cancellation.Cancel();
        });
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.5), (x, t) => model.Loss(x, t.Values),
            new TrainerOptions { Epochs = 50, BatchSize = 16, Patience = 100 });
        TrainingResult result = trainer.Fit(Line(40, 9), Line(20, 10), progress, cancellation.Token);

        Assert.Equal((StopReason.Cancelled, 6L, 2), (result.Reason, result.Steps, result.History.Count));
        Assert.NotNull(result.BestEpoch);
        Assert.False(result.RestoredBest);
        Assert.Equal(atEpoch2, model.Parameters().Select(p => p.Value));
    }

    [Fact]
    public void Fit_CancelledBeforeStart_TrainsNothing()
    {
        var model = new LogisticRegression(1, new RandomSource(8));
        double[][] initial = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.5), (x, t) => model.Loss(x, t.Values));
        TrainingResult result = trainer.Fit(Line(40, 9), cancellationToken: new CancellationToken(canceled: true));
        Assert.Equal((StopReason.Cancelled, 0L, 0), (result.Reason, result.Steps, result.History.Count));
        Assert.Equal(initial, model.Parameters().Select(p => p.Value));
    }

    [Fact]
    public void Fit_NonFiniteGradientUnderFiniteLoss_NextStepNamesTheNonFiniteParameters()
    {
        // L = BCE + √(b − b₀), b₀ the bias before step 1: at step 1 the extra term is √0 = 0, so L is finite, but
        // ∂√u/∂u = 1/(2√u) = +∞ there, so SGD sets b = −∞ and step 2's loss is not finite. The error is raised at
        // step 2 (epoch 1, batch 2) and lists linear.bias as already non-finite.
        var model = new LogisticRegression(1, new RandomSource(12));
        double b0 = model.Linear.Bias!.Value[0];
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.1),
            (x, t) => model.Loss(x, t.Values) + Ops.Sqrt(Ops.Sum(x.Tape.Use(model.Linear.Bias!)) - b0),
            new TrainerOptions { Epochs = 3, BatchSize = 8 });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Line(32, 13)));
        Assert.Equal((1, 2, 2L), (e.Epoch, e.Batch, e.Step));
        Assert.Contains("Parameters already non-finite before this step: linear.bias", e.Message);
    }

    [Fact]
    public void Fit_LogisticStepsWithScheduleAndClipping_AllocateNothingInSteadyState()
    {
        // One epoch of 1500 batches of 1 row; bytes allocated by this thread from the end of step 100 to the end of
        // step 1100, in three windows of 333 or 334 whole steps (batch view, target copy, loss, backward, clip, schedule,
        // Adam, zero): the fewest of the three must be 0 (see AssertSomeWindowAllocatedNothing).
        var model = new LogisticRegression(1, new RandomSource(9));
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.01), (x, t) => model.Loss(x, t.Values), new TrainerOptions
        {
            Epochs = 1,
            BatchSize = 1,
            Schedule = LearningRateSchedule.CosineAnnealing(0.01, 2000, 1e-4),
            ClipNorm = 1,
        });
        AssertSomeWindowAllocatedNothing(trainer, [100, 433, 766, 1100], () => trainer.Fit(Line(1500, 12)));
    }

    [Fact]
    public void Fit_SoftmaxStepsOnIris_AllocateNothingInSteadyState()
    {
        // Batches of 4 Iris rows with int[] labels (MiniBatches.LabelArray): ⌈150/4⌉ = 38 steps in the epoch;
        // measured from the end of step 5 to the end of step 35, in three windows of 10 steps.
        Table iris = SampleData.Iris();
        var model = new SoftmaxRegression(4, 3, new RandomSource(10));
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.05), (x, t) => model.Loss(x, t.Labels),
            new TrainerOptions { Epochs = 1, BatchSize = 4 });
        AssertSomeWindowAllocatedNothing(trainer, [5, 15, 25, 35], () => trainer.Fit(iris));
    }

    /// <summary>
    /// Runs <paramref name="fit"/> with a step hook that reads this thread's allocated bytes at the end of each step in
    /// <paramref name="steps"/>, and asserts that at least one window between two of them allocated nothing. The
    /// runtime allocates on a thread now and then for itself (tiered compilation, see Allocations in the test support
    /// project), so one window may catch it; steps that allocate do so in every window.
    /// </summary>
    private static void AssertSomeWindowAllocatedNothing(Trainer trainer, long[] steps, Action fit)
    {
        long[] marks = new long[steps.Length];
        trainer.AfterStep = s =>
        {
            for (int k = 0; k < steps.Length; k++)
            {
                if (steps[k] == s) marks[k] = GC.GetAllocatedBytesForCurrentThread();
            }
        };
        fit();
        Assert.True(marks.All(m => m > 0), "the step hook ran at every mark");
        long[] windows = [.. marks.Skip(1).Select((m, k) => m - marks[k])];
        Assert.True(windows.Min() == 0, $"every window of steps allocated: {string.Join(", ", windows)} bytes");
    }
}
