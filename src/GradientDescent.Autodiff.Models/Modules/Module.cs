namespace GradientDescent.Autodiff.Models;

/// <summary>
/// A piece of a model: a forward pass recorded on a tape, and the parameters it owns, each under a dotted name
/// (<c>weight</c>, <c>0.bias</c>, <c>linear.weight</c>), as PyTorch's <c>state_dict</c> names them.
/// </summary>
/// <remarks>
/// <para>A module lists its parameters in plain code: <see cref="NamedParameters"/> yields its own, then each
/// child's under the child's name and a dot (<see cref="Child"/>). No reflection over fields and no
/// <c>__setattr__</c>-style registration: renaming a C# field never renames a saved parameter.</para>
/// <para>The names are those of the module tree; <see cref="Parameter.Name"/> is the parameter's local name
/// (<c>weight</c>), used in the core's reports.</para>
/// </remarks>
public abstract class Module
{
    /// <summary>Records the forward pass of a batch, one example per row, on the input's tape.</summary>
    public abstract Matrix Forward(Matrix input);

    /// <summary>Every parameter with its dotted name, in a fixed order (the order optimizers and files use).</summary>
    public abstract IEnumerable<(string Name, Parameter Parameter)> NamedParameters();

    /// <summary>Every parameter in the order of <see cref="NamedParameters"/>: pass them to an optimizer.</summary>
    public IEnumerable<Parameter> Parameters()
    {
        foreach (var (_, parameter) in NamedParameters()) yield return parameter;
    }

    /// <summary>The number of trainable numbers, Σ over parameters of their element counts.</summary>
    public int ParameterCount()
    {
        int count = 0;
        foreach (var (_, parameter) in NamedParameters()) count += parameter.Value.Length;
        return count;
    }

    /// <summary>Sets every parameter's accumulated gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, parameter) in NamedParameters()) parameter.ZeroGrad();
    }

    /// <summary>A child's parameters under <c>prefix.</c>: <c>Child("0", linear)</c> yields <c>0.weight</c>, <c>0.bias</c>.</summary>
    protected static IEnumerable<(string Name, Parameter Parameter)> Child(string prefix, Module child)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(child);
        foreach (var (name, parameter) in child.NamedParameters()) yield return ($"{prefix}.{name}", parameter);
    }
}
