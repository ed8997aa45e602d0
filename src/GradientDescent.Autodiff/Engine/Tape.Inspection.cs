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
/// <param name="Labels">The class labels of <see cref="OpKind.SoftmaxCrossEntropy"/>.</param>
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
}

public sealed partial class Tape
{
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
        return new NodeInfo(
            id, n.Op, n.Shape, inputs,
            n.Op == OpKind.Custom ? 0 : n.Aux,
            n.RequiresGrad,
            n.Op == OpKind.Parameter ? ParameterTable[n.A] : null,
            n.Op == OpKind.SoftmaxCrossEntropy ? (int[])Objects[n.B] : null,
            n.Op == OpKind.Custom ? CustomOps.Of(this, n) : null);
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
            string name = info.Op switch
            {
                OpKind.Parameter => $"Parameter {info.Parameter!.Name}",
                OpKind.Custom => $"Custom {info.CustomOp!.Name}",
                OpKind.AddConstant or OpKind.MultiplyConstant or OpKind.PowerConstant or OpKind.MaxConstant or OpKind.MinConstant
                    or OpKind.LeakyRelu or OpKind.Elu
                    => string.Create(c, $"{info.Op}({info.Constant:G6})"),
                OpKind.Slice or OpKind.Columns => string.Create(c, $"{info.Op}[{info.Bounds}]"),
                OpKind.Column => string.Create(c, $"Column[{(int)info.Constant}]"),
                OpKind.Variance or OpKind.StandardDeviation => string.Create(c, $"{info.Op}(correction {info.Constant})"),
                OpKind.VarianceAxis or OpKind.StandardDeviationAxis
                    => string.Create(c, $"{info.Op}(axis {(int)info.Constant % 2}, correction {(int)info.Constant / 2})"),
                _ => info.Op.ToString(),
            };
            string inputs = info.Inputs.Count == 0 ? "" : "(" + string.Join(", ", info.Inputs.Select(k => "%" + k.ToString(c))) + ")";
            sb.Append(c, $"%{i,-4} {name + inputs,-32} {info.Shape,-10} = {Show(ValueSpan(i), maxElements)}");
            if (grads && info.RequiresGrad && i < _backwardCount) sb.Append(c, $"   ∂L/∂ = {Show(GradSpan(i), maxElements)}");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string Show(ReadOnlySpan<double> v, int max)
    {
        var c = CultureInfo.InvariantCulture;
        if (v.Length == 1) return v[0].ToString("G6", c);
        var sb = new StringBuilder("[");
        for (int k = 0; k < Math.Min(v.Length, max); k++) sb.Append(k == 0 ? "" : ", ").Append(v[k].ToString("G6", c));
        if (v.Length > max) sb.Append(", …");
        return sb.Append(']').ToString();
    }
}
