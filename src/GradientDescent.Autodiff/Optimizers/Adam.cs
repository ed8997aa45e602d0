namespace GradientDescent.Autodiff;

/// <summary>
/// The Adam family's shared rule and settings: <see cref="Adam"/> (weight decay added to the gradient) and
/// <see cref="AdamW"/> (weight decay applied to the parameter, decoupled from the moments). Only those two derive
/// from it.
/// </summary>
/// <remarks>
/// For each parameter element, with gradient g, step t, moments m and v (both starting at 0):
/// <code>
/// p ← p·(1 − ηλ)                                (AdamW: decoupled decay)
/// g ← g + λ·p                                   (Adam: L2 decay, when λ ≠ 0)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// v̂ ← max(v̂, v)                                 (AMSGrad; v̂ starts at 0)
/// p ← p − η/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)   (v̂ = v without AMSGrad)
/// </code>
/// Convention: PyTorch's. ε is added after the bias-corrected square root, √(v/(1 − β₂ᵗ)) + ε, as in Algorithm 1
/// of the paper, and the first-moment correction is folded into the step size. AMSGrad keeps the running maximum
/// of the uncorrected v and corrects it like v (PyTorch's variant of Reddi, Kale and Kumar's rule).
/// </remarks>
public abstract class AdamFamily : Optimizer
{
    private readonly double[][] _m, _v, _vMax;
    private readonly bool _decoupled;
    private double _beta1, _beta2, _epsilon, _weightDecay;

    private protected AdamFamily(IEnumerable<Parameter> parameters, double learningRate, double beta1, double beta2,
        double epsilon, double weightDecay, bool amsGrad, bool decoupled)
        : base(parameters, learningRate)
    {
        _beta1 = CheckBeta("β₁", nameof(beta1), beta1);
        _beta2 = CheckBeta("β₂", nameof(beta2), beta2);
        _epsilon = CheckEpsilon(epsilon);
        _weightDecay = CheckWeightDecay(weightDecay);
        _decoupled = decoupled;
        AmsGrad = amsGrad;
        _m = [.. Parameters.Select(p => new double[p.Value.Length])];
        _v = [.. Parameters.Select(p => new double[p.Value.Length])];
        _vMax = amsGrad ? [.. Parameters.Select(p => new double[p.Value.Length])] : [];
    }

    /// <summary>β₁ in [0, 1), the decay of the first-moment average m.</summary>
    public double Beta1 { get => _beta1; set => _beta1 = CheckBeta("β₁", "beta1", value); }

    /// <summary>β₂ in [0, 1), the decay of the second-moment average v.</summary>
    public double Beta2 { get => _beta2; set => _beta2 = CheckBeta("β₂", "beta2", value); }

    /// <summary>ε ≥ 0, added to the corrected √v in the denominator.</summary>
    public double Epsilon { get => _epsilon; set => _epsilon = CheckEpsilon(value); }

    /// <summary>λ ≥ 0, the weight decay (L2 on the gradient for <see cref="Adam"/>, decoupled for <see cref="AdamW"/>).</summary>
    public double WeightDecay { get => _weightDecay; set => _weightDecay = CheckWeightDecay(value); }

    /// <summary>Whether the denominator uses the running maximum of v (AMSGrad); fixed at construction.</summary>
    public bool AmsGrad { get; }

    /// <inheritdoc/>
    protected sealed override void Update(int index, Span<double> value, ReadOnlySpan<double> gradient)
    {
        double eta = LearningRate, b1 = _beta1, b2 = _beta2, eps = _epsilon, t = StepCount;
        double l2 = _decoupled ? 0 : _weightDecay, shrink = _decoupled ? 1 - eta * _weightDecay : 1;
        double stepSize = eta / (1 - Math.Pow(b1, t)), sqrtCorrection2 = Math.Sqrt(1 - Math.Pow(b2, t));
        Span<double> m = _m[index], v = _v[index], vMax = AmsGrad ? _vMax[index] : default;
        for (int j = 0; j < value.Length; j++)
        {
            double p = value[j] * shrink;                                    // p ← p(1 − ηλ)   (AdamW)
            double g = gradient[j] + l2 * p;                                 // g ← g + λp      (Adam)
            m[j] = b1 * m[j] + (1 - b1) * g;                                 // m ← β₁m + (1 − β₁)g
            v[j] = b2 * v[j] + (1 - b2) * g * g;                             // v ← β₂v + (1 − β₂)g²
            double vHat = AmsGrad ? vMax[j] = Math.Max(vMax[j], v[j]) : v[j]; // v̂ ← max(v̂, v)  (AMSGrad)
            value[j] = p - stepSize * (m[j] / (Math.Sqrt(vHat) / sqrtCorrection2 + eps)); // p ← p − η/(1 − β₁ᵗ)·m/(√v̂/√(1 − β₂ᵗ) + ε)
        }
    }

    private double CheckBeta(string setting, string parameterName, double value) =>
        Check(setting, parameterName, value, Setting.Range.UnitRightOpen);

    private double CheckEpsilon(double value) => Check("ε", "epsilon", value, Setting.Range.NonNegative);

    private double CheckWeightDecay(double value) => Check("weight decay", "weightDecay", value, Setting.Range.NonNegative);
}

/// <summary>
/// Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), optionally AMSGrad (Reddi, Kale
/// and Kumar, "On the Convergence of Adam and Beyond", ICLR 2018), exactly as PyTorch's <c>torch.optim.Adam</c>:
/// weight decay λ is L2 regularisation, added to the gradient before the moments (g ← g + λp).
/// </summary>
/// <remarks>The update is stated on <see cref="AdamFamily"/>.</remarks>
public sealed class Adam : AdamFamily
{
    /// <summary>Adam over <paramref name="parameters"/>; every setting is checked as its setter checks it.</summary>
    /// <param name="parameters">The parameters to update, each once.</param>
    /// <param name="learningRate">η &gt; 0 (PyTorch's default is 10⁻³).</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="weightDecay">λ ≥ 0, L2 on the gradient.</param>
    /// <param name="amsGrad">Use the running maximum of v (AMSGrad).</param>
    public Adam(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool amsGrad = false)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, decoupled: false) { }
}

/// <summary>
/// AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) exactly as PyTorch's
/// <c>torch.optim.AdamW</c>: before the Adam step, p ← p − η·λ·p, and the moments see the raw gradient.
/// </summary>
/// <remarks>
/// Convention: PyTorch's, where the decay is multiplied by the learning rate η (so it follows a schedule of η); the
/// paper multiplies λ by a schedule multiplier alone. The update is stated on <see cref="AdamFamily"/>.
/// </remarks>
public sealed class AdamW : AdamFamily
{
    /// <summary>AdamW over <paramref name="parameters"/>; every setting is checked as its setter checks it.</summary>
    /// <param name="parameters">The parameters to update, each once.</param>
    /// <param name="learningRate">η &gt; 0 (PyTorch's default is 10⁻³).</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="weightDecay">λ ≥ 0, decoupled (PyTorch's default is 10⁻²).</param>
    /// <param name="amsGrad">Use the running maximum of v (AMSGrad).</param>
    public AdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 1e-2, bool amsGrad = false)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, decoupled: true) { }
}
