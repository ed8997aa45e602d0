// The lesson of the first seed (logistic regression by gradient descent), with the gradient derived by the tape
// instead of by hand — and checked against the hand formula at every single step.
//
//   ŷ = σ(w·x + b)                              prediction
//   E = −y ln ŷ − (1 − y) ln(1 − ŷ)             error of one point (binary cross-entropy)
//   ∇E = −(y − ŷ)(x₁, …, xₙ, 1)                  the seed's hand-derived gradient
//   w ← w − α ∂E/∂w,  b ← b − α ∂E/∂b            per-point update, α = 0.01, 100 epochs
//
// Usage: dotnet run --project examples/LogisticRegression [data.csv]
// Without an argument it trains on the lesson's admissions data, embedded in the program.
using System.Globalization;
using GradientDescent.Autodiff;
using GradientDescent.Autodiff.Datasets;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var data = args.Length > 0 ? LabeledData.Load(args[0]) : LabeledData.Admissions();
int n = data.FeatureCount;
const double LearningRate = 0.01;
const int Epochs = 100;

// The lesson starts from random normal weights with scale 1/√n and a zero bias (numpy's generator is not
// reproducible here, so a seeded one of ours stands in).
var random = new Random(44);
var w = new VectorParameter("w", Enumerable.Range(0, n).Select(_ => Normal(random) / Math.Sqrt(n)).ToArray());
var b = new ScalarParameter("b", 0.0);
var sgd = new Sgd([w, b], LearningRate);

Console.WriteLine($"Logistic regression on {data.Source}: {data.Count} points, {n} features, α = {LearningRate}, {Epochs} epochs");
var tape = new Tape();
double largestDifference = 0;
double? lastLoss = null;
var handGradient = new double[n + 1];

for (int epoch = 0; epoch < Epochs; epoch++)
{
    for (int i = 0; i < data.Count; i++)
    {
        tape.Clear();
        sgd.ZeroGrad();
        var x = tape.Constant(data.Features[i]);
        double y = data.Labels[i];

        // ŷ = σ(w·x + b)
        var yHat = Ops.Sigmoid(Ops.Dot(tape.Use(w), x) + tape.Use(b));
        // E = −y ln ŷ − (1 − y) ln(1 − ŷ)
        var error = Loss.BinaryCrossEntropy(yHat, y);
        error.Backward();

        // The seed's formula, ∇E = −(y − ŷ)(x₁, …, xₙ, 1), against what backward derived.
        for (int j = 0; j < n; j++) handGradient[j] = -(y - yHat.Value) * data.Features[i][j];
        handGradient[n] = -(y - yHat.Value);
        for (int j = 0; j < n; j++) largestDifference = Math.Max(largestDifference, Math.Abs(w.Grad[j] - handGradient[j]));
        largestDifference = Math.Max(largestDifference, Math.Abs(b.Grad - handGradient[n]));

        // w ← w − α∇E
        sgd.Step();
    }

    if (epoch % (Epochs / 10) == 0)
    {
        var (loss, accuracy) = Evaluate();
        Console.WriteLine($"\n========== Epoch {epoch} ==========");
        Console.WriteLine(lastLoss < loss ? $"Train loss:  {loss:F6}  WARNING - Loss Increasing" : $"Train loss:  {loss:F6}");
        Console.WriteLine($"Accuracy:  {accuracy:F2}");
        lastLoss = loss;
    }
}

var (finalLoss, finalAccuracy) = Evaluate();
Console.WriteLine($"\nFinished: train loss {finalLoss:F6}, accuracy {finalAccuracy:F2}");
Console.WriteLine($"w = ({string.Join(", ", w.Value.Select(v => v.ToString("F6")))}), b = {b.Value:F6}");
Console.WriteLine($"Autodiff vs the seed's hand formula −(y − ŷ)(x, 1): largest difference over {Epochs * data.Count} steps = {largestDifference:E2}");
return largestDifference <= 1e-12 ? 0 : 1;

// Mean log-loss and accuracy over the whole training set (no gradient needed).
(double Loss, double Accuracy) Evaluate()
{
    tape.Clear();
    using (tape.NoGrad())
    {
        var X = tape.Constant(data.FeatureMatrix(), data.Count, n);
        var labels = tape.Constant(data.Labels.ToArray());
        var yHat = Ops.Sigmoid(Ops.MatVec(X, tape.Use(w)) + tape.Use(b));
        double loss = Loss.BinaryCrossEntropy(yHat, labels).Value;
        double[] p = yHat.Value;
        int correct = Enumerable.Range(0, data.Count).Count(k => (p[k] > 0.5 ? 1.0 : 0.0) == data.Labels[k]);
        return (loss, (double)correct / data.Count);
    }
}

static double Normal(Random random) =>
    Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
