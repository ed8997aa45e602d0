using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff;

/// <summary>What one recorded node is: for reading a graph, teaching with it, or replaying it elsewhere.</summary>
/// <param name="Id">The node's index on the tape (execution order).</param>
/// <param name="Op">The operation.</param>
/// <param name="Shape">The output's shape.</param>
/// <param name="Inputs">The input nodes' ids, in order.</param>
/// <param name="Constant">
/// The op's constant: the c of <see cref="OpKind.AddConstant"/>, <see cref="OpKind.MultiplyConstant"/>,
/// <see cref="OpKind.PowerConstant"/>, <see cref="OpKind.MaxConstant"/>, <see cref="OpKind.MinConstant"/>; the axis of
/// <see cref="OpKind.SumAxis"/>/<see cref="OpKind.MeanAxis"/>; the row-major index of <see cref="OpKind.Element"/>;
/// the row of <see cref="OpKind.Row"/>; the first element (row) of a <see cref="OpKind.Slice"/>; the column of
/// <see cref="OpKind.Column"/>; the first column of <see cref="OpKind.Columns"/>; the negative slope of
/// <see cref="OpKind.LeakyRelu"/>, the α of <see cref="OpKind.Elu"/>; the correction (1 sample, 0 population) of
/// <see cref="OpKind.Variance"/> and <see cref="OpKind.StandardDeviation"/>, axis + 2·correction for
/// <see cref="OpKind.VarianceAxis"/> and <see cref="OpKind.StandardDeviationAxis"/>; otherwise 0.
/// </param>
/// <param name="RequiresGrad">Whether a gradient flows into the node.</param>
/// <param name="Parameter">The parameter of a <see cref="OpKind.Parameter"/> leaf.</param>
/// <param name="Labels">The class labels of <see cref="OpKind.SoftmaxCrossEntropy"/> and <see cref="OpKind.SoftmaxRegressionLoss"/>.</param>
/// <param name="CustomOp">The op of a <see cref="OpKind.Custom"/> node.</param>
public sealed record NodeInfo(
    int Id, OpKind Op, Shape Shape, IReadOnlyList<int> Inputs, double Constant, bool RequiresGrad,
    Parameter? Parameter, IReadOnlyList<int>? Labels, CustomOp? CustomOp)
{
    /// <summary>
    /// The half-open range a <see cref="OpKind.Slice"/> (along the first axis) or <see cref="OpKind.Columns"/> node
    /// takes from its input, e.g. 2..5; null for every other op.
    /// </summary>
    public Range? Bounds => Op switch
    {
        OpKind.Slice => (int)Constant..((int)Constant + Shape.Rows),
        OpKind.Columns => (int)Constant..((int)Constant + Shape.Cols),
        _ => null,
    };

    /// <summary>The name given to the node with <see cref="Scalar.Named"/> (or the vector and matrix twins); null if none.</summary>
    public string? Name { get; init; }

    /// <summary>The shape of the first input, for labels such as <c>Element[1, 2]</c>; the node's own shape for leaves.</summary>
    internal Shape FirstInputShape { get; init; }

    /// <summary>"%5 z = Sigmoid(%4) scalar": id, name, op with its constant and inputs, shape (as a line of <see cref="Tape.Format"/>).</summary>
    public override string ToString() => $"%{Id} {Tape.Label(this)} {Shape}" + (RequiresGrad ? "" : " (no gradient)");
}

public sealed partial class Tape
{
    /// <summary>Names given with <c>Named</c>, by node id; null until the first name (no cost when unused).</summary>
    private Dictionary<int, string>? _names;

    /// <summary>Gives node <paramref name="id"/> a name shown by <see cref="Format"/> and <see cref="Describe"/>.</summary>
    internal void SetName(int id, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        (_names ??= [])[id] = name;
    }

    /// <summary>Forgets the names (on <see cref="Clear"/>).</summary>
    private void ClearNames() => _names?.Clear();

    /// <summary>The structure of node <paramref name="id"/>.</summary>
    public NodeInfo Describe(int id)
    {
        if ((uint)id >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Describe: the tape has {Count} nodes (ids 0 to {Count - 1}).");
        }
        ref readonly NodeRecord n = ref Nodes[id];
        int[] inputs = n.Op switch
        {
            OpKind.Constant or OpKind.Parameter => [],
            _ when HasOperandList(n.Op) => Operands.GetRange(n.A, n.B).ToArray(),
            _ when HasSecondInput(n) => [n.A, n.B],
            _ => [n.A],
        };
        var info = new NodeInfo(
            id, n.Op, n.Shape, inputs,
            n.Op is OpKind.Custom or OpKind.SoftmaxRegressionLoss ? 0 : n.Aux,
            n.RequiresGrad,
            n.Op == OpKind.Parameter ? ParameterTable[n.A] : null,
            n.Op switch
            {
                OpKind.SoftmaxCrossEntropy => (int[])Objects[n.B],
                OpKind.SoftmaxRegressionLoss => (int[])Objects[(int)n.Aux],
                _ => null,
            },
            n.Op == OpKind.Custom ? CustomOps.Of(this, n) : null)
        {
            Name = _names is null ? null : _names.GetValueOrDefault(id),
            FirstInputShape = inputs.Length > 0 ? Nodes[inputs[0]].Shape : n.Shape,
        };
        return info;
    }

