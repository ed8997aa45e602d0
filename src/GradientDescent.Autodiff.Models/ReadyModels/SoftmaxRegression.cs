using Losses = GradientDescent.Autodiff.Loss;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Multi-class (softmax) regression: Z = X Wᵀ + b [B × K], p = softmax(Zᵢ) per row, fitted by the mean softmax
/// cross-entropy with integer labels, L = mean(lse(Zᵢ) − Zᵢ,yᵢ); ∂L/∂Zᵢₖ = (pᵢₖ − [k = yᵢ])/B, so
/// ∂L/∂W = (P − Y)ᵀ X / B with Y the one-hot labels.
/// </summary>
/// <remarks>Parameters: <c>linear.weight</c> [K × n], <c>linear.bias</c> [K].</remarks>
public sealed class SoftmaxRegression : Module
{
    /// <summary>A model of <paramref name="features"/> inputs and <paramref name="classes"/> classes, initialised as <c>nn.Linear(n, K)</c>.</summary>
    public SoftmaxRegression(int features, int classes, RandomSource random) => Linear = new Linear(features, classes, random);

    /// <summary>The layer, W [K × n] and b [K].</summary>
    public Linear Linear { get; }

    /// <summary>Number of classes, K.</summary>
    public int Classes => Linear.Outputs;

    /// <summary>The logits Z = X Wᵀ + b [B × K].</summary>
    public override Matrix Forward(Matrix input) => Linear.Forward(input);

    /// <summary>softmax of each row of the logits: the class probabilities.</summary>
    public Matrix Probabilities(Matrix x) => Ops.Softmax(Forward(x));

    /// <summary>
    /// L = mean over rows of −ln softmax(Zᵢ)[yᵢ], labels in [0, K); read again by backward until the tape is cleared.
    /// Recorded as the fused <see cref="Losses.SoftmaxRegression(Matrix, Matrix, Vector, int[])"/>: the value and
    /// ∂L/∂W, ∂L/∂b in one pass over X, the same numbers as <c>SoftmaxCrossEntropy(Forward(x), labels)</c> to rounding.
    /// </summary>
    public Scalar Loss(Matrix x, int[] labels)
    {
        Tape tape = x.Tape;
        // The fused loss takes W [n × K]: the transpose of the layer's weight [K × n] (K·n elements, copied).
        return Losses.SoftmaxRegression(x, Ops.Transpose(tape.Use(Linear.Weight)), tape.Use(Linear.Bias!), labels);
    }

    /// <summary><c>linear.weight</c>, <c>linear.bias</c>.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => Child("linear", Linear);
}
