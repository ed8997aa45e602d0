namespace GradientDescent.Autodiff.Models;

/// <summary>
/// A seeded, documented pseudo-random source: xoshiro256** 1.0 (Blackman and Vigna, "Scrambled linear
/// pseudorandom number generators", ACM TOMS 2021; https://prng.di.unimi.it/xoshiro256starstar.c), its 256-bit state
/// filled from the seed by SplitMix64 (https://prng.di.unimi.it/splitmix64.c), as the authors recommend.
/// </summary>
/// <remarks>
/// <para>Unlike <see cref="System.Random"/>, whose algorithm is unspecified and has changed between .NET versions, the
/// sequence here is fixed by the two published algorithms, so the same seed gives the same weights on every
/// runtime, and a saved experiment reproduces.</para>
/// <para><see cref="NextDouble"/> is bit-exact everywhere (integer arithmetic and one exact scaling).
/// <see cref="NextGaussian"/> uses <see cref="Math.Log(double)"/>, <see cref="Math.Sqrt"/> and <see cref="Math.Cos"/>:
/// <see cref="Math.Sqrt"/> is exact, but the other two may in principle differ in the last bit between math
/// libraries.</para>
/// <para>Not for cryptography. Not synchronised: one source per thread.</para>
/// </remarks>
public sealed class RandomSource
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A source whose sequence is determined by <paramref name="seed"/> alone.</summary>
    public RandomSource(ulong seed)
    {
        Seed = seed;
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The seed this source started from (record it next to a saved experiment).</summary>
    public ulong Seed { get; }

    /// <summary>The next 64 random bits (one xoshiro256** step).</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1): the top 53 bits of <see cref="NextUInt64"/> times 2⁻⁵³.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform double in [<paramref name="low"/>, <paramref name="high"/>): low + (high − low)·u.</summary>
    public double NextUniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>
    /// A standard normal draw by the Box–Muller transform, z = √(−2 ln u₁) · cos(2π u₂) with u₁ = 1 − U₁ ∈ (0, 1]
    /// and u₂ = U₂ ∈ [0, 1): two uniform draws per normal (the sine twin is not cached, so the source has no state
    /// besides the generator's).
    /// </summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
