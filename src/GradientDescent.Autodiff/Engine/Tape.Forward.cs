namespace GradientDescent.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// The tangent arena of forward mode: the layout of <see cref="Values"/> (a view's tangent is its input's, as its
    /// value is), allocated by the first <see cref="Jvp(Node, ReadOnlySpan{Parameter}, ReadOnlySpan{double[]}, Span{double})"/>
    /// and reused after, so a tape never used in forward mode carries an empty array and recording and backward never
    /// touch it.
    /// </summary>
    internal double[] Tangents = [];

    /// <summary>
    /// Forward mode: the directional derivative ẏ = J·v of <paramref name="output"/> with respect to the parameters,
    /// along the direction <paramref name="tangents"/> (one array per parameter, of its size), computed by one sweep
    /// over the recorded nodes in execution order, each node's tangent from its inputs' tangents (the values are
    /// already on the tape). Writes ẏ into <paramref name="outputTangent"/> (one element per output element).
    /// </summary>
    /// <remarks>
    /// <para>The same derivative that <see cref="Backward(Scalar, bool)"/> transposes: ⟨u, J v⟩ = ⟨Jᵀu, v⟩. Parameters
    /// used on the tape but not listed are held fixed (tangent 0); nodes through which no gradient flows (constants,
    /// <see cref="Ops.Detach(Scalar)"/>, nodes recorded under <see cref="NoGrad"/>) carry no tangent either, so forward
    /// mode differentiates exactly the function backward differentiates. An output that depends on no parameter gets
    /// the tangent 0.</para>
    /// <para>Nothing but the tangent arena changes: values, gradients and <see cref="Parameter.Grad"/> are left as they
    /// are, and the graph stays usable (for backward, more recording or another sweep). Allocates nothing once the
    /// arena has grown to the tape's size. A <see cref="CustomOp"/> without a forward rule (<see cref="CustomOp.Jvp"/>)
    /// is an error naming it.</para>
    /// </remarks>
    public void Jvp(Node output, ReadOnlySpan<Parameter> parameters, ReadOnlySpan<double[]> tangents, Span<double> outputTangent)
    {
        int i = output.Resolve(this, "Jvp");
        ref readonly NodeRecord o = ref Nodes[i];
        if (outputTangent.Length != o.Length)
        {
            throw new ArgumentException(
                $"Jvp: the output {o.Op} has shape {o.Shape} ({o.Length} elements) but the destination for its tangent has {outputTangent.Length}; pass one slot per output element.",
                nameof(outputTangent));
        }
        TangentSweep(i, parameters, tangents);
        if (o.RequiresGrad) TangentSpan(i).CopyTo(outputTangent);
        else outputTangent.Clear();
    }

    /// <summary>
    /// Forward mode for a scalar output: the directional derivative ẏ = ∇y · v (see
    /// <see cref="Jvp(Node, ReadOnlySpan{Parameter}, ReadOnlySpan{double[]}, Span{double})"/>).
    /// </summary>
    public double Jvp(Scalar output, ReadOnlySpan<Parameter> parameters, ReadOnlySpan<double[]> tangents)
    {
        Span<double> result = [0.0];
        Jvp(output.Handle, parameters, tangents, result);
        return result[0];
    }

    /// <summary>
    /// Runs the tangent sweep over nodes 0 … <paramref name="output"/>: afterwards <see cref="TangentSpan"/> holds ẋ of
    /// every node that requires a gradient (the rest carry no tangent and their slots are not read).
    /// </summary>
    internal void TangentSweep(int output, ReadOnlySpan<Parameter> parameters, ReadOnlySpan<double[]> tangents)
    {
        if (_freed)
        {
            throw new InvalidOperationException(
                "Jvp: the graph was freed by Backward; pass retainGraph: true to Backward to use the graph afterwards, or Clear() the tape and record it again.");
        }
        CheckSeeds(parameters, tangents);
        VerifyParameterVersions(output, "Jvp");
        if (Tangents.Length < ValueCount) Tangents = new double[Values.Length];
        NodeRecord[] nodes = Nodes;
        bool detect = DetectAnomalies;
        for (int i = 0; i <= output; i++)
        {
            ref NodeRecord n = ref nodes[i];
            // A node no gradient flows into has the tangent 0 by declaration: every rule skips such an input, as
            // backward does, so its slot (which a view or a detached node may share with a live one) is never read.
            if ((n.Flags & NodeFlags.RequiresGrad) == 0) continue;
            if (!detect && n.Rows == 1 && n.Cols == 1 && ScalarTangent(ref n)) continue;
            Tangent(i, ref n, parameters, tangents);
            if (detect) CheckFinite(i, TangentSpan(i), "tangent");
        }
    }

    private static void CheckSeeds(ReadOnlySpan<Parameter> parameters, ReadOnlySpan<double[]> tangents)
    {
        if (parameters.Length != tangents.Length)
        {
            throw new ArgumentException(
                $"Jvp: {parameters.Length} parameters but {tangents.Length} tangents; pass one tangent array per parameter, in the same order.",
                nameof(tangents));
        }
        for (int k = 0; k < parameters.Length; k++)
        {
            Parameter p = parameters[k] ?? throw new ArgumentNullException(nameof(parameters), $"Jvp: parameter {k} is null.");
            double[] v = tangents[k] ?? throw new ArgumentNullException(nameof(tangents), $"Jvp: the tangent of parameter {k} ({p.Name}) is null.");
            if (v.Length != p.Value.Length)
            {
                throw new ArgumentException(
                    $"Jvp: the tangent of parameter {k} ({p.Name}, shape {p.Shape}) has {v.Length} elements; it needs one per element of the parameter ({p.Value.Length}).",
                    nameof(tangents));
            }
        }
    }

    /// <summary>The tangent storage of node <paramref name="i"/> (valid after a sweep, for nodes that require a gradient).</summary>
    internal Span<double> TangentSpan(int i)
    {
        ref readonly NodeRecord n = ref Nodes[i];
        return Tangents.AsSpan(n.Offset, n.Length);
    }

    /// <summary>
    /// The scalar fast path of <see cref="Tangent"/>: for an elementwise op on one-element operands, ẏ from the
    /// family's local derivative (<see cref="Arithmetic.Local"/>, <see cref="Elementwise.Derivative"/>) straight on
    /// the arenas. Returns false for every other op, which takes the general path.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool ScalarTangent(ref NodeRecord n)
    {
        NodeRecord[] nodes = Nodes;
        double[] tangents = Tangents;
        switch (n.Op)
        {
            case >= OpKind.Add and <= OpKind.Minimum:
            {
                ref NodeRecord a = ref nodes[n.A];
                ref NodeRecord b = ref nodes[n.B];
                if (n.Op is OpKind.Add or OpKind.Multiply && ((a.Flags | b.Flags) & NodeFlags.External) == 0)
                {
                    // + and ×, what scalar chains are made of, on operands in the arena: Local's two expressions
                    // written out (ȧ + ḃ; ȧ·b + ḃ·a), without its switch per operand or a read of the result.
                    double sum = 0;
                    if (n.Op == OpKind.Add)
                    {
                        if ((a.Flags & NodeFlags.RequiresGrad) != 0) sum = tangents[a.Offset];
                        if ((b.Flags & NodeFlags.RequiresGrad) != 0) sum += tangents[b.Offset];
                    }
                    else
                    {
                        double[] values = Values;
                        if ((a.Flags & NodeFlags.RequiresGrad) != 0) sum = tangents[a.Offset] * values[b.Offset];
                        if ((b.Flags & NodeFlags.RequiresGrad) != 0) sum += tangents[b.Offset] * values[a.Offset];
                    }
                    tangents[n.Offset] = sum;
                    return true;
                }
                double x = (a.Flags & NodeFlags.External) == 0 ? Values[a.Offset] : ExternalValue(n.A);
                double y = (b.Flags & NodeFlags.External) == 0 ? Values[b.Offset] : ExternalValue(n.B);
                bool ga = (a.Flags & NodeFlags.RequiresGrad) != 0, gb = (b.Flags & NodeFlags.RequiresGrad) != 0;
                double result = Values[n.Offset], dot = 0;
                // ẏ = (∂y/∂a)·ȧ + (∂y/∂b)·ḃ: Local is linear in its g, so it maps a tangent as it maps a gradient.
                if (ga) dot = Arithmetic.Local(n.Op, 0, tangents[a.Offset], x, y, result);
                if (gb) dot += Arithmetic.Local(n.Op, 1, tangents[b.Offset], x, y, result);
                tangents[n.Offset] = dot;
                return true;
            }
            case >= OpKind.Negate and <= OpKind.MinConstant:
            {
                ref NodeRecord a = ref nodes[n.A];
                double x = (a.Flags & NodeFlags.External) == 0 ? Values[a.Offset] : ExternalValue(n.A);
                tangents[n.Offset] = Elementwise.Derivative(n.Op, x, Values[n.Offset], n.Aux) * tangents[a.Offset];
                return true;
            }
            default:
                return false;
        }
    }

    /// <summary>Applies node <paramref name="i"/>'s forward rule: writes ẏ from its inputs' tangents (or from the seed, for a parameter).</summary>
    private void Tangent(int i, ref NodeRecord n, ReadOnlySpan<Parameter> parameters, ReadOnlySpan<double[]> tangents)
    {
        switch (n.Op)
        {
            case OpKind.Parameter:
            {
                // The seed: the caller's tangent of this parameter, or 0 for a parameter held fixed.
                Span<double> d = TangentSpan(i);
                Parameter p = ParameterTable[n.A];
                d.Clear();
                for (int k = 0; k < parameters.Length; k++)
                {
                    if (!ReferenceEquals(parameters[k], p)) continue;
                    tangents[k].CopyTo(d);
                    break;
                }
                break;
            }
            case OpKind.Element:
            case OpKind.Row:
            case OpKind.Reshape:
            case OpKind.Slice:
                // Views share their input's tangent storage as they share its values: ẏ is already in place.
                break;
            case OpKind.Detach:
                // Never reached: a detached node requires no gradient, so the sweep skips it; its tangent is 0, declared.
                break;
            case >= OpKind.Add and <= OpKind.Minimum:
                Arithmetic.Tangent(this, i, ref n);
                break;
            case >= OpKind.Negate and <= OpKind.MinConstant:
                Elementwise.Tangent(this, i, ref n);
                break;
            case OpKind.Dot:
            case OpKind.MatVec:
            case OpKind.MatMul:
            case OpKind.Transpose:
                LinearAlgebra.Tangent(this, i, ref n);
                break;
            case OpKind.Sum:
            case OpKind.Mean:
            case OpKind.SumAxis:
            case OpKind.MeanAxis:
            case OpKind.LogSumExp:
                Reductions.Tangent(this, i, ref n);
                break;
            case OpKind.Concat:
            case OpKind.Stack:
                Views.ConcatTangent(this, i, ref n);
                break;
            case OpKind.Column:
            case OpKind.Columns:
                Views.ColumnsTangent(this, i, ref n);
                break;
            case OpKind.Softmax:
            case OpKind.LogSoftmax:
                SoftmaxOps.Tangent(this, i, ref n);
                break;
            case OpKind.Variance:
            case OpKind.StandardDeviation:
            case OpKind.VarianceAxis:
            case OpKind.StandardDeviationAxis:
                Statistics.Tangent(this, i, ref n);
                break;
            case OpKind.BinaryCrossEntropy:
            case OpKind.BinaryCrossEntropyWithLogits:
                BinaryCrossEntropyOps.Tangent(this, i, ref n);
                break;
            case OpKind.SoftmaxCrossEntropy:
                SoftmaxCrossEntropyOps.Tangent(this, i, ref n);
                break;
            case >= OpKind.LinearRegressionLoss and <= OpKind.SoftmaxRegressionLoss:
                ModelLosses.Tangent(this, i, ref n);
                break;
            case OpKind.Custom:
                CustomOps.Tangent(this, i, ref n);
                break;
            default:
                // A missing rule is an error, never a silent zero.
                throw new InvalidOperationException($"Jvp: no forward-mode rule for {n.Op} (node {i}).");
        }
    }
}
