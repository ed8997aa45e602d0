namespace GradientDescent.Autodiff.Models;

/// <summary>
/// A multilayer perceptron: Linear, activation, Linear, activation, …, Linear, with no activation after the last
/// layer (its outputs are logits or regression values). <c>new Mlp(2, [16, 16], 1, random)</c> is
/// Linear(2 → 16), ReLU, Linear(16 → 16), ReLU, Linear(16 → 1).
/// </summary>
/// <remarks>
/// Parameter names are those of the equivalent PyTorch <c>nn.Sequential</c>: <c>0.weight</c>, <c>0.bias</c>,
/// <c>2.weight</c>, … (the activations take the odd indices). Layers are initialised in order, as PyTorch's
/// <c>nn.Linear</c> (<see cref="Init.LinearDefault"/>).
/// </remarks>
public sealed class Mlp : Module
{
    /// <summary>
    /// An MLP from <paramref name="inputs"/> features through the <paramref name="hidden"/> layer widths to
    /// <paramref name="outputs"/>, with <paramref name="activation"/> after each hidden layer (ReLU by default).
    /// </summary>
    public Mlp(int inputs, IReadOnlyList<int> hidden, int outputs, RandomSource random, Activation? activation = null)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(random);
        activation ??= Activation.Relu;
        var modules = new List<Module>(2 * hidden.Count + 1);
        int width = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            if (hidden[i] <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(hidden), $"Mlp: hidden layer {i} has width {hidden[i]}; every width must be positive.");
            }
            modules.Add(new Linear(width, hidden[i], random));
            modules.Add(activation);
            width = hidden[i];
        }
        modules.Add(new Linear(width, outputs, random));
        Layers = new Sequential([.. modules]);
        HiddenActivation = activation;
    }

    /// <summary>The layers, as one <see cref="Sequential"/>.</summary>
    public Sequential Layers { get; }

    /// <summary>The activation after each hidden layer.</summary>
    public Activation HiddenActivation { get; }

    /// <summary>The layers in turn: X [B × inputs] ↦ [B × outputs].</summary>
    public override Matrix Forward(Matrix input) => Layers.Forward(input);

    /// <summary>The layers' parameters: <c>0.weight</c>, <c>0.bias</c>, <c>2.weight</c>, ….</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => Layers.NamedParameters();

    /// <summary>"Mlp(Linear(2 → 16), Tanh, Linear(16 → 1))".</summary>
    public override string ToString() => $"Mlp{Layers.ToString()["Sequential".Length..]}";
}
