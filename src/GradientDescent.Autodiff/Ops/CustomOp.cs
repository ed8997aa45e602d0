namespace GradientDescent.Autodiff;

/// <summary>
/// A user-defined operation: a forward function and its derivative rule. Applied with
/// <see cref="Ops.CustomScalar"/>, <see cref="Ops.CustomVector"/> or <see cref="Ops.CustomMatrix"/> (typed by the
/// output's kind) or <see cref="Ops.Custom(CustomOp, ReadOnlySpan{Node})"/> (an untyped node), it takes part in backward, gradient checking and
/// inspection like a built-in op (the role of <c>torch.autograd.Function</c>).
/// </summary>
/// <remarks>
/// Subclasses should be stateless or immutable: one instance may be applied many times, on many tapes.
/// <see cref="Forward"/> writes the output from the inputs; <see cref="Backward"/> adds g·∂out/∂input into each
/// input's gradient (add, never assign: an input used elsewhere already holds other contributions).
/// </remarks>
public abstract class CustomOp
{
    /// <summary>The name shown in errors, in <see cref="Tape.Describe"/> and in gradient-check reports.</summary>
    public abstract string Name { get; }

    /// <summary>The output's shape for inputs of these shapes; throw an <see cref="ArgumentException"/> to refuse them.</summary>
    public abstract Shape OutputShape(ReadOnlySpan<Shape> inputs);

    /// <summary>Computes <see cref="CustomOpContext.Output"/> from the inputs.</summary>
    public abstract void Forward(CustomOpContext context);

    /// <summary>Adds ∂L/∂inputₖ = Σ gⱼ ∂outⱼ/∂inputₖ into <see cref="CustomOpContext.InputGrad"/> for every input.</summary>
    public abstract void Backward(CustomOpContext context);

    /// <summary>
    /// The second-order half: records the same derivative rule as ops on the tape, for the create-graph backward
    /// (<see cref="Tape.Grad(Scalar, IReadOnlyList{Node}, bool)"/>), so that a gradient through this op is itself
    /// differentiable. Call <see cref="CustomOpRecordContext.AddInputGrad"/> with ∂L/∂inputₖ built from
    /// <see cref="CustomOpRecordContext.OutputGrad"/>, the inputs and the output, all nodes (e.g. for y = x³:
    /// <c>context.AddInputGrad(0, context.OutputGrad.AsVector() * (3 * Ops.Square(context.Input(0).AsVector())))</c>).
    /// </summary>
    /// <remarks>
    /// Without an override, create-graph backward through the op throws naming it: a higher derivative that silently
    /// treated the op's derivative as constant would be wrong. The first-order <see cref="Backward"/> is unaffected.
    /// </remarks>
    public virtual void RecordBackward(CustomOpRecordContext context) =>
        throw new NotSupportedException(
            $"Custom op {Name}: no second-order rule, so a create-graph backward (tape.Grad with createGraph: true, a Hessian, grad of grad) cannot differentiate through it. Override CustomOp.RecordBackward to record its derivative with Ops (context.AddInputGrad(k, ∂L/∂input k as nodes)); its first-order Backward alone would make every higher derivative through it wrong.");

