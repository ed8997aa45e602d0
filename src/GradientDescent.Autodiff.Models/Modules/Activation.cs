namespace GradientDescent.Autodiff.Models;

/// <summary>
/// An elementwise activation as a module, without parameters: <see cref="Relu"/>, <see cref="Tanh"/>,
/// <see cref="Sigmoid"/>, <see cref="Softplus"/>, <see cref="Gelu"/>, <see cref="Silu"/>, <see cref="LeakyRelu"/>,
/// <see cref="Elu"/>, or <see cref="Identity"/>. Each applies the core op of the same name, whose XML doc states
/// its derivative.
/// </summary>
/// <remarks>Activations hold no state, so one instance may stand at several places of a model.</remarks>
public sealed class Activation : Module
{
    private enum Kind { Identity, Relu, Tanh, Sigmoid, Softplus, Gelu, Silu, LeakyRelu, Elu }

    private readonly Kind _kind;
    private readonly double _constant;

    private Activation(Kind kind, double constant = 0)
    {
        _kind = kind;
        _constant = constant;
    }

    /// <summary>x ↦ x (no node recorded).</summary>
    public static Activation Identity { get; } = new(Kind.Identity);

    /// <summary>max(x, 0); derivative [x &gt; 0].</summary>
    public static Activation Relu { get; } = new(Kind.Relu);

    /// <summary>tanh x; derivative 1 − tanh² x.</summary>
    public static Activation Tanh { get; } = new(Kind.Tanh);

    /// <summary>σ(x) = 1/(1 + e⁻ˣ); derivative σ(x)(1 − σ(x)).</summary>
    public static Activation Sigmoid { get; } = new(Kind.Sigmoid);

    /// <summary>ln(1 + eˣ); derivative σ(x).</summary>
    public static Activation Softplus { get; } = new(Kind.Softplus);

    /// <summary>GELU, x·Φ(x) (the exact form, as PyTorch's default).</summary>
    public static Activation Gelu { get; } = new(Kind.Gelu);

    /// <summary>SiLU (swish), x·σ(x).</summary>
    public static Activation Silu { get; } = new(Kind.Silu);

    /// <summary>x for x ≥ 0, <paramref name="negativeSlope"/>·x below (PyTorch's default slope 0.01).</summary>
    public static Activation LeakyRelu(double negativeSlope = 0.01) => new(Kind.LeakyRelu, Finite(negativeSlope, "LeakyRelu", nameof(negativeSlope)));

    /// <summary>x for x &gt; 0, α(eˣ − 1) below (PyTorch's default α = 1).</summary>
    public static Activation Elu(double alpha = 1) => new(Kind.Elu, Finite(alpha, "Elu", nameof(alpha)));

    /// <summary>Applies the activation to every element.</summary>
    public override Matrix Forward(Matrix input) => _kind switch
    {
        Kind.Identity => input,
        Kind.Relu => Ops.Relu(input),
        Kind.Tanh => Ops.Tanh(input),
        Kind.Sigmoid => Ops.Sigmoid(input),
        Kind.Softplus => Ops.Softplus(input),
        Kind.Gelu => Ops.Gelu(input),
        Kind.Silu => Ops.Silu(input),
        Kind.LeakyRelu => Ops.LeakyRelu(input, _constant),
        Kind.Elu => Ops.Elu(input, _constant),
        _ => throw new InvalidOperationException($"Activation: no forward for {_kind}."),
    };

    /// <summary>None: an activation has no parameters.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => [];

    /// <summary>"Tanh", "LeakyRelu(0.01)".</summary>
    public override string ToString() => _kind switch
    {
        Kind.LeakyRelu or Kind.Elu => FormattableString.Invariant($"{_kind}({_constant})"),
        _ => _kind.ToString(),
    };

    private static double Finite(double value, string op, string name) => double.IsFinite(value)
        ? value
        : throw new ArgumentOutOfRangeException(name, $"Activation.{op}: {name} must be finite, got {value}.");
}
