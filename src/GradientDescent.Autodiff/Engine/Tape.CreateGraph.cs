namespace GradientDescent.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Node ranges [Start, End) recorded by <see cref="Grad(Scalar, IReadOnlyList{Node}, bool)"/> without
    /// create-graph: gradients that are plain values, so that differentiating through them can be reported as the
    /// mistake it is instead of giving a silently partial derivative. Null until the first such call.
    /// </summary>
    private List<(int Start, int End)>? _plainGradients;

    /// <summary>The tape generation <see cref="_plainGradients"/> belongs to.</summary>
    private int _plainGradientsGeneration;

    /// <summary>
    /// The plain-gradient ranges recorded since the last <see cref="Clear"/>, or null. Clear forgets them by moving to
    /// a new generation rather than by a call of its own: one more statement in Clear slowed deep_chain's scalar loop
    /// by about 4 ns per node forward and 1 ns backward (measured 16.0 + 8.8 against 11.8 + 7.6 ns, AMD EPYC).
    /// </summary>
    private List<(int Start, int End)>? PlainGradients => _plainGradientsGeneration == _generation ? _plainGradients : null;

    /// <summary>
    /// The gradients ∂output/∂input for each of <paramref name="inputs"/>, as nodes of this tape (the role of
    /// PyTorch's <c>torch.autograd.grad(output, inputs, create_graph=…)</c>).
    /// </summary>
    /// <remarks>
    /// <para>This is the create-graph backward: a loop separate from <see cref="Backward(Scalar, bool)"/> that walks
    /// the nodes reached from <paramref name="output"/> in reverse and, for each, records its derivative rule as ops
    /// on this tape. The gradient of every node is itself a node, so with <paramref name="createGraph"/> the result
    /// can be differentiated again (grad of grad, to any order), passed to <see cref="Backward(Scalar, bool)"/> for a
    /// Hessian-vector product, or used in a loss (a gradient penalty).</para>
    /// <para>Differences from <see cref="Backward(Scalar, bool)"/>, as in PyTorch's <c>torch.autograd.grad</c>:
    /// nothing is added into <see cref="Parameter.Grad"/>; the graph is never freed (PyTorch's
    /// <c>retain_graph</c> defaults to <c>create_graph</c>; here it is always kept, the tape being cleared by
    /// <see cref="Clear"/>); an input the output does not depend on gets a zero gradient (PyTorch's
    /// <c>allow_unused=True, materialize_grads=True</c>, JAX's answer). Without <paramref name="createGraph"/> the
    /// rules are recorded under <see cref="NoGrad"/>: the gradients are values, and differentiating through one of
    /// them is an error that names the fix.</para>
    /// <para>Cost: every rule records a few nodes, so a create-graph backward takes a few times the memory and time of
    /// the fast one; the fast backward itself is unchanged. Every op has a recorded rule beside its numeric rule, in
    /// its family file; a <see cref="CustomOp"/> needs <see cref="CustomOp.RecordBackward"/>, and without it this
    /// throws naming the op (never a silently wrong zero).</para>
    /// </remarks>
    /// <param name="output">A scalar node of this tape; its own gradient is seeded with 1.</param>
    /// <param name="inputs">Nodes of this tape that require a gradient (parameter leaves, or any node on the way).</param>
    /// <param name="createGraph">Record the rules with gradient, so that the result is differentiable.</param>
    /// <returns>One gradient node per input, of the input's shape.</returns>
    public Node[] Grad(Scalar output, IReadOnlyList<Node> inputs, bool createGraph = false)
    {
        int o = output.Handle.Resolve(this, "Grad");
        return GradCore(o, -1, inputs, createGraph);
    }

    /// <summary>
    /// The vector-Jacobian product ∂⟨seed, output⟩/∂input for each of <paramref name="inputs"/>, for an output of any
    /// shape and a seed node of its shape (PyTorch's <c>grad_outputs</c>). With <paramref name="createGraph"/> the
    /// result is differentiable in the inputs and in the seed. See <see cref="Grad(Scalar, IReadOnlyList{Node}, bool)"/>.
    /// </summary>
    public Node[] Grad(Node output, Node seed, IReadOnlyList<Node> inputs, bool createGraph = false)
    {
        int o = output.Resolve(this, "Grad");
        int s = seed.Resolve(this, "Grad");
        if (Nodes[s].Shape.Length != Nodes[o].Shape.Length || Nodes[s].Rows != Nodes[o].Rows)
        {
            throw new ArgumentException(
                $"Grad: the seed has shape {Nodes[s].Shape} but the output {Nodes[o].Op} has shape {Nodes[o].Shape}; pass a seed node of the output's shape.",
                nameof(seed));
        }
        return GradCore(o, s, inputs, createGraph);
    }

    /// <summary>dy/dx as a scalar node (see <see cref="Grad(Scalar, IReadOnlyList{Node}, bool)"/>): <c>tape.Grad(tape.Grad(y, x, true), x)</c> is d²y/dx².</summary>
    public Scalar Grad(Scalar output, Scalar input, bool createGraph = false) => Grad(output, [input.Handle], createGraph)[0].AsScalar();

    /// <summary>∂y/∂x as a vector node (see <see cref="Grad(Scalar, IReadOnlyList{Node}, bool)"/>).</summary>
    public Vector Grad(Scalar output, Vector input, bool createGraph = false) => Grad(output, [input.Handle], createGraph)[0].AsVector();

    /// <summary>∂y/∂X as a matrix node (see <see cref="Grad(Scalar, IReadOnlyList{Node}, bool)"/>).</summary>
    public Matrix Grad(Scalar output, Matrix input, bool createGraph = false) => Grad(output, [input.Handle], createGraph)[0].AsMatrix();

    private Node[] GradCore(int output, int seed, IReadOnlyList<Node> inputs, bool createGraph)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_freed)
        {
            throw new InvalidOperationException(
                "Grad: the graph was freed by an earlier Backward; pass retainGraph: true to that Backward, or Clear() the tape and record it again.");
        }
        VerifyParameterVersions(output, "Grad");
        var wrt = new int[inputs.Count];
        int lowest = output;
        for (int k = 0; k < wrt.Length; k++)
        {
            int w = inputs[k].Resolve(this, "Grad");
            if (!Nodes[w].RequiresGrad)
            {
                throw new ArgumentException(
                    $"Grad: input {k} (node {w}, {Nodes[w].Op}, {Nodes[w].Shape}) does not require a gradient (constant data, a detached node or one recorded under NoGrad), so no derivative flows into it; differentiate with respect to tape.Use(parameter) or a node computed from one.",
                    nameof(inputs));
            }
            wrt[k] = w;
            lowest = Math.Min(lowest, w);
        }

        int nodes = Count, values = ValueCount, operands = Operands.Count, objects = Objects.Count;
        NoGradScope? scope = createGraph ? null : NoGrad();
        try
        {
            var grads = new RecordedGradients(this, output);
            if (!Nodes[output].RequiresGrad)
            {
                // The output depends on none of the inputs: every derivative is 0, unless it was built from a
                // gradient computed without create-graph, which is the mistake to report.
                ThrowIfThroughPlainGradient(output, "Grad");
            }
            else
            {
                grads.Seed(seed >= 0 ? new Node(this, seed) : Ones(Nodes[output].Shape));
                for (int i = output; i >= lowest; i--)
                {
                    Node g = grads.Of(i);
                    if (g.TapeOrNull is null) continue;
                    RecordRule(grads, i, g);
                }
            }
            var result = new Node[wrt.Length];
            for (int k = 0; k < wrt.Length; k++)
            {
                Node g = wrt[k] <= output ? grads.Of(wrt[k]) : default;
                result[k] = g.TapeOrNull is null ? grads.Zeros(Nodes[wrt[k]].Shape) : g;
            }
            if (!createGraph)
            {
                if (_plainGradientsGeneration != _generation) (_plainGradients ??= []).Clear();
                _plainGradientsGeneration = _generation;
                (_plainGradients ??= []).Add((nodes, Count));
            }
            return result;
        }
        catch
        {
            // Nothing half-recorded: the tape is as it was before the call.
            Truncate(nodes, values, operands, objects);
            throw;
        }
        finally
        {
            scope?.Dispose();
        }
    }

    private Node Ones(Shape shape)
    {
        var one = new double[shape.Length];
        Array.Fill(one, 1.0);
        return RecordedGradients.Constant(this, shape, one);
    }

    /// <summary>Records node <paramref name="i"/>'s derivative rule as ops: the recorded twin of <see cref="Propagate"/>.</summary>
    private void RecordRule(RecordedGradients r, int i, Node g)
    {
        NodeRecord n = Nodes[i];
        switch (n.Op)
        {
            case OpKind.Parameter:
            case OpKind.Constant:
            case OpKind.Detach:
                // Leaves end the walk; a detached node takes no gradient (it never requires one).
                break;
            case OpKind.Element:
            case OpKind.Row:
            case OpKind.Reshape:
            case OpKind.Slice:
                Views.RecordViewBackward(r, i, n, g);
                break;
            case >= OpKind.Add and <= OpKind.Minimum:
                Arithmetic.Record(r, i, n, g);
                break;
            case >= OpKind.Negate and <= OpKind.MinConstant:
                Elementwise.Record(r, i, n, g);
                break;
            case OpKind.Dot:
            case OpKind.MatVec:
            case OpKind.MatMul:
            case OpKind.Transpose:
                LinearAlgebra.Record(r, i, n, g);
                break;
            case OpKind.Sum:
            case OpKind.Mean:
            case OpKind.SumAxis:
            case OpKind.MeanAxis:
            case OpKind.LogSumExp:
                Reductions.Record(r, i, n, g);
                break;
            case OpKind.Concat:
            case OpKind.Stack:
                Views.RecordConcatBackward(r, i, n, g);
                break;
            case OpKind.Column:
            case OpKind.Columns:
                Views.RecordColumnsBackward(r, i, n, g);
                break;
            case OpKind.Softmax:
            case OpKind.LogSoftmax:
                SoftmaxOps.Record(r, i, n, g);
                break;
            case OpKind.Variance:
            case OpKind.StandardDeviation:
            case OpKind.VarianceAxis:
            case OpKind.StandardDeviationAxis:
                Statistics.Record(r, i, n, g);
                break;
            case OpKind.BinaryCrossEntropy:
            case OpKind.BinaryCrossEntropyWithLogits:
                BinaryCrossEntropyOps.Record(r, i, n, g);
                break;
            case OpKind.SoftmaxCrossEntropy:
                SoftmaxCrossEntropyOps.Record(r, i, n, g);
                break;
            case >= OpKind.LinearRegressionLoss and <= OpKind.SoftmaxRegressionLoss:
                ModelLosses.Record(r, i, n, g);
                break;
            case OpKind.Custom:
                CustomOps.Record(r, i, n);
                break;
            default:
                // A missing rule is an error, never a silent zero.
                throw new InvalidOperationException($"Grad: no recorded (create-graph) derivative rule for {n.Op} (node {i}).");
        }
    }

    /// <summary>Whether <paramref name="op"/> has a recorded rule in <see cref="RecordRule"/> (every kind does; a test enumerates them).</summary>
    internal static bool HasRecordedRule(OpKind op) => Enum.IsDefined(op);

    /// <summary>Whether node <paramref name="i"/> is part of a gradient computed without create-graph.</summary>
    private bool IsPlainGradient(int i)
    {
        if (PlainGradients is not { } ranges) return false;
        foreach (var (start, end) in ranges)
        {
            if (i >= start && i < end) return true;
        }
        return false;
    }

    /// <summary>
    /// On the error path of a backward pass whose output requires no gradient: throws if the output was computed from
    /// a gradient that <see cref="Grad(Scalar, IReadOnlyList{Node}, bool)"/> returned without create-graph, naming
    /// the fix. Walks the output's ancestors (cost irrelevant: it runs only when differentiation is already impossible).
    /// </summary>
    internal void ThrowIfThroughPlainGradient(int output, string caller)
    {
        if (PlainGradients is not { Count: > 0 }) return;
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        stack.Push(output);
        while (stack.Count > 0)
        {
            int i = stack.Pop();
            if (!seen.Add(i)) continue;
            if (IsPlainGradient(i)) throw PlainGradientError(caller, output, i);
            if (Nodes[i].Op == OpKind.Detach) continue; // detached on purpose: a constant
            foreach (int input in Describe(i).Inputs) stack.Push(input);
        }
    }

    private InvalidOperationException PlainGradientError(string caller, int output, int gradientNode) => new(
        $"{caller}: the output (node {output}, {Nodes[output].Op}) is computed from a gradient (node {gradientNode}, {Nodes[gradientNode].Op}) that tape.Grad returned without create-graph, which is a plain value: differentiating through it would give a wrong (partial or zero) second derivative. Compute that gradient with tape.Grad(loss, inputs, createGraph: true) (or, to use it as a constant, pass it through Ops.Detach).");

    /// <summary>Throws if node <paramref name="input"/> (which takes no gradient) is part of a plain gradient that a rule is differentiating through.</summary>
    internal void ThrowIfPlainGradientInput(int node, int input)
    {
        if (IsPlainGradient(input)) throw PlainGradientError("Grad", node, input);
    }
}

