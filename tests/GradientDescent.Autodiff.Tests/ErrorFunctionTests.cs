using FsCheck;
using FsCheck.Fluent;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The internal erf, erfc, Φ and φ behind GELU (.NET has no Math.Erf), and the expm1 behind ELU: pinned values,
/// identities, the derivative, and the joins between the pieces of the approximation.
/// </summary>
/// <remarks>
/// Pinned values are mpmath 1.3.0's erf, erfc, ncdf and expm1 at 50 significant digits, rounded to the nearest double
/// (the script is in the commit that added this file: mp.mp.dps = 50; repr(float(mp.erfc(mp.mpf(x))))). The accuracy
/// target is 10⁻¹⁵ relative, about 4.5 ulps, over the whole range, tails included: a sweep of 11 000 points against
/// mpmath measured at most 1.0 ulp for erf, 2.4 for erfc (to x = 28) and 3.1 for Φ (to x = −38.5).
/// </remarks>
public class ErrorFunctionTests
{
    private const double Rel = 1e-15;

    [Theory]
    [InlineData(1e-300, 1.1283791670955126e-300, 1.0)]
    [InlineData(1e-10, 1.1283791670955126e-10, 0.999999999887162)]
    [InlineData(0.1, 0.1124629160182849, 0.887537083981715)]
    [InlineData(0.3, 0.3286267594591274, 0.6713732405408726)]
    [InlineData(-0.3, -0.3286267594591274, 1.3286267594591274)]
    [InlineData(0.49, 0.511668261188523, 0.4883317388114769)]
    [InlineData(0.5, 0.5204998778130465, 0.4795001221869535)]
    [InlineData(0.75, 0.7111556336535151, 0.28884436634648486)]
    [InlineData(-1.0, -0.8427007929497149, 1.8427007929497148)]
    [InlineData(1.0, 0.8427007929497149, 0.15729920705028513)]
    [InlineData(1.5, 0.9661051464753108, 0.033894853524689274)]
    [InlineData(2.0, 0.9953222650189527, 0.004677734981047266)]
    [InlineData(3.0, 0.9999779095030014, 2.209049699858544e-05)]
    [InlineData(-3.0, -0.9999779095030014, 1.9999779095030015)]
    [InlineData(3.5, 0.9999992569016276, 7.430983723414128e-07)]
    [InlineData(4.0, 0.9999999845827421, 1.541725790028002e-08)]
    [InlineData(5.0, 0.9999999999984626, 1.537459794428035e-12)]
    [InlineData(6.0, 1.0, 2.1519736712498913e-17)]
    [InlineData(-6.0, -1.0, 2.0)]
    [InlineData(8.0, 1.0, 1.1224297172982926e-29)]
    [InlineData(10.0, 1.0, 2.088487583762545e-45)]
    [InlineData(15.0, 1.0, 7.212994172451207e-100)]
    [InlineData(20.0, 1.0, 5.395865611607901e-176)]
    [InlineData(26.5, 1.0, 2.2109076642637343e-307)]
    public void ErfAndErfc_KnownValues_MatchToTenToTheMinusFifteen(double x, double erf, double erfc)
    {
        // Every piece of the approximation: the series (|x| < ½), the three Chebyshev intervals and the 1/x tail,
        // into erfc's deep tail, where 1 − erf x would be 0 (erfc 26.5 ≈ 2.2·10⁻³⁰⁷ is still a normal number).
        Approx.Equal(erf, ErrorFunction.Erf(x), Rel, 0, $"erf({x})");
        Approx.Equal(erfc, ErrorFunction.Erfc(x), Rel, 0, $"erfc({x})");
    }

    [Fact]
    public void Erfc_SubnormalAndUnderflowRange_GoesToZeroWithoutNaN()
    {
        // erfc 27 ≈ 5.237·10⁻³¹⁹ is subnormal (it keeps 5 digits there), erfc 30 underflows; ±∞ and NaN are limits.
        Approx.Equal(5.23705e-319, ErrorFunction.Erfc(27), 1e-5, 0, "erfc 27");
        Assert.Equal(0, ErrorFunction.Erfc(30));
        Assert.Equal(0, ErrorFunction.Erfc(1e300));
        Assert.Equal(0, ErrorFunction.Erfc(double.PositiveInfinity));
        Assert.Equal(2, ErrorFunction.Erfc(double.NegativeInfinity));
        Assert.Equal(1, ErrorFunction.Erf(double.PositiveInfinity));
        Assert.Equal(-1, ErrorFunction.Erf(double.NegativeInfinity));
        Assert.True(double.IsNaN(ErrorFunction.Erf(double.NaN)));
        Assert.True(double.IsNaN(ErrorFunction.Erfc(double.NaN)));
        Assert.True(double.IsNaN(ErrorFunction.NormalCdf(double.NaN)));
        // erf(−0) = −0: the series keeps the sign.
        Assert.True(double.IsNegative(ErrorFunction.Erf(-0.0)));
    }

