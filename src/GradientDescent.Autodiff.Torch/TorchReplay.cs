using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// A recorded <see cref="Tape"/> replayed in TorchSharp: node id → float64 tensor, built op by op through
/// <see cref="TorchOpMap"/>, and after <see cref="Backward"/> libtorch's gradients of every node.
/// </summary>
/// <remarks>
/// <para>Leaves hold the values the tape recorded: every <see cref="OpKind.Constant"/> node becomes a tensor without
/// grad, every <see cref="OpKind.Parameter"/> node (one per <c>tape.Use</c>) a leaf with requires_grad exactly when the
/// node requires a gradient. Every other node is computed by libtorch from its inputs' tensors; nodes recorded without
/// gradient (under <see cref="Tape.NoGrad"/>) are detached, and every non-leaf that requires a gradient retains it, so
/// ∂L/∂node is available for all of them.</para>
/// <para>A custom node without a <see cref="TorchCustomOps"/> equivalent is replaced by a stand-in: a leaf holding this
/// library's output. The rest of the graph is still replayed and its values and downstream gradients are comparable,
/// but the node's own value is not checked and the gradients of everything it depends on are incomplete in torch
/// (<see cref="IsGradientComplete"/>); <see cref="StandIns"/> lists such nodes with the reason.</para>
/// <para>Tensors are owned by the replay and valid until <see cref="Dispose"/>; temporaries are disposed as they are
/// made (every step runs inside <c>torch.NewDisposeScope()</c>).</para>
/// </remarks>
public sealed class TorchReplay : IDisposable
{
    private readonly NodeInfo[] _nodes;
    private readonly Tensor[] _tensors;
    private readonly Dictionary<int, string> _standIns = [];
    private readonly bool[] _gradIncomplete;
    private int _output = -1;
    private bool _disposed;

    /// <summary>Replays every node of <paramref name="tape"/>, in order.</summary>
    /// <param name="tape">A recorded tape (before or after its own backward pass).</param>
    /// <param name="customOps">TorchSharp equivalents of the custom ops on the tape, if any.</param>
    /// <exception cref="InvalidOperationException">
    /// A replayed node disagrees with its record in shape, dtype or whether it requires a gradient (a bridge or custom
    /// equivalent error, named with the node).
    /// </exception>
    public TorchReplay(Tape tape, TorchCustomOps? customOps = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Tape = tape;
        customOps ??= new TorchCustomOps();
        int count = tape.NodeCount;
        _nodes = new NodeInfo[count];
        _tensors = new Tensor[count];
        try
        {
            using DisposeScope scope = NewDisposeScope();
            for (int id = 0; id < count; id++)
            {
                _nodes[id] = tape.Describe(id);
                _tensors[id] = scope.Detach(ReplayNode(_nodes[id], tape.NodeAt(id).ToArray(), customOps));
            }
        }
        catch
        {
            DisposeTensors();
            throw;
        }
        _gradIncomplete = MarkIncompleteGradients();
    }

    /// <summary>The replayed tape.</summary>
    public Tape Tape { get; }

    /// <summary>Number of nodes replayed (the tape's node count when the replay was made).</summary>
    public int Count => _nodes.Length;

    /// <summary>The tensor of node <paramref name="id"/> (owned by the replay: do not dispose it).</summary>
    public Tensor this[int id]
    {
        get
        {
            ThrowIfDisposed();
            return (uint)id < (uint)_tensors.Length
                ? _tensors[id]
                : throw new ArgumentOutOfRangeException(nameof(id), id, $"TorchReplay: the replay has {Count} nodes (ids 0 to {Count - 1}).");
        }
    }

    /// <summary>The tensor of <paramref name="node"/>, a node of the replayed tape.</summary>
    public Tensor this[Node node] => this[Resolve(node)];

    /// <summary>Custom nodes replaced by a constant stand-in (no TorchSharp equivalent), with the reason.</summary>
    public IReadOnlyDictionary<int, string> StandIns => _standIns;

    /// <summary>
    /// Whether torch's ∂L/∂node of node <paramref name="id"/> is the whole gradient: false when part of it flows
    /// through a stand-in, which torch cannot differentiate.
    /// </summary>
    public bool IsGradientComplete(int id) => !_gradIncomplete[id];

    /// <summary>Runs libtorch's backward pass from the scalar <paramref name="loss"/> (once per replay).</summary>
    public void Backward(Scalar loss)
    {
        ThrowIfDisposed();
        int id = Resolve(loss);
        if (_output >= 0)
        {
            throw new InvalidOperationException($"TorchReplay: backward already ran (from node {_output}); make a new replay to differentiate again.");
        }
        if (!_tensors[id].requires_grad)
        {
            throw new InvalidOperationException($"TorchReplay: node {id} ({_nodes[id].Op}) does not require a gradient; there is nothing to differentiate.");
        }
        using DisposeScope scope = NewDisposeScope();
        _tensors[id].backward();
        _output = id;
    }

    /// <summary>Torch's value of node <paramref name="id"/>, row-major.</summary>
    public double[] Value(int id) => this[id].ToDoubleArray();

