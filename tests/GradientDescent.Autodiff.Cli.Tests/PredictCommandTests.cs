using System.Globalization;
using System.Text.Json;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

public sealed class PredictCommandTests
{
    private static double[][] Rows(string csv) =>
        [.. File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray())];

    [Theory]
    [InlineData("softmax", "three", 4)]
    [InlineData("mlp", "three", 4)]
    [InlineData("logistic", "binary", 3)]
    public void Predict_AfterTrainSave_ReproducesTheTrainingAccuracy(string model, string target, int column)
    {
        // Same parameters, same standardisation, same rows: the classes predict writes must score exactly the
        // accuracy train reported (arg-max, or σ(z) ≥ ½, on the same probabilities).
        string csv = SmallCsv();
        string modelFile = Path.Combine(Path.GetDirectoryName(csv)!, "m.json");
        var trained = Run("train", "--json", "--data", csv, "--target", target, "--features", "a,b", "--model", model,
            "--standardize", "--lr", "0.1", "--epochs", "100", "--hidden", "8", "--save", modelFile);
        Assert.Equal(0, trained.Code);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(csv)!, "m.gdad.json")));

        var r = Run("predict", "--model-file", modelFile, "--data", csv, "--json");
        Assert.Equal(0, r.Code);
        JsonElement json = r.Json();
        Assert.Equal(["model", "rows", "metrics", "predictions"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(60, json.GetProperty("rows").GetInt32());
        // The file holds the target column, so predict scores itself on it: the same rows, parameters and formulas
        // as train's metrics, so the same numbers.
        JsonElement trainMetrics = trained.Json().GetProperty("metrics");
        JsonElement predictMetrics = json.GetProperty("metrics");
        Assert.Equal(["accuracy", "log_loss"], predictMetrics.EnumerateObject().Select(p => p.Name));
        Assert.Equal(trainMetrics.GetProperty("accuracy").GetDouble(), predictMetrics.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(trainMetrics.GetProperty("log_loss").GetDouble(), predictMetrics.GetProperty("log_loss").GetDouble(), 1e-12);
        int[] predicted = [.. json.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("class").GetInt32())];
        double[][] rows = Rows(csv);
        double accuracy = rows.Where((row, i) => (int)row[column] == predicted[i]).Count() / (double)rows.Length;
        Assert.Equal(trained.Json().GetProperty("metrics").GetProperty("accuracy").GetDouble(), accuracy, 12);
        Assert.All(json.GetProperty("predictions").EnumerateArray(), p => Assert.InRange(p.GetProperty("probability").GetDouble(), 0.5 - 1e-12, 1));
    }

    [Fact]
    public void Predict_MlpRegressorAfterTrainSave_ReproducesTheTrainingR2AndMse()
    {
        // --model mlp --task regression fits ŷ = MLP(x) by least squares on the real-valued y. The saved description
        // records task "regression", so predict rebuilds the regressor and writes numbers; on the training rows,
        // r² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² and mse = Σ(y − ŷ)²/n of those numbers must equal what train reported.
        string csv = SmallCsv();
        string dir = Path.GetDirectoryName(csv)!;
        string modelFile = Path.Combine(dir, "reg.json");
        var trained = Run("train", "--json", "--data", csv, "--target", "y", "--features", "a,b", "--model", "mlp", "--task", "regression",
            "--standardize", "--lr", "0.05", "--epochs", "100", "--hidden", "8", "--save", modelFile);
        Assert.Equal(0, trained.Code);
        JsonElement metrics = trained.Json().GetProperty("metrics");
        Assert.Equal(["r2", "mse"], metrics.EnumerateObject().Select(p => p.Name));
        Assert.True(metrics.GetProperty("r2").GetDouble() > 0.9, trained.Stdout);   // y is nearly linear in a, b
        using (var description = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reg.gdad.json"))))
        {
            Assert.Equal("regression", description.RootElement.GetProperty("task").GetString());
            Assert.Equal(0, description.RootElement.GetProperty("classes").GetInt32());
        }

        var r = Run("predict", "--model-file", modelFile, "--data", csv, "--json");
        Assert.Equal(0, r.Code);
        double[] predictions = [.. r.Json().GetProperty("predictions").EnumerateArray().Select(e => e.GetDouble())];
        double[] y = [.. Rows(csv).Select(row => row[2])];
        Assert.Equal(y.Length, predictions.Length);
        double sse = y.Zip(predictions, (t, p) => (t - p) * (t - p)).Sum();
        double mean = y.Average();
        double sst = y.Sum(t => (t - mean) * (t - mean));
        Assert.Equal(metrics.GetProperty("mse").GetDouble(), sse / y.Length, 1e-9);
        Assert.Equal(metrics.GetProperty("r2").GetDouble(), 1 - sse / sst, 1e-9);
        JsonElement predictMetrics = r.Json().GetProperty("metrics");   // y is in the file: r2 and mse against it
        Assert.Equal(["r2", "mse"], predictMetrics.EnumerateObject().Select(p => p.Name));
        Assert.Equal(metrics.GetProperty("r2").GetDouble(), predictMetrics.GetProperty("r2").GetDouble(), 1e-12);
        Assert.Equal(metrics.GetProperty("mse").GetDouble(), predictMetrics.GetProperty("mse").GetDouble(), 1e-12);

        var plain = Run("predict", "--model-file", modelFile, "--data", csv);
        Assert.Equal(0, plain.Code);
        Assert.StartsWith("y\n", plain.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.EndsWith("\n# metrics on y: r2 = " + predictMetrics.GetProperty("r2").GetDouble().ToString("G6", CultureInfo.InvariantCulture) + ", mse = "
            + predictMetrics.GetProperty("mse").GetDouble().ToString("G6", CultureInfo.InvariantCulture) + "\n", plain.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        // Features only, no y column: predictions alone, no "metrics" field and no metrics line.
        string featuresOnly = WriteTemp("features.csv", "b,a\n1,2\n-3,0.5\n");
        var bare = Run("predict", "--model-file", modelFile, "--data", featuresOnly, "--json");
        Assert.Equal(0, bare.Code);
        Assert.Equal(["model", "rows", "predictions"], bare.Json().EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("#", Run("predict", "--model-file", modelFile, "--data", featuresOnly).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Predict_TextLabels_MapsThroughTheSavedNamesAndRejectsAnUnknownLabelNamingItsLine()
    {
        // Trained with --class-names first: cat = 0, dog = 1. A file listing dog before cat must still score with
        // those numbers (its own first-appearance order would swap them): the model separates the two perfectly
        // on x, so accuracy is 1 only if the mapping is the saved one.
        var train = new System.Text.StringBuilder("x,animal\n");
        for (int i = 0; i < 20; i++) train.Append(CultureInfo.InvariantCulture, $"{(i < 10 ? -1 - i * 0.1 : 1 + i * 0.1)},{(i < 10 ? "cat" : "dog")}\n");
        string csv = WriteTemp("animals.csv", train.ToString());
        string modelFile = Path.Combine(Path.GetDirectoryName(csv)!, "animals.json");
        Assert.Equal(0, Run("train", "--json", "--data", csv, "--target", "animal", "--class-names", "first", "--model", "softmax",
            "--lr", "0.5", "--epochs", "100", "--save", modelFile).Code);

        string swapped = WriteTemp("swapped.csv", "animal,x\ndog,2\ncat,-2\ndog,1.5\n");
        var r = Run("predict", "--model-file", modelFile, "--data", swapped, "--json");
        Assert.Equal(0, r.Code);
        Assert.Equal(1.0, r.Json().GetProperty("metrics").GetProperty("accuracy").GetDouble());

        string unknown = WriteTemp("unknown.csv", "x,animal\n2,dog\n\n-2,cow\n");   // the blank line keeps cow on line 4
        var bad = Run("predict", "--model-file", modelFile, "--data", unknown, "--json");
        Assert.Equal(2, bad.Code);
        Assert.Equal("", bad.Stdout);
        Assert.Single(bad.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("line 4", bad.Stderr, StringComparison.Ordinal);
        Assert.Contains("'cow'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Predict_StandardizedLinear_EqualsTheReportedOriginalUnitParametersAppliedToRawFeatures()
    {
        // The model ran on z = (x − μ)/σ; train reported b' = b − Σ wμ/σ and w' = w/σ. So predict's ŷ must equal
        // b' + w'ₐ a + w'_b b on the raw values: a check of the saved μ, σ and of the inverse mapping together.
        string csv = SmallCsv();
        string modelFile = Path.Combine(Path.GetDirectoryName(csv)!, "lin.json");
        var trained = Run("train", "--json", "--data", csv, "--target", "y", "--features", "a,b", "--model", "linear", "--standardize", "--epochs", "50", "--save", modelFile);
        Assert.Equal(0, trained.Code);
        JsonElement p = trained.Json().GetProperty("parameters");
        var r = Run("predict", "--model-file", modelFile, "--data", csv, "--json");
        Assert.Equal(0, r.Code);
        double[] predictions = [.. r.Json().GetProperty("predictions").EnumerateArray().Select(e => e.GetDouble())];
        double[][] rows = Rows(csv);
        for (int i = 0; i < rows.Length; i++)
        {
            double expected = p.GetProperty("bias").GetDouble() + p.GetProperty("a").GetDouble() * rows[i][0] + p.GetProperty("b").GetDouble() * rows[i][1];
            Assert.Equal(expected, predictions[i], 1e-10);
        }
    }

    [Fact]
    public void Predict_PlainOutput_IsACsvWithOneLinePerRow()
    {
        string path = Path.Combine(Path.GetDirectoryName(SmallCsv())!, "adm.json");
        Assert.Equal(0, Run("train", "--epochs", "20", "--save", path, "--json").Code);
        // The admissions model was trained without header (x1, x2): a feature-only file without header works too.
        string features = WriteTemp("new.csv", "0.5,0.5\n0.1,0.9\n\n0.9,0.1\n");
        var r = Run("predict", "--model-file", path, "--data", features, "--no-header");
        Assert.Equal(0, r.Code);
        string[] lines = r.Stdout.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("class,probability", lines[0]);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public void Predict_MissingDescriptionOrColumn_Exit2OneLine()
    {
        string csv = SmallCsv();
        string dir = Path.GetDirectoryName(csv)!;
        string lone = Path.Combine(dir, "lone.json");
        File.WriteAllText(lone, "{}");
        var r = Run("predict", "--model-file", lone, "--data", csv);
        Assert.Equal(2, r.Code);
        Assert.Contains("lone.gdad.json", r.Stderr, StringComparison.Ordinal);

        string modelFile = Path.Combine(dir, "ab.json");
        Assert.Equal(0, Run("train", "--data", csv, "--target", "binary", "--features", "a,b", "--epochs", "5", "--save", modelFile, "--json").Code);
        string onlyA = WriteTemp("a.csv", "a\n1\n2\n");
        r = Run("predict", "--model-file", modelFile, "--data", onlyA);
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
