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
        var data = new Option<string>("--data") { Description = "A CSV file holding the model's feature columns (other columns, such as the target, are ignored).", Required = true, HelpName = "FILE" };
        var noHeader = new Option<bool>("--no-header") { Description = "The CSV has no header line: the features are its first columns, in the trained order." };
        var json = new Option<bool>("--json") { Description = "Write one JSON object: model, rows, predictions (numbers for regression; class and probability for classifiers)." };
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

        if (o.Json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("model", d.Model);
                w.WriteNumber("rows", n);
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
