namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Seeded initialisers: each fills a parameter's values in row-major order from the <see cref="RandomSource"/> it is
/// given, so the same seed gives the same weights. The formulas and fan conventions are PyTorch's
/// (<c>torch/nn/init.py</c>).
/// </summary>
/// <remarks>
/// For a matrix parameter stored as a PyTorch weight, [out × in], fan_in is its columns and fan_out its rows.
/// The fan-based initialisers (Xavier, Kaiming) refuse scalars and vectors, as PyTorch refuses tensors with fewer
/// than two dimensions; initialise a bias with <see cref="Uniform"/> or <see cref="Zeros"/>.
/// </remarks>
public static class Init
{
    /// <summary>Every element U(<paramref name="low"/>, <paramref name="high"/>): mean (a + b)/2, variance (b − a)²/12.</summary>
    public static void Uniform(Parameter parameter, double low, double high, RandomSource random)
    {
        Check(parameter, random);
        if (!(low <= high) || !double.IsFinite(low) || !double.IsFinite(high))
        {
            throw new ArgumentException($"Init.Uniform: the bounds [{low}, {high}] of {parameter} must be finite with low ≤ high.", nameof(low));
        }
        Span<double> v = parameter.Value;
        for (int i = 0; i < v.Length; i++) v[i] = random.NextUniform(low, high);
    }

    /// <summary>Every element N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    public static void Normal(Parameter parameter, double mean, double std, RandomSource random)
    {
        Check(parameter, random);
        if (!(std >= 0) || !double.IsFinite(std) || !double.IsFinite(mean))
        {
            throw new ArgumentException($"Init.Normal: {parameter} needs a finite mean and std ≥ 0, got mean {mean}, std {std}.", nameof(std));
        }
        Span<double> v = parameter.Value;
        for (int i = 0; i < v.Length; i++) v[i] = mean + std * random.NextGaussian();
    }

    /// <summary>Every element 0 (draws nothing).</summary>
    public static void Zeros(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        Array.Clear(parameter.Value);
    }

    /// <summary>
    /// Xavier/Glorot uniform (Glorot and Bengio 2010): U(−a, a) with a = gain · √(6 / (fan_in + fan_out)), so the
    /// variance is gain² · 2 / (fan_in + fan_out).
    /// </summary>
    public static void XavierUniform(Parameter parameter, RandomSource random, double gain = 1)
    {
        (int fanIn, int fanOut) = Fans(parameter, "XavierUniform");
        double a = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        Uniform(parameter, -a, a, random);
    }

    /// <summary>Xavier/Glorot normal: N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal(Parameter parameter, RandomSource random, double gain = 1)
    {
        (int fanIn, int fanOut) = Fans(parameter, "XavierNormal");
        Normal(parameter, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), random);
    }

    /// <summary>
    /// He/Kaiming uniform (He et al. 2015), fan_in mode: U(−b, b) with b = gain · √(3 / fan_in) and the leaky-ReLU
    /// gain √(2 / (1 + a²)) (a = 0: ReLU, gain √2), so the variance is gain² / fan_in.
    /// </summary>
    /// <param name="parameter">A matrix [out × in].</param>
    /// <param name="random">The random source.</param>
    /// <param name="a">The negative slope of the leaky ReLU that follows (0 for ReLU).</param>
    public static void KaimingUniform(Parameter parameter, RandomSource random, double a = 0)
    {
        (int fanIn, _) = Fans(parameter, "KaimingUniform");
        double bound = LeakyReluGain(a) * Math.Sqrt(3.0 / fanIn);
        Uniform(parameter, -bound, bound, random);
    }

    /// <summary>He/Kaiming normal, fan_in mode: N(0, σ²) with σ = gain / √fan_in, gain = √(2 / (1 + a²)).</summary>
    public static void KaimingNormal(Parameter parameter, RandomSource random, double a = 0)
    {
        (int fanIn, _) = Fans(parameter, "KaimingNormal");
        Normal(parameter, 0, LeakyReluGain(a) / Math.Sqrt(fanIn), random);
    }

    /// <summary>
    /// The default of PyTorch's <c>nn.Linear</c> for a weight [out × in] and its bias: kaiming_uniform with a = √5,
    /// whose bound is √(2/6) · √(3/in) = 1/√in, then the bias U(−1/√in, 1/√in); weight first, then bias.
    /// </summary>
    public static void LinearDefault(MatrixParameter weight, VectorParameter? bias, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(weight);
        KaimingUniform(weight, random, a: Math.Sqrt(5));
        if (bias is not null)
        {
            double bound = 1 / Math.Sqrt(weight.Cols);
            Uniform(bias, -bound, bound, random);
        }
    }

    private static double LeakyReluGain(double a) => Math.Sqrt(2.0 / (1 + a * a));

    private static (int FanIn, int FanOut) Fans(Parameter parameter, string name)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (parameter.Shape.Kind != ShapeKind.Matrix)
        {
            throw new ArgumentException($"Init.{name}: fan-in and fan-out need a matrix [out × in], got {parameter}; initialise a bias with Init.Uniform or Init.Zeros.", nameof(parameter));
        }
        return (parameter.Shape.Cols, parameter.Shape.Rows);
    }

    private static void Check(Parameter parameter, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(random);
    }
}
