namespace GradientDescent.Autodiff;

/// <summary>Plain gradient descent: p ← p − η ∂L/∂p for every parameter.</summary>
/// <remarks>The seed's update rule: w ← w − α∇E.</remarks>
public sealed class Sgd : Optimizer
{
    /// <summary>Gradient descent over <paramref name="parameters"/> with learning rate <paramref name="learningRate"/>.</summary>
    public Sgd(IEnumerable<Parameter> parameters, double learningRate) : base(parameters, learningRate) { }

    /// <inheritdoc/>
    protected override void Update(int index, Span<double> value, ReadOnlySpan<double> gradient) =>
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gradient, -LearningRate, value, value);
}
