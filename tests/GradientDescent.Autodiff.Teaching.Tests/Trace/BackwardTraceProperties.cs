using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Teaching.Tests.Trace;

/// <summary>
/// The trace against an independent plain backward pass on random graphs of every op (the shared generator,
/// <see cref="RandomGraph"/>): its terms multiply out to, and add up to, the gradients backward produced.
/// </summary>
/// <remarks>
/// <para>Each graph is recorded twice, on two tapes: once differentiated by <see cref="Tape.Backward(Scalar, bool)"/>
/// (the reference), once by <see cref="BackwardTrace.Record"/>.</para>
/// <para>Tolerances, and why. (1) Parameter gradients, and each non-view step's upstream against the reference
/// node's gradient: exact, bit for bit — the trace runs the same rules on the same arrays in the same order.
/// (2) The sum of the contributions into a node (its last running sum) against the reference gradient: relative
/// <see cref="SumTolerance"/> = 10⁻¹³ of the sum of the contributions' magnitudes, per element. The trace adds each
/// rule's whole contribution at once, backward adds some rules' contributions in several partial sums (a matrix
/// product's blocks, a broadcast row's column sums, the label element of softmax cross-entropy), and a view's
/// contribution lands in its input's storage when the view's users run, earlier than the view's step: the same
/// terms, associated differently. Each reassociation moves the result by at most an ulp of the partial sums, so
/// the error is a few ε = 2.2·10⁻¹⁶ times Σ|terms| for the few dozen terms of these graphs; 10⁻¹³ leaves a factor of
/// ~50 over that, while a dropped or doubled term is off by O(1). Measured on 2000 graphs of this generator (seed 7,
/// size 80): 671 of 120 797 gradient elements differ from backward's at all, every one under a view or such a rule,
/// the worst by 2.1·10⁻¹⁵·Σ|terms|. (3) Upstream × local against the contribution of a one-element elementwise
/// node: relative 8ε. The rule computes g·(local) in one expression whose rounding can differ from the product of
/// the rounded local: −g·x/y² against g·(−1·x/y²), (g·b)·a^(b−1) against g·(b·a^(b−1)) — a few roundings, each
/// ≤ ε/2 relative. Measured: 40 of 35 621 products differ, by at most one ulp (2.2·10⁻¹⁶ relative).</para>
/// </remarks>
public class BackwardTraceProperties
{
    private const double SumTolerance = 1e-13;
    private const double ProductTolerance = 8 * 2.220446049250313e-16;

    private static readonly RandomGraph Graphs = new(GraphOptions.FiniteDifferences);

    /// <summary>The TorchSharp cross-check's graphs: saturated inputs and exact ties as well.</summary>
    private static readonly RandomGraph SaturatedGraphs = new(GraphOptions.Torch);

    /// <summary>Runs <paramref name="program"/> under plain backward; returns every node's gradient and the parameters'.</summary>
    private static (double[][] Nodes, double[][] Parameters) Reference(GraphProgram program)
    {
        foreach (var p in program.Parameters) p.ZeroGrad();
        var tape = new Tape();
        Scalar loss = program.Run(tape);
        loss.Backward();
        double[][] nodes = [.. Enumerable.Range(0, tape.NodeCount).Select(i => tape.NodeAt(i).GradToArray())];
        double[][] parameters = [.. program.Parameters.Select(p => (double[])p.Grad.Clone())];
        foreach (var p in program.Parameters) p.ZeroGrad();
        return (nodes, parameters);
    }

    private static (Tape Tape, BackwardTrace Trace) Traced(GraphProgram program)
    {
        var tape = new Tape();
        Scalar loss = program.Run(tape);
        return (tape, BackwardTrace.Record(loss));
    }

    [Property(MaxTest = 200)]
    public Property Record_RandomGraph_ParameterGradientsAndUpstreamsAreBackwardsBitForBit() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            var (nodes, parameters) = Reference(program);
            var (tape, trace) = Traced(program);
            string context = $"{program}\n{trace.ToText()}";

            for (int k = 0; k < parameters.Length; k++) Assert.True(parameters[k].SequenceEqual(program.Parameters[k].Grad), $"parameter {program.Parameters[k].Name}\n{context}");
            for (int i = 0; i < tape.NodeCount; i++) Assert.True(nodes[i].SequenceEqual(tape.NodeAt(i).GradToArray()), $"node {i}'s gradient\n{context}");

