namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>The embedded sets against their published facts.</summary>
public sealed class SampleDataTests
{
    // Fisher (1936), as R's datasets::iris and scikit-learn print them (and UCI's corrected bezdekIris.data):
    // per-species means and sample standard deviations of sepal length, sepal width, petal length, petal width (cm).
    private static readonly double[,] Means =
    {
        { 5.006, 3.428, 1.462, 0.246 },   // setosa
        { 5.936, 2.770, 4.260, 1.326 },   // versicolor
        { 6.588, 2.974, 5.552, 2.026 },   // virginica
    };

    private static readonly double[,] StandardDeviations =
    {
        { 0.3524897, 0.3790644, 0.1736640, 0.1053856 },
        { 0.5161711, 0.3137983, 0.4699110, 0.1977527 },
        { 0.6358796, 0.3224966, 0.5518947, 0.2746501 },
    };

    [Fact]
    public void Iris_Shape_150Rows4Features3ClassesOf50()
    {
        var iris = SampleData.Iris();
        Assert.Equal(150, iris.RowCount);
        Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], iris.FeatureNames);
        Assert.Equal("species", iris.TargetName);
        Assert.Equal(3, iris.ClassCount);
        Assert.Equal(["setosa", "versicolor", "virginica"], iris.ClassNames);
        for (int c = 0; c < 3; c++) Assert.Equal(50, iris.Labels.ToArray().Count(l => l == c));
    }

    [Fact]
    public void Iris_PerClassMeansAndStandardDeviations_MatchThePublishedValues()
    {
        var iris = SampleData.Iris();
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < 4; j++)
            {
                double[] v = [.. Enumerable.Range(0, 150).Where(i => iris.Labels[i] == c).Select(i => iris[i, j])];
                double mean = v.Average();
                // s = √(Σ (x − x̄)² / (n − 1)), the sample standard deviation R reports.
                double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
                Assert.Equal(Means[c, j], mean, 1e-12);
                Assert.Equal(StandardDeviations[c, j], sd, 5e-8);
            }
    }

    [Fact]
    public void Iris_CorrectedRows_35And38_AreFishers()
    {
        // UCI's iris.data has two transcription errors; Fisher's values (UCI's own note) are these.
        var iris = SampleData.Iris();
        Assert.Equal([4.9, 3.1, 1.5, 0.2], iris.Row(34).ToArray());
        Assert.Equal([4.9, 3.6, 1.4, 0.1], iris.Row(37).ToArray());
    }

    [Fact]
    public void Admissions_100RowsOfTwoFeaturesAndBinaryLabels()
    {
        var a = SampleData.Admissions();
        Assert.Equal(100, a.RowCount);
        Assert.Equal(2, a.FeatureCount);
        Assert.Equal(TargetKind.Binary, a.TargetKind);
        Assert.Equal("embedded admissions.csv", a.Source);
        Assert.Equal(50, a.Labels.ToArray().Count(l => l == 1));
    }
}
