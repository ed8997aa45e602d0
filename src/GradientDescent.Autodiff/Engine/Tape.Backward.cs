using System.Numerics.Tensors;

namespace GradientDescent.Autodiff;

public sealed partial class Tape
{
    private int _backwardGeneration = -1;

    /// <summary>The node count when the last backward pass ran: nodes recorded after it (on a retained graph) got no gradient from it.</summary>
    private int _backwardCount;

    /// <summary>Whether a backward pass has run since the tape was last cleared, so ∂L/∂node can be read (for pictures and traces).</summary>
    internal bool HasGradients => _backwardGeneration == Generation;

    /// <summary>
    /// Computes ∂loss/∂node for every node recorded before <paramref name="loss"/>, and adds ∂loss/∂p into
    /// <see cref="Parameter.Grad"/> of every parameter used (gradients accumulate until zeroed).
    /// </summary>
    /// <param name="loss">A scalar node of this tape; its own gradient is seeded with 1.</param>
    /// <param name="retainGraph">
    /// Keep the graph usable for another backward pass or more recording. Without it the graph is freed: recording
    /// or a second backward throws until <see cref="Clear"/>.
    /// </param>
    public void Backward(Scalar loss, bool retainGraph = false)
    {
        int i = loss.Handle.Resolve(this, "Backward");
        Span<double> one = [1.0];
        var none = default(NoObserver);
        Run(i, one, retainGraph, ref none);
    }

    /// <summary>
    /// <see cref="Backward(Scalar, bool)"/> with an observer told of every node whose rule runs, just before it runs
    /// (the backward trace). Everything else — which rules run, in which order, on which arrays — is the plain pass.
    /// </summary>
    internal void Backward<TObserver>(Scalar loss, bool retainGraph, ref TObserver observer)
        where TObserver : struct, IBackwardObserver
    {
        int i = loss.Handle.Resolve(this, "Backward");
        Span<double> one = [1.0];
        Run(i, one, retainGraph, ref observer);
    }

    /// <summary>Backward from any node, with an explicit seed gradient ∂L/∂output of the output's length.</summary>
    public void Backward(Node output, ReadOnlySpan<double> seed, bool retainGraph = false)
    {
        int i = output.Resolve(this, "Backward");
        ref readonly NodeRecord n = ref Nodes[i];
        if (seed.Length != n.Length)
        {
            throw new ArgumentException(
                $"Backward: the seed gradient has {seed.Length} elements but the output {n.Op} has shape {n.Shape} ({n.Length} elements); pass one seed value per output element.",
                nameof(seed));
        }
        var none = default(NoObserver);
        Run(i, seed, retainGraph, ref none);
    }

    /// <summary>The observer of the plain backward pass: it does nothing, and its calls compile to nothing.</summary>
    private struct NoObserver : IBackwardObserver
    {
        public readonly void Start(Tape tape, int output) { }
        public readonly void BeforeRule(Tape tape, int node) { }
    }

