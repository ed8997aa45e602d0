using GradientDescent.Autodiff.Examples.LinearRegression;

namespace GradientDescent.Autodiff.Examples.Tests;

public sealed class LinearRegressionTests
{
    [Fact]
    public void Run_SeedLesson_GradientsMatchHandFormulaAndWeightsMatchNormalEquations()
    {
        var output = new StringWriter();

        Lesson.Result result = Lesson.Run(output);

        // ∂J/∂wⱼ = mean((h − y)xⱼ), ∂J/∂b = mean(h − y) at every one of the 1001 steps, to rounding.
        Assert.InRange(result.LargestGradientDifference, 0, 1e-12);
        // Gradient descent on a convex quadratic converges to the least-squares θ = (XᵀX)⁻¹Xᵀy.
        Assert.InRange(result.LargestSolutionDifference, 0, 1e-8);
        Assert.True(result.Passed);
        // The data were made from y = 2x₁ − 3x₂ + 0.5 + noise: the fit lands near, not on, those weights.
        Assert.InRange(result.ClosedForm[0], 1.7, 2.3);
        Assert.InRange(result.ClosedForm[1], -3.3, -2.7);
        Assert.InRange(result.ClosedForm[2], 0.3, 0.7);
        Assert.EndsWith("PASSED" + Environment.NewLine, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NormalEquations_ExactPlane_RecoversItsCoefficients()
    {
        // y = 4x₁ − x₂ + 7 with no noise: the least-squares solution is the plane itself.
        double[] x1 = [0, 1, 2, 3, -1], x2 = [1, 0, 5, -2, 4];
        double[] y = [.. x1.Zip(x2, (a, c) => 4 * a - c + 7)];

        double[] theta = Lesson.NormalEquations(x1, x2, y);

        Assert.Equal(4, theta[0], 1e-12);
        Assert.Equal(-1, theta[1], 1e-12);
        Assert.Equal(7, theta[2], 1e-12);
    }

    [Fact]
    public void NormalEquations_CollinearFeatures_ThrowsNamingTheCause()
    {
        // x₂ = 2x₁: XᵀX is singular, no unique least-squares solution.
        double[] x1 = [1, 2, 3], x2 = [2, 4, 6], y = [1, 2, 3];

        var error = Assert.Throws<InvalidOperationException>(() => Lesson.NormalEquations(x1, x2, y));

        Assert.Contains("collinear", error.Message, StringComparison.Ordinal);
    }
}
