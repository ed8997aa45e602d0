using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// The training loop, written once: epochs of seeded mini-batches on one reused tape — clear, record the loss,
/// backward, optionally clip and schedule, step, zero the gradients — with a report per epoch through
/// <see cref="IProgress{T}"/>, early stopping on a validation table and cancellation between steps. It never prints.
/// </summary>
/// <remarks>
/// <para>A step allocates nothing once the tape's arenas have grown (measured in tests): the batch is a row view of
/// the epoch's buffer (<see cref="MiniBatches"/>), its targets are copied into arrays allocated once per run, and the
/// loss delegate is the caller's. Each epoch's end allocates its report, the validation pass and the metrics.</para>
/// <para>One trainer runs one <see cref="Fit"/> at a time (its tape is shared by the calls).</para>
/// <para>A NaN or infinite loss stops training with <see cref="TrainingDivergedException"/> before backward, so the
/// model keeps the previous step's parameters. To name the op that made it, the trainer re-records that same step
/// once with <see cref="Tape.DetectAnomalies"/> on (anomaly mode costs a pass per node, so ordinary steps run
/// without it); if the forward pass is clean, it runs backward in anomaly mode too. Only the loss is checked each
/// step: a non-finite gradient under a finite loss is caught at the next step, whose loss it poisons through the
/// parameters, and that error lists the parameters that are already non-finite.</para>
/// <para><see cref="IProgress{T}.Report"/> is called synchronously on the training thread at each epoch's end.
/// (<see cref="Progress{T}"/> posts to the captured synchronisation context; pass your own <see cref="IProgress{T}"/>
/// for synchronous handling.)</para>
/// </remarks>
/// <example>
/// <code>
/// var model = new LogisticRegression(2, new RandomSource(1));
/// var trainer = new Trainer(model, new Adam(model.Parameters(), 0.05), (x, t) =&gt; model.Loss(x, t.Values),
///     new TrainerOptions { Epochs = 200, BatchSize = 16, Patience = 10 });
/// TrainingResult result = trainer.Fit(train, validation, progress, cancellationToken);
/// </code>
/// </example>
public sealed class Trainer
{
    private readonly Module _model;
    private readonly Optimizer _optimizer;
    private readonly BatchLoss _loss;
    private readonly Tape _tape = new();

    /// <summary>A trainer of <paramref name="model"/> by <paramref name="optimizer"/> on the loss <paramref name="loss"/> records.</summary>
    /// <param name="model">The model; its parameters are the ones early stopping snapshots and restores.</param>
    /// <param name="optimizer">The update rule, built over the model's parameters.</param>
    /// <param name="loss">Records a batch's loss (see <see cref="BatchLoss"/>).</param>
    /// <param name="options">The settings; null for the defaults.</param>
    public Trainer(Module model, Optimizer optimizer, BatchLoss loss, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new TrainerOptions();
        CheckOptions(options);
        _model = model;
        _optimizer = optimizer;
        _loss = loss;
        Options = options;
    }

    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Test hook: called after every completed step with the run's step count (must not allocate if the test measures allocation).</summary>
    internal Action<long>? AfterStep { get; set; }