    [Theory]
    [InlineData(-38.4, 6.4e-323)]
    [InlineData(-37.0, 5.725571222524577e-300)]
    [InlineData(-20.0, 2.7536241186062337e-89)]
    [InlineData(-10.0, 7.619853024160525e-24)]
    [InlineData(-3.0, 0.0013498980316300946)]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(5.0, 0.9999997133484281)]
    [InlineData(9.0, 1.0)]
    public void NormalCdf_KnownValues_KeepDigitsInTheLowerTail(double x, double phi)
    {
        // Φ(x) = ½ erfc(−x/√2). ½(1 + erf(x/√2)) — PyTorch's GELU form — is 0 below x ≈ −8.3; the tail form keeps
        // the digits down to the subnormals (Φ(−38.4) ≈ 6.4·10⁻³²³ keeps one).
        double rel = Math.Abs(phi) < 1e-307 ? 0.1 : Rel;
        Approx.Equal(phi, ErrorFunction.NormalCdf(x), rel, 0, $"Φ({x})");
    }

    [Fact]
    public void ErfIdentities_RandomArguments_Hold()
    {
        // erf(−x) = −erf x exactly (odd, computed from |x|); erfc(−x) = 2 − erfc x; erf x + erfc x = 1;
        // Φ(x) = ½ erfc(−x/√2); Φ(x) + Φ(−x) = 1; φ(x) = e^(−x²/2)/√(2π).
        Gens.Check(Prop.ForAll(Gens.Double(-9, 9).ToArbitrary(), x =>
        {
            Assert.Equal(-ErrorFunction.Erf(x), ErrorFunction.Erf(-x));
            Approx.Equal(2 - ErrorFunction.Erfc(x), ErrorFunction.Erfc(-x), 0, 4.5e-16, "erfc(−x)"); // to an ulp of 2
            Approx.Equal(1, ErrorFunction.Erf(x) + ErrorFunction.Erfc(x), 0, 4.5e-16, "erf + erfc");
            Approx.Equal(0.5 * ErrorFunction.Erfc(-x / Math.Sqrt(2)), ErrorFunction.NormalCdf(x), 1e-14 * (1 + x * x), 0, "Φ");
            Approx.Equal(1, ErrorFunction.NormalCdf(x) + ErrorFunction.NormalCdf(-x), 0, 4.5e-16, "Φ(x) + Φ(−x)");
            Approx.Equal(Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI), ErrorFunction.NormalPdf(x), 1e-15 * (1 + x * x), 0, "φ");
        }), maxTest: 2000);
    }

    [Fact]
    public void Erf_CentralDifferences_MatchTwoOverSqrtPiTimesGaussian()
    {
        // d/dx erf x = (2/√π) e^(−x²): a wrong coefficient anywhere in a Chebyshev table bends the curve and shows here
        // at 10⁻⁷ where the smooth truncation error of the central difference (h = 10⁻⁵) is below 10⁻⁹.
        const double h = 1e-5;
        for (double x = -5; x <= 5; x += 0.0625)
        {
            double fd = (ErrorFunction.Erf(x + h) - ErrorFunction.Erf(x - h)) / (2 * h);
            double exact = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x);
            Approx.Equal(exact, fd, 1e-7, 1e-10, $"erf′({x})");
            double fdc = (ErrorFunction.Erfc(x + h) - ErrorFunction.Erfc(x - h)) / (2 * h);
            Approx.Equal(-exact, fdc, 1e-7, 1e-10, $"erfc′({x})");
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void Erfc_AcrossTheJoinsOfThePieces_ContinuousToAFewUlps(double join)
    {
        // Three ulps on each side of a join: neighbouring doubles differ in erfc by |erfc′|·ulp(x), far below 10⁻¹⁵
        // relative, so any jump between the pieces (series/Chebyshev at ½, the intervals at 1 and 2, the 1/x tail at
        // 4) would show as a relative step above the 2·10⁻¹⁵ that two evaluations within 10⁻¹⁵ each allow.
        double below = join, above = join;
        for (int k = 0; k < 3; k++) { below = Math.BitDecrement(below); above = Math.BitIncrement(above); }
        double slope = 2 / Math.Sqrt(Math.PI) * Math.Exp(-join * join) * (above - below);
        Approx.Equal(ErrorFunction.Erfc(below) - slope, ErrorFunction.Erfc(above), 2e-15, 0, $"erfc across {join}");
        Approx.Equal(ErrorFunction.Erf(below) + slope, ErrorFunction.Erf(above), 2e-15, 0, $"erf across {join}");
    }

    [Theory]
    [InlineData(-1e-10, -9.999999999500001e-11)]
    [InlineData(1e-10, 1.00000000005e-10)]
    [InlineData(-1e-05, -9.999950000166666e-06)]
    [InlineData(-1.0, -0.6321205588285577)]
    [InlineData(0.3, 0.34985880757600313)]
    [InlineData(-40.0, -1.0)]
    [InlineData(-800.0, -1.0)]
    public void ExpM1_KnownValues_KeepDigitsNearZero(double x, double expected)
    {
        // e^x − 1 near 0: Math.Exp(x) − 1 (and double.ExpM1, which is just that) gives 1.0000000827·10⁻¹⁰ at 10⁻¹⁰,
        // wrong in the 8th digit.
        Approx.Equal(expected, Elementwise.ExpM1(x), 4.5e-16, 0, $"expm1({x})");
    }

    [Fact]
    public void ExpM1_Limits_AreExact()
    {
        Assert.Equal(double.PositiveInfinity, Elementwise.ExpM1(800));
        Assert.Equal(double.PositiveInfinity, Elementwise.ExpM1(double.PositiveInfinity));
        Assert.Equal(-1, Elementwise.ExpM1(double.NegativeInfinity));
        Assert.Equal(0, Elementwise.ExpM1(0));
        Assert.True(double.IsNaN(Elementwise.ExpM1(double.NaN)));
    }
}