    /// <remarks>
    /// Generic over a struct observer so that the JIT compiles one specialised copy of the loop per observer type:
    /// in the copy for <see cref="NoObserver"/> the calls are empty and vanish, so the plain pass costs what it did
    /// before observers existed. A class or interface-typed observer would cost a virtual call per node.
    /// </remarks>
    private void Run<TObserver>(int output, ReadOnlySpan<double> seed, bool retainGraph, ref TObserver observer)
        where TObserver : struct, IBackwardObserver
    {
        if (_freed)
        {
            throw new InvalidOperationException(
                "Backward: the graph was already freed by an earlier Backward; pass retainGraph: true to the first Backward to differentiate the same graph twice, or Clear() the tape and record it again.");
        }
        ref readonly NodeRecord o = ref Nodes[output];
        if (!o.RequiresGrad)
        {
            ThrowIfThroughPlainGradient(output, "Backward");
            throw new InvalidOperationException(
                $"Backward: the output ({o.Op}, node {output}) does not depend on any parameter, or was detached or recorded under NoGrad; there is nothing to differentiate. Use tape.Use(parameter) for the values you want gradients of.");
        }
        VerifyParameterVersions(output, "Backward");
        if (DetectAnomalies) VerifyConstants(output);
        // No clearing of the gradient arena: a slot is written by the first contribution to it (or zeroed on first
        // touch by a rule that only adds), so a pass costs nothing for the nodes it does not reach. Only marks left by
        // an earlier pass over this same recording (retainGraph) or by a failed pass need clearing.
        if (Grads.Length < ValueCount) Grads = new double[Values.Length];
        if (_reachedMarksLeft || _backwardGeneration == Generation) ClearReachedMarks();
        // The plain pass (no observer, no anomaly checks) keeps uniform gradients as one number; a traced or checked
        // pass sees every gradient written out.
        _fast = typeof(TObserver) == typeof(NoObserver) && !DetectAnomalies;
        // Stored into the fresh slot, or added where the slot already holds something (a view output: its root is zeroed
        // first, so the root's other elements read 0).
        Span<double> seeded = GradTarget(output, out bool assign);
        if (assign) seed.CopyTo(seeded);
        else TensorPrimitives.Add(seeded, seed, seeded);
        if (DetectAnomalies) CheckFinite(output, GradSpan(output), "seed gradient");
        // Before the loop takes the arrays into locals: an observer may grow them here, never inside the loop.
        observer.Start(this, output);

        // A node's rule runs iff the node is reached: it is the output, or an input of a node whose rule ran (the
        // nodes libtorch's engine visits). A reached node runs even with a zero gradient, so 0·∞ gives NaN on the
        // scalar path as on the vector path and in libtorch; a node off every path to the output never runs, so an
        // unused sqrt(0) cannot put 0·∞ into a parameter's gradient.
        Nodes[output].Flags |= NodeFlags.Reached;
        _reachedMarksLeft = true;
        Sweep(output, ref observer);
        _reachedMarksLeft = false;
        _backwardGeneration = Generation;
        _backwardCount = Count;
        if (!retainGraph)
        {
            _freed = true;
            UpdateFastScalars();
        }
    }

    /// <summary>
    /// The loop of <see cref="Run"/>, from <paramref name="output"/> down: every reached node's rule, in reverse
    /// recording order. Its own method, kept out of line: the JIT allocates registers per method, and the setup code
    /// of a pass inlined next to the loop costs the scalar rules several percent.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void Sweep<TObserver>(int output, ref TObserver observer)
        where TObserver : struct, IBackwardObserver
    {
        if (DetectAnomalies)
        {
            SweepChecked(output, ref observer);
            return;
        }
        NodeRecord[] nodes = Nodes;
        double[] grads = Grads;
        double[] values = Values;
        for (int i = output; i >= 0; i--)
        {
            // output < Count ≤ nodes.Length (see Unchecked).
            ref NodeRecord n = ref Unchecked(nodes, i);
            if ((n.Flags & NodeFlags.Reached) == 0) continue;
            n.Flags &= ~NodeFlags.Reached;
            observer.BeforeRule(this, i);
            if (n.Rows == 1 && n.Cols == 1 && ScalarRule(ref n, grads[n.Offset], nodes, values, grads)) continue;
            Propagate(i, ref n);
            values = Values; // a general rule (a custom op's) may have grown the value arena
            // The record found again from i, not n kept across the call (the JIT stored n on the stack for every node).
            MarkInputs(ref Unchecked(nodes, i));
        }
    }

    /// <summary>
    /// <see cref="Sweep"/> under <see cref="DetectAnomalies"/>: every node by its general rule, and each rule's
    /// contributions checked. A loop of its own, so that the plain one carries no test of the setting (and has a
    /// register more).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void SweepChecked<TObserver>(int output, ref TObserver observer)
        where TObserver : struct, IBackwardObserver
    {
        for (int i = output; i >= 0; i--)
        {
            ref NodeRecord n = ref Nodes[i];
            if ((n.Flags & NodeFlags.Reached) == 0) continue;
            n.Flags &= ~NodeFlags.Reached;
            observer.BeforeRule(this, i);
            Propagate(i, ref n);
            MarkInputs(ref n);
            CheckInputGradients(i);
        }
    }

