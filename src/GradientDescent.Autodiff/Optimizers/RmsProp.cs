namespace GradientDescent.Autodiff;

/// <summary>
/// RMSProp (Tieleman and Hinton, "Lecture 6.5 — rmsprop: divide the gradient by a running average of its recent
/// magnitude", COURSERA: Neural Networks for Machine Learning, 2012), optionally centered (Graves, "Generating
/// Sequences With Recurrent Neural Networks", 2013, eq. 38–41) and with momentum, exactly as PyTorch's
/// <c>torch.optim.RMSprop</c>.
/// </summary>
/// <remarks>
/// For each parameter element, with gradient g and state v, ḡ, b (all starting at 0):
/// <code>
/// g ← g + λ·p                              (when λ ≠ 0)
/// v ← α·v + (1 − α)·g²
/// ḡ ← α·ḡ + (1 − α)·g                      (centered)
/// d ← √(v − ḡ²) + ε  (centered)  or  √v + ε
/// b ← μ·b + g/d,  p ← p − η·b              (μ &gt; 0)
/// p ← p − η·g/d                            (μ = 0)
/// </code>
/// Convention: PyTorch's — ε outside the square root, and the momentum buffer holds g/d (η multiplies it on the way
/// out). Momentum and centering are fixed at construction: they decide which state exists.
/// </remarks>
public sealed class RmsProp : Optimizer
{
    private readonly double[][] _v, _gMean, _buffers;
    private double _alpha, _epsilon, _weightDecay;

    /// <summary>RMSProp over <paramref name="parameters"/>; every setting is checked as its setter checks it.</summary>
    /// <param name="parameters">The parameters to update, each once.</param>
    /// <param name="learningRate">η &gt; 0 (PyTorch's default is 10⁻²).</param>
    /// <param name="alpha">α in [0, 1], the decay of the running averages.</param>
    /// <param name="epsilon">ε ≥ 0, added to the root.</param>
    /// <param name="weightDecay">λ ≥ 0, L2 on the gradient.</param>
    /// <param name="momentum">μ ≥ 0; 0 (the default) keeps no buffer.</param>
    /// <param name="centered">Divide by an estimate of the standard deviation, √(v − ḡ²), instead of the RMS √v.</param>
    public RmsProp(IEnumerable<Parameter> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(parameters, learningRate)
    {
        _alpha = CheckAlpha(alpha);
        _epsilon = CheckEpsilon(epsilon);
        _weightDecay = CheckWeightDecay(weightDecay);
        Momentum = Check("momentum", nameof(momentum), momentum, Setting.Range.NonNegative);
        Centered = centered;
        _v = [.. Parameters.Select(p => new double[p.Value.Length])];
        _gMean = centered ? [.. Parameters.Select(p => new double[p.Value.Length])] : [];
        _buffers = momentum > 0 ? [.. Parameters.Select(p => new double[p.Value.Length])] : [];
    }

    /// <summary>α in [0, 1], the decay of the running averages of g² and g.</summary>
    public double Alpha { get => _alpha; set => _alpha = CheckAlpha(value); }

    /// <summary>ε ≥ 0, added to the root in the denominator.</summary>
    public double Epsilon { get => _epsilon; set => _epsilon = CheckEpsilon(value); }

    /// <summary>λ ≥ 0, the L2 weight decay added to the gradient.</summary>
    public double WeightDecay { get => _weightDecay; set => _weightDecay = CheckWeightDecay(value); }

    /// <summary>μ, the momentum (fixed at construction).</summary>
    public double Momentum { get; }

    /// <summary>Whether the denominator is centered, √(v − ḡ²) (fixed at construction).</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Span<double> value, ReadOnlySpan<double> gradient)
    {
        double eta = LearningRate, a = _alpha, eps = _epsilon, lambda = _weightDecay, mu = Momentum;
        Span<double> v = _v[index], gMean = Centered ? _gMean[index] : default, b = mu > 0 ? _buffers[index] : default;
        for (int j = 0; j < value.Length; j++)
        {
            double g = gradient[j];
            if (lambda != 0) g += lambda * value[j];                           // g ← g + λp
            v[j] = a * v[j] + (1 - a) * g * g;                                 // v ← αv + (1 − α)g²
            double d;
            if (Centered)
            {
                gMean[j] = a * gMean[j] + (1 - a) * g;                         // ḡ ← αḡ + (1 − α)g
                d = Math.Sqrt(v[j] - gMean[j] * gMean[j]) + eps;               // d ← √(v − ḡ²) + ε
            }
            else
            {
                d = Math.Sqrt(v[j]) + eps;                                     // d ← √v + ε
            }
            if (mu > 0)
            {
                b[j] = mu * b[j] + g / d;                                      // b ← μb + g/d
                value[j] -= eta * b[j];                                        // p ← p − ηb
            }
            else
            {
                value[j] -= eta * (g / d);                                     // p ← p − η·g/d
            }
        }
    }

    private double CheckAlpha(double value) => Check("α", "alpha", value, Setting.Range.Unit);

    private double CheckEpsilon(double value) => Check("ε", "epsilon", value, Setting.Range.NonNegative);

    private double CheckWeightDecay(double value) => Check("weight decay", "weightDecay", value, Setting.Range.NonNegative);
}
