namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>z = (x − μ)/σ fitted on training rows only; the inverse mapping of a linear model's weights.</summary>
public sealed class StandardizerTests
{
    [Fact]
    public void Fit_PopulationMeanAndStd_OnTheGivenRowsOnly()
    {
        // Train column 0: 1, 2, 3 → μ = 2, σ² = (1 + 0 + 1)/3 = 2/3. Column 1: 10, 10, 40 → μ = 20, σ² = (100 + 100 + 400)/3 = 200.
        var train = Table.Create([1, 10, 2, 10, 3, 40], 2, [0, 0, 0]);
        var test = Table.Create([5, 20], 2, [0]);
        var s = Standardizer.Fit(train);
        Assert.Equal([2.0, 20], s.Mean);
        Assert.Equal(Math.Sqrt(2.0 / 3), s.Scale[0], 1e-15);
        Assert.Equal(Math.Sqrt(200), s.Scale[1], 1e-13);

        // The test row uses the training μ and σ, not its own (which would make it 0, 0).
        var z = s.Transform(test);
        Assert.Equal((5 - 2) / Math.Sqrt(2.0 / 3), z[0, 0], 1e-14);
        Assert.Equal(0, z[0, 1], 1e-15);
        Assert.Equal(5, test[0, 0]);   // the input table is unchanged
    }

    [Fact]
    public void Transform_TrainRows_HaveMeanZeroAndPopulationStdOne()
    {
        var (train, _) = SampleData.Iris().Split(0.7, seed: 3);
        var z = Standardizer.Fit(train).Transform(train);
        for (int j = 0; j < z.FeatureCount; j++)
        {
            double[] v = [.. Enumerable.Range(0, z.RowCount).Select(i => z[i, j])];
            double mean = v.Average();
            Assert.Equal(0, mean, 1e-14);
            Assert.Equal(1, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length), 1e-14);
        }
    }

    [Fact]
    public void Fit_ConstantColumn_IsCentredNotScaled()
    {
        var t = Table.Create([7, 1, 7, 2, 7, 3], 2, [0, 0, 0]);
        var s = Standardizer.Fit(t);
        Assert.True(s.IsConstant(0));
        Assert.False(s.IsConstant(1));
        Assert.Equal(1, s.Scale[0]);
        var z = s.Transform(t);
        Assert.Equal(0, z[2, 0]);
    }

    [Fact]
    public void InverseTransform_UndoesTransform()
    {
        var iris = SampleData.Iris();
        var s = Standardizer.Fit(iris);
        double[] x = iris.FeatureArray();
        s.TransformInPlace(x);
        s.InverseTransformInPlace(x);
        Assert.Equal(iris.Features.ToArray(), x, (a, b) => Math.Abs(a - b) <= 1e-14 * Math.Max(1, Math.Abs(a)));
    }

    [Fact]
    public void ToOriginalUnits_LinearModel_GivesTheSamePredictionsOnRawFeatures()
    {
        // w·z + b with z = (x − μ)/σ equals w′·x + b′ for w′ = w/σ, b′ = b − Σ wμ/σ.
        var iris = SampleData.Iris();
        var s = Standardizer.Fit(iris);
        var z = s.Transform(iris);
        double[] w = [0.7, -1.3, 2.1, 0.4];
        double b = -0.25;
        var (wOrig, bOrig) = s.ToOriginalUnits(w, b);
        for (int j = 0; j < 4; j++) Assert.Equal(w[j] / s.Scale[j], wOrig[j], 1e-15);
        for (int i = 0; i < iris.RowCount; i++)
        {
            double onZ = b, onX = bOrig;
            for (int j = 0; j < 4; j++)
            {
                onZ += w[j] * z[i, j];
                onX += wOrig[j] * iris[i, j];
            }
            Assert.Equal(onZ, onX, 1e-12);
        }
    }

    [Fact]
    public void ToOriginalUnits_Layer_GivesTheSameLogitsOnRawFeatures()
    {
        // Ŷ = Z W + b, W d × k row-major: W′ⱼₖ = Wⱼₖ/σⱼ, b′ₖ = bₖ − Σⱼ Wⱼₖ μⱼ/σⱼ.
        var iris = SampleData.Iris();
        var s = Standardizer.Fit(iris);
        var z = s.Transform(iris);
        const int k = 3;
        double[] w = [.. Enumerable.Range(0, 4 * k).Select(i => Math.Sin(i + 1))];
        double[] bias = [0.1, -0.2, 0.3];
        var (wOrig, bOrig) = s.ToOriginalUnits(w, bias);
        for (int i = 0; i < iris.RowCount; i++)
            for (int c = 0; c < k; c++)
            {
                double onZ = bias[c], onX = bOrig[c];
                for (int j = 0; j < 4; j++)
                {
                    onZ += z[i, j] * w[j * k + c];
                    onX += iris[i, j] * wOrig[j * k + c];
                }
                Assert.Equal(onZ, onX, 1e-12);
            }
    }

    [Fact]
    public void Transform_OtherWidth_IsAnError()
    {
        var s = Standardizer.Fit(Table.Create([1, 2, 3, 4], 2, [0, 0]));
        var e = Assert.Throws<ArgumentException>(() => s.Transform(Table.Create([1, 2, 3], 3, [0])));
        Assert.Contains("3 features where the fit had 2", e.Message);
        Assert.Throws<ArgumentException>(() => s.ToOriginalUnits([1.0], 0));
    }
}