    /// <summary>
    /// The forward-mode rule (optional): adds ẏ = Σₖ (∂out/∂inputₖ)·ẋₖ into <see cref="CustomOpContext.OutputTangent"/>
    /// (which starts at 0) from the inputs' tangents <see cref="CustomOpContext.InputTangent"/> (empty for an input that
    /// carries none: skip it). Forward mode (<see cref="Tape.Jvp(Node, ReadOnlySpan{Parameter}, ReadOnlySpan{double[]}, Span{double})"/>,
    /// <see cref="Functional.Jvp(Func{Tape, Vector, Vector}, double[], double[])"/>, <see cref="Functional.JacobianForward(Func{Tape, Vector, Vector}, double[])"/>)
    /// calls it; the default throws, naming the op: an op without a forward rule is an error there, never a silent 0.
    /// </summary>
    public virtual void Jvp(CustomOpContext context) =>
        throw new NotSupportedException(
            $"Custom op {Name}: has no forward-mode rule, so forward mode (Jvp, JacobianForward) cannot pass through it. Override CustomOp.Jvp to add ẏ = Σₖ ∂out/∂inputₖ·ẋₖ into context.OutputTangent, or use reverse mode (Backward).");

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>What a <see cref="CustomOp"/> sees of its node: input values and shapes, the output, and in backward the gradients.</summary>
public readonly ref struct CustomOpContext
{
    private readonly Tape _tape;
    private readonly int _node;

    internal CustomOpContext(Tape tape, int node)
    {
        _tape = tape;
        _node = node;
    }

    /// <summary>Number of inputs.</summary>
    public int InputCount => _tape.Nodes[_node].B;

    /// <summary>The values of input <paramref name="k"/>, row-major.</summary>
    public ReadOnlySpan<double> Input(int k) => _tape.ValueSpan(InputNode(k));

    /// <summary>The shape of input <paramref name="k"/>.</summary>
    public Shape InputShape(int k) => _tape.Nodes[InputNode(k)].Shape;

    /// <summary>The output values (written by <see cref="CustomOp.Forward"/>).</summary>
    public Span<double> Output => _tape.ValueSpan(_node);

    /// <summary>∂L/∂output (in <see cref="CustomOp.Backward"/> only).</summary>
    public ReadOnlySpan<double> OutputGrad => _tape.GradSpan(_node);

    /// <summary>Whether a gradient flows into input <paramref name="k"/>.</summary>
    public bool RequiresGrad(int k) => _tape.Nodes[InputNode(k)].RequiresGrad;

    /// <summary>∂L/∂input <paramref name="k"/>, to add into; empty when no gradient flows into that input.</summary>
    public Span<double> InputGrad(int k) => RequiresGrad(k) ? _tape.AddTarget(InputNode(k)) : Span<double>.Empty;

    /// <summary>
    /// The tangent ẋ of input <paramref name="k"/> (in <see cref="CustomOp.Jvp"/> only); empty when the input carries
    /// no tangent (it does not depend on a parameter being differentiated): its term is 0.
    /// </summary>
    public ReadOnlySpan<double> InputTangent(int k) => RequiresGrad(k) ? _tape.TangentSpan(InputNode(k)) : ReadOnlySpan<double>.Empty;

    /// <summary>The output's tangent ẏ, to add into (in <see cref="CustomOp.Jvp"/> only; it starts at 0).</summary>
    public Span<double> OutputTangent => _tape.TangentSpan(_node);

    private int InputNode(int k)
    {
        int count = InputCount;
        if ((uint)k >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"CustomOpContext: input {k} does not exist; the op has {count} inputs.");
        }
        return _tape.Operands[_tape.Nodes[_node].A + k];
    }
}

/// <summary>
/// What a <see cref="CustomOp"/> sees of its node in a create-graph backward (<see cref="CustomOp.RecordBackward"/>):
/// its inputs, output and ∂L/∂output as nodes, to build ∂L/∂input from with ops.
/// </summary>
public readonly struct CustomOpRecordContext
{
    private readonly RecordedGradients _grads;
    private readonly int _node;

    internal CustomOpRecordContext(RecordedGradients grads, int node)
    {
        _grads = grads;
        _node = node;
    }

    private Tape Tape => _grads.Tape;

    /// <summary>Number of inputs.</summary>
    public int InputCount => Tape.Nodes[_node].B;

    /// <summary>Input <paramref name="k"/> as a node (<see cref="Node.AsVector"/> etc. for the typed handle).</summary>
    public Node Input(int k) => new(Tape, InputNode(k));

    /// <summary>The op's output node.</summary>
    public Node Output => new(Tape, _node);

    /// <summary>∂L/∂output as a node of the output's shape (differentiable when the backward records with gradient).</summary>
    public Node OutputGrad => _grads.Of(_node);

    /// <summary>Whether a gradient flows into input <paramref name="k"/>.</summary>
    public bool RequiresGrad(int k) => _grads.Needs(_node, InputNode(k));

    /// <summary>Adds <paramref name="gradient"/> (a node of input <paramref name="k"/>'s shape) to ∂L/∂input k; ignored when that input takes no gradient.</summary>
    public void AddInputGrad(int k, Node gradient)
    {
        int input = InputNode(k);
        int g = gradient.Resolve(Tape, "CustomOpRecordContext.AddInputGrad");
        Shape expected = Tape.Nodes[input].Shape, got = Tape.Nodes[g].Shape;
        if (expected.Length != got.Length || expected.Rows != got.Rows && expected.Kind == got.Kind)
        {
            throw new ArgumentException(
                $"Custom op {CustomOps.Of(Tape, Tape.Nodes[_node]).Name}: RecordBackward gave input {k} ({expected}) a gradient of shape {got}; ∂L/∂input must have the input's shape.",
                nameof(gradient));
        }
        if (!Tape.Nodes[input].RequiresGrad) return;
        _grads.Add(input, gradient);
    }

    private int InputNode(int k)
    {
        int count = InputCount;
        if ((uint)k >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"CustomOpRecordContext: input {k} does not exist; the op has {count} inputs.");
        }
        return Tape.Operands[Tape.Nodes[_node].A + k];
    }
}

