using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>Short full-batch training runs of the ready models (not timed): they learn what they should.</summary>
public sealed class TrainingTests
{
    private static readonly LabeledData Admissions = LabeledData.Admissions();

    private static double Accuracy(double[] probabilities, IReadOnlyList<double> labels) =>
        probabilities.Select((p, i) => (p >= 0.5 ? 1.0 : 0.0) == labels[i] ? 1.0 : 0.0).Average();

    public static TheoryData<string> Optimizers => ["Sgd", "Adam"];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void LogisticRegression_Admissions_ReachesAccuracyAtLeast0_9(string name)
    {
        // The seed's run: ŷ = σ(x·w + b) on 100 students, mean BCE, full batch. The data are separable up to a few
        // points: Newton's minimum classifies 93 of 100 correctly.
        var model = new LogisticRegression(Admissions.FeatureCount, new RandomSource(41));
        Optimizer optimizer = name == "Sgd" ? new Sgd(model.Parameters(), 10) : new Adam(model.Parameters(), 0.2);
        double[] x = Admissions.FeatureMatrix();
        double[] y = [.. Admissions.Labels];
        var tape = new Tape();
        double first = double.NaN, last = double.NaN;
        for (int step = 0; step < 1000; step++)
        {
            tape.Clear();
            Scalar loss = model.Loss(tape.Constant(x, Admissions.Count, Admissions.FeatureCount), y);
            if (step == 0) first = loss.Value;
            last = loss.Value;
            loss.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        tape.Clear();
        double[] p = model.Probabilities(tape.Constant(x, Admissions.Count, Admissions.FeatureCount)).Value;
        double accuracy = Accuracy(p, Admissions.Labels);
        Assert.True(last < first, $"{name}: loss {first:R} → {last:R}");
        Assert.True(accuracy >= 0.9, $"{name}: accuracy {accuracy:R}, loss {last:R}");
    }

    [Fact]
    public void MlpClassifier_Xor_FitsAllFourPoints()
    {
        // XOR is not linearly separable; one hidden layer of tanh units separates it.
        double[] x = [0, 0, 0, 1, 1, 0, 1, 1];
        int[] labels = [0, 1, 1, 0];
        var model = new MlpClassifier(2, [8], 2, new RandomSource(42), Activation.Tanh);
        var optimizer = new Adam(model.Parameters(), 0.05);
        var tape = new Tape();
        double last = double.NaN;
        for (int step = 0; step < 500; step++)
        {
            tape.Clear();
            Scalar loss = model.Loss(tape.Constant(x, 4, 2), labels);
            last = loss.Value;
            loss.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        tape.Clear();
        double[] p = model.Probabilities(tape.Constant(x, 4, 2)).Value;
        for (int i = 0; i < 4; i++) Assert.True(p[i * 2 + labels[i]] > 0.9, $"point {i}: p = {p[i * 2 + labels[i]]:R}, loss {last:R}");
    }

    [Fact]
    public void MlpRegressor_Sine_MeanSquaredErrorFallsBelow0_01()
    {
        // y = sin(x) on 32 points of [−π, π]; MSE starts near 0.5 (the variance of sin).
        const int B = 32;
        double[] x = [.. Enumerable.Range(0, B).Select(i => -Math.PI + 2 * Math.PI * i / (B - 1))];
        double[] y = [.. x.Select(Math.Sin)];
        var model = new MlpRegressor(1, [16], 1, new RandomSource(43), Activation.Tanh);
        var optimizer = new Adam(model.Parameters(), 0.02);
        var tape = new Tape();
        double last = double.NaN;
        for (int step = 0; step < 1500; step++)
        {
            tape.Clear();
            Scalar loss = model.Loss(tape.Constant(x, B, 1), y);
            last = loss.Value;
            loss.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Assert.True(last < 0.01, $"MSE {last:R}");
    }

    [Fact]
    public void SoftmaxRegression_ThreeSeparatedClusters_ClassifiesAll()
    {
        // Three clusters around (2, 0), (−1, 2), (−1, −2): linearly separable.
        var random = new RandomSource(44);
        double[][] centres = [[2, 0], [-1, 2], [-1, -2]];
        const int PerClass = 20;
        var x = new double[3 * PerClass * 2];
        var labels = new int[3 * PerClass];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = i / PerClass;
            x[2 * i] = centres[labels[i]][0] + 0.3 * random.NextGaussian();
            x[2 * i + 1] = centres[labels[i]][1] + 0.3 * random.NextGaussian();
        }
        var model = new SoftmaxRegression(2, 3, new RandomSource(45));
        var optimizer = new Sgd(model.Parameters(), 1);
        var tape = new Tape();
        for (int step = 0; step < 200; step++)
        {
            tape.Clear();
            model.Loss(tape.Constant(x, labels.Length, 2), labels).Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        tape.Clear();
        double[] p = model.Probabilities(tape.Constant(x, labels.Length, 2)).Value;
        for (int i = 0; i < labels.Length; i++)
        {
            int predicted = Enumerable.Range(0, 3).MaxBy(k => p[i * 3 + k]);
            Assert.Equal(labels[i], predicted);
        }
    }
}
