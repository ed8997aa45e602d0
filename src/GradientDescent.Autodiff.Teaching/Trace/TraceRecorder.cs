namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// Collects a <see cref="BackwardTrace"/> while the tape's backward pass runs: told of each node just before its rule
/// runs, it reads ∂L/∂node and runs the rule once into fresh slots (<see cref="Tape.RuleContributions"/>) to get each
/// input's contribution.
/// </summary>
internal sealed class TraceRecorder(Tape tape, int output)
{
    private readonly List<Raw> _steps = [];
    /// <summary>Per input node: the sum of the contributions so far (the running sum).</summary>
    private readonly Dictionary<int, double[]> _sums = [];
    /// <summary>Per input node: how many contributions so far.</summary>
    private readonly Dictionary<int, int> _uses = [];
    private double[] _seed = [];

    private sealed record Raw(NodeInfo Info, double[] Value, double[] Upstream, List<RawTerm> Terms);

    private sealed record RawTerm(int Input, int Position, string Formula, double? Local, double[] Contribution, double[] RunningSum, int Use);

    /// <summary>The observer the backward loop is specialised for: a struct forwarding to the recorder.</summary>
    internal readonly struct Observer(TraceRecorder recorder) : IBackwardObserver
    {
        public void Start(Tape tape, int output) => recorder.Start();
        public void BeforeRule(Tape tape, int node) => recorder.BeforeRule(node);
    }

    private void Start()
    {
        tape.ReserveRuleContributions();
        _seed = tape.GradSpan(output).ToArray();
    }

    private void BeforeRule(int i)
    {
        NodeInfo info = tape.Describe(i);
        ref readonly NodeRecord n = ref tape.Nodes[i];
        bool view = (n.Flags & NodeFlags.View) != 0;

        // ∂L/∂node: backward's own slot, complete now. A view has no slot of its own (it is its input's storage,
        // which also holds what flowed into the input directly), so its gradient is the sum of what its users added.
        double[] upstream = !view ? tape.GradSpan(i).ToArray()
            : i == output ? (double[])_seed.Clone()
            : _sums.TryGetValue(i, out double[]? sum) ? (double[])sum.Clone()
            : new double[n.Length];

        double[]?[] contributions = view ? ViewContribution(i, info, upstream) : tape.RuleContributions(i);
        Shape[] shapes = [.. info.Inputs.Select(k => tape.Nodes[k].Shape)];
        string[] symbols = [.. info.Inputs.Select(Symbol), Symbol(i)];
        var terms = new List<RawTerm>();
        for (int k = 0; k < contributions.Length; k++)
        {
            double[]? c = contributions[k];
            if (c is null) continue;
            int input = info.Inputs[k];
            if (!_sums.TryGetValue(input, out double[]? running)) _sums[input] = running = new double[c.Length];
            for (int e = 0; e < c.Length; e++) running[e] += c[e];
            int use = _uses[input] = _uses.GetValueOrDefault(input) + 1;
            terms.Add(new RawTerm(input, k, LocalFormulas.For(info, shapes, k, symbols), Local(i, info, k), c, (double[])running.Clone(), use));
        }
        _steps.Add(new Raw(info, tape.ValueSpan(i).ToArray(), upstream, terms));
    }

    /// <summary>
    /// What the formulas call node <paramref name="id"/>: its name, its parameter's name, the value of a one-element
    /// constant (so 10/f reads −10/f², not −%26/f²), or %id.
    /// </summary>
    private string Symbol(int id)
    {
        NodeInfo info = tape.Describe(id);
        return info.Name ?? info.Parameter?.Name
            ?? (info.Op == OpKind.Constant && info.Shape.Length == 1 ? LocalFormulas.Number(tape.ValueOf(id))
            : "%" + id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A view's rule is the identity on its input's storage: its contribution is ∂L/∂view placed into its region of the input.</summary>
    private double[]?[] ViewContribution(int i, NodeInfo info, double[] upstream)
    {
        var result = new double[]?[info.Inputs.Count];
        int input = info.Inputs[0];
        ref readonly NodeRecord x = ref tape.Nodes[input];
        if (!x.RequiresGrad) return result;
        ref readonly NodeRecord v = ref tape.Nodes[i];
        // Where the view starts inside its input: the difference of their offsets (arena or external array).
        int start = v.Offset >= 0 ? v.Offset - x.Offset : tape.External[~v.Offset].Start - tape.External[~x.Offset].Start;
        var c = new double[x.Length];
        upstream.CopyTo(c, start);
        result[0] = c;
        return result;
    }

    /// <summary>
    /// ∂node/∂input as a number, for a one-element elementwise node: backward's own local derivative
    /// (<see cref="Arithmetic.Local"/> at g = 1, <see cref="Elementwise.Derivative"/>) at the recorded values.
    /// </summary>
    private double? Local(int i, NodeInfo info, int position)
    {
        if (info.Shape.Length != 1) return null;
        double y = tape.ValueOf(i);
        if (info.Op is >= OpKind.Add and <= OpKind.Minimum)
        {
            return Arithmetic.Local(info.Op, position, 1, tape.ValueOf(info.Inputs[0]), tape.ValueOf(info.Inputs[1]), y);
        }
        if (info.Op is >= OpKind.Negate and <= OpKind.MinConstant)
        {
            return Elementwise.Derivative(info.Op, tape.ValueOf(info.Inputs[0]), y, info.Constant);
        }
        return null;
    }

    /// <summary>The steps, with each term's total use count filled in.</summary>
    internal TraceStep[] Finish() =>
    [
        .. _steps.Select(s => new TraceStep(
            s.Info.Id, Tape.Label(s.Info), s.Info.Name, s.Info.Op, s.Info.Shape, s.Value, s.Upstream,
            [
                .. s.Terms.Select(t => new TraceTerm(
                    t.Input, t.Position, Tape.Label(tape.Describe(t.Input)), tape.Nodes[t.Input].Shape, t.Formula, t.Local,
                    t.Contribution, t.RunningSum, t.Use, _uses[t.Input])),
            ],
            s.Info.Op == OpKind.Parameter ? LocalFormulas.For(s.Info, [], 0) : "")),
    ];
}