/// <summary>
/// The gradient nodes of one create-graph backward pass, and the helpers the op families' recorded rules are written
/// with: every call records ops on the tape, so every gradient is a differentiable node.
/// </summary>
internal sealed class RecordedGradients
{
    private readonly Tape _tape;
    private readonly int[] _grads;

    internal RecordedGradients(Tape tape, int output)
    {
        _tape = tape;
        _grads = new int[output + 1];
        Array.Fill(_grads, -1);
        Output = output;
    }

    internal int Output { get; }

    internal Tape Tape => _tape;

    internal void Seed(Node seed) => _grads[Output] = seed.Index;

    /// <summary>The gradient node of node <paramref name="i"/>, or a default handle when none has reached it.</summary>
    internal Node Of(int i) => _grads[i] < 0 ? default : new Node(_tape, _grads[i]);

    /// <summary>A handle to node <paramref name="i"/> (an input or the output of the rule being recorded).</summary>
    internal Node At(int i) => new(_tape, i);

    /// <summary>The node's record (shape, op, constant).</summary>
    internal ref readonly NodeRecord Record(int i) => ref _tape.Nodes[i];

    /// <summary>Whether a gradient must flow into <paramref name="input"/> of <paramref name="node"/>.</summary>
    internal bool Needs(int node, int input)
    {
        if (_tape.Nodes[input].RequiresGrad) return true;
        _tape.ThrowIfPlainGradientInput(node, input);
        return false;
    }