    /// <summary>Whether a backward pass stopped by an exception may have left <see cref="NodeFlags.Reached"/> marks.</summary>
    private bool _reachedMarksLeft;

    private void ClearReachedMarks()
    {
        for (int i = 0; i < Count; i++) Nodes[i].Flags &= ~(NodeFlags.Reached | NodeFlags.Initialized | NodeFlags.Uniform | NodeFlags.Scaled);
        _reachedMarksLeft = false;
    }

    /// <summary>Whether the current backward pass is the plain one (see <see cref="Run"/>), where gradients may be uniform.</summary>
    private bool _fast;

    /// <summary>Whether the rule of <paramref name="op"/> reads a <see cref="NodeFlags.Uniform"/> gradient as its one number.</summary>
    private static bool UnderstandsUniform(OpKind op) =>
        op is OpKind.Add or OpKind.Subtract or OpKind.Multiply or OpKind.Parameter or (>= OpKind.Negate and <= OpKind.MinConstant);

    /// <summary>Whether node <paramref name="i"/>'s gradient is one number in its first slot (see <see cref="NodeFlags.Uniform"/>).</summary>
    internal bool IsUniform(int i) => (Nodes[i].Flags & NodeFlags.Uniform) != 0;

    /// <summary>
    /// For a rule that stores its first contribution: when the pass allows it, and <paramref name="input"/> (longer than
    /// one element, not a view, fresh) is to receive the same number everywhere, stores that number once and marks the
    /// slot uniform. Returns false when the rule must write the contribution out.
    /// </summary>
    internal bool TrySetUniform(int input, Span<double> target, double value)
    {
        ref NodeRecord n = ref Nodes[input];
        if (!_fast || target.Length < 2 || (n.Flags & NodeFlags.View) != 0) return false;
        target[0] = value;
        n.Flags |= NodeFlags.Uniform;
        return true;
    }

    /// <summary>
    /// For a rule that stores its first contribution s·values(<paramref name="source"/>) into a fresh
    /// <paramref name="input"/> of the same length: when the pass allows it, keeps it as s and the node (see
    /// <see cref="NodeFlags.Scaled"/>) instead of writing it out. Returns false when the rule must write it.
    /// </summary>
    internal bool TrySetScaled(int input, Span<double> target, double s, int source)
    {
        ref NodeRecord n = ref Nodes[input];
        if (!_fast || target.Length < 2 || (n.Flags & NodeFlags.View) != 0 || Nodes[source].Length != n.Length) return false;
        target[0] = s;
        target[1] = source;
        n.Flags |= NodeFlags.Scaled;
        return true;
    }

    /// <summary>Whether node <paramref name="i"/>'s gradient is kept as a number times a node (see <see cref="NodeFlags.Scaled"/>).</summary>
    internal bool IsScaled(int i) => (Nodes[i].Flags & NodeFlags.Scaled) != 0;

    /// <summary>(s, node) of a <see cref="NodeFlags.Scaled"/> gradient.</summary>
    private (double S, int Source) ScaledOf(int i) => (Grads[Nodes[i].Offset], (int)Grads[Nodes[i].Offset + 1]);

    /// <summary>Writes a uniform or scaled gradient out to every element of its slot.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal void Materialize(int i)
    {
        ref NodeRecord n = ref Nodes[i];
        Span<double> g = Grads.AsSpan(n.Offset, n.Length);
        if ((n.Flags & NodeFlags.Scaled) != 0)
        {
            n.Flags &= ~NodeFlags.Scaled;
            (double s, int source) = ScaledOf(i);
            Split.Elementwise(ValueSpan(source), default, default, g, new ScaleKernel(s, assign: true));
            return;
        }
        n.Flags &= ~NodeFlags.Uniform;
        double value = g[0];
        Split.Elementwise(default, default, default, g, new FillOrAddKernel(value, assign: true));
    }

