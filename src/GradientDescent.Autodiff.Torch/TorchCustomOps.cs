using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// TorchSharp equivalents of <see cref="CustomOp"/>s, supplied by the user: for each op, a function from the input
/// tensors (in the op's input order, float64, the inputs' shapes) to the output tensor, written with differentiable
/// torch operations so that libtorch's autograd derives the reference gradient independently of
/// <see cref="CustomOp.Backward"/>.
/// </summary>
/// <remarks>
/// <para>Looked up by instance first, then by <see cref="CustomOp.Name"/>:
/// <c>new TorchCustomOps { ["cube"] = x => TorchScalars.Pow(x[0], 3) }</c>. Numbers go through
/// <see cref="TorchScalars"/>: an equivalent runs once per case of a property test, and a Scalar TorchSharp makes
/// implicitly (<c>x[0].pow(3)</c>, <c>x[0] + x[1]</c>) can be freed during the call that reads it.</para>
/// <para>A custom node without an equivalent cannot be cross-checked: <see cref="TorchReplay"/> replaces it by a
/// constant holding this library's output, so the rest of the graph is still compared, and the report fails and says
/// which op needs an equivalent. It never passes silently.</para>
/// </remarks>
public sealed class TorchCustomOps
{
    private readonly Dictionary<CustomOp, Func<Tensor[], Tensor>> _byInstance = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, Func<Tensor[], Tensor>> _byName = new(StringComparer.Ordinal);

    /// <summary>The equivalent of every custom op named <paramref name="name"/>.</summary>
    public Func<Tensor[], Tensor> this[string name]
    {
        get => _byName.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"TorchCustomOps: no equivalent for custom op name '{name}'.");
        set
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(value);
            _byName[name] = value;
        }
    }

    /// <summary>The equivalent of this op instance (takes precedence over one registered by name).</summary>
    public Func<Tensor[], Tensor> this[CustomOp op]
    {
        get => _byInstance.TryGetValue(op, out var f) ? f : throw new KeyNotFoundException($"TorchCustomOps: no equivalent for custom op instance '{op.Name}'.");
        set
        {
            ArgumentNullException.ThrowIfNull(op);
            ArgumentNullException.ThrowIfNull(value);
            _byInstance[op] = value;
        }
    }

    /// <summary>Number of equivalents registered (by instance and by name).</summary>
    public int Count => _byInstance.Count + _byName.Count;

    /// <summary>The equivalent for <paramref name="op"/>: by instance, else by name, else null.</summary>
    public Func<Tensor[], Tensor>? Find(CustomOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return _byInstance.TryGetValue(op, out var f) ? f : _byName.GetValueOrDefault(op.Name);
    }
}