    /// <summary>
    /// Torch's ∂L/∂node of node <paramref name="id"/> after <see cref="Backward"/>, row-major, in this library's sense:
    /// zeros where no gradient flows, and for a view (element, row, slice, reshape) the gradient of the storage it shares —
    /// the matching slice of its source's gradient, every use of that storage included.
    /// </summary>
    public double[] Grad(int id)
    {
        ThrowIfDisposed();
        if (_output < 0) throw new InvalidOperationException("TorchReplay: call Backward before reading gradients.");
        NodeInfo node = _nodes[id];
        int length = node.Shape.Length;
        if (!node.RequiresGrad) return new double[length];
        (int root, int start) = Storage(id);
        if (root != id) return Grad(root).AsSpan(start, length).ToArray();
        using DisposeScope scope = NewDisposeScope();
        Tensor? grad = _tensors[id].grad;
        return grad is null ? new double[length] : grad.ToDoubleArray();
    }

    /// <summary>Torch's ∂L/∂p: the sum of the gradients of every leaf that uses <paramref name="parameter"/> (zeros if none).</summary>
    public double[] ParameterGrad(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var total = new double[parameter.Value.Length];
        foreach (int id in LeavesOf(parameter))
        {
            double[] g = Grad(id);
            for (int k = 0; k < total.Length; k++) total[k] += g[k];
        }
        return total;
    }

    /// <summary>The ids of the leaf nodes that use <paramref name="parameter"/>.</summary>
    public IEnumerable<int> LeavesOf(Parameter parameter) =>
        _nodes.Where(n => n.Op == OpKind.Parameter && ReferenceEquals(n.Parameter, parameter)).Select(n => n.Id);

    /// <summary>Disposes every tensor of the replay.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeTensors();
    }

    private Tensor ReplayNode(NodeInfo node, double[] value, TorchCustomOps customOps)
    {
        Func<Tensor[], Tensor>? equivalent = null;
        if (node.Op == OpKind.Custom)
        {
            string name = node.CustomOp!.Name;
            equivalent = customOps.Find(node.CustomOp);
            if (equivalent is null)
            {
                _standIns[node.Id] =
                    $"custom op '{name}' has no TorchSharp equivalent, so it cannot be cross-checked; register one, e.g. options.CustomOps[\"{name}\"] = x => …";
                return value.ToTorch(node.Shape, node.RequiresGrad);
            }
        }

        var inputs = new Tensor[node.Inputs.Count];
        for (int k = 0; k < inputs.Length; k++) inputs[k] = _tensors[node.Inputs[k]];
        Tensor t = TorchOpMap.Apply(new TorchOpArguments(node, inputs, value, equivalent));

        long[] expected = node.Shape.ToTorchShape();
        if (!t.shape.SequenceEqual(expected) || t.dtype != ScalarType.Float64)
        {
            throw new InvalidOperationException(
                $"TorchReplay: node {node.Id} ({Name(node)}) replays as a {t.dtype} tensor of shape [{string.Join(", ", t.shape)}], but was recorded as float64 {node.Shape} ([{string.Join(", ", expected)}]).");
        }
        if (!node.RequiresGrad && t.requires_grad)
        {
            t = t.detach(); // recorded under NoGrad (or detached): nothing flows back through it, as on the tape.
        }
        else if (node.RequiresGrad && !t.requires_grad)
        {
            throw new InvalidOperationException(
                $"TorchReplay: node {node.Id} ({Name(node)}) requires a gradient on the tape but its torch replay does not (a custom equivalent that detaches, or a bridge error).");
        }
        if (t.requires_grad && !t.is_leaf) t.retain_grad();
        return t;
    }

    /// <summary>The non-view node whose storage node <paramref name="id"/> shares, and the offset into it.</summary>
    private (int Root, int Start) Storage(int id)
    {
        NodeInfo node = _nodes[id];
        int start = 0;
        while (node.Op is OpKind.Element or OpKind.Row or OpKind.Slice or OpKind.Reshape or OpKind.Detach)
        {
            NodeInfo source = _nodes[node.Inputs[0]];
            start += node.Op switch
            {
                OpKind.Element => (int)node.Constant,
                OpKind.Row or OpKind.Slice => (int)node.Constant * source.Shape.Cols, // a vector's Cols is 1
                _ => 0,
            };
            node = source;
        }
        return (node.Id, start);
    }

    /// <summary>Marks every node whose gradient flows (partly) through a stand-in: their torch gradients are incomplete.</summary>
    private bool[] MarkIncompleteGradients()
    {
        var incomplete = new bool[_nodes.Length];
        for (int id = _nodes.Length - 1; id >= 0; id--)
        {
            if (!incomplete[id] && !_standIns.ContainsKey(id)) continue;
            foreach (int input in _nodes[id].Inputs) incomplete[input] = true;
        }
        // A view's gradient is its source storage's: complete exactly when that is.
        for (int id = 0; id < _nodes.Length; id++) incomplete[id] |= incomplete[Storage(id).Root];
        return incomplete;
    }

    private int Resolve(Node node)
    {
        if (!ReferenceEquals(node.Tape, Tape) || node.Id >= Count)
        {
            throw new ArgumentException("TorchReplay: the node is not one of the replayed tape's nodes.", nameof(node));
        }
        return node.Id;
    }

    internal static string Name(NodeInfo node) => node.Op switch
    {
        OpKind.Custom => $"Custom {node.CustomOp!.Name}",
        OpKind.Parameter => $"Parameter {node.Parameter!.Name}",
        _ => node.Op.ToString(),
    };

    private void DisposeTensors()
    {
        foreach (Tensor? t in _tensors) t?.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