    /// <summary>
    /// The gradient slot of <paramref name="input"/> as the destination of a rule that adds into it: zeroed on the
    /// first touch of this pass (for a view, its storage root is), written out if it was uniform, then returned.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Span<double> AddTarget(int input)
    {
        ref NodeRecord n = ref Nodes[input];
        if ((n.Flags & (NodeFlags.Initialized | NodeFlags.Uniform | NodeFlags.Scaled)) == NodeFlags.Initialized) return Grads.AsSpan(n.Offset, n.Length);
        return SlowTarget(input, out _);
    }

    /// <summary>
    /// The gradient slot of <paramref name="input"/> as the destination of a rule that writes every element of it:
    /// <paramref name="assign"/> is true when the slot holds nothing of this pass yet, and the rule must then store
    /// its contribution (no clearing, no read of the old contents); false when it must add. A view is never assigned
    /// (its storage may hold its root's other contributions).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Span<double> GradTarget(int input, out bool assign)
    {
        ref NodeRecord n = ref Nodes[input];
        NodeFlags f = n.Flags;
        if ((f & (NodeFlags.Initialized | NodeFlags.View)) == 0)
        {
            n.Flags = f | NodeFlags.Initialized;
            assign = true;
            return Grads.AsSpan(n.Offset, n.Length);
        }
        return SlowTarget(input, out assign);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Span<double> SlowTarget(int input, out bool assign)
    {
        assign = false;
        ref NodeRecord n = ref Nodes[input];
        if ((n.Flags & NodeFlags.Initialized) == 0) Initialize(input);
        else if ((n.Flags & (NodeFlags.Uniform | NodeFlags.Scaled)) != 0) Materialize(input);
        return Grads.AsSpan(n.Offset, n.Length);
    }

    /// <summary>The node whose storage a view shares (following views of views); the node itself if it is not a view.</summary>
    private int Root(int i)
    {
        while ((Nodes[i].Flags & NodeFlags.View) != 0) i = Nodes[i].A;
        return i;
    }

    /// <summary>
    /// Zeroes the gradient storage of <paramref name="input"/> (a view's root, when still untouched; a uniform root is
    /// written out) and marks it initialised.
    /// </summary>
    private void Initialize(int input)
    {
        ref NodeRecord n = ref Nodes[input];
        if ((n.Flags & NodeFlags.View) != 0)
        {
            int root = Root(input);
            NodeFlags rf = Nodes[root].Flags;
            if ((rf & NodeFlags.Initialized) == 0)
            {
                GradSpan(root).Clear();
                Nodes[root].Flags |= NodeFlags.Initialized;
            }
            else if ((rf & (NodeFlags.Uniform | NodeFlags.Scaled)) != 0)
            {
                Materialize(root);
            }
        }
        else
        {
            GradSpan(input).Clear();
        }
        n.Flags |= NodeFlags.Initialized;
    }

    /// <summary>
    /// Whether the last backward pass left ∂L/∂node in node <paramref name="i"/>'s slot (it reached the node, or for a
    /// view, its storage); otherwise the gradient is 0.
    /// </summary>
    internal bool HasGradient(int i)
    {
        if (_backwardGeneration != Generation || i >= _backwardCount || !Nodes[i].RequiresGrad) return false;
        while ((Nodes[i].Flags & (NodeFlags.View | NodeFlags.Initialized)) == NodeFlags.View) i = Nodes[i].A;
        return (Nodes[i].Flags & NodeFlags.Initialized) != 0;
    }

    /// <summary>Marks the inputs of <paramref name="n"/> that take a gradient as reached (see <see cref="NodeFlags.Reached"/>).</summary>
    /// <remarks>
    /// An input whose slot the rule left untouched (a zero derivative, such as sign's, writes nothing) is zeroed here,
    /// so that its own rule reads 0 and not what an earlier pass left.
    /// </remarks>
    private void MarkInputs(ref NodeRecord n)
    {
        if (HasOperandList(n.Op))
        {
            for (int k = n.A, end = n.A + n.B; k < end; k++) Mark(Operands[k]);
            return;
        }
        if (n.Op is OpKind.Constant or OpKind.Parameter) return;
        Mark(n.A);
        if (HasSecondInput(n)) Mark(n.B);
    }

    private void Mark(int input)
    {
        ref NodeRecord r = ref Nodes[input];
        if ((r.Flags & NodeFlags.RequiresGrad) == 0) return;
        if ((r.Flags & NodeFlags.Initialized) == 0) Initialize(input);
        r.Flags |= NodeFlags.Reached;
    }

    /// <summary>
    /// Whether the inputs of an <paramref name="op"/> node are a list in <see cref="Operands"/> (A = start, B = count).
    /// With <see cref="HasSecondInput"/> this is the one definition of a node's inputs, for backward and <see cref="Describe"/>.
    /// </summary>
    internal static bool HasOperandList(OpKind op) =>
        op is OpKind.Concat or OpKind.Stack or OpKind.Custom or (>= OpKind.LinearRegressionLoss and <= OpKind.SoftmaxRegressionLoss);

    /// <summary>Whether B of a non-leaf node without an operand list is a second input node (for the rest, B is a side-table slot or −1).</summary>
    internal static bool HasSecondInput(in NodeRecord n) => n.B >= 0 && n.Op is not OpKind.SoftmaxCrossEntropy;

    /// <summary>
    /// With <see cref="DetectAnomalies"/>: after node <paramref name="i"/>'s rule ran, throws if it left a NaN or an
    /// infinity in an input's gradient, naming the op whose rule produced it (the seed was checked by the output's own turn).
    /// </summary>
    private void CheckInputGradients(int i)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        if (n.Op is OpKind.Parameter or OpKind.Constant) return;
        foreach (int input in Describe(i).Inputs)
        {
            if (!Nodes[input].RequiresGrad) continue;
            ReadOnlySpan<double> g = GradSpan(input);
            for (int k = 0; k < g.Length; k++)
            {
                if (!double.IsFinite(g[k]))
                {
                    throw new ArithmeticException(
                        $"{n.Op}: the derivative rule of node {i} (shape {n.Shape}) gave input node {input} ({Nodes[input].Op}, {Nodes[input].Shape}) a non-finite gradient ({g[k]}) at element {k}; check this op's inputs and the gradient flowing into it (see Tape.Format()).");
                }
            }
        }
    }