            // Backward order from the loss; every non-view step starts from the node's final gradient.
            Assert.Equal(trace.Output, trace.Steps[0].Node);
            Assert.Equal([1.0], trace.Steps[0].Upstream);
            for (int s = 1; s < trace.Steps.Count; s++) Assert.True(trace.Steps[s].Node < trace.Steps[s - 1].Node, context);
            foreach (TraceStep step in trace.Steps.Where(s => !IsView(s.Op)))
            {
                Assert.True(nodes[step.Node].SequenceEqual(step.Upstream), $"step of %{step.Node}: upstream\n{context}");
            }
        });

    [Property(MaxTest = 100)]
    public Property Record_RandomGraphWithSaturatedInputsAndTies_ParameterGradientsAreBackwardsBitForBit() =>
        Prop.ForAll(SaturatedGraphs.Arbitrary, spec =>
        {
            // The TorchSharp oracle's graphs: inputs of σ, softmax and BCE at ±10³, ±10⁴, probabilities of exactly 0
            // and 1, max/min/clamp at exact ties. The trace changes nothing there either (NaN compares equal to NaN).
            GraphProgram program = SaturatedGraphs.Build(spec);
            var (_, parameters) = Reference(program);
            var (_, trace) = Traced(program);
            for (int k = 0; k < parameters.Length; k++)
            {
                Assert.True(parameters[k].SequenceEqual(program.Parameters[k].Grad), $"parameter {program.Parameters[k].Name}\n{program}\n{trace.ToText()}");
            }
        });

    [Property(MaxTest = 200)]
    public Property Record_RandomGraph_ContributionsAddUpToBackwardsGradients() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            var (nodes, _) = Reference(program);
            var (_, trace) = Traced(program);
            string context = $"{program}\n{trace.ToText()}";

            var stepOf = trace.Steps.ToDictionary(s => s.Node);
            foreach (var group in trace.Steps.SelectMany(s => s.Terms).GroupBy(t => t.Input))
            {
                TraceTerm[] terms = [.. group];
                // Uses are numbered 1..n in backward order, and each running sum is the previous one plus the term.
                Assert.Equal(Enumerable.Range(1, terms.Length), terms.Select(t => t.Use));
                Assert.All(terms, t => Assert.Equal(terms.Length, t.Uses));
                int length = terms[0].Contribution.Count;
                var sum = new double[length];
                var magnitude = new double[length];
                foreach (TraceTerm t in terms)
                {
                    for (int e = 0; e < length; e++)
                    {
                        sum[e] += t.Contribution[e];
                        magnitude[e] += Math.Abs(t.Contribution[e]);
                    }
                    Assert.True(sum.SequenceEqual(t.RunningSum), $"running sum of %{group.Key} at use {t.Use}\n{context}");
                }

                // ∂L/∂x = Σ ∂L/∂y · ∂y/∂x: the last running sum is backward's gradient of the input; the input's own
                // step starts from it. A view input has no gradient slot of its own in the engine: its step's
                // upstream is this sum by definition, and its contribution is checked in its input's sum.
                if (IsView(stepOf[group.Key].Op)) continue;
                for (int e = 0; e < length; e++)
                {
                    double expected = nodes[group.Key][e], actual = terms[^1].RunningSum[e];
                    Assert.True(Math.Abs(expected - actual) <= SumTolerance * magnitude[e],
                        string.Create(CultureInfo.InvariantCulture,
                            $"Σ contributions into %{group.Key}[{e}] = {actual:R}, backward's gradient {expected:R} (Σ|terms| = {magnitude[e]:G3})\n{context}"));
                }
            }
        });

    [Property(MaxTest = 200)]
    public Property Record_RandomGraph_OneElementElementwiseNodes_UpstreamTimesLocalIsTheContribution() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            var (_, trace) = Traced(program);
            foreach (TraceStep step in trace.Steps)
            {
                bool elementwise = step.Op is >= OpKind.Add and <= OpKind.MinConstant;
                foreach (TraceTerm t in step.Terms)
                {
                    // A number exactly where the local derivative is one number.
                    Assert.Equal(elementwise && step.Shape.Length == 1, t.Local is not null);
                    if (t.Local is not double local) continue;
                    double product = step.Upstream[0] * local, contribution = t.Contribution[0];
                    Assert.True(product.Equals(contribution) || Math.Abs(product - contribution) <= ProductTolerance * Math.Abs(contribution),
                        string.Create(CultureInfo.InvariantCulture,
                            $"%{step.Node} {step.Label} → %{t.Input}: upstream {step.Upstream[0]:R} × local {local:R} = {product:R}, contribution {contribution:R}"));
                }
            }
        });

    [Fact]
    public void Record_FixedSampleOfRandomGraphs_TracesEveryOpKindWithAFormula()
    {
        // 400 programs from a fixed seed: every kind that can carry a gradient appears as a step, and every term
        // has a formula. Constant and Detach never carry a gradient, so they never appear as steps.
        GraphSpec[] specs = Graphs.Spec.Sample(400, new Rnd(20261130UL), 60);
        var traced = new HashSet<OpKind>();
        foreach (GraphSpec spec in specs)
        {
            var (_, trace) = Traced(Graphs.Build(spec));
            foreach (TraceStep step in trace.Steps)
            {
                traced.Add(step.Op);
                Assert.All(step.Terms, t => Assert.False(string.IsNullOrWhiteSpace(t.Formula)));
            }
        }
        OpKind[] missing = [.. Enum.GetValues<OpKind>().Where(k => k is not (OpKind.Constant or OpKind.Detach) && !traced.Contains(k))];
        Assert.True(missing.Length == 0, $"OpKinds never traced in 400 random graphs: {string.Join(", ", missing)}");
    }

    private static bool IsView(OpKind op) => op is OpKind.Detach or OpKind.Element or OpKind.Row or OpKind.Reshape or OpKind.Slice;
}