public static partial class Ops
{
    /// <summary>
    /// Applies a user-defined op whose output is a scalar (see <see cref="Custom"/>); scalars, vectors and matrices
    /// pass as inputs directly: <c>Scalar y = Ops.CustomScalar(op, x, w)</c>.
    /// Throws, recording nothing, if the op's <see cref="CustomOp.OutputShape"/> is not a scalar.
    /// </summary>
    public static Scalar CustomScalar(CustomOp op, params ReadOnlySpan<Node> inputs) => new(CustomOps.Apply(op, inputs, ShapeKind.Scalar));

    /// <summary>Applies a user-defined op whose output is a vector (see <see cref="CustomScalar"/>).</summary>
    public static Vector CustomVector(CustomOp op, params ReadOnlySpan<Node> inputs) => new(CustomOps.Apply(op, inputs, ShapeKind.Vector));

    /// <summary>Applies a user-defined op whose output is a matrix (see <see cref="CustomScalar"/>).</summary>
    public static Matrix CustomMatrix(CustomOp op, params ReadOnlySpan<Node> inputs) => new(CustomOps.Apply(op, inputs, ShapeKind.Matrix));
}

/// <summary>Recording and differentiating <see cref="CustomOp"/> nodes.</summary>
internal static class CustomOps
{
    internal static Node Apply(CustomOp op, ReadOnlySpan<Node> inputs, ShapeKind? expected = null)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (inputs.Length == 0) throw new ArgumentException($"Custom op {op.Name}: needs at least one input.", nameof(inputs));
        Tape t = inputs[0].Tape;
        Span<Shape> shapes = inputs.Length <= 8 ? stackalloc Shape[inputs.Length] : new Shape[inputs.Length];
        int start = t.Operands.Count;
        NodeFlags flags = NodeFlags.None;
        for (int k = 0; k < inputs.Length; k++)
        {
            int ik = inputs[k].Resolve(t, op.Name);
            shapes[k] = t.Nodes[ik].Shape;
            flags |= t.GradFlag(ik);
        }
        Shape shape = op.OutputShape(shapes);
        if (shape.Rows <= 0 || shape.Cols <= 0 || (shape.Kind != ShapeKind.Matrix && shape.Cols != 1) || (shape.Kind == ShapeKind.Scalar && shape.Rows != 1))
        {
            throw new InvalidOperationException($"Custom op {op.Name}: OutputShape returned {shape} (rows {shape.Rows}, cols {shape.Cols}), which is not a valid shape; use Shape.Scalar, Shape.Vector(n) or Shape.Matrix(r, c).");
        }
        if (expected is { } kind && shape.Kind != kind)
        {
            throw new InvalidOperationException(
                $"Custom op {op.Name}: applied as Ops.Custom{kind}, but its output has shape {shape}; use Ops.Custom{shape.Kind} (or Ops.Custom for an untyped node).");
        }
        foreach (var input in inputs) t.Operands.Add(input.Index);
        int slot = t.Objects.Count;
        t.Objects.Add(op);
        int valueCount = t.ValueCount;
        int i = t.Append(OpKind.Custom, start, inputs.Length, shape, flags, slot);
        try
        {
            op.Forward(new CustomOpContext(t, i));
        }
        catch
        {
            // Nothing half-recorded: the tape is as it was before the call.
            t.Truncate(i, valueCount, start, slot);
            throw;
        }
        return new Node(t, t.Checked(i));
    }

    /// <summary>The op object of a custom node.</summary>
    internal static CustomOp Of(Tape t, in NodeRecord n) => (CustomOp)t.Objects[(int)n.Aux];

    internal static void Backward(Tape t, int i, ref NodeRecord n) => Of(t, n).Backward(new CustomOpContext(t, i));

    internal static void Record(RecordedGradients r, int i, in NodeRecord n) => Of(r.Tape, n).RecordBackward(new CustomOpRecordContext(r, i));

    /// <summary>Forward rule: the op's own <see cref="CustomOp.Jvp"/>, into a tangent cleared first.</summary>
    internal static void Tangent(Tape t, int i, ref NodeRecord n)
    {
        t.TangentSpan(i).Clear();
        Of(t, n).Jvp(new CustomOpContext(t, i));
    }
}
