namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// One step of a <see cref="BackwardTrace"/>: a node whose derivative rule ran, the gradient ∂L/∂node it started
/// from, and what the rule added into each input's gradient (<see cref="Terms"/>).
/// </summary>
public sealed class TraceStep
{
    internal TraceStep(int node, string label, string? name, OpKind op, Shape shape, double[] value, double[] upstream, TraceTerm[] terms, string leafRule)
    {
        LeafRule = leafRule;
        Node = node;
        Label = label;
        Name = name;
        Op = op;
        Shape = shape;
        Value = value;
        Upstream = upstream;
        Terms = terms;
    }

    /// <summary>The node's id on its tape (<see cref="Autodiff.Node.Id"/>; <c>%id</c> in <see cref="Tape.Format"/>).</summary>
    public int Node { get; }

    /// <summary>The node as <see cref="Tape.Format"/> labels it: <c>z = Sigmoid(%4)</c>, <c>Parameter w</c>.</summary>
    public string Label { get; }

    /// <summary>The name given with <c>Named</c>, or null.</summary>
    public string? Name { get; }

    /// <summary>The operation that produced the node.</summary>
    public OpKind Op { get; }

    /// <summary>The node's shape.</summary>
    public Shape Shape { get; }

    /// <summary>The node's value, row-major.</summary>
    public IReadOnlyList<double> Value { get; }

    /// <summary>
    /// ∂L/∂node, row-major, complete when the step runs: every node that uses this one came earlier in the trace. For
    /// the output it is the seed (1 for a loss).
    /// </summary>
    public IReadOnlyList<double> Upstream { get; }

    /// <summary>
    /// One term per input that takes a gradient, in input order (inputs that take none, such as constants, have no
    /// term). Empty for a parameter: its step adds <see cref="Upstream"/> into <see cref="Parameter.Grad"/>.
    /// </summary>
    public IReadOnlyList<TraceTerm> Terms { get; }

    /// <summary>For a parameter, what its step does ("∂L/∂w is added into w.Grad"); empty for other nodes.</summary>
    internal string LeafRule { get; }
}
