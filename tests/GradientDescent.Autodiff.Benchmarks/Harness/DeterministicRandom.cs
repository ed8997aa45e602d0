using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>
/// A seeded generator so that every run, and both engines, see exactly the same data: the Datasets library's
/// <see cref="SplitMix64"/>, with the draws the workloads need on top.
/// </summary>
public sealed class DeterministicRandom
{
    private readonly SplitMix64 _bits;

    /// <summary>A generator whose sequence depends only on <paramref name="seed"/>.</summary>
    public DeterministicRandom(ulong seed) => _bits = new SplitMix64(seed);

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => _bits.NextUInt64();

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => _bits.NextDouble();

    /// <summary>Uniform in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Uniform integer in [0, <paramref name="n"/>).</summary>
    public int NextInt(int n) => (int)(NextUInt64() % (ulong)n);

    /// <summary>An array of <paramref name="length"/> values uniform in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public double[] UniformArray(int length, double lo, double hi)
    {
        var result = new double[length];
        for (int k = 0; k < result.Length; k++) result[k] = Uniform(lo, hi);
        return result;
    }
}
