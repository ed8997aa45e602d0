using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff;

/// <summary>
/// A reverse-mode automatic differentiation graph, recorded in execution order (a Wengert list).
/// </summary>
/// <remarks>
/// <para>
/// Every operation on a <see cref="Scalar"/>, <see cref="Vector"/> or <see cref="Matrix"/> computes its value at
/// once and appends one node to the tape. Because nodes are appended in execution order, every node's inputs stand
/// before it, and <see cref="Backward(Scalar, bool)"/> is one loop from the output down to the first node: no
/// recursion, no topological sort, any depth.
/// </para>
/// <para>
/// Storage is flat: a 32-byte record per node, one <see cref="double"/> arena for values and one of the same layout
/// for gradients. <see cref="Clear"/> keeps the capacity, so a training loop that records, differentiates and clears
/// allocates nothing once the arenas have grown to the size of one step.
/// </para>
/// <para>
/// A tape is used by one thread at a time; tapes share nothing, so independent graphs on different threads do not
/// interfere. Handles remember their tape and its generation: a node of one tape used on another, or a handle kept
/// across <see cref="Clear"/>, is an error naming both.
/// </para>
/// </remarks>
public sealed partial class Tape
{
    private const int InitialNodes = 64;
    private const int InitialValues = 256;

    internal NodeRecord[] Nodes;
    internal int Count;
    internal double[] Values;
    internal int ValueCount;
    internal double[] Grads = [];

    /// <summary>Caller-owned value storage referenced without a copy (large constant data).</summary>
    internal readonly List<(double[] Array, int Start)> External = [];
    /// <summary>Parameters used on this tape, indexed by the leaf's <see cref="NodeRecord.A"/>.</summary>
    internal readonly ParameterList ParameterTable = new();
    /// <summary>Objects an op needs besides numbers: custom ops, label arrays.</summary>
    internal readonly List<object> Objects = [];
    /// <summary>Input lists of n-ary ops (concat, custom ops): a node's A is the start, B the count.</summary>
    internal readonly List<int> Operands = [];

    private double[] _scratch = [];
    private int _generation;
    private int _noGradDepth;
    private bool _freed;
    private bool _detectAnomalies;

    /// <summary><see cref="NodeFlags.RequiresGrad"/>, or none inside <see cref="NoGrad"/>: the fast path masks with it.</summary>
    private NodeFlags _gradMask = NodeFlags.RequiresGrad;

    /// <summary>
    /// Keeps <see cref="_fastGeneration"/>: one-element ops may take the inlined recording fast paths while the graph
    /// is not freed and anomaly detection is off.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UpdateFastScalars() => _fastGeneration = !_freed && !_detectAnomalies ? _generation : ~_generation;

    /// <summary>
    /// The generation a handle must have to take the scalar fast paths: the current one while they are open (see
    /// <see cref="UpdateFastScalars"/>), else its complement, which no current handle has — one comparison per operand
    /// tests both. (A handle 2³¹ clears old could match it; the generation check itself wraps at 2³² clears.)
    /// </summary>
    private int _fastGeneration;

    /// <summary>An empty tape with room for 64 nodes and 256 values; its arenas grow by doubling as needed.</summary>
    public Tape() : this(InitialNodes, InitialValues) { }

    /// <summary>
    /// An empty tape with room for <paramref name="nodes"/> node records and <paramref name="values"/> value slots
    /// (a scalar node takes one slot, a vector or matrix one per element; views take none), so that recording a graph
    /// of that size allocates nothing and a 10⁷-node graph does not pass through arrays of half, quarter, … its size.
    /// The gradient arena is sized to the value arena at the first backward pass.
    /// </summary>
    public Tape(int nodes, int values)
    {
        if (nodes < 1 || values < 1)
        {
            throw new ArgumentOutOfRangeException(nodes < 1 ? nameof(nodes) : nameof(values),
                $"Tape: reserve at least one node and one value slot, got nodes = {nodes}, values = {values}.");
        }
        Nodes = new NodeRecord[nodes];
        Values = new double[values];
    }

