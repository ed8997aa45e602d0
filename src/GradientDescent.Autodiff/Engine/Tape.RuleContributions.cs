using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff;

/// <summary>
/// What a backward pass tells an observer: the pass is about to start, and node by node, that a node's rule is about
/// to run. The backward trace (GradientDescent.Autodiff.Teaching) is the observer; the plain pass passes a no-op
/// struct (see <see cref="Tape.Backward(Scalar, bool)"/>).
/// </summary>
internal interface IBackwardObserver
{
    /// <summary>
    /// Called once after the seed gradient is in place and before the loop takes the tape's arrays into locals: the
    /// one moment an observer may grow them (<see cref="Tape.ReserveRuleContributions"/>).
    /// </summary>
    void Start(Tape tape, int output);

    /// <summary>
    /// Node <paramref name="node"/> is reached and its gradient ∂L/∂node is complete (every node that uses it has
    /// run); its rule runs right after this call. Views excepted: a view's slot is its input's storage, so it also
    /// holds what flowed into the input directly.
    /// </summary>
    void BeforeRule(Tape tape, int node);
}

public sealed partial class Tape
{
    /// <summary>
    /// Grows the node and value/gradient arenas so that <see cref="RuleContributions"/> finds room past the tape's
    /// end for every node's inputs: one record per input and one slot per input element. Call from
    /// <see cref="IBackwardObserver.Start"/>; the recorded graph is unchanged.
    /// </summary>
    internal void ReserveRuleContributions()
    {
        int records = 0, slots = 0;
        for (int i = 0; i < Count; i++)
        {
            ref NodeRecord n = ref Nodes[i];
            int count = InputCount(n), length = 0;
            for (int k = 0; k < count; k++) length += Nodes[InputSlot(ref n, k)].Length;
            records = Math.Max(records, count);
            slots = Math.Max(slots, length);
        }
        if (Nodes.Length < Count + records) Array.Resize(ref Nodes, Count + records);
        if (Values.Length < ValueCount + slots) GrowValues(slots);
        if (Grads.Length < Values.Length) Array.Resize(ref Grads, Values.Length);
    }

    /// <summary>
    /// For the backward trace: runs node <paramref name="i"/>'s own derivative rule — what the backward loop runs for
    /// it, the scalar fast path included — once more, with every input that takes a gradient redirected to a fresh,
    /// zeroed gradient slot of its own, and returns what the rule added there: element k is input k's contribution
    /// ∂L/∂node · ∂node/∂input k, or null for an input that takes no gradient.
    /// </summary>
    /// <remarks>
    /// <para>Each redirected input is a copy of the input's record and value past the end of the tape (room made by
    /// <see cref="ReserveRuleContributions"/>), so the rule reads the same numbers and the same shapes, and an input
    /// used twice by one node (x·x) gets its two contributions in two slots. The tape's own gradients, records and
    /// operand lists are as they were afterwards: the backward loop then runs the rule for real.</para>
    /// <para>Leaves (a parameter's rule adds into <see cref="Parameter.Grad"/>) and views (whose rule is the identity
    /// on their input's storage: contributions land there in place) have no rule to observe: for them the result
    /// holds only nulls. A custom op's <see cref="CustomOp.Backward"/> runs twice per backward pass under the trace.</para>
    /// </remarks>
    internal double[]?[] RuleContributions(int i)
    {
        ref NodeRecord n = ref Nodes[i];
        int count = InputCount(n);
        var result = new double[]?[count];
        if (count == 0 || (n.Flags & NodeFlags.View) != 0) return result;

        int[] original = new int[count];
        bool[] redirected = new bool[count];
        int offset = ValueCount;
        try
        {
            for (int k = 0; k < count; k++)
            {
                ref int slot = ref InputSlot(ref n, k);
                int input = original[k] = slot;
                ref readonly NodeRecord source = ref Nodes[input];
                if (!source.RequiresGrad) continue;
                int copy = Count + k;
                ref NodeRecord shadow = ref Nodes[copy];
                shadow = source;
                shadow.Offset = offset;
                shadow.Flags = NodeFlags.RequiresGrad;
                ValueSpan(input).CopyTo(Values.AsSpan(offset, source.Length));
                Grads.AsSpan(offset, source.Length).Clear();
                offset += source.Length;
                slot = copy;
                redirected[k] = true;
            }

            // The loop's dispatch, verbatim: the scalar fast path where the loop takes it, else the general rule.
            if (!(!DetectAnomalies && n.Rows == 1 && n.Cols == 1 && ScalarRule(ref n, Grads[n.Offset], Nodes, Values, Grads))) Propagate(i, ref n);

            for (int k = 0; k < count; k++)
            {
                if (redirected[k]) result[k] = GradSpan(Count + k).ToArray();
            }
            return result;
        }
        finally
        {
            for (int k = 0; k < count; k++)
            {
                if (redirected[k]) InputSlot(ref n, k) = original[k];
            }
        }
    }

    /// <summary>How many inputs node <paramref name="n"/> has (the inputs <see cref="Describe"/> lists).</summary>
    private int InputCount(in NodeRecord n) =>
        n.Op is OpKind.Constant or OpKind.Parameter ? 0
        : HasOperandList(n.Op) ? n.B
        : HasSecondInput(n) ? 2
        : 1;

    /// <summary>Where node <paramref name="n"/> stores the id of its input <paramref name="k"/>: A, B, or an entry of its operand list.</summary>
    private ref int InputSlot(ref NodeRecord n, int k)
    {
        if (HasOperandList(n.Op)) return ref CollectionsMarshal.AsSpan(Operands)[n.A + k];
        if (k == 0) return ref n.A;
        return ref n.B;
    }
}
