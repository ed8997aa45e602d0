namespace GradientDescent.Autodiff;

/// <summary>
/// Adagrad (Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
/// Optimization", JMLR 12, 2011), with PyTorch's learning-rate decay, exactly as <c>torch.optim.Adagrad</c>.
/// </summary>
/// <remarks>
/// For each parameter element, with gradient g, step t and the sum s (starting at the initial accumulator value s₀):
/// <code>
/// g ← g + λ·p                   (when λ ≠ 0)
/// η̃ ← η / (1 + (t − 1)·δ)
/// s ← s + g²
/// p ← p − η̃ · g / (√s + ε)
/// </code>
/// Convention: PyTorch's — ε outside the square root, the decay δ of the rate by step count, and s₀ added to the sum
/// (the paper's diagonal form with s₀ = 0, ε = 0, δ = 0). s₀ is fixed at construction: it is the state's start.
/// </remarks>
public sealed class Adagrad : Optimizer
{
    private readonly double[][] _sums;
    private double _learningRateDecay, _epsilon, _weightDecay;

    /// <summary>Adagrad over <paramref name="parameters"/>; every setting is checked as its setter checks it.</summary>
    /// <param name="parameters">The parameters to update, each once.</param>
    /// <param name="learningRate">η &gt; 0 (PyTorch's default is 10⁻²).</param>
    /// <param name="learningRateDecay">δ ≥ 0: step t uses η / (1 + (t − 1)δ).</param>
    /// <param name="weightDecay">λ ≥ 0, L2 on the gradient.</param>
    /// <param name="initialAccumulatorValue">s₀ ≥ 0, the starting value of every sum of squares.</param>
    /// <param name="epsilon">ε ≥ 0, added to the root (PyTorch's default is 10⁻¹⁰).</param>
    public Adagrad(IEnumerable<Parameter> parameters, double learningRate = 1e-2, double learningRateDecay = 0,
        double weightDecay = 0, double initialAccumulatorValue = 0, double epsilon = 1e-10)
        : base(parameters, learningRate)
    {
        _learningRateDecay = CheckLearningRateDecay(learningRateDecay);
        _weightDecay = CheckWeightDecay(weightDecay);
        InitialAccumulatorValue = Check("initial accumulator value", nameof(initialAccumulatorValue), initialAccumulatorValue, Setting.Range.NonNegative);
        _epsilon = CheckEpsilon(epsilon);
        _sums = [.. Parameters.Select(p => Enumerable.Repeat(initialAccumulatorValue, p.Value.Length).ToArray())];
    }

    /// <summary>δ ≥ 0, the decay of the rate with the step count.</summary>
    public double LearningRateDecay { get => _learningRateDecay; set => _learningRateDecay = CheckLearningRateDecay(value); }

    /// <summary>λ ≥ 0, the L2 weight decay added to the gradient.</summary>
    public double WeightDecay { get => _weightDecay; set => _weightDecay = CheckWeightDecay(value); }

    /// <summary>ε ≥ 0, added to the root in the denominator.</summary>
    public double Epsilon { get => _epsilon; set => _epsilon = CheckEpsilon(value); }

    /// <summary>s₀, the starting value of the sums of squares (fixed at construction).</summary>
    public double InitialAccumulatorValue { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<double> value, ReadOnlySpan<double> gradient)
    {
        double lambda = _weightDecay, eps = _epsilon;
        double rate = LearningRate / (1 + (StepCount - 1) * _learningRateDecay);   // η̃ ← η / (1 + (t − 1)δ)
        Span<double> s = _sums[index];
        for (int j = 0; j < value.Length; j++)
        {
            double g = gradient[j];
            if (lambda != 0) g += lambda * value[j];                             // g ← g + λp
            s[j] += g * g;                                                       // s ← s + g²
            value[j] -= rate * (g / (Math.Sqrt(s[j]) + eps));                    // p ← p − η̃·g/(√s + ε)
        }
    }

    private double CheckLearningRateDecay(double value) => Check("learning-rate decay", "learningRateDecay", value, Setting.Range.NonNegative);

    private double CheckWeightDecay(double value) => Check("weight decay", "weightDecay", value, Setting.Range.NonNegative);

    private double CheckEpsilon(double value) => Check("ε", "epsilon", value, Setting.Range.NonNegative);
}
