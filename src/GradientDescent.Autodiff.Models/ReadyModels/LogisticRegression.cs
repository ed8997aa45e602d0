using Losses = GradientDescent.Autodiff.Loss;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Binary logistic regression, the seed's model: z = X wᵀ + b, ŷ = σ(z), fitted by the mean binary cross-entropy
/// on the logits (fused and stable), whose gradient is the seed's ∂L/∂w = mean(−(y − ŷ) x), ∂L/∂b = mean(−(y − ŷ)).
/// </summary>
/// <remarks>Parameters: <c>linear.weight</c> [1 × n], <c>linear.bias</c> [1].</remarks>
public sealed class LogisticRegression : Module
{
    /// <summary>A model of <paramref name="features"/> inputs, initialised as PyTorch's <c>nn.Linear(n, 1)</c>.</summary>
    public LogisticRegression(int features, RandomSource random) => Linear = new Linear(features, 1, random);

    /// <summary>The layer, w [1 × n] and b [1].</summary>
    public Linear Linear { get; }

    /// <summary>The logits z = X wᵀ + b as a column [B × 1].</summary>
    public override Matrix Forward(Matrix input) => Linear.Forward(input);

    /// <summary>z = X wᵀ + b, one logit per row.</summary>
    public Vector Logits(Matrix x) => Ops.Flatten(Forward(x));

    /// <summary>ŷ = σ(X wᵀ + b), the probability of label 1 for each row.</summary>
    public Vector Probabilities(Matrix x) => Ops.Sigmoid(Logits(x));

    /// <summary>
    /// L = mean over rows of −[y ln ŷ + (1 − y) ln(1 − ŷ)], computed from z; ∂L/∂z = (ŷ − y)/B. The labels (0 or 1)
    /// are read in place until the tape is cleared.
    /// </summary>
    /// <remarks>
    /// Recorded as the fused <see cref="Losses.LogisticRegression(Matrix, Vector, Scalar, double[])"/>: the value and
    /// ∂L/∂w, ∂L/∂b in one pass over X, the same numbers as <c>BinaryCrossEntropyWithLogits(Logits(x), labels)</c> to rounding.
    /// </remarks>
    public Scalar Loss(Matrix x, double[] labels)
    {
        Tape tape = x.Tape;
        // w [n] as a view of the weight [1 × n], b as a view of the bias [1].
        return Losses.LogisticRegression(x, Ops.Flatten(tape.Use(Linear.Weight)), tape.Use(Linear.Bias!)[0], labels);
    }

    /// <summary><c>linear.weight</c>, <c>linear.bias</c>.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => Child("linear", Linear);
}