    /// <summary>Number of nodes recorded since the tape was created or last cleared.</summary>
    public int NodeCount => Count;

    /// <summary>Number of <see cref="double"/> slots the recorded values occupy (the gradient arena mirrors it).</summary>
    public int ValueSlots => ValueCount;

    /// <summary>
    /// When set, every op checks its output for NaN or infinity as it is recorded, and every gradient as it is
    /// propagated, and throws naming the op (the analogue of PyTorch's anomaly detection). Costs one pass per node.
    /// It also takes a checksum of every array recorded in place by <see cref="Constant(double[])"/> (and the matrix
    /// overload, and array targets of losses) and verifies it when backward starts: an array changed between forward
    /// and backward, which would silently corrupt the gradient, is an error naming the node.
    /// </summary>
    public bool DetectAnomalies
    {
        get => _detectAnomalies;
        set
        {
            _detectAnomalies = value;
            UpdateFastScalars();
        }
    }

    /// <summary>Whether new nodes are recorded without gradient (inside <see cref="NoGrad"/>).</summary>
    public bool IsNoGrad => _noGradDepth > 0;

    /// <summary>
    /// Forgets every recorded node but keeps the storage, so the next step records into the same memory.
    /// Handles taken before the call become invalid.
    /// </summary>
    /// <remarks>
    /// Never inlined, like <see cref="UseParameter"/>: called once a step, and inlined into the caller's method it made
    /// that method big enough that the JIT kept the caller's recording loop in memory (deep_chain forward 10 → 16
    /// ns/node once the loop's method reached tier 1).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Clear()
    {
        Count = 0;
        ValueCount = 0;
        External.Clear();
        ParameterTable.Clear();
        Objects.Clear();
        Operands.Clear();
        _constantChecksums?.Clear();
        ClearNames();
        _generation++;
        _freed = false;
        _summedNode = -1;
        UpdateFastScalars();
    }

    /// <summary>The node whose Σ <see cref="RememberSum"/> holds, or −1.</summary>
    private int _summedNode = -1;

    private double _summedValue;

    private int _summedParts;

    /// <summary>
    /// Keeps Σ of node <paramref name="node"/>'s values, computed by <see cref="Split.ElementwiseSummed{TOp}"/>
    /// as the op wrote them, so that a Σ or mean of that node (<see cref="RecalledSum"/>) does not read them again:
    /// a long output written once and summed next is the shape of every loss, and the second read of a vector that no
    /// longer fits in the cache cost as much as the op (Σ of 10⁶ elements after c = a + b: 140–220 µs of a 0.9 ms
    /// step on the AMD EPYC machine, two threads). One node at a time: the last long elementwise output.
    /// </summary>
    internal void RememberSum(int node, double sum)
    {
        _summedNode = node;
        _summedValue = sum;
        _summedParts = WorkerPool.PartsFor(Nodes[node].Shape.Length, Split.ElementGrain);
    }

    /// <summary>
    /// Whether Σ of node <paramref name="node"/> is known from its op (<see cref="RememberSum"/>), and it. The sum is
    /// the one <see cref="Split.Sum(ReadOnlySpan{double}, ReadOnlySpan{double})"/> computes, bit for bit, as long as the
    /// values split into the same ranges: a change of the thread count in between makes the sum read the values again.
    /// Recorded values never change (ops write only their own node), and <see cref="Clear"/> and a truncation forget it.
    /// </summary>
    internal bool RecalledSum(int node, out double sum)
    {
        sum = _summedValue;
        return node == _summedNode && _summedParts == WorkerPool.PartsFor(Nodes[node].Shape.Length, Split.ElementGrain);
    }