    /// <summary>
    /// The scalar fast path of <see cref="Propagate"/>: for an elementwise op on one-element operands, applies the
    /// family's local derivative (<see cref="Arithmetic.Local"/>, <see cref="Elementwise.Derivative"/>) straight on
    /// the arenas. Returns false for every other op, which takes the general path.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool ScalarRule(ref NodeRecord n, double g, NodeRecord[] nodes, double[] values, double[] grads)
    {
        switch (n.Op)
        {
            // + and ×, what scalar models are made of, on operands in the arena: no call on these paths, so the JIT
            // keeps g and the loop in registers. A view or an operand read in place goes out of line.
            // The operands of a node come before it, and an operand that is neither a view nor read in place has its
            // value and gradient in the arenas (Grads is at least ValueCount long during a pass): no bounds checks.
            case OpKind.Add:
            {
                // ∂(a + b)/∂a = ∂(a + b)/∂b = 1: no values to read.
                ref NodeRecord a = ref Unchecked(nodes, n.A);
                ref NodeRecord b = ref Unchecked(nodes, n.B);
                if (((a.Flags | b.Flags) & (NodeFlags.External | NodeFlags.View)) != 0)
                {
                    BinaryRuleOutOfLine(ref n, g);
                    return true;
                }
                ContributeToSlot(ref a, g, grads);
                ContributeToSlot(ref b, g, grads);
                return true;
            }
            case OpKind.Multiply:
            {
                // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a.
                ref NodeRecord a = ref Unchecked(nodes, n.A);
                ref NodeRecord b = ref Unchecked(nodes, n.B);
                if (((a.Flags | b.Flags) & (NodeFlags.External | NodeFlags.View)) != 0)
                {
                    BinaryRuleOutOfLine(ref n, g);
                    return true;
                }
                double x = Unchecked(values, a.Offset), y = Unchecked(values, b.Offset);
                ContributeToSlot(ref a, g * y, grads);
                ContributeToSlot(ref b, g * x, grads);
                return true;
            }
            case > OpKind.Add and <= OpKind.Minimum:
                ArithmeticRule(ref n, g);
                return true;
            // The unary ops of scalar models whose derivative needs no value (a + c, c·a) or only the sign of the
            // input (relu) are written out here; the rest go through Elementwise.Derivative.
            case OpKind.AddConstant:
                Contribute(ref Unchecked(nodes, n.A), g, grads);
                return true;
            case OpKind.MultiplyConstant:
                Contribute(ref Unchecked(nodes, n.A), g * n.Aux, grads);
                return true;
            case OpKind.Relu:
            {
                ref NodeRecord a = ref Unchecked(nodes, n.A);
                NodeFlags f = a.Flags;
                if ((f & NodeFlags.RequiresGrad) == 0) return true;
                if ((f & NodeFlags.External) != 0)
                {
                    UnaryRule(ref n, g);
                    return true;
                }
                Contribute(ref a, Unchecked(values, a.Offset) > 0 ? g : g * 0, grads);
                return true;
            }
            case >= OpKind.Negate and <= OpKind.MinConstant:
                UnaryRule(ref n, g);
                return true;
            case OpKind.Parameter:
                // A one-element parameter: add ∂L/∂p straight into Parameter.Grad (a call: out of line, as ArithmeticRule).
                AddToParameter(n.A, g);
                return true;
            case OpKind.Sum or OpKind.Mean:
            {
                // Σ or mean of one element: ∂/∂x = 1. A longer input takes the general rule.
                ref NodeRecord a = ref nodes[n.A];
                if (a.Rows != 1 || a.Cols != 1) return false;
                Contribute(ref a, g, grads);
                return true;
            }
            default:
                return false;
        }
    }

