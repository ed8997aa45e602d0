namespace GradientDescent.Autodiff.Models;

/// <summary>
/// A fully connected layer, y = W x + b, with the weight stored as PyTorch stores it, W [out × in]; for a batch
/// X [B × in] (one example per row), Y = X Wᵀ + b [B × out], b added to every row.
/// </summary>
/// <remarks>
/// Parameters: <c>weight</c> [out × in] and <c>bias</c> [out] (unless made without one). Gradients, for an upstream
/// G = ∂L/∂Y: ∂L/∂W = Gᵀ X, ∂L/∂b = Σ over rows of G, ∂L/∂X = G W. The default initialisation is PyTorch's
/// (<see cref="Init.LinearDefault"/>): W and b uniform in (−1/√in, 1/√in).
/// </remarks>
public sealed class Linear : Module
{
    /// <summary>
    /// A layer from <paramref name="inputs"/> to <paramref name="outputs"/> features, initialised as PyTorch's
    /// <c>nn.Linear</c> from <paramref name="random"/> (weight first, then bias).
    /// </summary>
    public Linear(int inputs, int outputs, RandomSource random, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (inputs <= 0 || outputs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputs), $"Linear: needs at least one input and one output feature, got {inputs} → {outputs}.");
        }
        Weight = MatrixParameter.Zeros("weight", outputs, inputs);
        Bias = bias ? VectorParameter.Zeros("bias", outputs) : null;
        Init.LinearDefault(Weight, Bias, random);
    }

    /// <summary>W [out × in].</summary>
    public MatrixParameter Weight { get; }

    /// <summary>b [out], or null for a layer without bias.</summary>
    public VectorParameter? Bias { get; }

    /// <summary>Number of input features (the columns of W).</summary>
    public int Inputs => Weight.Cols;

    /// <summary>Number of output features (the rows of W).</summary>
    public int Outputs => Weight.Rows;

    /// <summary>Y = X Wᵀ + b for a batch X [B × in].</summary>
    public override Matrix Forward(Matrix input)
    {
        if (input.Cols != Inputs)
        {
            throw new ArgumentException($"{this}: the input {input.Rows}×{input.Cols} has {input.Cols} features per row, the layer takes {Inputs}; pass a batch [B × {Inputs}].", nameof(input));
        }
        Tape tape = input.Tape;
        // Y = X Wᵀ + b
        Matrix y = Ops.MatMul(input, Ops.Transpose(tape.Use(Weight)));
        return Bias is null ? y : y + tape.Use(Bias);
    }

    /// <summary><c>weight</c>, then <c>bias</c>.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }

    /// <summary>"Linear(2 → 16)".</summary>
    public override string ToString() => Bias is null ? $"Linear({Inputs} → {Outputs}, no bias)" : $"Linear({Inputs} → {Outputs})";
}
