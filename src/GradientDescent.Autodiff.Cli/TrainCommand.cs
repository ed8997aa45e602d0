using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Models;
using Spectre.Console;
using Table = GradientDescent.Autodiff.Datasets.Table;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// <c>gdad train</c>: options → <see cref="TrainOptions"/> → <see cref="Run"/>, which loads the table, builds the
/// model and optimizer, runs <see cref="Trainer.Fit"/> and reports to the injected writers.
/// </summary>
internal static class TrainCommand
{
    internal static readonly string[] Models = ["linear", "logistic", "softmax", "mlp"];
    internal static readonly string[] Optimizers = ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"];
    internal static readonly string[] Activations = ["relu", "tanh", "sigmoid"];
    internal static readonly string[] Tasks = ["classification", "regression"];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The <c>train</c> command; its action binds a <see cref="TrainOptions"/> and calls <see cref="Run"/>.</summary>
    internal static Command Build(TextWriter stdout, TextWriter stderr, IAnsiConsole? live = null)
    {
        var model = new Option<string>("--model") { Description = "linear (least squares), logistic (binary 0/1 target), softmax or mlp (class labels 0 … k − 1; with --task regression, a real-valued target).", DefaultValueFactory = _ => "logistic" };
        model.AcceptOnlyFromAmong(Models);
        var data = new Option<string?>("--data") { Description = "A CSV file of numbers (default: the embedded admissions data, 100 rows, 2 features, 0/1 label).", HelpName = "FILE" };
        var noHeader = new Option<bool>("--no-header") { Description = "The CSV has no header line: columns are named x1, x2, … and chosen by 0-based index." };
        var target = new Option<string?>("--target") { Description = "The target column: a name, or a 0-based index with --no-header (default: the last column).", HelpName = "COLUMN" };
        var features = new Option<string?>("--features") { Description = "Comma-separated feature columns, names or 0-based indices (default: all but the target).", HelpName = "C1,C2,…" };
        var classNames = new Option<string>("--class-names") { Description = "Class labels: none (numbers 0 … k − 1), first (text, numbered in order of appearance) or sorted (text, ordinal order).", DefaultValueFactory = _ => "none" };
        classNames.AcceptOnlyFromAmong("none", "first", "sorted");
        var task = new Option<string?>("--task") { Description = "For --model mlp: classification (class labels 0 … k − 1, the default) or regression (a real-valued target; least squares, metrics r2 and mse). linear is always regression, logistic and softmax always classification.", HelpName = "classification|regression" };
        task.AcceptOnlyFromAmong(Tasks);
        var hidden = new Option<string>("--hidden") { Description = "The MLP's hidden layer widths, comma-separated.", DefaultValueFactory = _ => "16,16", HelpName = "W1,W2,…" };
        Check(hidden, v => ParseWidths(v) is null ? $"--hidden: '{v}' is not a comma-separated list of widths ≥ 1, such as 16,16." : null);
        var activation = new Option<string>("--activation") { Description = "The MLP's activation between layers.", DefaultValueFactory = _ => "relu" };
        activation.AcceptOnlyFromAmong(Activations);
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, momentum (0.9), nesterov (0.9), adam, adamw or rmsprop.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong(Optimizers);
        var lr = new Option<double>("--lr") { Description = "The learning rate η.", DefaultValueFactory = _ => 0.05 };
        Check(lr, v => v > 0 && double.IsFinite(v) ? null : $"--lr: the learning rate must be a finite number > 0; got {v.ToString(Inv)}.");
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay λ (L2 for sgd, adam, rmsprop; decoupled for adamw).", DefaultValueFactory = _ => 0.0 };
        Check(weightDecay, v => v >= 0 && double.IsFinite(v) ? null : $"--weight-decay: must be a finite number ≥ 0; got {v.ToString(Inv)}.");
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training rows.", DefaultValueFactory = _ => 200 };
        Check(epochs, v => v >= 1 ? null : $"--epochs: must be at least 1; got {v}.");
        var batchSize = new Option<int?>("--batch-size") { Description = "Rows per step (default: all training rows, full batch; 1: the seed lesson's per-point updates)." };
        Check(batchSize, v => v is null or >= 1 ? null : $"--batch-size: must be at least 1; got {v}.");
        var testFraction = new Option<double?>("--test-fraction") { Description = "Hold out this share of the rows (0 < f < 1) and report test metrics on them." };
        Check(testFraction, v => v is not { } f || (f > 0 && f < 1) ? null : $"--test-fraction: must be between 0 and 1 (exclusive); got {f.ToString(Inv)}.");
        var standardize = new Option<bool>("--standardize") { Description = "Standardise features with the training rows' mean and σ; parameters are still reported in the original units." };
        var seed = new Option<ulong>("--seed") { Description = "Seeds the initialisation, the train/test split and the shuffles.", DefaultValueFactory = _ => 1UL };
        var save = new Option<string?>("--save") { Description = "Write the trained parameters to FILE (ParameterFile JSON; with --standardize, of the model on standardised features).", HelpName = "FILE" };
        var outDir = new Option<string?>("--out") { Description = "Also write DIR/loss.png (the training loss per epoch) and DIR/summary.json (the --json object); DIR is created if needed.", HelpName = "DIR" };
        var json = new Option<bool>("--json") { Description = "Write exactly one JSON object to stdout and nothing else: model, epochs, final_loss, metrics, test_metrics, parameters, seconds." };

        var command = new Command("train",
            "Train a model with gradient descent and report its loss and metrics.\n\n" +
            "Examples:\n" +
            "  gdad train                                             logistic regression on the admissions data\n" +
            "  gdad train --batch-size 1 --optimizer sgd --lr 0.01 --epochs 100   the seed lesson's per-point updates\n" +
            "  gdad train --data iris.csv --target species --class-names first --model softmax --standardize\n" +
            "  gdad train --data houses.csv --target price --model linear --standardize --test-fraction 0.2 --json\n" +
            "  gdad train --data houses.csv --target price --model mlp --task regression --standardize\n\n" +
            "Exit codes: 0 success, 2 bad arguments or data, 3 training diverged, 70 a bug, 130 interrupted (Ctrl+C: stops after the current step, still reports and saves).")
        {
            model, task, data, noHeader, target, features, classNames, hidden, activation, optimizer, lr, weightDecay, epochs,
            batchSize, testFraction, standardize, seed, save, outDir, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new TrainOptions(
                Model: parse.GetValue(model)!,
                Data: parse.GetValue(data),
                HasHeader: !parse.GetValue(noHeader),
                Target: parse.GetValue(target),
                Features: parse.GetValue(features) is { } f ? [.. f.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)] : null,
                ClassNames: parse.GetValue(classNames)!,
                Hidden: ParseWidths(parse.GetValue(hidden)),
                Activation: parse.GetValue(activation)!,
                Optimizer: parse.GetValue(optimizer)!,
                LearningRate: parse.GetValue(lr),
                WeightDecay: parse.GetValue(weightDecay),
                Epochs: parse.GetValue(epochs),
                BatchSize: parse.GetValue(batchSize),
                TestFraction: parse.GetValue(testFraction),
                Standardize: parse.GetValue(standardize),
                Seed: parse.GetValue(seed),
                Save: parse.GetValue(save),
                Json: parse.GetValue(json),
                Out: parse.GetValue(outDir),
                Task: parse.GetValue(task));
            return Task.FromResult((int)Run(options, stdout, stderr, cancellationToken, live));
        });
        return command;
    }

    /// <summary>
    /// Adds a range check to <paramref name="option"/>: <paramref name="problem"/> returns the error or null. A value that
    /// did not convert (<c>--lr abc</c>) already carries System.CommandLine's own error, so it is not checked again
    /// (reading it would throw).
    /// </summary>
    private static void Check<T>(Option<T> option, Func<T, string?> problem)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }
            if (problem(value) is { } message) result.AddError(message);
        });
    }

    private static int[]? ParseWidths(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var widths = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, Inv, out int w) || w < 1) return null;
            widths.Add(w);
        }
        return [.. widths];
    }

    /// <summary>Trains as <paramref name="o"/> says and reports; throws <see cref="UsageException"/>, <see cref="DataFormatException"/> and the like for bad input (mapped by <see cref="Gdad.RunAsync"/>).</summary>
    internal static ExitCode Run(TrainOptions o, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, IAnsiConsole? live = null)
    {
        var clock = Stopwatch.StartNew();
        bool regression = IsRegression(o.Model, o.Task);
        Table table = Load(o, regression);
        Table train = table, test = null!;
        bool hasTest = o.TestFraction is not null;
        if (hasTest)
        {
            if (table.RowCount < 2) throw new UsageException($"--test-fraction: {table.Source} has {table.RowCount} row; a split needs at least 2.");
            (train, test) = table.Split(1 - o.TestFraction!.Value, o.Seed);
        }
        Standardizer? scaler = o.Standardize ? Standardizer.Fit(train) : null;
        if (scaler is not null)
        {
            train = scaler.Transform(train);
            if (hasTest) test = scaler.Transform(test);
        }

        Setup setup = Setup.Create(o.Model, table.FeatureCount, table.ClassCount, o.Hidden, o.Activation, o.Seed, regression);
        Optimizer optimizer = CreateOptimizer(o, setup.Model.Parameters());
        int batch = o.BatchSize ?? train.RowCount;
        int every = Math.Max(1, o.Epochs / 10);
        if (!o.Json)
        {
            stdout.WriteLine(string.Create(Inv,
                $"gdad train: {setup.Description} on {Path.GetFileName(table.Source)} ({train.RowCount} training rows{(hasTest ? $", {test.RowCount} test rows" : "")}; " +
                $"features {string.Join(", ", table.FeatureNames)}; target {table.TargetName}){(scaler is null ? "" : ", standardised")}"));
            stdout.WriteLine(string.Create(Inv, $"{o.Optimizer}, η = {o.LearningRate}{(o.WeightDecay > 0 ? $", λ = {o.WeightDecay}" : "")}, {o.Epochs} epochs, batch {Math.Min(batch, train.RowCount)}, seed {o.Seed}"));
        }
        var trainer = new Trainer(setup.Model, optimizer, setup.Loss, new TrainerOptions { Epochs = o.Epochs, BatchSize = batch, Seed = o.Seed });
        var progress = new LineProgress(report =>
        {
            if (!o.Json && (report.Epoch % every == 0 || report.Epoch == o.Epochs || report.Epoch == 1))
            {
                stdout.WriteLine(string.Create(Inv, $"epoch {report.Epoch,5}  loss {report.TrainingLoss:F6}"));
            }
        });
        TrainingResult result = live is null || o.Json
            ? trainer.Fit(train, null, progress, cancellationToken)
            : FitWithBar(live, trainer, train, o.Epochs, cancellationToken);
        bool cancelled = result.Reason == StopReason.Cancelled;

        var metrics = setup.Evaluate(train);
        var testMetrics = hasTest ? setup.Evaluate(test) : null;
        var parameters = setup.OriginalUnitParameters(scaler, table.FeatureNames);
        if (o.Save is not null)
        {
            try
            {
                ModelDescription.Save(o.Save, new ModelDescription(ModelDescription.CurrentFormat, o.Model, o.Model == "mlp" ? [.. o.Hidden ?? [16, 16]] : null,
                    o.Model == "mlp" ? o.Activation : null, [.. table.FeatureNames], table.TargetName, setup.Classes, table.ClassNames?.ToArray(),
                    scaler is null ? null : [.. scaler.Mean], scaler is null ? null : [.. scaler.Scale], o.Model == "mlp" ? (regression ? "regression" : "classification") : null));
                ParameterFile.Save(setup.Model, o.Save);
            }
            catch (IOException e)
            {
                throw new UsageException($"--save: cannot write '{o.Save}': {e.Message}");
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        double? finalLoss = result.Last?.TrainingLoss;

        string summary = Summary(o.Model, result.History.Count, finalLoss, metrics, testMetrics, parameters, seconds);
        if (o.Out is not null) WriteOut(o.Out, result, summary);
        if (o.Json)
        {
            stdout.WriteLine(summary);
        }
        else
        {
            if (cancelled) stdout.WriteLine(string.Create(Inv, $"interrupted after {result.History.Count} epochs ({result.Steps} steps); reporting what was trained"));
            stdout.WriteLine($"training: {Format(metrics)}");
            if (testMetrics is not null) stdout.WriteLine($"test:     {Format(testMetrics)}");
            if (parameters is not null) stdout.WriteLine($"parameters{(scaler is null ? "" : " (original units)")}: {Format(parameters)}");
            if (o.Save is not null) stdout.WriteLine($"saved the parameters to {o.Save} and the model's description to {ModelDescription.PathFor(o.Save)}");
            if (o.Out is not null) stdout.WriteLine($"wrote {Path.Combine(o.Out, "loss.png")} and {Path.Combine(o.Out, "summary.json")}");
            stdout.WriteLine(string.Create(Inv, $"{result.History.Count} epochs, {result.Steps} steps in {seconds:F2} s"));
        }
        return cancelled ? ExitCode.Interrupted : ExitCode.Success;
    }

    /// <summary>
    /// Fit under a live progress bar (interactive terminals only): the bar shows the epoch and its loss in place of
    /// the per-epoch lines, and is cleared when training ends, leaving the summary.
    /// </summary>
    private static TrainingResult FitWithBar(IAnsiConsole live, Trainer trainer, Table train, int epochs, CancellationToken cancellationToken) =>
        live.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("training", maxValue: epochs);
                return trainer.Fit(train, null, new LineProgress(report =>
                {
                    task.Value = report.Epoch;
                    task.Description = Markup.Escape(string.Create(Inv, $"epoch {report.Epoch}/{epochs}  loss {report.TrainingLoss:F6}"));
                }), cancellationToken);
            });

    /// <summary>The --json object: model, epochs, final_loss, metrics, test_metrics (if any), parameters (if linear), seconds.</summary>
    private static string Summary(string model, int epochs, double? finalLoss, IReadOnlyList<(string, double)> metrics,
        IReadOnlyList<(string, double)>? testMetrics, IReadOnlyList<(string, double)>? parameters, double seconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteNumber("epochs", epochs);
            if (finalLoss is { } l && double.IsFinite(l)) w.WriteNumber("final_loss", l); else w.WriteNull("final_loss");
            WriteObject(w, "metrics", metrics);
            if (testMetrics is not null) WriteObject(w, "test_metrics", testMetrics);
            if (parameters is not null) WriteObject(w, "parameters", parameters);
            w.WriteNumber("seconds", Math.Round(seconds, 4));
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>--out: the loss curve as a PNG (ScottPlot) and the summary object as JSON.</summary>
    private static void WriteOut(string dir, TrainingResult result, string summary)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var plot = new ScottPlot.Plot();
            double[] epochs = [.. result.History.Select(r => (double)r.Epoch)];
            double[] losses = [.. result.History.Select(r => r.TrainingLoss)];
            if (epochs.Length > 0)
            {
                var line = plot.Add.Scatter(epochs, losses);
                line.MarkerSize = 0;
                line.LegendText = "training loss";
                plot.ShowLegend(ScottPlot.Alignment.UpperRight);   // the curve falls, so the upper right stays clear
            }
            plot.Title("gdad train: loss per epoch");
            plot.XLabel("epoch");
            plot.YLabel("loss");
            plot.SavePng(Path.Combine(dir, "loss.png"), 640, 420);
            File.WriteAllText(Path.Combine(dir, "summary.json"), summary + "\n");
        }
        catch (IOException e)
        {
            throw new UsageException($"--out: cannot write to '{dir}': {e.Message}");
        }
    }

    private static void WriteObject(Utf8JsonWriter w, string name, IReadOnlyList<(string Name, double Value)> values)
    {
        w.WriteStartObject(name);
        foreach (var (n, v) in values)
        {
            if (double.IsFinite(v)) w.WriteNumber(n, v); else w.WriteNull(n);
        }
        w.WriteEndObject();
    }

    private static string Format(IReadOnlyList<(string Name, double Value)> values) =>
        string.Join(", ", values.Select(p => string.Create(Inv, $"{p.Name} = {p.Value:G6}")));

    /// <summary>
    /// Whether <paramref name="model"/> with <paramref name="task"/> (null: the model's default) fits a real-valued
    /// target: linear always, logistic and softmax never, mlp with --task regression; any other combination is a usage error.
    /// </summary>
    internal static bool IsRegression(string model, string? task) => (model, task) switch
    {
        ("mlp", null or "classification") => false,
        ("mlp", "regression") => true,
        ("linear", null or "regression") => true,
        ("logistic" or "softmax", null or "classification") => false,
        (_, "regression" or "classification") => throw new UsageException(
            $"--task {task}: --model {model} is always {(model == "linear" ? "regression" : "classification")}; --task chooses between the two only for --model mlp."),
        _ => throw new UsageException($"--task: unknown '{task}'; one of {string.Join(", ", Tasks)}."),
    };

    private static Table Load(TrainOptions o, bool regression)
    {
        TargetKind kind = regression ? TargetKind.Regression : o.Model switch
        {
            "logistic" => TargetKind.Binary,
            _ => TargetKind.MultiClass,
        };
        if (o.Data is null)
        {
            if (o.Target is not null || o.Features is not null)
            {
                throw new UsageException("--target and --features choose columns of a CSV file; pass one with --data FILE (the embedded admissions data has features x1, x2 and the label last).");
            }
            Table admissions = SampleData.Admissions();
            return kind == TargetKind.Binary ? admissions : Table.Create(admissions.FeatureArray(), admissions.FeatureCount, admissions.TargetArray(), kind,
                kind == TargetKind.MultiClass ? 2 : null, admissions.FeatureNames, admissions.TargetName, admissions.Source);
        }
        if (!File.Exists(o.Data)) throw new UsageException($"--data: no file '{o.Data}'.");
        var csv = new CsvOptions
        {
            HasHeader = o.HasHeader,
            TargetKind = kind,
            ClassNames = o.ClassNames switch { "first" => ClassNameOrder.FirstAppearance, "sorted" => ClassNameOrder.Sorted, _ => ClassNameOrder.None },
        };
        if (o.Target is not null)
        {
            csv = o.HasHeader ? csv with { Target = o.Target } : csv with { TargetIndex = ParseIndex("--target", o.Target) };
        }
        if (o.Features is not null)
        {
            csv = o.HasHeader ? csv with { Features = o.Features } : csv with { FeatureIndices = [.. o.Features.Select(f => ParseIndex("--features", f))] };
        }
        try
        {
            return Table.LoadCsv(o.Data, csv);
        }
        catch (ArgumentException e)
        {
            // Column choices the reader rejects (an unknown name, an index past the last column) are the user's to fix.
            throw new UsageException(e.Message);
        }
    }

    private static int ParseIndex(string option, string text) =>
        int.TryParse(text, NumberStyles.None, Inv, out int i)
            ? i
            : throw new UsageException($"{option}: '{text}' is not a 0-based column index; with --no-header, columns are chosen by number (0, 1, …).");

    private static Optimizer CreateOptimizer(TrainOptions o, IEnumerable<Parameter> parameters) => o.Optimizer switch
    {
        "sgd" => new Sgd(parameters, o.LearningRate, weightDecay: o.WeightDecay),
        "momentum" => new Sgd(parameters, o.LearningRate, momentum: 0.9, weightDecay: o.WeightDecay),
        "nesterov" => new Sgd(parameters, o.LearningRate, momentum: 0.9, weightDecay: o.WeightDecay, nesterov: true),
        "adam" => new Adam(parameters, o.LearningRate, weightDecay: o.WeightDecay),
        "adamw" => new AdamW(parameters, o.LearningRate, weightDecay: o.WeightDecay),
        "rmsprop" => new RmsProp(parameters, o.LearningRate, weightDecay: o.WeightDecay),
        _ => throw new UsageException($"--optimizer: unknown '{o.Optimizer}'; one of {string.Join(", ", Optimizers)}."),
    };

    /// <summary>Reports each epoch synchronously on the trainer's thread (<see cref="Progress{T}"/> would post to a context).</summary>
    private sealed class LineProgress(Action<EpochReport> report) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => report(value);
    }

    /// <summary>One model kind: the module, its batch loss, its metrics on a table and, for linear models, its parameters by feature.</summary>
    internal sealed record Setup(Module Model, string Description, BatchLoss Loss, Func<Table, IReadOnlyList<(string Name, double Value)>> Evaluate, Linear? Layer, Func<Matrix, double[]> Outputs, int Classes)
    {
        public static Setup Create(string model, int d, int classCount, IReadOnlyList<int>? hiddenWidths, string activation, ulong seed, bool regression = false)
        {
            var random = new RandomSource(seed);
            switch (model)
            {
                case "linear":
                {
                    var m = new LinearRegression(d, random);
                    return new Setup(m, "linear regression", (x, t) => m.Loss(x, t.Values), t =>
                    {
                        double[] p = m.Predict(OnTape(t)).Value;
                        return [("r2", Metrics.RSquared(p, t.Targets)), ("mse", Metrics.MeanSquaredError(p, t.Targets))];
                    }, m.Linear, x => m.Predict(x).Value, 0);
                }
                case "logistic":
                {
                    var m = new LogisticRegression(d, random);
                    return new Setup(m, "logistic regression", (x, t) => m.Loss(x, t.Values), t =>
                    {
                        double[] p = m.Probabilities(OnTape(t)).Value;
                        return [("accuracy", Metrics.BinaryAccuracy(p, t.Targets)), ("log_loss", Metrics.LogLoss(p, t.Targets))];
                    }, m.Linear, x => m.Probabilities(x).Value, 2);
                }
                case "softmax":
                {
                    int k = Math.Max(2, classCount);
                    var m = new SoftmaxRegression(d, k, random);
                    return new Setup(m, $"softmax regression ({k} classes)", (x, t) => m.Loss(x, t.Labels), t => Classification(m.Probabilities(OnTape(t)).Value, k, t), null, x => m.Probabilities(x).Value, k);
                }
                case "mlp" when regression:
                {
                    IReadOnlyList<int> hidden = hiddenWidths ?? [16, 16];
                    Activation act = activation switch { "tanh" => Activation.Tanh, "sigmoid" => Activation.Sigmoid, _ => Activation.Relu };
                    var m = new MlpRegressor(d, hidden, 1, random, act);
                    return new Setup(m, $"MLP regressor ({d} → {string.Join(" → ", hidden)} → 1, {activation})", (x, t) => m.Loss(x, t.Values), t =>
                    {
                        double[] p = m.Forward(OnTape(t)).Value;
                        return [("r2", Metrics.RSquared(p, t.Targets)), ("mse", Metrics.MeanSquaredError(p, t.Targets))];
                    }, null, x => m.Forward(x).Value, 0);
                }
                case "mlp":
                {
                    int k = Math.Max(2, classCount);
                    IReadOnlyList<int> hidden = hiddenWidths ?? [16, 16];
                    Activation act = activation switch { "tanh" => Activation.Tanh, "sigmoid" => Activation.Sigmoid, _ => Activation.Relu };
                    var m = new MlpClassifier(d, hidden, k, random, act);
                    return new Setup(m, $"MLP classifier ({d} → {string.Join(" → ", hidden)} → {k}, {activation})", (x, t) => m.Loss(x, t.Labels),
                        t => Classification(m.Probabilities(OnTape(t)).Value, k, t), null, x => m.Probabilities(x).Value, k);
                }
                default:
                    throw new UsageException($"--model: unknown '{model}'; one of {string.Join(", ", Models)}.");
            }
        }

        private static IReadOnlyList<(string, double)> Classification(double[] probabilities, int k, Table t) =>
            [("accuracy", Metrics.Accuracy(probabilities, k, t.Labels)), ("log_loss", Metrics.LogLoss(probabilities, k, t.Labels))];

        internal static Matrix OnTape(Table t) => new Tape().Constant(t.FeatureArray(), t.RowCount, t.FeatureCount);

        /// <summary>bias and one weight per feature, in the raw features' units (w/σ and b − Σ wμ/σ after standardising); null for non-linear models.</summary>
        public IReadOnlyList<(string Name, double Value)>? OriginalUnitParameters(Standardizer? scaler, IReadOnlyList<string> featureNames)
        {
            if (Layer is null) return null;
            double[] w = Layer.Weight.Value;
            double b = Layer.Bias!.Value[0];
            if (scaler is not null) (w, b) = scaler.ToOriginalUnits(w, b);
            var list = new List<(string, double)> { ("bias", b) };
            for (int j = 0; j < w.Length; j++) list.Add((featureNames[j], w[j]));
            return list;
        }
    }
}
