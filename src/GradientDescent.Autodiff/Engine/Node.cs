namespace GradientDescent.Autodiff;

/// <summary>
/// An untyped handle to a node of a <see cref="Tape"/>: what <see cref="Scalar"/>, <see cref="Vector"/> and
/// <see cref="Matrix"/> share, and what custom ops and the inspection API take.
/// </summary>
/// <remarks>16 bytes: the tape, the node's index, and the tape generation it was recorded in.</remarks>
public readonly struct Node : IEquatable<Node>
{
    private readonly Tape? _tape;
    internal readonly int Index;
    private readonly int _generation;

    internal Node(Tape tape, int index)
    {
        _tape = tape;
        Index = index;
        _generation = tape.Generation;
    }

    /// <summary>
    /// A handle to node <paramref name="index"/> of <paramref name="tape"/> whose current generation the caller has just
    /// checked to be <paramref name="generation"/> (the scalar fast paths: one field read fewer per op).
    /// </summary>
    internal Node(Tape tape, int index, int generation)
    {
        _tape = tape;
        Index = index;
        _generation = generation;
    }

    /// <summary>The tape this node was recorded on.</summary>
    public Tape Tape => _tape ?? throw new InvalidOperationException("Node: this is a default (uninitialised) handle; create nodes through a Tape.");

    /// <summary>The node's position on its tape (nodes are numbered in execution order from 0).</summary>
    public int Id => Index;

    /// <summary>The node's shape.</summary>
    public Shape Shape => Tape.Nodes[Resolve("Shape")].Shape;

    /// <summary>The operation that produced the node.</summary>
    public OpKind Op => Tape.Nodes[Resolve("Op")].Op;

    /// <summary>Whether a gradient flows into the node.</summary>
    public bool RequiresGrad => Tape.Nodes[Resolve("RequiresGrad")].RequiresGrad;

    /// <summary>A copy of the node's value, row-major.</summary>
    public double[] ToArray() => Tape.ValueSpan(Resolve("Value")).ToArray();

    /// <summary>
    /// A copy of ∂L/∂node from the last backward pass, row-major (zeros if no gradient flowed into the node).
    /// </summary>
    public double[] GradToArray()
    {
        int i = Resolve("Grad");
        var result = new double[Tape.Nodes[i].Length];
        Tape.CopyGrad(i, result);
        return result;
    }

    /// <summary>Backward from this node, which must be a scalar (see <see cref="Tape.Backward(Scalar, bool)"/>).</summary>
    public void Backward(bool retainGraph = false)
    {
        var s = Shape;
        if (s.Kind != ShapeKind.Scalar)
        {
            throw new InvalidOperationException(
                $"Backward: the output {Op} has shape {s}, not a scalar loss; reduce it to a scalar first (Ops.Sum, Ops.Mean or a Loss), or pass a seed gradient of {s.Length} elements: tape.Backward(output, seed).");
        }
        Tape.Backward(AsScalar(), retainGraph);
    }

    /// <summary>The node as a scalar; throws if it is not one.</summary>
    public Scalar AsScalar() => Shape.Kind == ShapeKind.Scalar ? new Scalar(this) : throw KindError("scalar");

    /// <summary>The node as a vector; throws if it is not one.</summary>
    public Vector AsVector() => Shape.Kind == ShapeKind.Vector ? new Vector(this) : throw KindError("vector");

    /// <summary>The node as a matrix; throws if it is not one.</summary>
    public Matrix AsMatrix() => Shape.Kind == ShapeKind.Matrix ? new Matrix(this) : throw KindError("matrix");

    private InvalidCastException KindError(string wanted) =>
        new($"Node: node {Index} ({Op}) has shape {Shape}, not a {wanted}.");

    /// <summary>Checks the handle against <paramref name="tape"/> and returns its index (<paramref name="op"/> names the caller in errors).</summary>
    internal int Resolve(Tape tape, string op) => tape.Resolve(_tape, Index, _generation, op);

    /// <inheritdoc cref="Resolve(Tape, string)"/>
    internal int Resolve(Tape tape, OpKind op) => tape.Resolve(_tape, Index, _generation, op);

    /// <summary>Checks the handle against its own tape and returns its index.</summary>
    internal int Resolve(string op) => Tape.Resolve(_tape, Index, _generation, op);

    internal Tape? TapeOrNull => _tape;

    internal int Generation => _generation;

    /// <inheritdoc/>
    public bool Equals(Node other) => ReferenceEquals(_tape, other._tape) && Index == other.Index && _generation == other._generation;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Node other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_tape, Index, _generation);

    /// <summary>Whether two handles name the same node.</summary>
    public static bool operator ==(Node left, Node right) => left.Equals(right);

    /// <summary>Whether two handles name different nodes.</summary>
    public static bool operator !=(Node left, Node right) => !left.Equals(right);

    /// <summary>"node 12 (Sigmoid, [3])".</summary>
    public override string ToString() => _tape is null ? "node (default)" : $"node {Index} ({Op}, {Shape})";
}