    /// <summary>
    /// The scalar rule of −, ÷, ^, max and min (<see cref="Arithmetic.Local"/>), out of line: a rule that calls keeps
    /// g across the call, and the JIT then stored g on the stack for every node of the sweep.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void ArithmeticRule(ref NodeRecord n, double g)
    {
        ref NodeRecord a = ref Nodes[n.A];
        ref NodeRecord b = ref Nodes[n.B];
        double x = (a.Flags & NodeFlags.External) == 0 ? Values[a.Offset] : ExternalValue(n.A);
        double y = (b.Flags & NodeFlags.External) == 0 ? Values[b.Offset] : ExternalValue(n.B);
        double result = Values[n.Offset];
        Contribute(ref a, Arithmetic.Local(n.Op, 0, g, x, y, result), Grads);
        Contribute(ref b, Arithmetic.Local(n.Op, 1, g, x, y, result), Grads);
    }

    /// <summary>A one-element parameter's rule: ∂L/∂p += g into Parameter.Grad, out of line for the reason <see cref="ArithmeticRule"/> is.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void AddToParameter(int parameter, double g) => ParameterTable[parameter].Grad[0] += g;

    /// <summary>
    /// The scalar rule of a unary op by <see cref="Elementwise.Derivative"/> (relu's too when its input is read in
    /// place: g·1 and g·0 are the bits of the inlined rule's g and g·0), out of line for the reason
    /// <see cref="ArithmeticRule"/> is.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void UnaryRule(ref NodeRecord n, double g)
    {
        ref NodeRecord a = ref Nodes[n.A];
        if ((a.Flags & NodeFlags.RequiresGrad) == 0) return;
        double x = (a.Flags & NodeFlags.External) == 0 ? Values[a.Offset] : ExternalValue(n.A);
        Contribute(ref a, g * Elementwise.Derivative(n.Op, x, Values[n.Offset], n.Aux), Grads);
    }

