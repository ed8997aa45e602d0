using GradientDescent.Autodiff.Datasets;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The seed's two models on its admissions data (100 rows, 2 features, 0/1 label), full batch: the gradient from
/// this library against the bridge's replay, against the same model written directly in TorchSharp, and against the
/// seed's closed forms.
/// </summary>
public sealed class SeedModelCrossCheckTests
{
    private static readonly LabeledData Data = LabeledData.Admissions();
    private static readonly double[] X = Data.FeatureMatrix();
    private static readonly double[] Y = [.. Data.Labels];
    private const int M = 100;

    public static TheoryData<double, double, double> Points() => new()
    {
        { 0.0, 0.0, 0.0 },
        { 0.3, -0.1, 0.2 },
        { -1.7, 2.4, 0.35 },
        { 8.0, -6.5, -1.25 },
    };

    // ---- logistic regression: ŷ = σ(Xw + b), J = −(1/m) Σ [y ln ŷ + (1 − y) ln(1 − ŷ)] ----

    private static Scalar LogisticLoss(Tape tape, VectorParameter w, ScalarParameter b)
    {
        Matrix x = tape.Constant(X, M, 2);
        Vector yHat = Ops.Sigmoid(Ops.MatVec(x, tape.Use(w)) + tape.Use(b));
        return Loss.BinaryCrossEntropy(yHat, tape.Constant(Y));
    }

    [Theory]
    [MemberData(nameof(Points))]
    public void Run_LogisticRegressionOnAdmissions_GradientMatchesTorch(double w0, double w1, double b0)
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", w0, w1);
        var b = new ScalarParameter("b", b0);

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => LogisticLoss(t, w, b), [w, b]);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(M, Data.Count);
    }

    [Theory]
    [MemberData(nameof(Points))]
    public void Backward_LogisticRegressionOnAdmissions_EqualsHandWrittenTorchModelAndSeedFormula(double w0, double w1, double b0) =>
        CheckAgainstTorchAndSeed(
            LogisticLoss,
            (x, y, w, b) => F.binary_cross_entropy(TorchScalars.Add(x.mv(w), b).sigmoid(), y),
            z => 1 / (1 + Math.Exp(-z)),   // ŷ = σ(z)
            w0, w1, b0);

    // ---- linear regression: h = Xw + b predicting the label, J = (1/m) Σ ½(hᵢ − yᵢ)² ----

    private static Scalar LinearLoss(Tape tape, VectorParameter w, ScalarParameter b)
    {
        Matrix x = tape.Constant(X, M, 2);
        Vector h = Ops.MatVec(x, tape.Use(w)) + tape.Use(b);
        return Loss.HalfMeanSquaredError(h, tape.Constant(Y));
    }

    [Theory]
    [MemberData(nameof(Points))]
    public void Run_LinearRegressionOnAdmissions_GradientMatchesTorch(double w0, double w1, double b0)
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", w0, w1);
        var b = new ScalarParameter("b", b0);

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => LinearLoss(t, w, b), [w, b]);

        Assert.True(report.Passed, report.ToString());
    }

    [Theory]
    [MemberData(nameof(Points))]
    public void Backward_LinearRegressionOnAdmissions_EqualsHandWrittenTorchModelAndSeedFormula(double w0, double w1, double b0) =>
        CheckAgainstTorchAndSeed(
            LinearLoss,
            (x, y, w, b) => TorchScalars.Mul(TorchScalars.Square(TorchScalars.Add(x.mv(w), b).sub(y)).mean(), 0.5),
            z => z,                        // h = z
            w0, w1, b0);

    /// <summary>
    /// Both seeds' gradients have one closed form: with z = w·x + b and the prediction p(z) (σ(z) for logistic
    /// regression with cross-entropy, z itself for linear regression with ½(h − y)²),
    /// ∂J/∂w = (1/m) Σ (p(zᵢ) − yᵢ) xᵢ and ∂J/∂b = (1/m) Σ (p(zᵢ) − yᵢ).
    /// This library's backward is compared with that formula and with the same model written directly in TorchSharp,
    /// independent of the bridge.
    /// </summary>
    private static void CheckAgainstTorchAndSeed(
        Func<Tape, VectorParameter, ScalarParameter, Scalar> model,
        Func<Tensor, Tensor, Tensor, Tensor, Tensor> torchModel,
        Func<double, double> prediction,
        double w0, double w1, double b0)
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", w0, w1);
        var b = new ScalarParameter("b", b0);
        var tape = new Tape();
        Scalar loss = model(tape, w, b);
        loss.Backward();

        using DisposeScope scope = NewDisposeScope();
        Tensor wt = tensor(new[] { w0, w1 }, float64, requires_grad: true);
        Tensor bt = tensor(b0, float64, requires_grad: true);
        Tensor torchLoss = torchModel(tensor(X, [M, 2], float64), tensor(Y, float64), wt, bt);
        torchLoss.backward();

        double[] closedW = new double[2];
        double closedB = 0;
        for (int i = 0; i < M; i++)
        {
            double residual = prediction((X[2 * i] * w0) + (X[(2 * i) + 1] * w1) + b0) - Y[i];
            closedW[0] += residual * X[2 * i] / M;
            closedW[1] += residual * X[(2 * i) + 1] / M;
            closedB += residual / M;
        }

        AssertClose(torchLoss.item<double>(), loss.Value);
        AssertClose(wt.grad!.ToDoubleArray(), w.Grad);
        AssertClose(bt.grad!.item<double>(), b.Grad);
        AssertClose(closedW, w.Grad, 1e-12);
        AssertClose(closedB, b.Grad, 1e-12);
    }

    /// <summary>|expected − actual| ≤ tolerance·max(|expected|, |actual|) or ≤ 10⁻¹⁵ (the bridge's 10⁻¹⁰ by default).</summary>
    private static void AssertClose(double expected, double actual, double tolerance = 1e-10)
    {
        double error = Math.Abs(expected - actual);
        Assert.True(
            error <= 1e-15 || error <= tolerance * Math.Max(Math.Abs(expected), Math.Abs(actual)),
            $"expected {expected:G17}, got {actual:G17} (error {error:E2})");
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance = 1e-10)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++) AssertClose(expected[k], actual[k], tolerance);
    }
}
