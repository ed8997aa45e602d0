namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Evaluation metrics as pure functions of predictions and targets: no state, no allocation except the confusion
/// matrix they return. Conventions follow scikit-learn's <c>sklearn.metrics</c> where it has one, and each edge case
/// is stated on the function.
/// </summary>
/// <remarks>
/// Every function throws <see cref="ArgumentException"/> when the inputs are empty or their lengths disagree, naming
/// the metric and both lengths: a metric of nothing is not 0 or 1, and a length mismatch is always a bug upstream.
/// Non-finite predictions are not rejected: they propagate (a NaN prediction gives a NaN mean squared error), except
/// where a comparison decides (a NaN score is never ≥ the threshold, so it predicts class 0).
/// </remarks>
public static class Metrics
{
    /// <summary>
    /// Binary accuracy: the fraction of rows whose predicted class [sᵢ ≥ t] equals the label yᵢ ∈ {0, 1},
    /// acc = (1/n) Σᵢ [[sᵢ ≥ t] = yᵢ].
    /// </summary>
    /// <param name="scores">Probabilities ŷᵢ = σ(zᵢ) with <paramref name="threshold"/> 0.5, or logits zᵢ with threshold 0 (the same decision, since σ(z) ≥ ½ ⇔ z ≥ 0).</param>
    /// <param name="labels">The labels, each exactly 0 or 1.</param>
    /// <param name="threshold">t: a score of exactly t predicts 1.</param>
    /// <remarks>A score equal to the threshold predicts class 1 here; scikit-learn's <c>LogisticRegression.predict</c> predicts 1 only for z &gt; 0. The two differ only on exact ties.</remarks>
    public static double BinaryAccuracy(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels, double threshold = 0.5)
    {
        CheckLengths(nameof(BinaryAccuracy), "scores", scores.Length, "labels", labels.Length);
        int correct = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            double y = labels[i];
            if (y != 0 && y != 1) throw new ArgumentException($"Metrics.BinaryAccuracy: label {i} is {y}; binary labels must be 0 or 1.", nameof(labels));
            double predicted = scores[i] >= threshold ? 1 : 0;
            if (predicted == y) correct++;
        }
        return (double)correct / scores.Length;
    }

    /// <summary>
    /// Multi-class accuracy: the fraction of rows whose arg-max class equals the label,
    /// acc = (1/n) Σᵢ [argmaxₖ Sᵢₖ = yᵢ]. On a tie the lowest class wins (as NumPy's <c>argmax</c>).
    /// </summary>
    /// <param name="scores">n × K row-major scores: logits or probabilities (softmax keeps the arg-max).</param>
    /// <param name="classes">K, at least 2.</param>
    /// <param name="labels">n labels in [0, K).</param>
    public static double Accuracy(ReadOnlySpan<double> scores, int classes, ReadOnlySpan<int> labels)
    {
        CheckRows(nameof(Accuracy), scores.Length, classes, labels);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (ArgMax(scores.Slice(i * classes, classes)) == labels[i]) correct++;
        }
        return (double)correct / labels.Length;
    }

    /// <summary>The arg-max class of each of the n rows of an n × K row-major score matrix (ties: the lowest class).</summary>
    public static int[] PredictClasses(ReadOnlySpan<double> scores, int classes)
    {
        if (classes < 1 || scores.Length % classes != 0)
            throw new ArgumentException($"Metrics.PredictClasses: {scores.Length} scores do not make rows of {classes} classes.", nameof(scores));
        var predicted = new int[scores.Length / classes];
        for (int i = 0; i < predicted.Length; i++) predicted[i] = ArgMax(scores.Slice(i * classes, classes));
        return predicted;
    }

    /// <summary>
    /// Binary log-loss (mean cross-entropy) of probabilities: L = −(1/n) Σᵢ [yᵢ ln pᵢ + (1 − yᵢ) ln(1 − pᵢ)], with
    /// each pᵢ first clipped to [ε, 1 − ε], ε = 2.220446049250313e-16 (<see cref="double.Epsilon"/> is not it: the
    /// machine epsilon 2⁻⁵²), as scikit-learn's <c>log_loss</c> does, so a confident wrong prediction costs
    /// −ln ε ≈ 36.04 rather than ∞.
    /// </summary>
    /// <param name="probabilities">pᵢ = P(yᵢ = 1), in [0, 1].</param>
    /// <param name="labels">The labels, each 0 or 1.</param>
    public static double LogLoss(ReadOnlySpan<double> probabilities, ReadOnlySpan<double> labels)
    {
        CheckLengths(nameof(LogLoss), "probabilities", probabilities.Length, "labels", labels.Length);
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double y = labels[i];
            if (y != 0 && y != 1) throw new ArgumentException($"Metrics.LogLoss: label {i} is {y}; binary labels must be 0 or 1.", nameof(labels));
            double p = Clip(probabilities[i]);
            sum += y == 1 ? -Math.Log(p) : -Math.Log(1 - p);
        }
        return sum / probabilities.Length;
    }

    /// <summary>
    /// Multi-class log-loss of n × K row-major probabilities: L = −(1/n) Σᵢ ln pᵢ,yᵢ, each probability clipped to
    /// [ε, 1 − ε] as in the binary <see cref="LogLoss(ReadOnlySpan{double}, ReadOnlySpan{double})"/>. Rows are used as
    /// given (scikit-learn renormalises rows that do not sum to 1; pass softmax outputs and the two agree).
    /// </summary>
    public static double LogLoss(ReadOnlySpan<double> probabilities, int classes, ReadOnlySpan<int> labels)
    {
        CheckRows(nameof(LogLoss), probabilities.Length, classes, labels);
        double sum = 0;
        for (int i = 0; i < labels.Length; i++) sum -= Math.Log(Clip(probabilities[i * classes + labels[i]]));
        return sum / labels.Length;
    }

    /// <summary>
    /// The K × K confusion matrix C, Cₐₚ = #{i : yᵢ = a, ŷᵢ = p}: rows are the actual classes, columns the predicted
    /// ones (scikit-learn's <c>confusion_matrix</c> layout), so the diagonal counts the correct rows and
    /// Σₐₚ Cₐₚ = n.
    /// </summary>
    public static int[,] ConfusionMatrix(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, int classes)
    {
        CheckLengths(nameof(ConfusionMatrix), "actual", actual.Length, "predicted", predicted.Length);
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "Metrics.ConfusionMatrix: the class count must be at least 1.");
        var matrix = new int[classes, classes];
        for (int i = 0; i < actual.Length; i++)
        {
            CheckClass(nameof(ConfusionMatrix), "actual", i, actual[i], classes);
            CheckClass(nameof(ConfusionMatrix), "predicted", i, predicted[i], classes);
            matrix[actual[i], predicted[i]]++;
        }
        return matrix;
    }

    /// <summary>Mean squared error, MSE = (1/n) Σᵢ (ŷᵢ − yᵢ)².</summary>
    public static double MeanSquaredError(ReadOnlySpan<double> predictions, ReadOnlySpan<double> targets)
    {
        CheckLengths(nameof(MeanSquaredError), "predictions", predictions.Length, "targets", targets.Length);
        double sum = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double d = predictions[i] - targets[i];
            sum += d * d;
        }
        return sum / predictions.Length;
    }

    /// <summary>Mean absolute error, MAE = (1/n) Σᵢ |ŷᵢ − yᵢ|.</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<double> predictions, ReadOnlySpan<double> targets)
    {
        CheckLengths(nameof(MeanAbsoluteError), "predictions", predictions.Length, "targets", targets.Length);
        double sum = 0;
        for (int i = 0; i < predictions.Length; i++) sum += Math.Abs(predictions[i] - targets[i]);
        return sum / predictions.Length;
    }

    /// <summary>
    /// The coefficient of determination, R² = 1 − SS_res / SS_tot with SS_res = Σᵢ (yᵢ − ŷᵢ)² and
    /// SS_tot = Σᵢ (yᵢ − ȳ)²: 1 for a perfect fit, 0 for predicting the mean ȳ, negative for worse than that.
    /// </summary>
    /// <remarks>
    /// Constant targets make SS_tot = 0 and the ratio undefined. As scikit-learn's <c>r2_score</c> with its default
    /// <c>force_finite=True</c> (since 1.1), the result is then 1 when the predictions are exact (SS_res = 0) and 0
    /// otherwise, never NaN or −∞. A single row is such a case. (scikit-learn also warns that R² is not well defined
    /// for fewer than two samples; this function does not print.)
    /// </remarks>
    public static double RSquared(ReadOnlySpan<double> predictions, ReadOnlySpan<double> targets)
    {
        CheckLengths(nameof(RSquared), "predictions", predictions.Length, "targets", targets.Length);
        double mean = 0;
        for (int i = 0; i < targets.Length; i++) mean += targets[i];
        mean /= targets.Length;
        double residual = 0, total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            double r = targets[i] - predictions[i], t = targets[i] - mean;
            residual += r * r;
            total += t * t;
        }
        if (total == 0) return residual == 0 ? 1 : 0;
        return 1 - residual / total;
    }

    /// <summary>The machine epsilon 2⁻⁵², scikit-learn's clip for <c>log_loss</c> on float64.</summary>
    internal const double LogLossEpsilon = 2.220446049250313e-16;

    private static double Clip(double p) => Math.Clamp(p, LogLossEpsilon, 1 - LogLossEpsilon);

    private static int ArgMax(ReadOnlySpan<double> row)
    {
        int best = 0;
        for (int k = 1; k < row.Length; k++)
        {
            if (row[k] > row[best]) best = k;
        }
        return best;
    }

    private static void CheckLengths(string metric, string a, int aLength, string b, int bLength)
    {
        if (aLength != bLength)
            throw new ArgumentException($"Metrics.{metric}: {aLength} {a} but {bLength} {b}; pass one of each per row.");
        if (aLength == 0)
            throw new ArgumentException($"Metrics.{metric}: no rows; the metric of an empty set is undefined.");
    }

    private static void CheckRows(string metric, int scores, int classes, ReadOnlySpan<int> labels)
    {
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, $"Metrics.{metric}: the class count must be at least 2.");
        if (scores % classes != 0)
            throw new ArgumentException($"Metrics.{metric}: {scores} scores do not make rows of {classes} classes; pass n × K row-major scores.");
        CheckLengths(metric, "score rows", scores / classes, "labels", labels.Length);
        for (int i = 0; i < labels.Length; i++) CheckClass(metric, "labels", i, labels[i], classes);
    }

    private static void CheckClass(string metric, string what, int row, int value, int classes)
    {
        if ((uint)value >= (uint)classes)
            throw new ArgumentException($"Metrics.{metric}: {what}[{row}] is {value}; classes are 0 to {classes - 1}.");
    }
}
