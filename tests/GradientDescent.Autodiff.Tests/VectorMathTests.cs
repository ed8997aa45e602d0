using System.Globalization;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff.Tests;

/// <summary>The vectorised e^x and ln(1 + x) of the losses against Math.Exp and the scalar Log1P.</summary>
public class VectorMathTests
{
    /// <summary>|a − b| in units in the last place of a.</summary>
    private static double Ulps(double a, double b) =>
        a.Equals(b) ? 0 : Math.Abs(a - b) / (Math.BitIncrement(Math.Abs(a)) - Math.Abs(a));

    [Fact]
    public void Exp_RandomInputsOverTheNormalRange_WithinOneUlpOfMathExp()
    {
        // e^x = 2ⁿ·e^r, |r| ≤ ln 2 / 2: the reduction and the degree-13 series each add well under half an ulp.
        var rng = new Random(5);
        double worst = 0, at = 0;
        for (int i = 0; i < 200_000; i++)
        {
            double x = (i % 3) switch
            {
                0 => -708 + 1417 * rng.NextDouble(),
                1 => (rng.NextDouble() * 2 - 1) * 2,
                _ => (rng.NextDouble() * 2 - 1) * 1e-8,
            };
            double u = Ulps(Math.Exp(x), VectorMath.Exp(Vector256.Create(x))[0]);
            if (u > worst) (worst, at) = (u, x);
        }
        Assert.True(worst <= 1, string.Create(CultureInfo.InvariantCulture, $"e^x off by {worst} ulp at x = {at:R}"));
    }

    [Theory]
    [InlineData(-745.2)] // underflows to 0
    [InlineData(-740.0)] // subnormal
    [InlineData(-708.5)] // just outside the vector path
    [InlineData(-708.0)]
    [InlineData(709.0)]
    [InlineData(709.7)]
    [InlineData(710.0)] // overflows to ∞
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.0)]
    [InlineData(5e-324)]
    public void Exp_EdgesOfTheRange_AsMathExp(double x)
    {
        // Each lane alone and next to ordinary lanes: a lane outside [−708, 709] sends the vector to Math.Exp.
        Vector256<double> v = VectorMath.Exp(Vector256.Create(x, 1.0, -1.0, 0.5));
        Assert.True(Ulps(Math.Exp(x), v[0]) <= 1, string.Create(CultureInfo.InvariantCulture, $"e^{x:R}: {v[0]:R}, Math.Exp {Math.Exp(x):R}"));
        Assert.True(Ulps(Math.E, v[1]) <= 1, string.Create(CultureInfo.InvariantCulture, $"e^1 next to it: {v[1]:R}"));
        Assert.True(Ulps(Math.Exp(x), VectorMath.Exp(Vector256.Create(x))[0]) <= 1);
    }

    [Fact]
    public void Log1PUnit_OnZeroToOne_WithinFourUlpsOfTheScalarLog1P()
    {
        // ln(1 + t) = 2 artanh(t/(2 + t)) by its series to s³³, for t = e^−|z| ∈ [0, 1]: uniform on [0, 1] and
        // e^−U[0, 745] (down to the subnormals, where ln(1 + t) = t).
        var rng = new Random(7);
        double worst = 0, at = 0;
        for (int i = 0; i < 200_000; i++)
        {
            double t = i % 2 == 0 ? rng.NextDouble() : Math.Exp(-745 * rng.NextDouble());
            double u = Ulps(Elementwise.Log1P(t), VectorMath.Log1PUnit(Vector256.Create(t))[0]);
            if (u > worst) (worst, at) = (u, t);
        }
        Assert.True(worst <= 4, string.Create(CultureInfo.InvariantCulture, $"ln(1 + t) off by {worst} ulp at t = {at:R}"));
        // ln 2 at t = 1 (s = 1/3, the series' slowest point), t itself for tiny t, 0 at 0, NaN through.
        Assert.True(Ulps(Math.Log(2), VectorMath.Log1PUnit(Vector256.Create(1.0))[0]) <= 2);
        Assert.Equal(1e-300, VectorMath.Log1PUnit(Vector256.Create(1e-300))[0]);
        Assert.Equal(5e-324, VectorMath.Log1PUnit(Vector256.Create(5e-324))[0]);
        Assert.Equal(0.0, VectorMath.Log1PUnit(Vector256<double>.Zero)[0]);
        Assert.True(double.IsNaN(VectorMath.Log1PUnit(Vector256.Create(double.NaN))[0]));
    }
}
