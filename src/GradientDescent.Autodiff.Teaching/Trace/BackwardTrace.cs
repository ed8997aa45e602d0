namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// The chain rule, step by step: a backward pass recorded node by node. For each node whose derivative rule ran, in
/// backward order, the gradient ∂L/∂node it started from and, for each input x, the local derivative ∂node/∂x (as a
/// formula, and as a number where it is one), the product the rule added into ∂L/∂x, and the running sum
/// ∂L/∂x = Σ ∂L/∂node · ∂node/∂x over the nodes that use x.
/// </summary>
/// <remarks>
/// <para>One source of truth: <see cref="Record"/> runs the tape's own backward pass and reads every number from
/// backward's own rules. Before each node's rule runs, the trace runs that same rule once more with the node's inputs
/// redirected to fresh zeroed gradient slots, and reads what it added there: that is each term's
/// <see cref="TraceTerm.Contribution"/>. Nothing here derives a gradient.</para>
/// <para>Rounding: upstream gradients are backward's own numbers, bit for bit. A running sum is the trace's sum of
/// the contributions in backward order; it equals backward's accumulated gradient exactly when every rule adds its
/// contribution in one addition per element (elementwise ops, dot, sums, softmax, …), and to rounding (about 10⁻¹⁵
/// relative) where a rule adds in several partial sums into the same element (matrix products, a broadcast row's
/// column sums, softmax cross-entropy's label element) or where a view's contribution landed in its input's storage
/// earlier than the view's step shows it.</para>
/// </remarks>
public sealed partial class BackwardTrace
{
    private BackwardTrace(int output, double loss, TraceStep[] steps)
    {
        Output = output;
        Loss = loss;
        Steps = steps;
    }

    /// <summary>The id of the loss node the pass started from.</summary>
    public int Output { get; }

    /// <summary>The loss's value.</summary>
    public double Loss { get; }

    /// <summary>Every node whose rule ran, in backward order: the loss first, leaves (parameters) last.</summary>
    public IReadOnlyList<TraceStep> Steps { get; }

    /// <summary>
    /// Runs the backward pass from <paramref name="loss"/> and records it step by step.
    /// </summary>
    /// <remarks>
    /// This is <see cref="Tape.Backward(Scalar, bool)"/>, observed: it adds ∂loss/∂p into <see cref="Parameter.Grad"/>
    /// of every parameter used, exactly as backward does, bit for bit (gradients accumulate until zeroed; zero them
    /// first for a trace whose parameter gradients are the loss's alone), and afterwards the tape's gradients
    /// (<see cref="Node.GradToArray"/>, <see cref="Tape.Format"/>) are backward's. As with backward, the graph is
    /// freed unless <paramref name="retainGraph"/> is set; the trace keeps copies of every number it shows, so it
    /// stays readable either way. A custom op's <see cref="CustomOp.Backward"/> runs twice per node (once to observe
    /// its contributions, once for real).
    /// </remarks>
    /// <param name="loss">A scalar node; its gradient is seeded with 1.</param>
    /// <param name="retainGraph">Keep the graph for another backward pass or more recording (as for <see cref="Tape.Backward(Scalar, bool)"/>).</param>
    public static BackwardTrace Record(Scalar loss, bool retainGraph = false)
    {
        Tape tape = loss.Tape;
        int output = loss.Handle.Resolve(tape, "BackwardTrace.Record");
        var recorder = new TraceRecorder(tape, output);
        var observer = new TraceRecorder.Observer(recorder);
        tape.Backward(loss, retainGraph, ref observer);
        return new BackwardTrace(output, tape.ValueOf(output), recorder.Finish());
    }
}