    /// <summary>
    /// Adds a one-element contribution into input <paramref name="a"/>'s slot, or stores it there when it is the
    /// first (the slot was not cleared), and marks the input reached. Views go the general way (their slot is part of
    /// their root's storage).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void Contribute(ref NodeRecord a, double contribution, double[] grads)
    {
        // A node that requires a gradient has its slot in the arena, read in place or not (see Unchecked).
        NodeFlags f = a.Flags;
        if ((f & (NodeFlags.Initialized | NodeFlags.View)) == NodeFlags.Initialized) Unchecked(grads, a.Offset) += contribution;
        else if ((f & (NodeFlags.RequiresGrad | NodeFlags.View)) == NodeFlags.RequiresGrad) Unchecked(grads, a.Offset) = contribution;
        else
        {
            if ((f & NodeFlags.RequiresGrad) != 0) ContributeToView(ref a, contribution);
            return;
        }
        a.Flags = f | NodeFlags.Reached | NodeFlags.Initialized;
    }

    /// <summary>
    /// The + and × scalar rules for operands that are views (their slot is part of their root's) or read in place
    /// (their value is not in the arena): out of line, so that the common case calls nothing.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void BinaryRuleOutOfLine(ref NodeRecord n, double g)
    {
        ref NodeRecord a = ref Nodes[n.A];
        ref NodeRecord b = ref Nodes[n.B];
        if (n.Op == OpKind.Add)
        {
            Contribute(ref a, g, Grads);
            Contribute(ref b, g, Grads);
            return;
        }
        double x = (a.Flags & NodeFlags.External) == 0 ? Values[a.Offset] : ExternalValue(n.A);
        double y = (b.Flags & NodeFlags.External) == 0 ? Values[b.Offset] : ExternalValue(n.B);
        Contribute(ref a, g * y, Grads);
        Contribute(ref b, g * x, Grads);
    }

    /// <summary>
    /// <see cref="Contribute"/> for an input that is neither a view nor read in place: its own slot in the arena,
    /// nothing to call.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void ContributeToSlot(ref NodeRecord a, double contribution, double[] grads)
    {
        NodeFlags f = a.Flags;
        if ((f & NodeFlags.Initialized) != 0) Unchecked(grads, a.Offset) += contribution;
        else if ((f & NodeFlags.RequiresGrad) != 0) Unchecked(grads, a.Offset) = contribution;
        else return;
        a.Flags = f | NodeFlags.Reached | NodeFlags.Initialized;
    }

    /// <summary>
    /// The rare case of <see cref="Contribute"/>: a one-element view, whose slot is part of its root's storage (its
    /// index found from the record's place in the array, so the hot path carries no index).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void ContributeToView(ref NodeRecord a, double contribution)
    {
        int index = (int)(System.Runtime.CompilerServices.Unsafe.ByteOffset(ref Nodes[0], ref a) / System.Runtime.CompilerServices.Unsafe.SizeOf<NodeRecord>());
        AddTarget(index)[0] += contribution;
        Nodes[index].Flags |= NodeFlags.Reached;
    }

    /// <summary>
    /// ∂L/∂node <paramref name="i"/> from the last backward pass: 0 where none
    /// flowed, a uniform gradient written out.
    /// </summary>
    internal double[] ReadGrad(int i)
    {
        var result = new double[Nodes[i].Length];
        ReadGrad(i, result);
        return result;
    }

    /// <inheritdoc cref="ReadGrad(int)"/>
    internal void ReadGrad(int i, Span<double> destination)
    {
        if (!HasGradient(i))
        {
            destination.Clear();
            return;
        }
        int root = Root(i);
        if ((Nodes[root].Flags & NodeFlags.Uniform) != 0)
        {
            destination.Fill(Grads[Nodes[root].Offset]);
        }
        else if ((Nodes[root].Flags & NodeFlags.Scaled) != 0)
        {
            (double s, int source) = ScaledOf(root);
            // g·b with b a parameter read in place: after an optimizer step its values are not the recorded ones, so
            // the gradient can no longer be written out (Parameter.Grad, added during backward, is right).
            if ((Nodes[source].Flags & NodeFlags.External) != 0) VerifyParameterVersions(Count, "Grad");
            TensorPrimitives.Multiply(ValueSpan(source).Slice(Nodes[i].Offset - Nodes[root].Offset, Nodes[i].Length), s, destination);
        }
        else
        {
            GradSpan(i).CopyTo(destination);
        }
    }

