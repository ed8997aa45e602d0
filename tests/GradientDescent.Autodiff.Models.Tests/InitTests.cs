namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>
/// The random source's pinned sequence, determinism of seeded weights, and every initialiser's statistics over
/// 100,000 draws. Tolerances are five standard errors: for n draws of variance σ², the sample mean has standard
/// error σ/√n and the sample variance about σ²·√(2/n) (normal; less for uniform), so with n = 10⁵ the mean is
/// within 5σ/316 of its expectation and the variance within 2.3 % of σ².
/// </summary>
public sealed class InitTests
{
    private const int Rows = 250, Cols = 400; // fan_out = 250, fan_in = 400, 10⁵ elements

    private static MatrixParameter Big() => MatrixParameter.Zeros("w", Rows, Cols);

    private static (double Mean, double Variance, double Min, double Max) Stats(double[] v)
    {
        double mean = v.Average();
        double variance = v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1);
        return (mean, variance, v.Min(), v.Max());
    }

    private static void AssertMoments(double[] v, double expectedVariance, string what)
    {
        var (mean, variance, _, _) = Stats(v);
        double sigma = Math.Sqrt(expectedVariance);
        Assert.True(Math.Abs(mean) < 5 * sigma / Math.Sqrt(v.Length), $"{what}: mean {mean:R}, σ = {sigma:R}");
        Assert.True(Math.Abs(variance / expectedVariance - 1) < 5 * Math.Sqrt(2.0 / v.Length), $"{what}: variance {variance:R}, expected {expectedVariance:R}");
    }

    [Fact]
    public void RandomSource_Seed42_MatchesReferenceXoshiro256StarStar()
    {
        // Reference values from a second, independent implementation of the published C code (splitmix64.c seeding
        // the four state words, then xoshiro256starstar.c's next()), written in Python with 64-bit masking.
        var random = new RandomSource(42);
        Assert.Equal(1546998764402558742UL, random.NextUInt64());
        Assert.Equal(6990951692964543102UL, random.NextUInt64());
        Assert.Equal(12544586762248559009UL, random.NextUInt64());
        Assert.Equal(17057574109182124193UL, random.NextUInt64());
        var zero = new RandomSource(0);
        Assert.Equal(11091344671253066420UL, zero.NextUInt64());
        Assert.Equal(13793997310169335082UL, zero.NextUInt64());
        // NextDouble = (next >> 11) · 2⁻⁵³
        Assert.Equal(0.08386297105988216, new RandomSource(42).NextDouble());
    }

    [Fact]
    public void Mlp_SameSeed_SameWeightsBitForBit()
    {
        double[][] Weights(ulong seed) => [.. new Mlp(2, [16, 16], 1, new RandomSource(seed), Activation.Tanh).Parameters().Select(p => p.Value)];
        double[][] a = Weights(7), b = Weights(7), c = Weights(8);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        Assert.NotEqual(a[0], c[0]);
    }

    [Fact]
    public void Initialisers_SameSeed_SameValues()
    {
        foreach (Action<Parameter, RandomSource> init in new Action<Parameter, RandomSource>[]
        {
            (p, r) => Init.Uniform(p, -1, 2, r), (p, r) => Init.Normal(p, 1, 2, r),
            (p, r) => Init.XavierUniform(p, r), (p, r) => Init.XavierNormal(p, r),
            (p, r) => Init.KaimingUniform(p, r), (p, r) => Init.KaimingNormal(p, r),
        })
        {
            var p = MatrixParameter.Zeros("w", 3, 4);
            var q = MatrixParameter.Zeros("w", 3, 4);
            init(p, new RandomSource(3));
            init(q, new RandomSource(3));
            Assert.Equal(p.Value, q.Value);
            Assert.Contains(p.Value, v => v != 0);
        }
    }

    [Fact]
    public void Uniform_ManyDraws_BoundsMeanAndVariance()
    {
        // U(−1, 3): mean 1, variance (b − a)²/12 = 16/12
        var p = Big();
        Init.Uniform(p, -1, 3, new RandomSource(11));
        var (mean, variance, min, max) = Stats(p.Value);
        Assert.True(min >= -1 && max < 3);
        Assert.True(Math.Abs(mean - 1) < 5 * Math.Sqrt(16.0 / 12 / p.Value.Length), $"mean {mean}");
        Assert.True(Math.Abs(variance / (16.0 / 12) - 1) < 0.023, $"variance {variance}");
    }

    [Fact]
    public void Normal_ManyDraws_MeanAndVariance()
    {
        // N(0, 0.5²)
        var p = Big();
        Init.Normal(p, 0, 0.5, new RandomSource(12));
        AssertMoments(p.Value, 0.25, "Normal");
    }

    [Fact]
    public void XavierUniform_ManyDraws_BoundAndVariance()
    {
        // a = √(6/(fan_in + fan_out)), variance a²/3 = 2/(fan_in + fan_out)
        var p = Big();
        Init.XavierUniform(p, new RandomSource(13));
        double a = Math.Sqrt(6.0 / (Rows + Cols));
        Assert.All(p.Value, v => Assert.InRange(v, -a, a));
        Assert.True(p.Value.Max() > 0.99 * a && p.Value.Min() < -0.99 * a, "draws reach both ends");
        AssertMoments(p.Value, 2.0 / (Rows + Cols), "XavierUniform");
    }

    [Fact]
    public void XavierNormal_ManyDraws_Variance()
    {
        // σ² = gain² · 2/(fan_in + fan_out), gain 2 here
        var p = Big();
        Init.XavierNormal(p, new RandomSource(14), gain: 2);
        AssertMoments(p.Value, 4 * 2.0 / (Rows + Cols), "XavierNormal");
    }

    [Fact]
    public void KaimingUniform_ManyDraws_BoundAndVariance()
    {
        // ReLU gain √2: b = √2 · √(3/fan_in) = √(6/fan_in), variance 2/fan_in
        var p = Big();
        Init.KaimingUniform(p, new RandomSource(15));
        double b = Math.Sqrt(6.0 / Cols);
        Assert.All(p.Value, v => Assert.InRange(v, -b, b));
        AssertMoments(p.Value, 2.0 / Cols, "KaimingUniform");
    }

    [Fact]
    public void KaimingNormal_ManyDraws_Variance()
    {
        // σ² = 2/(1 + a²)/fan_in, a = 0.1
        var p = Big();
        Init.KaimingNormal(p, new RandomSource(16), a: 0.1);
        AssertMoments(p.Value, 2.0 / 1.01 / Cols, "KaimingNormal");
    }

    [Fact]
    public void Linear_Default_WeightAndBiasWithinOneOverSqrtIn()
    {
        // PyTorch: kaiming_uniform(a = √5) gives bound √(2/6)·√(3/in) = 1/√in; bias U(−1/√in, 1/√in).
        // variance of U(−c, c) is c²/3 = 1/(3 in)
        var linear = new Linear(Cols, Rows, new RandomSource(17));
        double bound = 1 / Math.Sqrt(Cols);
        Assert.All(linear.Weight.Value, v => Assert.InRange(v, -bound, bound));
        Assert.All(linear.Bias!.Value, v => Assert.InRange(v, -bound, bound));
        Assert.True(linear.Weight.Value.Max() > 0.99 * bound);
        AssertMoments(linear.Weight.Value, 1.0 / (3 * Cols), "Linear default");
    }

    [Fact]
    public void Zeros_AfterRandomInit_AllZero()
    {
        var p = MatrixParameter.Zeros("w", 2, 3);
        Init.Uniform(p, 1, 2, new RandomSource(1));
        Init.Zeros(p);
        Assert.All(p.Value, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void XavierUniform_Vector_ErrorNamesParameterAndWhatToUse()
    {
        var e = Assert.Throws<ArgumentException>(() => Init.XavierUniform(VectorParameter.Zeros("bias", 3), new RandomSource(1)));
        Assert.Contains("bias [3]", e.Message);
        Assert.Contains("Init.Uniform", e.Message);
    }

    [Fact]
    public void NextGaussian_ManyDraws_StandardNormalMoments()
    {
        var random = new RandomSource(5);
        double[] z = [.. Enumerable.Range(0, 100_000).Select(_ => random.NextGaussian())];
        AssertMoments(z, 1, "NextGaussian");
        // P(|z| > 3) ≈ 0.0027: about 270 of 10⁵ (Poisson, 5σ ≈ 82)
        int tail = z.Count(v => Math.Abs(v) > 3);
        Assert.InRange(tail, 270 - 82, 270 + 82);
    }
}
