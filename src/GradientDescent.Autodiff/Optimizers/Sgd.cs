namespace GradientDescent.Autodiff;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, exactly
/// as PyTorch's <c>torch.optim.SGD</c>. With the defaults it is the seed's rule, p ← p − η·∂L/∂p.
/// </summary>
/// <remarks>
/// For each parameter element, with gradient g, weight decay λ, momentum μ, dampening τ and step t:
/// <code>
/// g ← g + λ·p                                   (when λ ≠ 0)
/// b ← g                   at t = 1              (when μ ≠ 0: the buffer starts at the first gradient, undamped)
/// b ← μ·b + (1 − τ)·g     at t &gt; 1
/// g ← g + μ·b  (Nesterov)  or  g ← b  (classical)
/// p ← p − η·g
/// </code>
/// Convention: PyTorch's, where η multiplies the buffer on the way out (p ← p − η·b), not on the way in as in
/// Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and momentum in deep learning"
/// (ICML 2013), whose v ← μ·v + η·g, p ← p − v this equals while η is constant. Nesterov's form is that paper's
/// rewriting of Nesterov (1983) in terms of the current parameters; it needs μ &gt; 0 and τ = 0 (checked in the
/// constructor and in every setter). Momentum and Nesterov are fixed at construction: they decide which state exists.
/// </remarks>
public sealed class Sgd : Optimizer
{
    private readonly double[][] _buffers;
    private double _dampening, _weightDecay;

    /// <summary>SGD over <paramref name="parameters"/>; every setting is checked as its setter checks it.</summary>
    /// <param name="parameters">The parameters to update, each once.</param>
    /// <param name="learningRate">η &gt; 0.</param>
    /// <param name="momentum">μ ≥ 0; 0 (the default) keeps no state.</param>
    /// <param name="dampening">τ in [0, 1]: the gradient enters the buffer times 1 − τ (after the first step).</param>
    /// <param name="weightDecay">λ ≥ 0: adds λ·p to the gradient (L2 regularisation of ½λ‖p‖²).</param>
    /// <param name="nesterov">Nesterov momentum; needs μ &gt; 0 and τ = 0.</param>
    public Sgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, learningRate)
    {
        Momentum = Check("momentum", nameof(momentum), momentum, Setting.Range.NonNegative);
        _dampening = Check("dampening", nameof(dampening), dampening, Setting.Range.Unit);
        _weightDecay = Check("weight decay", nameof(weightDecay), weightDecay, Setting.Range.NonNegative);
        Nesterov = nesterov;
        CheckNesterov(momentum, dampening, nameof(nesterov));
        _buffers = momentum == 0 ? [] : [.. Parameters.Select(p => new double[p.Value.Length])];
    }

    /// <summary>μ, the momentum (fixed at construction).</summary>
    public double Momentum { get; }

    /// <summary>Whether the update uses Nesterov momentum (fixed at construction).</summary>
    public bool Nesterov { get; }

    /// <summary>τ in [0, 1]; must stay 0 with Nesterov momentum.</summary>
    public double Dampening
    {
        get => _dampening;
        set => _dampening = CheckNesterov(Momentum, Check("dampening", "dampening", value, Setting.Range.Unit), "dampening");
    }

    /// <summary>λ ≥ 0, the L2 weight decay added to the gradient.</summary>
    public double WeightDecay
    {
        get => _weightDecay;
        set => _weightDecay = Check("weight decay", "weightDecay", value, Setting.Range.NonNegative);
    }

    /// <inheritdoc/>
    protected override void Update(int index, Span<double> value, ReadOnlySpan<double> gradient)
    {
        double eta = LearningRate, lambda = _weightDecay, mu = Momentum, keep = 1 - _dampening;
        Span<double> b = mu == 0 ? default : _buffers[index];
        bool first = StepCount == 1;
        for (int j = 0; j < value.Length; j++)
        {
            double g = gradient[j];
            if (lambda != 0) g += lambda * value[j];                  // g ← g + λp
            if (mu != 0)
            {
                b[j] = first ? g : mu * b[j] + keep * g;              // b ← g at t = 1, then b ← μb + (1 − τ)g
                g = Nesterov ? g + mu * b[j] : b[j];                  // g ← g + μb, or g ← b
            }
            value[j] -= eta * g;                                      // p ← p − ηg
        }
    }

    private double CheckNesterov(double momentum, double dampening, string parameterName) =>
        !Nesterov || (momentum > 0 && dampening == 0)
            ? dampening
            : throw new ArgumentException(
                $"Sgd: Nesterov momentum needs a momentum > 0 and zero dampening; got momentum {momentum} and dampening {dampening}. Pass a momentum and dampening 0, or nesterov: false.",
                parameterName);
}