    /// <summary>Applies node <paramref name="i"/>'s derivative rule: adds its share of ∂L/∂node into its inputs' gradients.</summary>
    /// <remarks>
    /// A uniform gradient is written out first for a rule that does not read it as one number (one-element nodes,
    /// which take <see cref="ScalarRule"/>, are never uniform; a traced or checked pass makes none).
    /// </remarks>
    private void Propagate(int i, ref NodeRecord n)
    {
        if ((n.Flags & NodeFlags.Uniform) != 0 && !UnderstandsUniform(n.Op)) Materialize(i);
        if ((n.Flags & NodeFlags.Scaled) != 0 && n.Op != OpKind.Parameter) Materialize(i);
        switch (n.Op)
        {
            case OpKind.Parameter:
                if ((n.Flags & NodeFlags.Uniform) != 0)
                {
                    ParameterTable[n.A].AccumulateUniform(Grads[n.Offset]);
                }
                else if ((n.Flags & NodeFlags.Scaled) != 0)
                {
                    // Parameter.Grad += s·values: one pass, the leaf's own slot never written.
                    (double s, int source) = ScaledOf(i);
                    ParameterTable[n.A].AccumulateScaled(s, ValueSpan(source));
                }
                else
                {
                    ParameterTable[n.A].Accumulate(GradSpan(i));
                }
                break;
            case OpKind.Detach:
            case OpKind.Element:
            case OpKind.Row:
            case OpKind.Reshape:
            case OpKind.Slice:
                // Views share their input's gradient storage: every contribution already landed there.
                break;
            case >= OpKind.Add and <= OpKind.Minimum:
                Arithmetic.Backward(this, i, ref n);
                break;
            case >= OpKind.Negate and <= OpKind.MinConstant:
                Elementwise.Backward(this, i, ref n);
                break;
            case OpKind.Dot:
            case OpKind.MatVec:
            case OpKind.MatMul:
            case OpKind.Transpose:
                LinearAlgebra.Backward(this, i, ref n);
                break;
            case OpKind.Sum:
            case OpKind.Mean:
            case OpKind.SumAxis:
            case OpKind.MeanAxis:
            case OpKind.LogSumExp:
                Reductions.Backward(this, i, ref n);
                break;
            case OpKind.Concat:
            case OpKind.Stack:
                Views.ConcatBackward(this, i, ref n);
                break;
            case OpKind.Column:
            case OpKind.Columns:
                Views.ColumnsBackward(this, i, ref n);
                break;
            case OpKind.Softmax:
            case OpKind.LogSoftmax:
                SoftmaxOps.Backward(this, i, ref n);
                break;
            case OpKind.Variance:
            case OpKind.StandardDeviation:
            case OpKind.VarianceAxis:
            case OpKind.StandardDeviationAxis:
                Statistics.Backward(this, i, ref n);
                break;
            case OpKind.BinaryCrossEntropy:
            case OpKind.BinaryCrossEntropyWithLogits:
                BinaryCrossEntropyOps.Backward(this, i, ref n);
                break;
            case OpKind.SoftmaxCrossEntropy:
                SoftmaxCrossEntropyOps.Backward(this, i, ref n);
                break;
            case >= OpKind.LinearRegressionLoss and <= OpKind.SoftmaxRegressionLoss:
                ModelLosses.Backward(this, i, ref n);
                break;
            case OpKind.Custom:
                CustomOps.Backward(this, i, ref n);
                break;
            default:
                // A missing rule is an error, never a silent zero.
                throw new InvalidOperationException($"Backward: no derivative rule for {n.Op} (node {i}).");
        }
    }

    /// <summary>
    /// The gradient of node <paramref name="i"/> from the last backward pass (zeros where none flowed, and for nodes
    /// recorded after it, whose gradient slots that pass never cleared).
    /// </summary>
    internal void CopyGrad(int i, Span<double> destination)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        if (_backwardGeneration != Generation)
        {
            throw new InvalidOperationException(
                $"Grad: no backward pass has run on this tape since it was last cleared; call Backward on a loss first (node {i}, {n.Op}).");
        }
        ReadGrad(i, destination);
    }
}
