using Spectre.Console.Testing;
using System.Globalization;
using System.Text.Json;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

public sealed class TrainCommandTests
{
    [Fact]
    public void Train_Defaults_LogisticOnAdmissionsReachesAccuracyAtLeast0_9()
    {
        var r = Run("train", "--json");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Stderr);
        JsonElement json = r.Json();
        Assert.Equal("logistic", json.GetProperty("model").GetString());
        Assert.True(json.GetProperty("metrics").GetProperty("accuracy").GetDouble() >= 0.9);
    }

    [Fact]
    public void Train_Json_IsExactlyOneObjectWithThePinnedFieldsAndTypes()
    {
        var r = Run("train", "--json", "--epochs", "20");
        Assert.Equal(0, r.Code);
        JsonElement json = r.Json();
        Assert.Equal(["model", "epochs", "final_loss", "metrics", "parameters", "seconds"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, json.GetProperty("model").ValueKind);
        Assert.Equal(20, json.GetProperty("epochs").GetInt32());
        Assert.True(json.GetProperty("final_loss").GetDouble() > 0);
        Assert.Equal(["accuracy", "log_loss"], json.GetProperty("metrics").EnumerateObject().Select(p => p.Name));
        Assert.All(json.GetProperty("metrics").EnumerateObject(), p => Assert.Equal(JsonValueKind.Number, p.Value.ValueKind));
        // The embedded admissions data has no header: its features are named x1, x2.
        Assert.Equal(["bias", "x1", "x2"], json.GetProperty("parameters").EnumerateObject().Select(p => p.Name));
        Assert.True(json.GetProperty("seconds").GetDouble() >= 0);
    }

    [Fact]
    public void Train_JsonWithTestFraction_AddsTestMetricsBeforeParameters()
    {
        var r = Run("train", "--json", "--test-fraction", "0.2", "--epochs", "50");
        Assert.Equal(0, r.Code);
        JsonElement json = r.Json();
        Assert.Equal(["model", "epochs", "final_loss", "metrics", "test_metrics", "parameters", "seconds"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["accuracy", "log_loss"], json.GetProperty("test_metrics").EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("linear", "y", "r2")]
    [InlineData("logistic", "binary", "accuracy")]
    [InlineData("softmax", "three", "accuracy")]
    [InlineData("mlp", "three", "accuracy")]
    public void Train_EachModelOnACsvWithANamedTarget_FitsWell(string model, string target, string metric)
    {
        string csv = SmallCsv();
        var r = Run("train", "--json", "--data", csv, "--target", target, "--features", "a,b", "--model", model,
            "--standardize", "--lr", "0.1", "--epochs", "300", "--hidden", "8");
        Assert.Equal(0, r.Code);
        JsonElement json = r.Json();
        Assert.Equal(model, json.GetProperty("model").GetString());
        // Each target is a near-exact function of a and b (y linear, the classes separable by lines or thresholds).
        Assert.True(json.GetProperty("metrics").GetProperty(metric).GetDouble() >= 0.9, r.Stdout);
        Assert.Equal(model is "linear" or "logistic", json.TryGetProperty("parameters", out _));
        if (model == "linear") Assert.Equal(["r2", "mse"], json.GetProperty("metrics").EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("sgd", "0.5")]
    [InlineData("momentum", "0.1")]
    [InlineData("nesterov", "0.1")]
    [InlineData("adamw", "0.05")]
    [InlineData("rmsprop", "0.01")]
    public void Train_Optimizers_FitTheBinaryTarget(string optimizer, string lr)
    {
        var r = Run("train", "--json", "--data", SmallCsv(), "--target", "binary", "--features", "a,b", "--optimizer", optimizer,
            "--lr", lr, "--epochs", "300", "--batch-size", "16", "--weight-decay", "1e-4");
        Assert.Equal(0, r.Code);
        Assert.True(r.Json().GetProperty("metrics").GetProperty("accuracy").GetDouble() >= 0.9, r.Stdout);
    }

    [Fact]
    public void Train_StandardizeLinear_ReportsTheLeastSquaresSolutionInOriginalUnits()
    {
        // Least squares has one optimum, β = (XᵀX)⁻¹Xᵀy with X = [1, a, b]. Trained on raw features, the model's
        // (bias, w) should reach it; trained on standardised features z = (x − μ)/σ, the reported parameters are
        // w/σ and b − Σ wμ/σ, the same β. Both are compared with the normal equations solved here.
        string csv = SmallCsv();
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        double[] beta = LeastSquares(rows.Select(r => new[] { 1, r[0], r[1] }).ToArray(), rows.Select(r => r[2]).ToArray());

        foreach (string[] extra in new[] { new[] { "--standardize", "--lr", "0.5" }, new[] { "--lr", "0.05" } })
        {
            var r = Run(["train", "--json", "--data", csv, "--target", "y", "--features", "a,b", "--model", "linear",
                "--optimizer", "momentum", "--epochs", "3000", .. extra]);
            Assert.Equal(0, r.Code);
            JsonElement p = r.Json().GetProperty("parameters");
            Assert.Equal(beta[0], p.GetProperty("bias").GetDouble(), 1e-6);
            Assert.Equal(beta[1], p.GetProperty("a").GetDouble(), 1e-6);
            Assert.Equal(beta[2], p.GetProperty("b").GetDouble(), 1e-6);
        }
    }

    /// <summary>Solves XᵀX β = Xᵀy by Gaussian elimination with partial pivoting (3 × 3 here).</summary>
    private static double[] LeastSquares(double[][] x, double[] y)
    {
        int n = x[0].Length;
        var a = new double[n, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) a[i, j] = x.Sum(r => r[i] * r[j]);
            a[i, n] = x.Select((r, k) => r[i] * y[k]).Sum();
        }
        for (int c = 0; c < n; c++)
        {
            int p = Enumerable.Range(c, n - c).MaxBy(i => Math.Abs(a[i, c]));
            for (int j = 0; j <= n; j++) (a[c, j], a[p, j]) = (a[p, j], a[c, j]);
            for (int i = 0; i < n; i++)
            {
                if (i == c) continue;
                double f = a[i, c] / a[c, c];
                for (int j = 0; j <= n; j++) a[i, j] -= f * a[c, j];
            }
        }
        return [.. Enumerable.Range(0, n).Select(i => a[i, n] / a[i, i])];
    }

    [Fact]
    public void Train_PlainOutput_PrintsEpochLinesAndASummaryNotJson()
    {
        var r = Run("train", "--epochs", "30");
        Assert.Equal(0, r.Code);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Epoch 1, then every max(1, 30/10) = 3 epochs: 1, 3, 6, …, 30 → 11 lines.
        Assert.Equal(11, lines.Count(l => l.StartsWith("epoch", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("training: accuracy = ", StringComparison.Ordinal));
        Assert.DoesNotContain("{", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_Save_WritesAParameterFileThatLoadsIntoTheSameModel()
    {
        string path = Path.Combine(Path.GetDirectoryName(SmallCsv())!, "model.json");
        var r = Run("train", "--epochs", "10", "--save", path, "--json");
        Assert.Equal(0, r.Code);
        var model = new GradientDescent.Autodiff.Models.LogisticRegression(2, new GradientDescent.Autodiff.Models.RandomSource(99));
        GradientDescent.Autodiff.Models.ParameterFile.Load(model, path);
        JsonElement p = r.Json().GetProperty("parameters");
        Assert.Equal(p.GetProperty("x1").GetDouble(), model.Linear.Weight.Value[0]);
        Assert.Equal(p.GetProperty("bias").GetDouble(), model.Linear.Bias!.Value[0]);
    }

    [Fact]
    public void Train_CancelledToken_StillReportsOneObjectAndExits130()
    {
        // A token signalled before Fit starts no epoch; the report is still complete, with a null final loss.
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var r = Run(cancel.Token, "train", "--json");
        Assert.Equal((int)ExitCode.Interrupted, r.Code);
        JsonElement json = r.Json();
        Assert.Equal(0, json.GetProperty("epochs").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("final_loss").ValueKind);
    }
}

public sealed class TrainOutTests
{
    [Fact]
    public void Train_Out_WritesALossPngAndTheJsonSummaryThatStdoutCarries()
    {
        string dir = Path.Combine(Path.GetDirectoryName(CliRunner.SmallCsv())!, "run", "out");   // two levels that do not exist yet
        var r = CliRunner.Run("train", "--epochs", "15", "--json", "--out", dir);
        Assert.Equal(0, r.Code);
        byte[] png = File.ReadAllBytes(Path.Combine(dir, "loss.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.True(png.Length > 1000);
        // The same object, byte for byte (stdout ends with one newline, as the file does).
        Assert.Equal(r.Stdout.ReplaceLineEndings("\n"), File.ReadAllText(Path.Combine(dir, "summary.json")).ReplaceLineEndings("\n"));
    }
}

public sealed class TrainInterruptTests
{
    /// <summary>A writer that signals Ctrl+C's token when a line starting with <paramref name="trigger"/> is written.</summary>
    private sealed class CancelOnLine(CancellationTokenSource cancel, string trigger) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value is not null && value.StartsWith(trigger, StringComparison.Ordinal)) cancel.Cancel();
        }
    }

    [Fact]
    public async Task Train_CtrlCDuringTraining_StopsAtThatEpochStillReportsAndSavesAndExits130()
    {
        // The epoch-20 line is written from the trainer's progress report at the end of epoch 20; a token signalled
        // there starts no further epoch, so exactly 20 epochs are trained, reported and saved.
        using var cancel = new CancellationTokenSource();
        var stdout = new CancelOnLine(cancel, "epoch    20");
        var stderr = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        string path = Path.Combine(Path.GetDirectoryName(CliRunner.SmallCsv())!, "interrupted.json");
        int code = await Gdad.RunAsync(["train", "--epochs", "200", "--save", path], stdout, stderr, cancel.Token);
        Assert.Equal((int)ExitCode.Interrupted, code);
        Assert.Equal("", stderr.ToString());
        string text = stdout.ToString();
        Assert.Contains("interrupted after 20 epochs (20 steps)", text, StringComparison.Ordinal);
        Assert.Contains("training: accuracy = ", text, StringComparison.Ordinal);
        Assert.True(File.Exists(path));
        Assert.DoesNotContain("epoch    40", text, StringComparison.Ordinal);
    }
}

public sealed class TrainLiveTests
{
    [Fact]
    public async Task Train_InteractiveConsole_ShowsABarInsteadOfEpochLinesAndKeepsTheSummary()
    {
        var live = new Spectre.Console.Testing.TestConsole().Interactive();
        var stdout = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        var stderr = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        int code = await Gdad.RunAsync(["train", "--epochs", "30"], stdout, stderr, CancellationToken.None, live);
        Assert.Equal(0, code);
        string text = stdout.ToString();
        Assert.DoesNotContain("epoch    30", text, StringComparison.Ordinal);
        Assert.Contains("training: accuracy = ", text, StringComparison.Ordinal);
        Assert.Contains("loss", live.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_InteractiveConsoleWithJson_WritesOnlyTheObjectAndNoBar()
    {
        var live = new Spectre.Console.Testing.TestConsole().Interactive();
        var stdout = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        int code = await Gdad.RunAsync(["train", "--epochs", "10", "--json"], stdout, new StringWriter(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None, live);
        Assert.Equal(0, code);
        Assert.Equal("", live.Output);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout.ToString());
        Assert.Equal(10, doc.RootElement.GetProperty("epochs").GetInt32());
    }
}
