namespace GradientDescent.Autodiff;

/// <summary>
/// An update rule over a fixed list of parameters: hyper-parameters, per-parameter state allocated once in the
/// constructor, and a <see cref="Step"/> that updates every <see cref="Parameter.Value"/> in place from its
/// <see cref="Parameter.Grad"/> without allocating.
/// </summary>
/// <remarks>
/// The training loop is the seed's: record the loss on a tape, <c>Backward()</c>, <see cref="Step"/>,
/// <see cref="ZeroGrad"/>. Gradients are read, never changed, by <see cref="Step"/> (weight decay is added to a
/// local copy of each gradient element, as PyTorch does). Every hyper-parameter is validated by one function in the
/// constructor and in its setter, so a value the constructor rejects can never be set later; the error names the
/// optimizer, the setting, the value and the valid range.
/// </remarks>
public abstract class Optimizer
{
    private readonly Parameter[] _parameters;
    private double _learningRate;

    /// <summary>
    /// Takes the parameters (at least one, each once) and the learning rate η &gt; 0. A subclass allocates its
    /// per-parameter state in its own constructor, sized by <see cref="Parameters"/>.
    /// </summary>
    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string name = GetType().Name;
        Parameter[] list = [.. parameters];
        if (list.Length == 0)
        {
            throw new ArgumentException($"{name}: the parameter list is empty; pass the parameters to train.", nameof(parameters));
        }
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] is null)
            {
                throw new ArgumentException($"{name}: parameter {i} of {list.Length} is null.", nameof(parameters));
            }
            if (!seen.Add(list[i]))
            {
                throw new ArgumentException($"{name}: parameter {list[i]} appears more than once (again at position {i}); each step would update it twice. Pass each parameter once.", nameof(parameters));
            }
        }
        _parameters = list;
        _learningRate = CheckLearningRate(learningRate);
    }

    /// <summary>η, the step size: a positive finite number (checked here and in the constructor alike).</summary>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = CheckLearningRate(value);
    }

    /// <summary>The parameters this optimizer updates, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>t, the number of <see cref="Step"/> calls so far (the step that is running, inside <see cref="Update"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>One update of every parameter from its current gradient (gradients are left as they are).</summary>
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].Version++;
            Update(i, _parameters[i].Value, _parameters[i].Grad);
        }
    }

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>
    /// The rule: updates <paramref name="value"/> (parameter <paramref name="index"/> of <see cref="Parameters"/>) in
    /// place from <paramref name="gradient"/> and the state kept for that parameter; <see cref="StepCount"/> is
    /// already t = 1 on the first step. Must not allocate.
    /// </summary>
    protected abstract void Update(int index, Span<double> value, ReadOnlySpan<double> gradient);

    /// <summary>
    /// The shared check for a hyper-parameter of this optimizer: returns <paramref name="value"/> when it lies in
    /// the range, otherwise throws naming the optimizer, <paramref name="setting"/>, the value and the range.
    /// </summary>
    private protected double Check(string setting, string parameterName, double value, Setting.Range range) =>
        Setting.Check(GetType().Name, setting, parameterName, value, range);

    private double CheckLearningRate(double value) =>
        Check("learning rate", "learningRate", value, Setting.Range.Positive);
}
