using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// Cross-checks a graph of this library against PyTorch: records the loss, runs this library's backward pass,
/// replays the tape in TorchSharp (float64, <see cref="TorchReplay"/>), runs libtorch's backward pass, and compares
/// every node's value, every node's ∂L/∂node and every parameter's gradient.
/// </summary>
/// <remarks>
/// The two gradients are derived independently: this library's from its own derivative rules, libtorch's from its
/// autograd of the same forward ops (<see cref="TorchOpMap"/>), so a wrong rule cannot hide behind a shared mistake.
/// Tolerances are explained at <see cref="TorchCrossCheckOptions"/>.
/// </remarks>
public static class TorchCrossCheck
{
    /// <summary>
    /// Records <paramref name="loss"/> on a fresh tape (it must record on the tape it is given and return a scalar of
    /// it), differentiates it here and in libtorch, and compares values and gradients node by node.
    /// </summary>
    /// <param name="loss">The computation to check.</param>
    /// <param name="parameters">The parameters whose gradients to report; their values and accumulated gradients are left as they were.</param>
    /// <param name="options">Tolerances and custom-op equivalents; defaults: 10⁻¹⁰ relative or 10⁻¹² absolute.</param>
    public static TorchCrossCheckReport Run(Func<Tape, Scalar> loss, IEnumerable<Parameter> parameters, TorchCrossCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        TorchNativeLoader.EnsureLoaded();
        Parameter[] ps = [.. parameters];
        double[][] saved = ps.Select(p => (double[])p.Grad.Clone()).ToArray();
        try
        {
            foreach (var p in ps) p.ZeroGrad();
            var tape = new Tape();
            Scalar l = loss(tape);
            if (!ReferenceEquals(l.Tape, tape))
            {
                throw new InvalidOperationException("TorchCrossCheck: the loss function must record on the tape it is given and return a scalar of that tape.");
            }
            l.Backward();
            // Parameter.Grad was zeroed, so it now holds exactly this pass's ∂L/∂p: checking it checks the accumulation too.
            return Compare(tape, l, ps, p => (double[])p.Grad.Clone(), options ?? new TorchCrossCheckOptions());
        }
        finally
        {
            for (int k = 0; k < ps.Length; k++) saved[k].CopyTo(ps[k].Grad, 0);
        }
    }

    /// <summary>
    /// Compares a tape that is already recorded and differentiated (<c>loss.Backward()</c> has run) with its libtorch
    /// replay. Parameters' gradients are taken from the tape (the sum over their leaves), not from
    /// <see cref="Parameter.Grad"/>, which accumulates across tapes.
    /// </summary>
    /// <param name="loss">The scalar the backward pass ran from.</param>
    /// <param name="parameters">The parameters to report; null for every parameter used on the tape, in order of first use.</param>
    /// <param name="options">Tolerances and custom-op equivalents.</param>
    public static TorchCrossCheckReport Compare(Scalar loss, IEnumerable<Parameter>? parameters = null, TorchCrossCheckOptions? options = null)
    {
        TorchNativeLoader.EnsureLoaded();
        Tape tape = loss.Tape;
        Parameter[] ps = parameters is null
            ? Enumerable.Range(0, tape.NodeCount).Select(tape.Describe).Where(n => n.Op == OpKind.Parameter)
                .Select(n => n.Parameter!).Distinct().ToArray()
            : [.. parameters];
        return Compare(tape, loss, ps, p => SumOfLeaves(tape, p), options ?? new TorchCrossCheckOptions());
    }

    private static TorchCrossCheckReport Compare(
        Tape tape, Scalar loss, Parameter[] parameters, Func<Parameter, double[]> autodiffGrad, TorchCrossCheckOptions options)
    {
        using var replay = new TorchReplay(tape, options.CustomOps);
        int output = ((Node)loss).Id;
        if (replay[output].requires_grad) replay.Backward(loss);

        var nodes = new NodeComparison[replay.Count];
        for (int id = 0; id < nodes.Length; id++)
        {
            NodeInfo info = tape.Describe(id);
            Node node = tape.NodeAt(id);
            string? standIn = replay.StandIns.GetValueOrDefault(id);
            Discrepancy? value = standIn is null ? Discrepancy.Compare(node.ToArray(), replay.Value(id), options) : null;
            Discrepancy? grad = null;
            string? notChecked = standIn;
            if (options.CompareNodeGradients && info.RequiresGrad && id <= output)
            {
                if (replay.IsGradientComplete(id)) grad = Discrepancy.Compare(node.GradToArray(), replay.Grad(id), options);
                else notChecked ??= "its gradient flows through a stand-in (a custom op without a TorchSharp equivalent)";
            }
            nodes[id] = new NodeComparison(id, info.Op, TorchReplay.Name(info), info.Shape, value, grad, notChecked);
        }

        var checks = new ParameterComparison[parameters.Length];
        for (int k = 0; k < parameters.Length; k++)
        {
            Parameter p = parameters[k];
            double[] autodiff = autodiffGrad(p);
            bool complete = replay.LeavesOf(p).All(replay.IsGradientComplete);
            double[] reference = replay[output].requires_grad ? replay.ParameterGrad(p) : new double[autodiff.Length];
            double[]? hand = options.HandDerived?.Invoke(p);
            if (hand is not null && hand.Length != autodiff.Length)
            {
                throw new ArgumentException(
                    $"TorchCrossCheck: the hand-derived gradient for {p.Name} has {hand.Length} elements; {p.Name} has shape {p.Shape} ({autodiff.Length} elements).",
                    nameof(options));
            }
            checks[k] = new ParameterComparison(
                p, autodiff, reference, Discrepancy.Compare(autodiff, reference, options),
                complete ? null : "part of its gradient flows through a stand-in (a custom op without a TorchSharp equivalent)",
                hand, hand is null ? null : Discrepancy.Compare(autodiff, hand, options));
        }
        return new TorchCrossCheckReport(loss.Value, replay.Value(output)[0], nodes, checks, options);
    }

    private static double[] SumOfLeaves(Tape tape, Parameter p)
    {
        var total = new double[p.Value.Length];
        for (int id = 0; id < tape.NodeCount; id++)
        {
            NodeInfo n = tape.Describe(id);
            if (n.Op != OpKind.Parameter || !ReferenceEquals(n.Parameter, p)) continue;
            double[] g = tape.NodeAt(id).GradToArray();
            for (int k = 0; k < total.Length; k++) total[k] += g[k];
        }
        return total;
    }
}