    /// <summary>
    /// Trains on <paramref name="train"/> for up to <see cref="TrainerOptions.Epochs"/> epochs and returns what
    /// happened. The model's parameters are updated in place.
    /// </summary>
    /// <param name="train">The training rows.</param>
    /// <param name="validation">Held-out rows for the validation loss, early stopping and the metrics; null to compute the metrics on <paramref name="train"/>.</param>
    /// <param name="progress">Receives each epoch's report as it ends, in order.</param>
    /// <param name="cancellationToken">Checked after every step and before every epoch: when signalled, training stops after the step that was running (or before the next epoch starts, if it was signalled at an epoch's end) and returns, with no exception, <see cref="StopReason.Cancelled"/> and the parameters as trained. A token signalled before the call trains nothing.</param>
    /// <exception cref="TrainingDivergedException">A batch's loss was NaN or ±∞; the message names the epoch, the batch, the step and the op.</exception>
    public TrainingResult Fit(Table train, Table? validation = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        TrainerOptions o = Options;
        if (validation is not null && validation.FeatureCount != train.FeatureCount)
            throw new ArgumentException($"Trainer.Fit: the validation table has {validation.FeatureCount} features but the training table {train.FeatureCount}; they must match.", nameof(validation));
        if (o.Patience is not null && validation is null)
            throw new ArgumentException($"Trainer.Fit: early stopping (Patience = {o.Patience}) watches the validation loss; pass a validation table or set Patience to null.", nameof(validation));

        var batches = new MiniBatches(train, o.BatchSize, o.Seed, o.Shuffle);
        int d = batches.FeatureCount;
        // targets of a full batch and of a shorter last batch: exact-length arrays, refilled per batch
        var fullTargets = new double[batches.BatchSize];
        int lastRows = batches.RowCount - (batches.BatchCount - 1) * batches.BatchSize;
        double[] lastTargets = lastRows == batches.BatchSize ? fullTargets : new double[lastRows];
        bool labelled = batches.Labels is not null;

        Evaluation? validationData = validation is null ? null : new Evaluation(validation);
        Evaluation? metricData = o.Metrics.Count == 0 ? null : validationData ?? new Evaluation(train);
        Parameter[] parameters = [.. _model.Parameters()];
        IReadOnlyList<Parameter> clipped = _optimizer.Parameters;
        double[][]? best = validation is null ? null : [.. parameters.Select(p => (double[])p.Value.Clone())];
        double bestLoss = double.PositiveInfinity;
        int? bestEpoch = null;
        int sinceBest = 0;

        var history = new List<EpochReport>();
        long steps = 0;
        StopReason reason = StopReason.EpochLimit;
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                reason = StopReason.Cancelled;
                break;
            }
            batches.NextEpoch();
            double lossSum = 0;
            bool cancelled = false;
            for (int b = 0; b < batches.BatchCount; b++)
            {
                MiniBatch batch = batches[b];
                double[] targets = batch.RowCount == fullTargets.Length ? fullTargets : lastTargets;
                batch.Targets.CopyTo(targets);
                var batchTargets = new BatchTargets(targets, labelled ? batches.LabelArray(batch) : null);
                if (o.Schedule is { } schedule) _optimizer.LearningRate = schedule.At(checked((int)steps));

                _tape.Clear();
                Matrix x = _tape.Constant(batches.Features, batches.RowCount, d)[batch.Rows];
                Scalar loss = _loss(x, batchTargets);
                double value = loss.Value;
                if (!double.IsFinite(value)) throw Diverged(epoch, b + 1, batches.BatchCount, steps + 1, value, batches, batch, batchTargets);
                loss.Backward();
                if (o.ClipNorm is { } maxNorm) GradientClipping.ClipByNorm(clipped, maxNorm);
                _optimizer.Step();
                _optimizer.ZeroGrad();
                steps++;
                lossSum += value * batch.RowCount;
                AfterStep?.Invoke(steps);
                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }
            }
            _tape.Clear();
            if (cancelled)
            {
                reason = StopReason.Cancelled;
                break;
            }

            double? validationLoss = validationData is null ? null : validationData.Loss(_tape, _loss);
            bool isBest = false;
            if (validationLoss is { } v && v < bestLoss - o.MinDelta)
            {
                isBest = true;
                bestLoss = v;
                bestEpoch = epoch;
                sinceBest = 0;
                for (int i = 0; i < parameters.Length; i++) parameters[i].Value.AsSpan().CopyTo(best![i]);
            }
            else
            {
                sinceBest++;
            }
            var metrics = new (string, double)[o.Metrics.Count];
            for (int m = 0; m < metrics.Length; m++) metrics[m] = (o.Metrics[m].Name, metricData!.Metric(_tape, o.Metrics[m].Metric));

            var report = new EpochReport(epoch, steps, lossSum / batches.RowCount, validationLoss, metrics, isBest);
            history.Add(report);
            progress?.Report(report);
            if (o.Patience is { } patience && sinceBest >= patience)
            {
                reason = StopReason.EarlyStopping;
                break;
            }
        }

        bool restored = false;
        if (best is not null && bestEpoch is not null && o.RestoreBest && reason != StopReason.Cancelled)
        {
            for (int i = 0; i < parameters.Length; i++) best[i].CopyTo(parameters[i].Value.AsSpan());
            restored = true;
        }
        return new TrainingResult(history, steps, reason, bestEpoch, restored);
    }

    /// <summary>
    /// Builds the error for a non-finite loss: re-records the same batch with anomaly detection on (forward, then
    /// backward if the forward pass is clean) to name the op, then leaves the tape cleared and detection off.
    /// Nothing has been stepped: the parameters are those before this batch.
    /// </summary>
    private TrainingDivergedException Diverged(int epoch, int batchNumber, int batchCount, long step, double loss,
        MiniBatches batches, MiniBatch batch, BatchTargets targets)
    {
        string? op = null;
        ArithmeticException? anomaly = null;
        bool wasDetecting = _tape.DetectAnomalies;
        _tape.DetectAnomalies = true;
        try
        {
            _tape.Clear();
            Matrix x = _tape.Constant(batches.Features, batches.RowCount, batches.FeatureCount)[batch.Rows];
            _loss(x, targets).Backward();
        }
        catch (ArithmeticException e)
        {
            anomaly = e;
            int colon = e.Message.IndexOf(':', StringComparison.Ordinal);
            op = colon > 0 ? e.Message[..colon] : null;
        }
        finally
        {
            _tape.DetectAnomalies = wasDetecting;
            _tape.Clear();
            _model.ZeroGrad();
        }

        string bad = string.Join(", ", _model.NamedParameters()
            .Where(p => p.Parameter.Value.Any(v => !double.IsFinite(v)))
            .Select(p => p.Name));
        string where = $"epoch {epoch}, batch {batchNumber} of {batchCount} (step {step})";
        string cause = op is not null
            ? $"the first non-finite value came from op {op}"
            : "a re-run of the step with anomaly detection found no op that produced it";
        string parameters = bad.Length > 0 ? $" Parameters already non-finite before this step: {bad}." : "";
        string detail = anomaly is null ? "" : $" Anomaly detection on the re-run: {anomaly.Message.TrimEnd('.')}.";
        string message = $"Trainer: the loss is {loss} at {where}; {cause}.{parameters} The model holds the parameters from before this step. "
            + "Lower the learning rate, clip the gradients (TrainerOptions.ClipNorm), standardise the features, or use a loss on logits."
            + detail;
        return new TrainingDivergedException(message, epoch, batchNumber, step, loss, op, anomaly);
    }

    private static void CheckOptions(TrainerOptions o)
    {
        ArgumentNullException.ThrowIfNull(o.Metrics);
        if (o.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(o.Epochs), o.Epochs, "Trainer: Epochs must be at least 1.");
        if (o.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(o.BatchSize), o.BatchSize, "Trainer: BatchSize must be at least 1.");
        if (o.Patience is < 1) throw new ArgumentOutOfRangeException(nameof(o.Patience), o.Patience, "Trainer: Patience must be at least 1 epoch, or null for no early stopping.");
        if (!(o.MinDelta >= 0) || double.IsInfinity(o.MinDelta)) throw new ArgumentOutOfRangeException(nameof(o.MinDelta), o.MinDelta, "Trainer: MinDelta must be a finite number ≥ 0.");
        if (o.ClipNorm is { } c && !(c > 0 && double.IsFinite(c))) throw new ArgumentOutOfRangeException(nameof(o.ClipNorm), c, "Trainer: ClipNorm must be a positive finite number, or null for no clipping.");
    }

    /// <summary>A whole table ready for evaluation passes: its arrays copied once per run.</summary>
    private sealed class Evaluation
    {
        private readonly Table _table;
        private readonly double[] _features;
        private readonly double[] _targets;
        private readonly int[]? _labels;

        public Evaluation(Table table)
        {
            _table = table;
            _features = table.FeatureArray();
            _targets = table.TargetArray();
            _labels = table.TargetKind == TargetKind.Regression ? null : table.LabelArray();
        }

        /// <summary>The loss of all rows, recorded without gradient.</summary>
        public double Loss(Tape tape, BatchLoss loss)
        {
            tape.Clear();
            try
            {
                using (tape.NoGrad()) return loss(Features(tape), new BatchTargets(_targets, _labels)).Value;
            }
            finally
            {
                tape.Clear();
            }
        }

        public double Metric(Tape tape, EpochMetric metric)
        {
            tape.Clear();
            try
            {
                using (tape.NoGrad()) return metric(Features(tape), _table);
            }
            finally
            {
                tape.Clear();
            }
        }

        private Matrix Features(Tape tape) => tape.Constant(_features, _table.RowCount, _table.FeatureCount);
    }
}
