namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Modules applied in order, y = fₙ(… f₁(f₀(x))); child i's parameters are named <c>i.weight</c>, <c>i.bias</c>,
/// as in PyTorch's <c>nn.Sequential</c> (activations take an index too, so the second linear layer of
/// Linear, ReLU, Linear is <c>2</c>).
/// </summary>
public sealed class Sequential : Module
{
    private readonly Module[] _modules;

    /// <summary>The given modules, applied first to last (at least one).</summary>
    public Sequential(params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        if (modules.Length == 0) throw new ArgumentException("Sequential: needs at least one module.", nameof(modules));
        for (int i = 0; i < modules.Length; i++)
        {
            if (modules[i] is null) throw new ArgumentException($"Sequential: module {i} of {modules.Length} is null.", nameof(modules));
        }
        _modules = (Module[])modules.Clone();
    }

    /// <summary>The modules, in order.</summary>
    public IReadOnlyList<Module> Modules => _modules;

    /// <summary>Applies every module in turn.</summary>
    public override Matrix Forward(Matrix input)
    {
        Matrix x = input;
        for (int i = 0; i < _modules.Length; i++) x = _modules[i].Forward(x);
        return x;
    }

    /// <summary>Child i's parameters under <c>i.</c>, in order.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        for (int i = 0; i < _modules.Length; i++)
        {
            foreach (var named in Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _modules[i])) yield return named;
        }
    }

    /// <summary>"Sequential(Linear(2 → 16), Tanh, Linear(16 → 1))".</summary>
    public override string ToString() => $"Sequential({string.Join(", ", _modules.Select(m => m.ToString()))})";
}