    /// <summary>
    /// Adds a contribution to ∂L/∂input (an Add node after the first): gradients accumulate. The contribution must
    /// have the input's length; its kind is fitted by a reshape (a scalar into a one-element vector).
    /// </summary>
    internal void Add(int input, Node contribution)
    {
        Shape shape = _tape.Nodes[input].Shape;
        Shape cs = _tape.Nodes[contribution.Index].Shape;
        if (cs != shape)
        {
            if (cs.Length != shape.Length)
            {
                throw new InvalidOperationException(
                    $"Grad: a recorded rule gave node {input} ({_tape.Nodes[input].Op}, {shape}) a contribution of shape {cs}; this is a bug in the rule.");
            }
            contribution = Views.Reshape(contribution, shape);
        }
        int existing = _grads[input];
        _grads[input] = existing < 0 ? contribution.Index : Arithmetic.Binary(OpKind.Add, new Node(_tape, existing), contribution).Index;
    }

    /// <summary>
    /// Adds an output-shaped contribution to an operand that was broadcast: the dual of broadcasting is a sum over
    /// the broadcast positions (all of them for a one-element operand, the rows for a row vector).
    /// </summary>
    internal void AddReduced(int input, Node contribution)
    {
        Shape shape = _tape.Nodes[input].Shape;
        int length = _tape.Nodes[contribution.Index].Length;
        if (shape.Length == length) Add(input, contribution);
        else if (shape.Length == 1) Add(input, Reductions.Sum(contribution, mean: false));
        else Add(input, Reductions.SumAxis(contribution, 0, mean: false));
    }

