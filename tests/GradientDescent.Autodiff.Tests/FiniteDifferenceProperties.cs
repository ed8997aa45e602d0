using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Reverse mode against central differences on random expression graphs built from every op of the op set
/// (see <see cref="RandomGraph"/>), and the guard that no op escapes the generator.
/// </summary>
/// <remarks>
/// <para>Tolerance: <see cref="GradientCheck"/>'s defaults, an element passes at relative error ≤ 10⁻⁶ or absolute
/// error ≤ 10⁻⁸. Why these: central differences with h = ε^(1/3)·max(1, |p|) ≈ 6·10⁻⁶ have a truncation error
/// h²·|f‴|/6 and a rounding error ≈ ε·|f|/h, both ≈ 10⁻¹⁰ relative for the moderate values the generator keeps
/// (|node| ≤ 3, loss of size ≈ 1), so 10⁻⁶ leaves four orders of magnitude for rounding accumulated over a few
/// dozen ops while any wrong derivative rule (a missing factor, a wrong sign, a transposed product, a lost
/// broadcast sum) is off by a relative O(1). The absolute 10⁻⁸ only admits gradients that are zero up to that
/// rounding, where a relative error is meaningless.</para>
/// </remarks>
public class FiniteDifferenceProperties
{
    /// <summary>The shared generator under the constraints central differences need (no saturated inputs, no exact ties at kinks).</summary>
    private static readonly RandomGraph Graphs = new(GraphOptions.FiniteDifferences);

    [Property(MaxTest = 300)]
    public Property RandomGraph_GradientCheck_AgreesWithCentralDifferences() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            GradientCheckReport report = GradientCheck.Run(program.Run, program.Parameters);
            Assert.True(report.Passed, $"{report}\n\n{program}\n{program.Trace()}");
        });

    [Property(MaxTest = 100)]
    public Property RandomGraph_RecordTwice_GivesIdenticalLossAndGradients() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            // Recording is deterministic and a tape reused after Clear computes exactly what a fresh tape does.
            GraphProgram program = Graphs.Build(spec);
            var tape = new Tape();
            Scalar first = program.Run(tape);
            double value = first.Value;
            first.Backward();
            double[][] grads = [.. program.Parameters.Select(p => (double[])p.Grad.Clone())];
            foreach (var p in program.Parameters) p.ZeroGrad();

            tape.Clear();
            Scalar second = program.Run(tape);
            Assert.Equal(value, second.Value);
            second.Backward();
            for (int k = 0; k < grads.Length; k++) Assert.Equal(grads[k], program.Parameters[k].Grad);
        });

    [Property(MaxTest = 100)]
    public Property RandomGraph_DetectAnomaliesOn_SameLossAndGradients() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            // With anomaly detection every node takes the general backward path (the scalar fast path checks
            // nothing); both paths must give the same gradients, and a finite graph must raise no anomaly.
            GraphProgram program = Graphs.Build(spec);
            var plain = new Tape();
            Scalar a = program.Run(plain);
            a.Backward();
            double[][] expected = [.. program.Parameters.Select(p => (double[])p.Grad.Clone())];
            foreach (var p in program.Parameters) p.ZeroGrad();

            var checking = new Tape { DetectAnomalies = true };
            Scalar b = program.Run(checking);
            Assert.Equal(a.Value, b.Value);
            b.Backward();
            for (int k = 0; k < expected.Length; k++) Approx.Equal(expected[k], program.Parameters[k].Grad, 1e-13, 1e-15, program.Parameters[k].Name);
        });

    [Fact]
    public void RandomGraph_OpCoverage_EveryOpKindIsGeneratedWithGradient()
    {
        // 500 programs from a fixed seed: every OpKind must appear, and every kind that can carry a gradient must
        // appear on a node a gradient flows through. A new OpKind fails here until the generator produces it.
        GraphSpec[] specs = Graphs.Spec.Sample(500, new Rnd(20240611UL), 60);
        var seen = new Dictionary<OpKind, int>();
        var withGrad = new HashSet<OpKind>();
        foreach (var spec in specs)
        {
            GraphProgram program = Graphs.Build(spec);
            var tape = new Tape();
            program.Run(tape);
            for (int id = 0; id < tape.NodeCount; id++)
            {
                NodeInfo info = tape.Describe(id);
                seen[info.Op] = seen.GetValueOrDefault(info.Op) + 1;
                if (info.RequiresGrad) withGrad.Add(info.Op);
            }
        }

        OpKind[] all = Enum.GetValues<OpKind>();
        OpKind[] missing = [.. all.Where(k => seen.GetValueOrDefault(k) < 10)];
        Assert.True(missing.Length == 0, $"OpKinds generated fewer than 10 times in 500 random graphs: {string.Join(", ", missing)}");

        // Constant and Detach never carry a gradient, by definition.
        OpKind[] noGradient = [.. all.Where(k => k is not (OpKind.Constant or OpKind.Detach) && !withGrad.Contains(k))];
        Assert.True(noGradient.Length == 0, $"OpKinds never generated on a gradient path: {string.Join(", ", noGradient)}");
    }

    [Fact]
    public void RandomGraph_GeneratedOps_CoverEveryGraphOp()
    {
        // The generator draws steps from every GraphOp but the two leaves; a GraphOp added without a rule would
        // throw in Build.
        Assert.Equal(Enum.GetValues<GraphOp>().Length - 2, Graphs.GeneratedOps.Count);
        foreach (GraphOp op in Graphs.GeneratedOps)
        {
            Assert.True(RandomGraph.HasRule(op), $"GraphOp.{op} has no entry in RandomGraph.Rules");
            var spec = new GraphSpec(
                [new LeafSpec(true, Shape.Matrix(2, 3), [0.3, -0.7, 1.1, 0.9, -1.4, 0.2]), new LeafSpec(false, Shape.Vector(3), [0.5, 1.5, -0.5])],
                [new StepSpec(op, 0, 1, 5, 0.7)],
                Seed: 7);
            GraphProgram program = Graphs.Build(spec);
            Assert.True(GradientCheck.Run(program.Run, program.Parameters).Passed, $"{op}\n{program}");
        }
    }
}
