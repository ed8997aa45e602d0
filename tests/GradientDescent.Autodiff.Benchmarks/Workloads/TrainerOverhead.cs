using System.Diagnostics;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Models;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// trainer_overhead: what <see cref="Trainer.Fit"/> costs over the same loop written by hand — logistic regression,
/// d = 10, batches of 32 over 3,200 rows (100 steps per epoch), plain SGD, the same seeded <see cref="MiniBatches"/>
/// epochs. The figure is the overhead in % of the hand-written loop's time (goal ≤ 5 %).
/// </summary>
/// <remarks>
/// <para>There is no TorchSharp side: both columns are this library (the TorchSharp column shows n/a), and the
/// "gradient" check compares the parameters after training by the two loops, which must agree to 10⁻⁹ (they do the
/// same arithmetic in the same order).</para>
/// <para>The hand loop: the batch as a row view of the epoch's matrix, its targets copied into one array, the model's
/// own loss (<see cref="LogisticRegression.Loss"/>, the fused logistic loss — what the Trainer's loss delegate records;
/// with the composed BCE on the logits instead, the comparison would time the loss, not the Trainer), backward, step,
/// zero. The trainer also checks the loss is finite, reads the cancellation token and builds a report per epoch.
/// Small d makes the step cheap, so the trainer's fixed cost per step shows.</para>
/// <para>The two runs are timed in alternating pairs (AB, BA, AB, …) rather than all of one then all of the other, so
/// that a change in machine load during the measurement falls on both; the overhead is the median over the pairs of
/// trainer/hand − 1.</para>
/// </remarks>
public sealed class TrainerOverhead : IWorkload
{
    private const int D = 10, Batch = 32, Rows = 3_200;
    private const double LearningRate = 0.1;
    private const ulong Seed = 5;

    /// <inheritdoc/>
    public string Name => "trainer_overhead";

    /// <inheritdoc/>
    public string Description => "Trainer.Fit vs a hand-written loop: logistic regression, d = 10, batch 32, SGD, 100 steps per epoch";

    /// <inheritdoc/>
    public IReadOnlyList<WorkloadResult> Run(RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int epochs = settings.Scale switch { Scale.Tiny => 2, Scale.Quick => 30, _ => 100 };
        int steps = epochs * (Rows / Batch);
        (double[] x, double[] y) = LogRegFullBatch.Data(Rows, D, seed: 61);
        Table train = Table.Create(x, D, y, TargetKind.Binary);

        // ---- the Trainer.
        var model = new LogisticRegression(D, new RandomSource(3));
        double[][] initial = [.. model.Parameters().Select(p => (double[])p.Value.Clone())];
        var trainer = new Trainer(model, new Sgd(model.Parameters(), LearningRate), (xb, t) => model.Loss(xb, t.Values),
            new TrainerOptions { Epochs = epochs, BatchSize = Batch, Seed = Seed });
        void TrainerRun()
        {
            Reset(model, initial);
            trainer.Fit(train);
        }

        // ---- the same loop by hand.
        var handModel = new LogisticRegression(D, new RandomSource(3));
        var sgd = new Sgd(handModel.Parameters(), LearningRate);
        var tape = new Tape();
        var targets = new double[Batch]; // Rows is a multiple of Batch: every batch is full
        void HandRun()
        {
            Reset(handModel, initial);
            var batches = new MiniBatches(train, Batch, Seed);
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                batches.NextEpoch();
                for (int k = 0; k < batches.BatchCount; k++)
                {
                    MiniBatch batch = batches[k];
                    tape.Clear();
                    Matrix xb = tape.Constant(batches.Features, batches.RowCount, D)[batch.Rows];
                    // the model's own loss, as the Trainer's loss delegate records it (the fused logistic loss): the
                    // two sides then differ by the Trainer's bookkeeping only
                    batch.Targets.CopyTo(targets);
                    handModel.Loss(xb, targets).Backward();
                    sgd.Step();
                    sgd.ZeroGrad();
                }
            }
            tape.Clear();
        }

        // twice the usual warm-up time: both loops' step methods must reach their final (tiered, PGO) code, or the
        // early pairs compare a half-optimised trainer with a half-optimised hand loop
        Harness.WarmUp(() =>
        {
            TrainerRun();
            HandRun();
        }, settings with { WarmupMs = 2 * settings.WarmupMs });
        int reps = settings.Scale == Scale.Tiny ? 1 : 3 * settings.Reps;
        var trainerMs = new double[reps];
        var handMs = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            // ABBA order: whichever runs second in a pair (warmer caches, or a GC the first one left) alternates
            bool trainerFirst = r % 2 == 0;
            long t0 = Stopwatch.GetTimestamp();
            if (trainerFirst) TrainerRun();
            else HandRun();
            long t1 = Stopwatch.GetTimestamp();
            if (trainerFirst) HandRun();
            else TrainerRun();
            long t2 = Stopwatch.GetTimestamp();
            double first = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, second = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
            (trainerMs[r], handMs[r]) = trainerFirst ? (first, second) : (second, first);
        }
        double ours = Harness.Median(trainerMs), hand = Harness.Median(handMs);
        // the overhead of each pair (same moment, same load), then their median: steadier than a ratio of medians
        double overhead = 100 * Harness.Median([.. trainerMs.Select((t, r) => t / handMs[r] - 1)]);

        TrainerRun();
        HandRun();
        double[] trained = [.. model.Parameters().SelectMany(p => p.Value)];
        double[] byHand = [.. handModel.Parameters().SelectMany(p => p.Value)];
        return
        [
            new WorkloadResult(
                Name, ours, double.NaN, $"{epochs} epochs ({steps:N0} steps)",
                [
                    new Extra("overhead_pct", overhead, "overhead %"),
                    new Extra("us_per_step", ours * 1e3 / steps, "µs/step"),
                    new Extra("hand_us_per_step", hand * 1e3 / steps, "hand µs/step"),
                    new Extra("hand_ms", hand, "hand ms"),
                ],
                [new TargetCheck("≤ 5 % over the hand-written loop", $"{overhead:0.0} %", overhead <= 5)],
                GradientCheck.Compare($"w, b after {steps:N0} steps, Trainer vs hand loop", trained, byHand),
                $"no TorchSharp side: Trainer.Fit against the same loop written by hand ({Harness.Median(handMs):0.###} ms); overhead = median over {reps} alternated pairs of trainer/hand − 1.",
                trained, byHand) { OursSpread = new Timing(trainerMs).Spread },
        ];
    }

    private static void Reset(Module model, double[][] values)
    {
        int i = 0;
        foreach (Parameter p in model.Parameters()) values[i++].CopyTo(p.Value, 0);
    }
}
