using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Models;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// <c>gdad predict</c>: loads a model saved by <c>gdad train --save</c> (parameters and description), reads the
/// saved feature columns from a CSV, applies the saved standardisation and writes one prediction per row.
/// </summary>
internal static class PredictCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A dummy last column appended in memory, so the reader (which always wants a target) reads a file of features only.</summary>
    private const string NoTarget = "__gdad_no_target__";

    internal sealed record PredictOptions(string ModelFile, string Data, bool HasHeader, bool Json);

    internal static Command Build(TextWriter stdout)
    {
        var modelFile = new Option<string>("--model-file") { Description = "The parameter file written by 'gdad train --save FILE' (its description FILE.gdad.json must sit beside it).", Required = true, HelpName = "FILE" };
        var data = new Option<string>("--data") { Description = "A CSV file holding the model's feature columns (other columns are ignored; with a header naming the training target, its metrics are reported too).", Required = true, HelpName = "FILE" };
        var noHeader = new Option<bool>("--no-header") { Description = "The CSV has no header line: the features are its first columns, in the trained order." };
        var json = new Option<bool>("--json") { Description = "Write one JSON object: model, rows, metrics (only when the file has the target column), predictions (numbers for regression; class and probability for classifiers)." };
        var command = new Command("predict",
            "Predict with a model saved by 'gdad train --save'.\n\n" +
            "Examples:\n" +
            "  gdad train --data iris.csv --target species --class-names first --model softmax --standardize --save iris-model.json\n" +
            "  gdad predict --model-file iris-model.json --data iris.csv\n" +
            "  gdad predict --model-file iris-model.json --data new-flowers.csv --json\n\n" +
            "Exit codes: 0 success, 2 bad arguments or data, 70 a bug.")
        {
            modelFile, data, noHeader, json,
        };
        command.SetAction(parse => (int)Run(new PredictOptions(parse.GetValue(modelFile)!, parse.GetValue(data)!, !parse.GetValue(noHeader), parse.GetValue(json)), stdout));
        return command;
    }

    internal static ExitCode Run(PredictOptions o, TextWriter stdout)
    {
        ModelDescription d = ModelDescription.Load(o.ModelFile);
        Table table = LoadFeatures(o, d);
        bool regression = d.Model == "linear" || d.Task == "regression";
        var setup = TrainCommand.Setup.Create(d.Model, d.Features.Length, d.Classes, d.Hidden, d.Activation ?? "relu", seed: 0, regression);
        ParameterFile.Load(setup.Model, o.ModelFile);

        double[] x = table.FeatureArray();
        if (d.Mean is not null && d.Scale is not null)
        {
            // z = (x − μ)/σ with the training rows' μ and σ, as Standardizer.Transform did at training.
            for (int i = 0; i < x.Length; i++) x[i] = (x[i] - d.Mean[i % d.Features.Length]) / d.Scale[i % d.Features.Length];
        }
        double[] outputs = setup.Outputs(new Tape().Constant(x, table.RowCount, table.FeatureCount));
        int n = table.RowCount;
        IReadOnlyList<(string Name, double Value)>? metrics = TargetMetrics(o, d, setup, x, n, regression);

        if (o.Json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("model", d.Model);
                w.WriteNumber("rows", n);
                if (metrics is not null)
                {
                    w.WriteStartObject("metrics");
                    foreach (var (name, value) in metrics)
                    {
                        if (double.IsFinite(value)) w.WriteNumber(name, value); else w.WriteNull(name);
                    }
                    w.WriteEndObject();
                }
                w.WriteStartArray("predictions");
                for (int i = 0; i < n; i++)
                {
                    if (regression)
                    {
                        w.WriteNumberValue(outputs[i]);
                        continue;
                    }
                    var (cls, p) = Decide(d, outputs, i);
                    w.WriteStartObject();
                    w.WriteNumber("class", cls);
                    if (d.ClassNames is not null) w.WriteString("name", d.ClassNames[cls]);
                    w.WriteNumber("probability", p);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            // A CSV on stdout: one row per input row.
            stdout.WriteLine(regression ? d.Target : d.ClassNames is null ? "class,probability" : "class,name,probability");
            for (int i = 0; i < n; i++)
            {
                if (regression)
                {
                    stdout.WriteLine(outputs[i].ToString("R", Inv));
                    continue;
                }
                var (cls, p) = Decide(d, outputs, i);
                stdout.WriteLine(d.ClassNames is null
                    ? string.Create(Inv, $"{cls},{p:R}")
                    : string.Create(Inv, $"{cls},{d.ClassNames[cls]},{p:R}"));
            }
            // After the rows, as a comment line, so the CSV above stays a CSV for readers that skip '#' lines.
            if (metrics is not null) stdout.WriteLine("# metrics on " + d.Target + ": " + string.Join(", ", metrics.Select(m => string.Create(Inv, $"{m.Name} = {m.Value:G6}"))));
        }
        return ExitCode.Success;
    }

    /// <summary>The predicted class and its probability: σ(z) ≥ ½ → 1 for logistic, arg-max (ties to the lowest class) otherwise.</summary>
    private static (int Class, double Probability) Decide(ModelDescription d, double[] outputs, int row)
    {
        if (d.Model == "logistic")
        {
            double p = outputs[row];
            return p >= 0.5 ? (1, p) : (0, 1 - p);
        }
        int k = d.Classes, best = 0;
        for (int c = 1; c < k; c++)
        {
            if (outputs[row * k + c] > outputs[row * k + best]) best = c;
        }
        return (best, outputs[row * k + best]);
    }

    /// <summary>
    /// With a header naming the training target <c>d.Target</c>, the metrics train reports (accuracy and log_loss for
    /// classifiers, r2 and mse for regression) of the predictions against that column; null when the file has no such
    /// column (or no header: its columns are then only positions, the features first, so no column is known to be the target).
    /// Text labels are mapped through the saved class names; a label the model does not know is a usage error naming its line.
    /// </summary>
    private static IReadOnlyList<(string Name, double Value)>? TargetMetrics(PredictOptions o, ModelDescription d, TrainCommand.Setup setup,
        double[] z, int rows, bool regression)
    {
        if (!o.HasHeader || !HeaderNames(o.Data).Contains(d.Target)) return null;
        TargetKind kind = regression ? TargetKind.Regression : d.Model == "logistic" ? TargetKind.Binary : TargetKind.MultiClass;
        int k = Math.Max(2, d.Classes);
        var csv = new CsvOptions { HasHeader = true, Target = d.Target, Features = d.Features, TargetKind = kind, ClassCount = kind == TargetKind.MultiClass ? k : null };
        double[] targets;
        if (d.ClassNames is null || regression)
        {
            targets = Parse(o.Data, csv).TargetArray();
        }
        else
        {
            // Read the names in the file's order, then renumber them with the model's names (the file may hold
            // a subset of the classes, or another order, so its own numbering cannot be used).
            Table named = Parse(o.Data, csv with { TargetKind = TargetKind.MultiClass, ClassCount = null, ClassNames = ClassNameOrder.FirstAppearance });
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int c = 0; c < d.ClassNames.Length; c++) index.TryAdd(d.ClassNames[c], c);
            int[] lines = RecordLines(o.Data);
            targets = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                string name = named.ClassNames![named.Labels[i]];
                if (!index.TryGetValue(name, out int c))
                {
                    throw new UsageException($"{o.Data}, line {lines[i]}: the {d.Target} label '{name}' is not one of the model's classes ({string.Join(", ", d.ClassNames)}); metrics need labels the model was trained on.");
                }
                targets[i] = c;
            }
        }
        Table scored = Table.Create(z, d.Features.Length, targets, kind, kind == TargetKind.MultiClass ? k : null, d.Features, d.Target, o.Data);
        return setup.Evaluate(scored);
    }

    /// <summary>The header's column names (first non-empty line, split on commas, surrounding quotes and spaces removed).</summary>
    private static string[] HeaderNames(string path)
    {
        string? header = File.ReadLines(path).FirstOrDefault(l => l.Length > 0);
        return header is null ? [] : [.. header.Split(',').Select(c => c.Trim().Trim('"'))];
    }

    /// <summary>The 1-based file line of each data record (non-empty lines after the header), as the reader numbers them.</summary>
    private static int[] RecordLines(string path)
    {
        var lines = new List<int>();
        int number = 0;
        bool header = true;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0) continue;
            if (header)
            {
                header = false;
                continue;
            }
            lines.Add(number);
        }
        return [.. lines];
    }

    private static Table Parse(string path, CsvOptions csv)
    {
        try
        {
            return Table.LoadCsv(path, csv);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static Table LoadFeatures(PredictOptions o, ModelDescription d)
    {
        if (!File.Exists(o.Data)) throw new UsageException($"--data: no file '{o.Data}'.");
        var text = new StringBuilder();
        bool first = true;
        foreach (string line in File.ReadLines(o.Data))
        {
            if (line.Length == 0)
            {
                text.Append('\n');   // keeps the reader's line numbers those of the file
                continue;
            }
            text.Append(line).Append(',').Append(first && o.HasHeader ? NoTarget : "0").Append('\n');
            first = false;
        }
        var csv = new CsvOptions { HasHeader = o.HasHeader, TargetKind = TargetKind.Regression };
        csv = o.HasHeader ? csv with { Features = d.Features } : csv with { FeatureIndices = [.. Enumerable.Range(0, d.Features.Length)] };
        try
        {
            return Table.ParseCsv(text.ToString(), o.Data, csv);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