    // ------------------------------------------------------------------ building blocks (each records ops)

    /// <summary>A constant node of <paramref name="shape"/> holding <paramref name="data"/> (owned by the tape from now on).</summary>
    internal static Node Constant(Tape t, Shape shape, double[] data) => shape.Kind switch
    {
        ShapeKind.Scalar => t.Constant(data[0]),
        ShapeKind.Vector => t.Constant(data),
        _ => t.Constant(data, shape.Rows, shape.Cols),
    };

    internal Node Constant(Shape shape, double[] data) => Constant(_tape, shape, data);

    internal Node Zeros(Shape shape) => Constant(shape, new double[shape.Length]);

    /// <summary>A constant number, as a scalar node.</summary>
    internal Node Number(double c) => _tape.Constant(c);

    /// <summary>
    /// A declared constant: f applied to each value of node <paramref name="x"/> (a derivative that is piecewise
    /// constant, such as relu′ or the sign of |x|′, whose own derivative is 0).
    /// </summary>
    internal Node Mask(int x, Func<double, double> f)
    {
        ReadOnlySpan<double> v = _tape.ValueSpan(x);
        var data = new double[v.Length];
        for (int k = 0; k < data.Length; k++) data[k] = f(v[k]);
        return Constant(_tape.Nodes[x].Shape, data);
    }

