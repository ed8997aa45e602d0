namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>The metrics against values computed by hand (and, where stated, scikit-learn's documented examples).</summary>
public sealed class MetricsTests
{
    [Fact]
    public void BinaryAccuracy_ProbabilitiesAndLogits_CountRowsOnTheRightSide()
    {
        // p = [0.9, 0.4, 0.5, 0.1], y = [1, 1, 0, 0]: predicted [p ≥ ½] = [1, 0, 1, 0] (0.5 is a tie and predicts 1),
        // so rows 0 and 3 are right: 2/4. The logits z = [2, −1, 0, −3] with t = 0 make the same decisions.
        double[] labels = [1, 1, 0, 0];
        Assert.Equal(0.5, Metrics.BinaryAccuracy([0.9, 0.4, 0.5, 0.1], labels));
        Assert.Equal(0.5, Metrics.BinaryAccuracy([2, -1, 0, -3], labels, threshold: 0));
        Assert.Equal(1.0, Metrics.BinaryAccuracy([0.9, 0.6, 0.49, 0.1], labels));
    }

    [Fact]
    public void BinaryAccuracy_LabelNotZeroOrOne_ThrowsNamingTheRow()
    {
        var e = Assert.Throws<ArgumentException>(() => Metrics.BinaryAccuracy([0.2, 0.7], [0, 2]));
        Assert.Contains("label 1 is 2", e.Message);
    }

    [Fact]
    public void Accuracy_MultiClass_ArgMaxWithTiesToTheLowestClass()
    {
        // rows: [0.1, 0.7, 0.2] → 1, [0.5, 0.5, 0] → 0 (tie: lowest class, as numpy.argmax), [0.2, 0.3, 0.5] → 2;
        // labels [1, 0, 1]: right, right, wrong → 2/3.
        double[] scores = [0.1, 0.7, 0.2, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
        Assert.Equal(2.0 / 3, Metrics.Accuracy(scores, 3, [1, 0, 1]));
        Assert.Equal([1, 0, 2], Metrics.PredictClasses(scores, 3));
    }

    [Fact]
    public void LogLoss_Binary_MatchesHandValue()
    {
        // −(ln 0.8 + ln(1 − 0.3))/2 = (0.22314355 + 0.35667494)/2 = 0.2899092476264711
        Assert.Equal(0.2899092476264711, Metrics.LogLoss([0.8, 0.3], [1, 0]), 1e-15);
    }

    [Fact]
    public void LogLoss_ConfidentWrongPrediction_IsClippedToMinusLnEpsilon()
    {
        // p = 0 for y = 1: ln 0 = −∞; clipped to ε = 2⁻⁵² (sklearn's float64 eps) the loss is −ln ε = 52 ln 2 = 36.04365338911715.
        Assert.Equal(36.04365338911715, Metrics.LogLoss([0.0], [1]), 1e-12);
        Assert.Equal(36.04365338911715, Metrics.LogLoss([1.0], [0]), 1e-12);
    }

    [Fact]
    public void LogLoss_MultiClass_MeanOfMinusLnOfTheLabelledProbability()
    {
        // −(ln 0.7 + ln 0.1)/2 = (0.35667494 + 2.30258509)/2 = 1.329630018466389
        Assert.Equal(1.329630018466389, Metrics.LogLoss([0.7, 0.2, 0.1, 0.1, 0.1, 0.8], 3, [0, 1]), 1e-15);
    }

    [Fact]
    public void ConfusionMatrix_RowsActualColumnsPredicted()
    {
        // actual [0, 0, 1, 1, 2, 2], predicted [0, 1, 1, 1, 2, 0]:
        // C[0,0] = 1, C[0,1] = 1; C[1,1] = 2; C[2,2] = 1, C[2,0] = 1; the entries add up to n = 6.
        int[,] c = Metrics.ConfusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3);
        Assert.Equal(new int[,] { { 1, 1, 0 }, { 0, 2, 0 }, { 1, 0, 1 } }, c);
    }

    [Fact]
    public void ConfusionMatrix_ClassOutOfRange_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => Metrics.ConfusionMatrix([0, 3], [0, 1], 3));
        Assert.Contains("actual[1] is 3", e.Message);
    }

    [Fact]
    public void MeanSquaredAndAbsoluteError_MatchHandValues()
    {
        // errors ŷ − y = [0, 1, −2]: MSE = (0 + 1 + 4)/3 = 5/3, MAE = (0 + 1 + 2)/3 = 1
        Assert.Equal(5.0 / 3, Metrics.MeanSquaredError([1, 2, 3], [1, 1, 5]), 1e-15);
        Assert.Equal(1.0, Metrics.MeanAbsoluteError([1, 2, 3], [1, 1, 5]), 1e-15);
    }

    [Fact]
    public void RSquared_ScikitLearnExample_Is0_9486()
    {
        // sklearn's r2_score doc example: y = [3, −0.5, 2, 7], ŷ = [2.5, 0, 2, 8]; ȳ = 2.875,
        // SS_res = 0.25 + 0.25 + 0 + 1 = 1.5, SS_tot = 29.1875, R² = 1 − 1.5/29.1875 = 0.9486081370449679.
        Assert.Equal(0.9486081370449679, Metrics.RSquared([2.5, 0.0, 2, 8], [3, -0.5, 2, 7]), 1e-15);
        // predicting the mean gives 0; predicting worse than the mean is negative
        Assert.Equal(0.0, Metrics.RSquared([2.875, 2.875, 2.875, 2.875], [3, -0.5, 2, 7]), 1e-15);
        Assert.True(Metrics.RSquared([7, 2, -0.5, 3], [3, -0.5, 2, 7]) < 0);
    }

    [Fact]
    public void RSquared_ConstantTargets_OneIfExactElseZero()
    {
        // SS_tot = 0: sklearn (force_finite=True) returns 1.0 for a perfect prediction and 0.0 otherwise.
        Assert.Equal(1.0, Metrics.RSquared([2, 2, 2], [2, 2, 2]));
        Assert.Equal(0.0, Metrics.RSquared([2, 2, 3], [2, 2, 2]));
        Assert.Equal(0.0, Metrics.RSquared([5], [4]));
    }

    [Fact]
    public void Metrics_EmptyOrMismatchedInputs_Throw()
    {
        Assert.Contains("no rows", Assert.Throws<ArgumentException>(() => Metrics.MeanSquaredError([], [])).Message);
        Assert.Contains("2 predictions but 3 targets", Assert.Throws<ArgumentException>(() => Metrics.RSquared([1, 2], [1, 2, 3])).Message);
        Assert.Contains("do not make rows of 3 classes", Assert.Throws<ArgumentException>(() => Metrics.Accuracy([1, 2, 3, 4], 3, [0])).Message);
    }
}
