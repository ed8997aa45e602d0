namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014; the reference
/// code is Vigna's <c>splitmix64.c</c>): a 64-bit state advanced by the golden-ratio increment 0x9E3779B97F4A7C15,
/// each output a bijective mix of the state. Used for every shuffle and split here.
/// </summary>
/// <remarks>
/// Why not <see cref="Random"/>: its seeded sequence is an implementation detail that .NET documents as free to change
/// between versions, and a seeded split should name the same rows on every machine and runtime, for years. These
/// eight lines are the whole algorithm; its outputs are pinned against the reference implementation in the tests.
/// </remarks>
public sealed class SplitMix64
{
    private ulong _state;

    /// <summary>A generator whose sequence depends only on <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A uniform integer in [0, <paramref name="n"/>), without modulo bias: Lemire's multiply-and-reject
    /// ("Fast random integer generation in an interval", 2019) — the high 64 bits of r · n, redrawn while the low
    /// 64 bits fall below 2⁶⁴ mod n.
    /// </summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"SplitMix64.NextInt: the bound is {n}; it must be positive.");
        ulong bound = (ulong)n;
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0UL - bound) % bound;   // 2⁶⁴ mod n
            while (low < threshold) high = Math.BigMul(NextUInt64(), bound, out low);
        }
        return (int)high;
    }

    /// <summary>A uniform double in [0, 1): the top 53 bits of the next output, times 2⁻⁵³.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates, from the last element down).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
