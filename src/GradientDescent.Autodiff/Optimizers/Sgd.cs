namespace GradientDescent.Autodiff;

/// <summary>Plain gradient descent: p ← p − η ∂L/∂p for every parameter.</summary>
/// <remarks>The seed's update rule: w ← w − α∇E.</remarks>
public sealed class Sgd
{
    private readonly Parameter[] _parameters;

    /// <summary>Gradient descent over <paramref name="parameters"/> with learning rate <paramref name="learningRate"/>.</summary>
    public Sgd(IEnumerable<Parameter> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "Sgd: the learning rate must be a positive finite number.");
        }
        _parameters = [.. parameters];
        LearningRate = learningRate;
    }

    /// <summary>η, the step size.</summary>
    public double LearningRate { get; set; }

    /// <summary>The parameters this optimizer updates.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>p ← p − η·grad for every parameter (gradients are left as they are).</summary>
    public void Step()
    {
        foreach (var p in _parameters)
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p.Grad, -LearningRate, p.Value, p.Value);
        }
    }

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }
}