    /// <summary>
    /// Records the nodes created until the returned scope is disposed without gradient, as for evaluation:
    /// <c>using (tape.NoGrad()) { … }</c>. Their values are computed as usual; nothing flows back through them.
    /// </summary>
    public NoGradScope NoGrad()
    {
        _noGradDepth++;
        _gradMask = NodeFlags.None;
        return new NoGradScope(this);
    }

    /// <summary>Ends a <see cref="NoGrad"/> region when disposed.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        private readonly Tape _tape;
        internal NoGradScope(Tape tape) => _tape = tape;
        /// <summary>Restores gradient recording.</summary>
        public void Dispose()
        {
            if (--_tape._noGradDepth == 0) _tape._gradMask = NodeFlags.RequiresGrad;
        }
    }

    // ---------------------------------------------------------------- leaves

    /// <summary>A constant scalar: no gradient flows into it.</summary>
    public Scalar Constant(double value)
    {
        int i = Append(OpKind.Constant, -1, -1, Shape.Scalar, NodeFlags.None);
        Values[Nodes[i].Offset] = value;
        return new Scalar(this, i);
    }

    /// <summary>
    /// A constant vector that reads <paramref name="values"/> in place, without a copy. The array must not change
    /// until the tape is cleared: backward reads it again.
    /// </summary>
    public Vector Constant(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new Vector(this, AppendExternal(values, 0, Shape.Vector(values.Length)));
    }

    /// <summary>
    /// A constant <paramref name="rows"/> × <paramref name="cols"/> matrix that reads the row-major
    /// <paramref name="values"/> in place, without a copy (see <see cref="Constant(double[])"/>).
    /// </summary>
    public Matrix Constant(double[] values, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (rows <= 0 || cols <= 0 || (long)rows * cols != values.Length)
        {
            throw new ArgumentException(
                $"Constant: {values.Length} values cannot form a matrix [{rows}×{cols}]; pass rows × cols values in row-major order.",
                nameof(values));
        }
        return new Matrix(this, AppendExternal(values, 0, Shape.Matrix(rows, cols)));
    }

    /// <summary>A constant matrix copied from a two-dimensional array.</summary>
    public Matrix Constant(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), cols = values.GetLength(1);
        if (rows == 0 || cols == 0)
        {
            throw new ArgumentException($"Constant: a matrix needs at least one row and one column, got [{rows}×{cols}].", nameof(values));
        }
        int i = Append(OpKind.Constant, -1, -1, Shape.Matrix(rows, cols), NodeFlags.None);
        RowMajor.Of(values).CopyTo(Values.AsSpan(Nodes[i].Offset, rows * cols));
        return new Matrix(this, i);
    }

    /// <summary>Uses a scalar parameter on this tape: its current value, and a gradient that backward adds into <see cref="Parameter.Grad"/>.</summary>
    public Scalar Use(ScalarParameter parameter) => new(this, UseParameter(parameter));

    /// <summary>
    /// Uses a vector parameter on this tape: its values are read in place, without a copy, and backward adds ∂L/∂p into
    /// <see cref="Parameter.Grad"/>. Backward must come before the parameter changes: after an optimizer step it throws
    /// (the graph's values would be stale). Writing <see cref="Parameter.Value"/> by hand in between is not detected,
    /// except with <see cref="DetectAnomalies"/>, which checksums the values.
    /// </summary>
    public Vector Use(VectorParameter parameter) => new(this, UseParameter(parameter));

    /// <summary>Uses a matrix parameter on this tape, read in place (see <see cref="Use(VectorParameter)"/>).</summary>
    public Matrix Use(MatrixParameter parameter) => new(this, UseParameter(parameter));

    /// <remarks>
    /// A vector or matrix parameter is read in place: the leaf's value is <see cref="Parameter.Value"/> itself, with
    /// no copy (the arena only gives it gradient slots), and its version is noted so that backward, a tangent sweep
    /// or tape.Grad refuses to run after the parameter was changed by an optimizer step (the graph's values would no
    /// longer match; PyTorch's "modified by an inplace operation"). A scalar parameter is copied, which costs one
    /// store and keeps the scalar fast path.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int UseParameter(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        NodeFlags flags = IsNoGrad ? NodeFlags.None : NodeFlags.RequiresGrad;
        int length = parameter.Value.Length;
        if (length == 1)
        {
            // Recorded as the scalar ops are (the general append, which grows the arenas and reports a freed graph, when
            // that returns −1 or those paths are closed).
            int s = _fastGeneration == _generation ? AppendScalar(OpKind.Parameter, ParameterTable.Count, -1, parameter.Shape.Kind, flags, 0, parameter.Value[0]) : -1;
            if (s < 0)
            {
                s = Append(OpKind.Parameter, ParameterTable.Count, -1, parameter.Shape, flags);
                Values[Nodes[s].Offset] = parameter.Value[0];
            }
            ParameterTable.Add(parameter);
            return s;
        }
        int i = Append(OpKind.Parameter, ParameterTable.Count, -1, parameter.Shape, flags | NodeFlags.External);
        ParameterTable.AddInPlace(parameter, i);
        _inPlaceGeneration = _generation;
        if (DetectAnomalies) (_constantChecksums ??= []).Add((i, Checksum(parameter.Value)));
        return i;
    }

    /// <summary>
    /// The generation in which a parameter was last read in place (its version is then in <see cref="ParameterTable"/>):
    /// a recording without one skips the version check.
    /// </summary>
    private int _inPlaceGeneration = -1;

    /// <summary>
    /// Throws if a parameter read in place by a node up to <paramref name="output"/> has been updated (an optimizer
    /// step) since it was used: the recorded values are no longer the parameter's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void VerifyParameterVersions(int output, string caller)
    {
        if (_inPlaceGeneration == _generation) VerifyInPlaceUses(output, caller);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void VerifyInPlaceUses(int output, string caller)
    {
        if (ParameterTable.FirstModified(output) is (int node, Parameter parameter, int version))
        {
            throw new InvalidOperationException(
                $"{caller}: parameter {parameter.Name} {parameter.Shape} was modified in place after tape.Use recorded it (node {node}; version {version} then, {parameter.Version} now — an optimizer Step between the forward pass and {caller}). The graph reads vector and matrix parameters in place, so its gradient would mix old and new values. Call {caller} before optimizer.Step(), or Clear() the tape and record the step again with the new values.");
        }
    }

    // ---------------------------------------------------------------- recording

    /// <summary>Appends a node whose value gets fresh arena storage; returns its index.</summary>
    internal int Append(OpKind op, int a, int b, Shape shape, NodeFlags flags, double aux = 0)
    {
        int length = shape.Length;
        int offset = ValueCount;
        if (length > Split.CachedOutput) offset = LineAligned(offset, length);
        else if (offset + length > Values.Length) GrowValues(length);
        int i = Record(op, a, b, offset, shape.Rows, shape.Cols, shape.Kind, flags, aux);
        ValueCount = offset + length;
        return i;
    }

    /// <summary>
    /// The first offset at or after <paramref name="offset"/> whose element starts a 64-byte line, with room for
    /// <paramref name="length"/> elements from it: a long output's slot is aligned so that the kernels that write it
    /// past the cache (<see cref="StreamSum.Apply{TOp}"/>) can use aligned stores from each range's first element. A
    /// hint, not a guarantee: the collector does not move an array this long (the large-object heap is not compacted
    /// unless asked), and if it did, the kernels would fall back to plain stores and compute the same values.
    /// </summary>
    private unsafe int LineAligned(int offset, int length)
    {
        const int lineElements = 64 / sizeof(double);
        if (offset + length + lineElements > Values.Length) GrowValues(length + lineElements);
        fixed (double* p = &Values[offset])
        {
            return offset + (int)((64 - ((nint)p & 63)) & 63) / sizeof(double);
        }
    }

    /// <summary>
    /// Appends a one-element node of kind <paramref name="kind"/> holding <paramref name="value"/> and returns its
    /// index, or returns −1 without recording anything when either arena is full: the scalar fast path of
    /// <see cref="Append"/>, which is what a chain of scalar ops spends its time in (the kind a constant there; a vector
    /// or matrix of one element comes from the out-of-line paths, see <see cref="AreOneElementInArena"/>). On −1 the caller
    /// takes its general path, which grows the arenas.
    /// </summary>
    /// <remarks>
    /// A full arena is a way out of the fast path like the others (a freed graph, a vector operand), not a call to
    /// grow inside it: the JIT must keep the values a call returns to across it, and spilled the operands' values to
    /// the stack on every op for it (micrograd-shaped forward pass, one thread: 598–602 → 563–571 µs with the growth
    /// moved after the stores; returning −1 instead measured the same there and 6.2 → 5.8 ns a node on deep_chain).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int AppendScalar(OpKind op, int a, int b, ShapeKind kind, NodeFlags flags, double aux, double value)
    {
        // The caller checked that the graph is not freed and anomaly detection is off (IsFastScalar, IsFastOneElement,
        // AreOneElementInArena); NoGrad is the mask. The arrays and counters are read once into locals (the JIT would
        // read the fields again after every store to the record).
        int offset = ValueCount;
        double[] values = Values;
        int i = Count;
        NodeRecord[] nodes = Nodes;
        if ((uint)i >= (uint)nodes.Length || (uint)offset >= (uint)values.Length) return -1;
        ref NodeRecord n = ref nodes[i];
        NodeFlags recorded = (flags & _gradMask) | (kind == ShapeKind.Scalar ? NodeFlags.ArenaScalar : NodeFlags.None);
        if (BitConverter.IsLittleEndian)
        {
            // The record in four stores instead of nine: (A, B), (Offset, Rows = 1), (Cols = 1, Op, Flags, Kind, the
            // padding byte) and Aux; the offsets are NodeRecord's, checked by a test. Measured on a 10⁶-op chain, one
            // thread: recording 9.0–9.7 → 8.7 ns a node.
            Unsafe.As<int, long>(ref n.A) = (uint)a | ((long)b << 32);
            Unsafe.As<int, long>(ref n.Offset) = (uint)offset | (1L << 32);
            Unsafe.As<int, long>(ref n.Cols) = 1 | ((long)op << 32) | ((long)recorded << 40) | ((long)kind << 48);
        }
        else
        {
            n.A = a;
            n.B = b;
            n.Offset = offset;
            n.Rows = 1;
            n.Cols = 1;
            n.Op = op;
            n.Flags = recorded;
            n.Kind = kind;
        }
        n.Aux = aux;
        values[offset] = value;
        Count = i + 1;
        ValueCount = offset + 1;
        return i;
    }

    /// <summary>Appends a node that shares the storage of <paramref name="source"/> from element <paramref name="start"/> on.</summary>
    internal int AppendView(OpKind op, int source, int start, Shape shape, bool requiresGrad, double aux = 0)
    {
        ref readonly NodeRecord s = ref Nodes[source];
        int offset;
        NodeFlags flags = NodeFlags.View;
        if ((s.Flags & NodeFlags.External) != 0 && s.Offset >= 0)
        {
            // A view of a parameter read in place: gradient slots inside the leaf's, value from the parameter.
            offset = s.Offset + start;
            flags |= NodeFlags.External;
        }
        else if ((s.Flags & NodeFlags.External) != 0)
        {
            var (array, first) = External[~s.Offset];
            External.Add((array, first + start));
            offset = ~(External.Count - 1);
            flags |= NodeFlags.External;
        }
        else
        {
            offset = s.Offset + start;
        }
        if (requiresGrad) flags |= NodeFlags.RequiresGrad;
        return Record(op, source, -1, offset, shape.Rows, shape.Cols, shape.Kind, flags, aux);
    }

    private int AppendExternal(double[] array, int start, Shape shape)
    {
        if (shape.Length == 0)
        {
            throw new ArgumentException("Constant: a vector needs at least one element.", nameof(array));
        }
        ThrowIfFreed(OpKind.Constant);
        External.Add((array, start));
        int i = Record(OpKind.Constant, -1, -1, ~(External.Count - 1), shape.Rows, shape.Cols, shape.Kind, NodeFlags.External, 0);
        if (DetectAnomalies) (_constantChecksums ??= []).Add((i, Checksum(array.AsSpan(start, shape.Length))));
        return i;
    }

    /// <summary>Forgets node <paramref name="count"/> and everything recorded after it (a failed custom op's node).</summary>
    internal void Truncate(int count, int valueCount, int operandCount, int objectCount)
    {
        Count = count;
        ValueCount = valueCount;
        if (_summedNode >= count) _summedNode = -1;
        Operands.RemoveRange(operandCount, Operands.Count - operandCount);
        Objects.RemoveRange(objectCount, Objects.Count - objectCount);
    }

    /// <summary>Writes the next node record (every Append goes through here); returns its index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Record(OpKind op, int a, int b, int offset, int rows, int cols, ShapeKind kind, NodeFlags flags, double aux)
    {
        if (_freed) ThrowIfFreed(op);
        int i = Count;
        if (i == Nodes.Length) GrowNodes();
        if (_noGradDepth > 0) flags &= ~NodeFlags.RequiresGrad;
        if (kind == ShapeKind.Scalar && (flags & NodeFlags.External) == 0) flags |= NodeFlags.ArenaScalar;
        ref NodeRecord n = ref Nodes[i];
        n.A = a;
        n.B = b;
        n.Offset = offset;
        n.Rows = rows;
        n.Cols = cols;
        n.Kind = kind;
        n.Op = op;
        n.Flags = flags;
        n.Aux = aux;
        Count = i + 1;
        return i;
    }

    /// <summary>With <see cref="DetectAnomalies"/>: the in-place constants recorded and the checksums of their arrays then.</summary>
    private List<(int Node, ulong Checksum)>? _constantChecksums;

    /// <summary>An order-sensitive 64-bit hash of the values' bits (FNV-1a over 8-byte words): cheap, and a changed element changes it.</summary>
    private static ulong Checksum(ReadOnlySpan<double> values)
    {
        ulong h = 14695981039346656037UL;
        foreach (double v in values) h = (h ^ (ulong)BitConverter.DoubleToInt64Bits(v)) * 1099511628211UL;
        return h;
    }

    /// <summary>Throws if an in-place constant's array changed since it was recorded (see <see cref="DetectAnomalies"/>).</summary>
    private void VerifyConstants(int output)
    {
        if (_constantChecksums is null) return;
        foreach (var (node, checksum) in _constantChecksums)
        {
            if (node > output || Checksum(ValueSpan(node)) == checksum) continue;
            if (Nodes[node].Op == OpKind.Parameter)
            {
                Parameter p = ParameterTable[Nodes[node].A];
                throw new InvalidOperationException(
                    $"Backward: the values of parameter {p.Name} {p.Shape} (node {node}) changed after tape.Use recorded it. The tape reads vector and matrix parameters in place and backward reads them again, so the gradient would be wrong; change parameters only between steps (after backward, before the next recording).");
            }
            throw new InvalidOperationException(
                $"Backward: the array of constant node {node} ({Nodes[node].Shape}) changed after it was recorded. tape.Constant(double[]) reads the caller's array in place and backward reads it again, so the gradient would be wrong; leave the array unchanged until the tape is cleared, or record a copy (tape.Constant((double[])values.Clone())).");
        }
    }

    /// <summary>Doubles the node array (out of line: the recording fast path only tests for it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowNodes() => Array.Resize(ref Nodes, Nodes.Length * 2);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowValues(int needed)
    {
        long size = Math.Max((long)Values.Length * 2, (long)ValueCount + needed);
        if (size > Array.MaxLength)
        {
            throw new InvalidOperationException(
                $"Tape: the value arena would need {size} doubles, more than an array can hold; clear the tape between steps or split the graph.");
        }
        Array.Resize(ref Values, (int)size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowIfFreed(OpKind op)
    {
        if (_freed)
        {
            throw new InvalidOperationException(
                $"{op}: this tape's graph was freed by Backward; call Clear() before recording a new step, or pass retainGraph: true to Backward to keep using the graph.");
        }
    }

    // ---------------------------------------------------------------- access

    /// <summary>The value storage of node <paramref name="i"/>. Valid until the next node is recorded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<double> ValueSpan(int i)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        if ((n.Flags & NodeFlags.External) == 0) return Values.AsSpan(n.Offset, n.Length);
        // A parameter read in place: its whole array, without the walk a view of it needs.
        if (n.Op == OpKind.Parameter) return ParameterTable[n.A].Value;
        var (array, start) = ExternalStorage(i);
        return array.AsSpan(start, n.Length);
    }

    /// <summary>The first value of an external node: the cold branch of the scalar paths, kept out of their loops.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal double ExternalValue(int i)
    {
        var (array, start) = ExternalStorage(i);
        return array[start];
    }

    /// <summary>Where an external node's value lives: a caller's array (constants) or a parameter's (in-place leaves and their views).</summary>
    private (double[] Array, int Start) ExternalStorage(int i)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        if (n.Offset < 0) return External[~n.Offset];
        int root = i;
        while (Nodes[root].Op != OpKind.Parameter) root = Nodes[root].A;
        return (ParameterTable[Nodes[root].A].Value, n.Offset - Nodes[root].Offset);
    }

    /// <summary>The scalar value of node <paramref name="i"/> (its first element).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal double ValueOf(int i)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        if ((n.Flags & NodeFlags.External) == 0) return Values[n.Offset];
        var (array, start) = ExternalStorage(i);
        return array[start];
    }

    /// <summary>The gradient storage of node <paramref name="i"/>; only for nodes that require a gradient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<double> GradSpan(int i)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        return Grads.AsSpan(n.Offset, n.Length);
    }

    /// <summary>Checks that a handle belongs to this tape's current generation; returns its node index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Resolve(Tape? tape, int index, int generation, OpKind op)
    {
        if (ReferenceEquals(tape, this) && generation == _generation) return index;
        throw ResolveError(tape, op.ToString());
    }

    /// <inheritdoc cref="Resolve(Tape?, int, int, OpKind)"/>
    internal int Resolve(Tape? tape, int index, int generation, string op)
    {
        if (ReferenceEquals(tape, this) && generation == _generation) return index;
        throw ResolveError(tape, op);
    }

    private InvalidOperationException ResolveError(Tape? tape, string op)
    {
        if (tape is null)
        {
            return new InvalidOperationException($"{op}: the node is a default (uninitialised) handle; create nodes through a Tape.");
        }
        if (!ReferenceEquals(tape, this))
        {
            return new InvalidOperationException(
                $"{op}: the node belongs to a different tape; nodes of one graph cannot be used in another. Record the whole computation on one tape (use the Parameter, not the node, to share values across tapes).");
        }
        return new InvalidOperationException(
            $"{op}: the node was recorded before the tape was cleared and no longer exists; record it again on the current step.");
    }

    internal int Generation => _generation;

    /// <summary>
    /// For the out-of-line paths of the elementwise ops: whether resolved nodes <paramref name="a"/> and
    /// <paramref name="b"/> (the same node for a unary op) each hold one element in the arena — a vector or matrix of
    /// one element, which the inlined fast paths leave to them, or a scalar — while those paths are open (the graph not
    /// freed, anomaly detection off). Such an op is recorded by <see cref="AppendScalar"/> with the operands' larger kind,
    /// out of line but without the general recording's shapes, spans and kernels.
    /// </summary>
    internal bool AreOneElementInArena(int a, int b)
    {
        if (_fastGeneration != _generation) return false;
        return Nodes[a].IsOneElementInArena && Nodes[b].IsOneElementInArena;
    }

    /// <summary>
    /// Element <paramref name="i"/> of a tape array without a bounds check, for the scalar fast paths. Safe where the
    /// handle checks have passed (this tape, the current generation): a current handle's index is below
    /// <see cref="Count"/>, a one-element record's offset below <see cref="ValueCount"/>, both at most the arrays'
    /// lengths, and the arrays only grow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ref T Unchecked<T>(T[] array, int i) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (nint)(uint)i);

    /// <summary>
    /// Whether <paramref name="a"/> can take the scalar fast path on this tape: a current handle of this tape to a
    /// scalar held in the arena (<see cref="NodeFlags.ArenaScalar"/>), the graph not freed and anomaly detection off.
    /// Anything else takes the general path, which checks and reports everything.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsFastScalar(Node a) =>
        ReferenceEquals(a.TapeOrNull, this) && a.Generation == _fastGeneration && (Unchecked(Nodes, a.Index).Flags & NodeFlags.ArenaScalar) != 0;

    /// <summary>
    /// <see cref="IsFastScalar"/> for any node of one element held in the arena: a scalar, or a vector or matrix of
    /// one element (Σ and mean of it are a scalar whatever its kind).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsFastOneElement(Node a)
    {
        if (!ReferenceEquals(a.TapeOrNull, this) || a.Generation != _fastGeneration) return false;
        return Unchecked(Nodes, a.Index).IsOneElementInArena;
    }

    /// <summary>
    /// For a binary op whose first operand is a current handle of this tape: whether the second one is too
    /// (<paramref name="other"/> its tape, the generations both current) and anomaly detection is off. With the
    /// scalar flags of both records, which the caller tests on the records it reads for the op anyway (reading
    /// them once measured 11 % off the micrograd-shaped forward pass), this is <see cref="IsFastScalar"/> for both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool AreCurrentFast(Tape? other, int generationA, int generationB) =>
        ReferenceEquals(other, this) && generationA == _fastGeneration && generationB == _fastGeneration;

    /// <summary>A scratch buffer of at least <paramref name="length"/> doubles, reused across calls.</summary>
    internal Span<double> Scratch(int length)
    {
        if (_scratch.Length < length) _scratch = new double[Math.Max(length, _scratch.Length * 2)];
        return _scratch.AsSpan(0, length);
    }

    /// <summary>Whether the gradient must flow into either input.</summary>
    internal NodeFlags GradFlag(int a) => Nodes[a].RequiresGrad ? NodeFlags.RequiresGrad : NodeFlags.None;

    internal NodeFlags GradFlag(int a, int b) =>
        (Nodes[a].RequiresGrad || Nodes[b].RequiresGrad) ? NodeFlags.RequiresGrad : NodeFlags.None;

    /// <summary>Throws if anomaly detection is on and the node's value has a NaN or an infinity.</summary>
    internal int Checked(int i)
    {
        if (DetectAnomalies) CheckFinite(i, ValueSpan(i), "value");
        return i;
    }

    private void CheckFinite(int i, ReadOnlySpan<double> values, string what)
    {
        for (int k = 0; k < values.Length; k++)
        {
            if (!double.IsFinite(values[k]))
            {
                ref readonly NodeRecord n = ref Nodes[i];
                throw new ArithmeticException(
                    $"{n.Op}: node {i} of shape {n.Shape} has a non-finite {what} ({values[k]}) at element {k}; check the inputs of this op (see Tape.Describe({i})).");
            }
        }
    }
}
