using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;
using Xunit.Abstractions;

namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>
/// The create-graph backward on random expression graphs from every op of the op set (the shared
/// <see cref="RandomGraph"/>): its first-order gradient against the fast backward's, and its second derivative
/// (a Hessian-vector product H v) against central differences of the fast gradient along v.
/// </summary>
/// <remarks>
/// <para>Second derivative: H v = d/dt ∇L(θ + t v) at t = 0, by the five-point stencil with h = 2·10⁻⁴ (truncation
/// O(h⁴) ≈ 10⁻¹⁵·|L⁽⁵⁾|, rounding ≈ ε·|∇L|/h ≈ 10⁻¹²), while the graph's kinks stay ≥ 0.05 away. An element passes at
/// relative error ≤ 10⁻⁶ or absolute ≤ 10⁻⁷: a wrong recorded rule (a lost factor, a missing term of the product
/// rule, a mask that should have been a function) is off by O(1). Detached and NoGrad nodes are constants to
/// every order, so the differences are taken of the program with those nodes frozen at their initial values.</para>
/// </remarks>
public class SecondOrderProperties(ITestOutputHelper output)
{
    private static readonly RandomGraph Graphs = new(GraphOptions.FiniteDifferences);

    [Property(MaxTest = 200)]
    public Property RandomGraph_CreateGraphGradient_EqualsFastBackward() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            // The recorded rules compute the same first derivative as the numeric ones (up to rounding of
            // equivalent formulas: g·y/b for g·a/b², a true division for g/n).
            GraphProgram program = Graphs.Build(spec);
            var tape = new Tape();
            Scalar loss = program.Run(tape);
            if (!loss.Handle.RequiresGrad) return;
            double[][] recorded = SecondOrder.CreateGraphGradient(tape, loss, program.Parameters);
            foreach (var p in program.Parameters) p.ZeroGrad();
            loss.Backward();
            for (int k = 0; k < recorded.Length; k++)
            {
                Approx.Equal(program.Parameters[k].Grad, recorded[k], 1e-11, 1e-13, $"∂L/∂{program.Parameters[k].Name}\n{program}");
            }
            foreach (var p in program.Parameters) p.ZeroGrad();
        });

    [Property(MaxTest = 200)]
    public Property RandomGraph_HessianVectorProduct_AgreesWithDifferencesOfGradient() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            var (expected, actual) = Compare(program);
            Approx.Equal(expected, actual, 1e-6, 1e-7, $"H v\n{program}");
        });

    /// <summary>H v by create-graph (reverse-over-reverse) and by differences of the gradient, for a random v.</summary>
    private static (double[] Differences, double[] CreateGraph) Compare(GraphProgram program)
    {
        Parameter[] ps = program.Parameters;
        var rng = new Random(program.Spec.Seed);
        double[] v = [.. ps.SelectMany(p => p.Value).Select(_ => rng.NextDouble() * 2 - 1)];
        double[][] hv = Functional.HessianVectorProduct(tape => program.Run(tape, frozen: false), ps, SecondOrder.Split(v, ps));
        double[] fd = SecondOrder.DifferencesOfGradient(tape => program.Run(tape, frozen: true), ps, v, 2e-4);
        return (fd, [.. hv.SelectMany(x => x)]);
    }

    [Fact]
    public void RandomGraph_OpCoverage_EveryOpKindGoesThroughARecordedRule()
    {
        // 500 programs from a fixed seed, each differentiated twice (a create-graph gradient, then a backward
        // through it): every OpKind that carries a gradient must have gone through its recorded rule (the walk
        // records the rule of every node on a path from the loss to a parameter) at least 10 times, and a second
        // backward through the recorded rules must succeed. Enumerates OpKind: a new kind fails here until it has a
        // recorded rule and the generator produces it.
        GraphSpec[] specs = Graphs.Spec.Sample(500, new Rnd(20251130UL), 60);
        var recorded = new Dictionary<OpKind, int>();
        foreach (var spec in specs)
        {
            GraphProgram program = Graphs.Build(spec);
            var tape = new Tape();
            Scalar loss = program.Run(tape);
            if (!loss.Handle.RequiresGrad) continue;
            int last = loss.Handle.Id;
            Node[] leaves = [.. program.Parameters.SelectMany(p => SecondOrder.Leaves(tape, p))];
            Node[] grads = tape.Grad(loss, leaves, createGraph: true);
            for (int id = 0; id <= last; id++)
            {
                NodeInfo info = tape.Describe(id);
                if (info.RequiresGrad) recorded[info.Op] = recorded.GetValueOrDefault(info.Op) + 1;
            }
            foreach (Node g in grads.Where(g => g.RequiresGrad)) tape.Backward(g, Enumerable.Repeat(1.0, g.Shape.Length).ToArray(), retainGraph: true);
        }
        OpKind[] missing = [.. Enum.GetValues<OpKind>().Where(k => k is not (OpKind.Constant or OpKind.Detach) && recorded.GetValueOrDefault(k) < 10)];
        Assert.True(missing.Length == 0, $"OpKinds through a recorded rule fewer than 10 times in 500 random graphs: {string.Join(", ", missing)}");
    }

    [Fact]
    public void SingleOpGraphs_HessianVectorProduct_ErrorTablePerOp()
    {
        // One program per GraphOp (every public entry point, on a 2×3 parameter and a constant vector), plus a
        // square on top so that every op's second derivative matters (L = ⟨W, op⟩ alone is linear in the op's
        // output). The table is the second-order error per op: create-graph H v against differences of gradients.
        var rows = new List<(GraphOp Op, double Error)>();
        foreach (GraphOp op in Graphs.GeneratedOps)
        {
            double worst = 0;
            foreach (int k in new[] { 5, 11, 17 })
            {
                var spec = new GraphSpec(
                    [new LeafSpec(true, Shape.Matrix(2, 3), [0.3, -0.7, 1.1, 0.9, -1.4, 0.2]), new LeafSpec(false, Shape.Vector(3), [0.5, 1.5, -0.5])],
                    [new StepSpec(op, 0, 1, k, 0.7), new StepSpec(GraphOp.Square, 2, 0, 0, 0), new StepSpec(GraphOp.Multiply, 2, 3, 0, 0)],
                    Seed: 7 + k);
                GraphProgram program = Graphs.Build(spec);
                var (expected, actual) = Compare(program);
                worst = Math.Max(worst, SecondOrder.MaxError(expected, actual));
                Approx.Equal(expected, actual, 1e-6, 1e-7, $"{op} H v\n{program}");
            }
            rows.Add((op, worst));
        }
        foreach (var (op, error) in rows) output.WriteLine($"{op,-28} {error:E1}");
    }
}
