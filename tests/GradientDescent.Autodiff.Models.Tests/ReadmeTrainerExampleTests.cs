using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>The README's Trainer example, run as written (with a collecting progress and no cancellation).</summary>
public sealed class ReadmeTrainerExampleTests
{
    private sealed class ListProgress : IProgress<EpochReport>
    {
        public List<EpochReport> Reports { get; } = [];
        public void Report(EpochReport value) => Reports.Add(value);
    }

    [Fact]
    public void ReadmeExample_FitsIrisWithEarlyStopping()
    {
        var progress = new ListProgress();
        CancellationToken cancellationToken = default;

        // The lines the README shows.
        var (train, test) = SampleData.Iris().Split(0.8, seed: 1);
        var scaler = Standardizer.Fit(train);
        var model = new SoftmaxRegression(features: 4, classes: 3, new RandomSource(5));
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.05), (x, t) => model.Loss(x, t.Labels), new TrainerOptions
        {
            Epochs = 200, BatchSize = 16, Seed = 4, Patience = 10,                 // stop when validation stalls 10 epochs
            Metrics = [("accuracy", (x, data) => Metrics.Accuracy(model.Forward(x).Value, 3, data.Labels))],
        });
        TrainingResult result = trainer.Fit(scaler.Transform(train), scaler.Transform(test), progress, cancellationToken);
        // End of the README's lines.

        Assert.Equal(progress.Reports, result.History);
        Assert.NotNull(result.BestEpoch);
        EpochReport best = result.History[result.BestEpoch!.Value - 1];
        Assert.True(best.Metric("accuracy") >= 0.95, $"accuracy at the best epoch {best.Metric("accuracy"):R}, reason {result.Reason}");
        if (result.Reason == StopReason.EarlyStopping) Assert.Equal(result.BestEpoch + 10, result.History.Count);
    }
}
