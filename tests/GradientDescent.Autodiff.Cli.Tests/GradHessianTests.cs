using System.Text.Json;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

/// <summary>gdad grad --hessian: the matrix of second partials, from create-graph backward, against the closed forms.</summary>
public sealed class GradHessianTests
{
    // f = x³y + sin(xy): f_xx = 6xy − y² sin(xy), f_xy = 3x² + cos(xy) − xy sin(xy), f_yy = −x² sin(xy).
    private static double[,] ClosedForm(double x, double y) => new[,]
    {
        { 6 * x * y - y * y * Math.Sin(x * y), 3 * x * x + Math.Cos(x * y) - x * y * Math.Sin(x * y) },
        { 3 * x * x + Math.Cos(x * y) - x * y * Math.Sin(x * y), -x * x * Math.Sin(x * y) },
    };

    [Theory]
    [InlineData(1.0, 2.0)]
    [InlineData(-0.7, 0.3)]
    public void Grad_HessianJson_EqualsTheClosedFormSecondPartials(double x, double y)
    {
        Outcome result = Run("grad", "x^3*y + sin(x*y)", "--at", FormattableString.Invariant($"x={x:R},y={y:R}"), "--hessian", "--json");

        Assert.Equal(0, result.Code);
        JsonElement h = result.Json().GetProperty("hessian");
        double[,] expected = ClosedForm(x, y);
        Assert.Equal(2, h.GetArrayLength());
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal(2, h[r].GetArrayLength());
            for (int c = 0; c < 2; c++)
            {
                // Reverse over reverse computes the same products as the closed form in another order: 1e-13 relative.
                Assert.Equal(expected[r, c], h[r][c].GetDouble(), 1e-13 * Math.Max(1, Math.Abs(expected[r, c])));
            }
        }
    }

    [Fact]
    public void Grad_HessianText_PrintsALabelledMatrixAfterTheGradient()
    {
        Outcome result = Run("grad", "x^3*y", "--at", "x=1,y=2", "--hessian");

        // f = x³y: f_xx = 6xy = 12, f_xy = 3x² = 3, f_yy = 0.
        Assert.Equal(0, result.Code);
        string[] lines = result.Stdout.ReplaceLineEndings("\n").Split('\n');
        int at = Array.IndexOf(lines, "Hessian ∂²f/∂u∂v (rows u, columns v):");
        Assert.True(at > 0, result.Stdout);
        Assert.Equal(["x", "y"], lines[at + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["x", "12", "3"], lines[at + 2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["y", "3", "0"], lines[at + 3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