    internal static Node Plus(Node a, Node b) => Arithmetic.Binary(OpKind.Add, a, b);
    internal static Node Minus(Node a, Node b) => Arithmetic.Binary(OpKind.Subtract, a, b);
    internal static Node Times(Node a, Node b) => Arithmetic.Binary(OpKind.Multiply, a, b);
    internal static Node Over(Node a, Node b) => Arithmetic.Binary(OpKind.Divide, a, b);
    internal static Node Negate(Node x) => Elementwise.Unary(OpKind.Negate, x);
    internal static Node Scale(Node x, double c) => Elementwise.Unary(OpKind.MultiplyConstant, x, c);
    internal static Node Shift(Node x, double c) => Elementwise.Unary(OpKind.AddConstant, x, c);
    internal static Node Unary(OpKind op, Node x, double c = 0) => Elementwise.Unary(op, x, c);

    /// <summary>x / c for a constant c, as a true division (so it rounds as the numeric rule's g/n does).</summary>
    internal Node Over(Node x, double c) => Arithmetic.Binary(OpKind.Divide, x, Number(c));

    /// <summary>A scalar node broadcast to <paramref name="shape"/> (0 + s): its dual is the sum.</summary>
    internal Node Broadcast(Node s, Shape shape) => Plus(Zeros(shape), s);

    /// <summary>A vector g of length r as the columns of an r × <paramref name="cols"/> matrix (Gᵢⱼ = gᵢ): g·1ᵀ.</summary>
    internal Node ColumnBroadcast(Node g, int cols)
    {
        int rows = _tape.Nodes[g.Index].Length;
        var ones = new double[cols];
        Array.Fill(ones, 1.0);
        return LinearAlgebra.MatMul(Views.Reshape(g, Shape.Matrix(rows, 1)), Constant(Shape.Matrix(1, cols), ones));
    }

    /// <summary>The node's elements as a vector, row by row (a view).</summary>
    internal Node Flatten(Node x)
    {
        Shape s = _tape.Nodes[x.Index].Shape;
        return s.Kind == ShapeKind.Vector ? x : Views.Reshape(x, Shape.Vector(s.Length));
    }

    /// <summary>
    /// A node of <paramref name="shape"/> that is 0 everywhere but for the elements of <paramref name="part"/> from
    /// flat position <paramref name="offset"/> on: the dual of taking a contiguous part (an element, a row, a slice),
    /// "slice is pad-with-zeros in reverse".
    /// </summary>
    internal Node Pad(Node part, int offset, Shape shape)
    {
        Node flat = Flatten(part);
        int length = _tape.Nodes[flat.Index].Length, after = shape.Length - offset - length;
        Node whole;
        if (offset == 0 && after == 0)
        {
            whole = flat;
        }
        else
        {
            var pieces = new List<Vector>(3);
            if (offset > 0) pieces.Add(new Vector(Zeros(Shape.Vector(offset))));
            pieces.Add(new Vector(flat));
            if (after > 0) pieces.Add(new Vector(Zeros(Shape.Vector(after))));
            whole = Views.Concat(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pieces));
        }
        return _tape.Nodes[whole.Index].Shape == shape ? whole : Views.Reshape(whole, shape);
    }
}
