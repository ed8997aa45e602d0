using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Records a batch's loss on the batch's tape: <c>(x, t) =&gt; model.Loss(x, t.Values)</c> for a model fitted to
/// numbers or 0/1 labels, <c>(x, t) =&gt; model.Loss(x, t.Labels)</c> for a softmax model.
/// </summary>
/// <param name="features">The batch's rows, B × d, a constant on the trainer's tape.</param>
/// <param name="targets">The batch's targets as arrays of exactly B elements, reused by the next batch.</param>
public delegate Scalar BatchLoss(Matrix features, BatchTargets targets);

/// <summary>
/// A number computed once per epoch from the model's output on a whole table (the validation table if there is
/// one, else the training table): <c>(x, data) =&gt; Metrics.BinaryAccuracy(model.Logits(x).Value, data.Targets, 0)</c>.
/// </summary>
/// <param name="features">All rows of <paramref name="data"/>, n × d, a constant on the trainer's tape, recorded without gradient.</param>
/// <param name="data">The table the rows come from (its targets and labels).</param>
public delegate double EpochMetric(Matrix features, Table data);

/// <summary>A batch's targets as arrays of exactly its length, for the ready models' <c>Loss(x, double[])</c> and <c>Loss(x, int[])</c>.</summary>
/// <remarks>The arrays are the trainer's, refilled for every batch: read them inside the <see cref="BatchLoss"/> only.</remarks>
public readonly struct BatchTargets
{
    private readonly int[]? _labels;

    internal BatchTargets(double[] values, int[]? labels)
    {
        Values = values;
        _labels = labels;
    }

    /// <summary>The targets as numbers (regression values, or 0/1 for a binary table).</summary>
    public double[] Values { get; }

    /// <summary>The class labels, 0 … K − 1, of a binary or multi-class table.</summary>
    public int[] Labels => _labels ?? throw new InvalidOperationException(
        "BatchTargets.Labels: the training table's target is a regression value; use Values.");
}

/// <summary>Why <see cref="Trainer.Fit"/> returned.</summary>
public enum StopReason
{
    /// <summary>All <see cref="TrainerOptions.Epochs"/> epochs ran.</summary>
    EpochLimit,

    /// <summary>The validation loss did not improve for <see cref="TrainerOptions.Patience"/> epochs.</summary>
    EarlyStopping,

    /// <summary>The cancellation token was signalled; training stopped after the step that was running.</summary>
    Cancelled,
}

/// <summary>
/// The settings of a <see cref="Trainer"/>. Defaults: 100 epochs of shuffled batches of 32 rows, seed 0, no
/// validation-based stopping, no schedule, no clipping, no metrics.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>The most epochs to run, at least 1.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Rows per mini-batch (the last batch of an epoch may be smaller), at least 1.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The seed of the epochs' row orders (<see cref="MiniBatches"/>): the same seed gives the same run.</summary>
    public ulong Seed { get; init; }

    /// <summary>Whether each epoch reorders the rows.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Early stopping: stop when the validation loss has not improved by more than <see cref="MinDelta"/> for this
    /// many epochs in a row (Keras's and PyTorch Lightning's <c>patience</c>). Null: never stop early. Needs a
    /// validation table.
    /// </summary>
    public int? Patience { get; init; }

    /// <summary>The least decrease of the validation loss that counts as an improvement, ≥ 0.</summary>
    public double MinDelta { get; init; }

    /// <summary>
    /// With a validation table: whether <see cref="Trainer.Fit"/> copies the parameters of the best epoch (lowest
    /// validation loss) back into the model when it stops early or runs out of epochs. A cancelled run keeps the
    /// parameters it had (the result says which epoch was best).
    /// </summary>
    public bool RestoreBest { get; init; } = true;

    /// <summary>The learning rate of step t (t = 0, 1, … over the whole run), set before each step; null keeps the optimizer's.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>If set, the gradients are rescaled to a total 2-norm of at most this before each step (<see cref="GradientClipping.ClipByNorm"/>).</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Metrics computed at the end of each epoch, by name, in this order.</summary>
    public IReadOnlyList<(string Name, EpochMetric Metric)> Metrics { get; init; } = [];
}

/// <summary>What one epoch did, reported through <see cref="IProgress{T}"/> when it ends.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Steps">Optimizer steps taken so far in the run (all epochs).</param>
/// <param name="TrainingLoss">The mean of the epoch's batch losses, each weighted by its rows: Σ_b B_b L_b / n (the loss of the epoch's moving parameters, as Keras reports it).</param>
/// <param name="ValidationLoss">The loss of the whole validation table after the epoch, without gradient; null without a validation table.</param>
/// <param name="Metrics">Each <see cref="TrainerOptions.Metrics"/> entry's value after the epoch.</param>
/// <param name="IsBest">Whether this epoch's validation loss is the best so far (improved by more than <see cref="TrainerOptions.MinDelta"/>).</param>
public sealed record EpochReport(int Epoch, long Steps, double TrainingLoss, double? ValidationLoss,
    IReadOnlyList<(string Name, double Value)> Metrics, bool IsBest)
{
    /// <summary>The value of the metric named <paramref name="name"/>.</summary>
    public double Metric(string name)
    {
        foreach (var (n, v) in Metrics)
        {
            if (n == name) return v;
        }
        throw new KeyNotFoundException($"EpochReport: no metric named '{name}'; the metrics are {string.Join(", ", Metrics.Select(m => $"'{m.Name}'"))}.");
    }
}

/// <summary>The outcome of <see cref="Trainer.Fit"/>: the epochs' reports and why it stopped.</summary>
/// <param name="History">Every completed epoch's report, in order (a cancelled epoch is not among them).</param>
/// <param name="Steps">Optimizer steps taken, including those of a cancelled partial epoch.</param>
/// <param name="Reason">Why training stopped.</param>
/// <param name="BestEpoch">The epoch of the lowest validation loss; null without a validation table or before one epoch ended.</param>
/// <param name="RestoredBest">Whether the model now holds <see cref="BestEpoch"/>'s parameters (copied back at the end).</param>
public sealed record TrainingResult(IReadOnlyList<EpochReport> History, long Steps, StopReason Reason, int? BestEpoch, bool RestoredBest)
{
    /// <summary>The last completed epoch's report, or null if none completed.</summary>
    public EpochReport? Last => History.Count > 0 ? History[^1] : null;
}

/// <summary>
/// Training met a NaN or infinite loss. The model holds the parameters of the previous step: the failing step
/// updated nothing.
/// </summary>
public sealed class TrainingDivergedException : ArithmeticException
{
    internal TrainingDivergedException(string message, int epoch, int batch, long step, double loss, string? op, Exception? inner)
        : base(message, inner)
    {
        Epoch = epoch;
        Batch = batch;
        Step = step;
        Loss = loss;
        Op = op;
    }

    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; }

    /// <summary>The batch within the epoch, from 1.</summary>
    public int Batch { get; }

    /// <summary>The step of the run, from 1 (the optimizer step that would have followed).</summary>
    public long Step { get; }

    /// <summary>The non-finite loss.</summary>
    public double Loss { get; }

    /// <summary>The op that first produced a non-finite value when the step was re-run with anomaly detection (<see cref="Tape.DetectAnomalies"/>), or null if the re-run found none.</summary>
    public string? Op { get; }
}
