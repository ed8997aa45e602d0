using Losses = GradientDescent.Autodiff.Loss;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Linear regression, the seed's first model: h = X wᵀ + b, one prediction per row of X [B × n], fitted by the half
/// mean squared error L = ½ mean((h − y)²), whose gradient is the seed's ∂L/∂w = mean((h − y) x), ∂L/∂b = mean(h − y).
/// </summary>
/// <remarks>Parameters: <c>linear.weight</c> [1 × n], <c>linear.bias</c> [1].</remarks>
public sealed class LinearRegression : Module
{
    /// <summary>A model of <paramref name="features"/> inputs, initialised as PyTorch's <c>nn.Linear(n, 1)</c>.</summary>
    public LinearRegression(int features, RandomSource random) => Linear = new Linear(features, 1, random);

    /// <summary>The layer, w [1 × n] and b [1].</summary>
    public Linear Linear { get; }

    /// <summary>h = X wᵀ + b as a column [B × 1].</summary>
    public override Matrix Forward(Matrix input) => Linear.Forward(input);

    /// <summary>h = X wᵀ + b, one prediction per row.</summary>
    public Vector Predict(Matrix x) => Ops.Flatten(Forward(x));

    /// <summary>
    /// L = ½ mean((h − y)²); ∂L/∂w = mean((h − y) x). The targets are read in place until the tape is cleared.
    /// Recorded as the fused <see cref="Losses.LinearRegression(Matrix, Vector, Scalar, double[])"/>: the value and
    /// ∂L/∂w, ∂L/∂b in one pass over X, the same numbers as <c>HalfMeanSquaredError(Predict(x), targets)</c> to rounding.
    /// </summary>
    public Scalar Loss(Matrix x, double[] targets)
    {
        Tape tape = x.Tape;
        // w [n] as a view of the weight [1 × n], b as a view of the bias [1].
        return Losses.LinearRegression(x, Ops.Flatten(tape.Use(Linear.Weight)), tape.Use(Linear.Bias!)[0], targets);
    }

    /// <summary><c>linear.weight</c>, <c>linear.bias</c>.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => Child("linear", Linear);
}
