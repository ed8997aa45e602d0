using GradientDescent.Autodiff.Examples.Moons;
using GradientDescent.Autodiff.Models;
using SkiaSharp;

namespace GradientDescent.Autodiff.Examples.Tests;

public sealed class MoonsTests
{
    [Fact]
    public void Run_MicrogradDemo_GradientsAgreeSeparatesTheMoonsAndWritesThePlot()
    {
        string folder = Directory.CreateTempSubdirectory("moons-test-").FullName;
        try
        {
            string png = Path.Combine(folder, "moons.png");
            var output = new StringWriter();

            Demo.Result result = Demo.Run(output, png);

            // The scalar-node graph (micrograd's) and the matrix graph (Mlp) give one gradient, to rounding.
            Assert.InRange(result.FirstStepGradientDifference, 0, 1e-12);
            Assert.True(result.GradientsAgree, output.ToString());
            // micrograd reaches 100 % on its data; on ours (another generator) at least 95 % after 100 steps.
            Assert.InRange(result.Accuracy, 0.95, 1.0);
            Assert.InRange(result.Loss, 0, 0.1);
            Assert.Contains("step  90", output.ToString(), StringComparison.Ordinal);

            // A real PNG of the requested size, not blank: both region colours and the points' colours appear.
            using SKBitmap bitmap = SKBitmap.Decode(png);
            Assert.NotNull(bitmap);
            Assert.Equal((600, 450), (bitmap.Width, bitmap.Height));
            var colours = new HashSet<SKColor>();
            for (int yPixel = 0; yPixel < bitmap.Height; yPixel += 3)
            {
                for (int xPixel = 0; xPixel < bitmap.Width; xPixel += 3) colours.Add(bitmap.GetPixel(xPixel, yPixel));
            }
            Assert.Contains(SKColor.Parse("#F4B183"), colours);
            Assert.Contains(SKColor.Parse("#9DC3E6"), colours);
            Assert.True(colours.Count > 20, $"only {colours.Count} distinct colours in the plot");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void MakeMoons_NoNoise_PointsLieOnTheTwoHalfCircles()
    {
        // σ = 0: outer points satisfy x² + y² = 1 with y ≥ 0; inner points (x − 1)² + (y − 0.5)² = 1 with y ≤ 0.5.
        var (x, y) = Demo.MakeMoons(10, noise: 0, new RandomSource(1));

        for (int i = 0; i < 10; i++)
        {
            double a = x[2 * i], b = x[2 * i + 1];
            if (i < 5)
            {
                Assert.Equal(-1, y[i]);
                Assert.Equal(1, a * a + b * b, 1e-12);
                Assert.True(b >= 0);
            }
            else
            {
                Assert.Equal(+1, y[i]);
                Assert.Equal(1, (a - 1) * (a - 1) + (b - 0.5) * (b - 0.5), 1e-12);
                Assert.True(b <= 0.5 + 1e-12);
            }
        }
        // t = linspace(0, π, 5): the outer moon runs from (1, 0) to (−1, 0), the inner from (0, 0.5) to (2, 0.5).
        Assert.Equal((1.0, 0.0), (x[0], x[1]));
        Assert.Equal(-1.0, x[8], 1e-15);
        Assert.Equal((0.0, 0.5), (x[10], x[11]));
        Assert.Equal(2.0, x[18], 1e-15);
    }
}