    /// <summary>
    /// A handle to node <paramref name="id"/>, for its recorded value (<see cref="Node.ToArray"/>) and, after a
    /// backward pass, ∂L/∂node (<see cref="Node.GradToArray"/>). With <see cref="Describe"/> this is everything a
    /// replay of the graph elsewhere needs, constant leaves' values included.
    /// </summary>
    public Node NodeAt(int id)
    {
        if ((uint)id >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"NodeAt: the tape has {Count} nodes (ids 0 to {Count - 1}).");
        }
        return new Node(this, id);
    }

    /// <summary>
    /// The graph as text, one line per node in execution order: id, op, inputs, shape, value and — after a
    /// backward pass — ∂L/∂node. Reading it bottom-up follows the chain rule step by step.
    /// </summary>
    /// <param name="maxElements">How many elements of each value and gradient to show.</param>
    public string Format(int maxElements = 4)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        bool grads = _backwardGeneration == Generation;
        for (int i = 0; i < Count; i++)
        {
            NodeInfo info = Describe(i);
            sb.Append(c, $"%{i,-4} {Label(info),-32} {info.Shape,-10} = {Show(ValueSpan(i), maxElements)}");
            if (grads && info.RequiresGrad && i < _backwardCount) sb.Append(c, $"   ∂L/∂ = {Show(ReadGrad(i), maxElements)}");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>
    /// A node as Format shows it: its name if it has one, then the op with what distinguishes it from its kind
    /// (constant, index, bounds, parameter or custom-op name), then its inputs: <c>z = Sigmoid(%4)</c>,
    /// <c>Element[1, 2](%0)</c>, <c>Parameter w</c>. The one place that labels a node.
    /// </summary>
    internal static string Label(NodeInfo info)
    {
        var c = CultureInfo.InvariantCulture;
        string op = info.Op switch
        {
            OpKind.Parameter => $"Parameter {info.Parameter!.Name}",
            OpKind.Custom => $"Custom {info.CustomOp!.Name}",
            OpKind.AddConstant or OpKind.MultiplyConstant or OpKind.PowerConstant or OpKind.MaxConstant or OpKind.MinConstant
                or OpKind.LeakyRelu or OpKind.Elu
                => string.Create(c, $"{info.Op}({info.Constant:G6})"),
            OpKind.Element when info.FirstInputShape.Kind == ShapeKind.Matrix
                => string.Create(c, $"Element[{(int)info.Constant / info.FirstInputShape.Cols}, {(int)info.Constant % info.FirstInputShape.Cols}]"),
            OpKind.Element or OpKind.Row or OpKind.Column => string.Create(c, $"{info.Op}[{(int)info.Constant}]"),
            OpKind.Slice or OpKind.Columns => string.Create(c, $"{info.Op}[{info.Bounds}]"),
            OpKind.Variance or OpKind.StandardDeviation => string.Create(c, $"{info.Op}(correction {info.Constant})"),
            OpKind.VarianceAxis or OpKind.StandardDeviationAxis
                => string.Create(c, $"{info.Op}(axis {(int)info.Constant % 2}, correction {(int)info.Constant / 2})"),
            _ => info.Op.ToString(),
        };
        string inputs = info.Inputs.Count == 0 ? "" : "(" + string.Join(", ", info.Inputs.Select(k => "%" + k.ToString(c))) + ")";
        return info.Name is null ? op + inputs : $"{info.Name} = {op}{inputs}";
    }

    /// <summary>
    /// Up to <paramref name="max"/> values, G6, invariant culture: "0.5" for one value, "[1, 2, 3, …]" for more. A
    /// negative zero (a zero factor times a negative gradient) shows as 0: it equals 0, and "−0" would puzzle a reader.
    /// </summary>
    internal static string Show(ReadOnlySpan<double> v, int max)
    {
        if (v.Length == 1) return Number(v[0]);
        var sb = new StringBuilder("[");
        for (int k = 0; k < Math.Min(v.Length, max); k++) sb.Append(k == 0 ? "" : ", ").Append(Number(v[k]));
        if (v.Length > max) sb.Append(", …");
        return sb.Append(']').ToString();
    }

    /// <summary>G6, invariant culture, −0 as 0.</summary>
    internal static string Number(double v) => (v == 0 ? 0.0 : v).ToString("G6", CultureInfo.InvariantCulture);
}
