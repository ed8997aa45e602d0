using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;
using Xunit.Abstractions;

namespace GradientDescent.Autodiff.Tests.ForwardMode;

/// <summary>
/// Forward mode (the tangent sweep) on random expression graphs built from every op of the op set (see
/// <see cref="RandomGraph"/>): against reverse mode through the adjoint identity, against central differences, and
/// the guard that every <see cref="OpKind"/> has a forward rule that the generator exercises.
/// </summary>
/// <remarks>
/// <para>The adjoint identity: for a node y = f(p) and any u, v, ⟨u, J v⟩ = ⟨Jᵀu, v⟩. The left side is the forward
/// sweep's tangent ẏ = J v dotted with u; the right side is backward seeded with u at y, its parameter gradients Jᵀu
/// dotted with v. Both are the same bilinear form, exact in exact arithmetic, computed by independent rules (forward
/// rules ẏ = Σ ∂y/∂x·ẋ against reverse rules ḡx += g·∂y/∂x), so they differ by rounding only.</para>
/// <para>Tolerance of the identity: |⟨u, J v⟩ − ⟨Jᵀu, v⟩| ≤ 10⁻¹¹·S, S = Σ|uₖ·ẏₖ| + Σ|ḡₚ·vₚ| + 10⁻³, the size of
/// the terms the two sums add (the 10⁻³ admits nodes whose tangent is 0 up to rounding). Why: each side is a sum of
/// products through at most a few dozen ops, each op contributing a few ulps (ε = 2.2·10⁻¹⁶) relative to the
/// terms it combines; the generator keeps every value within [−3, 3] and away from domain edges, so the terms stay
/// moderate and the rounding stays near 10⁻¹⁴·S (the largest measured over 500 graphs is printed by
/// <see cref="RandomGraph_JvpAtEveryNode_ErrorTablePerOpFamily"/>). A wrong forward rule — a missing factor, a sign, a
/// transposed product, a lost broadcast — is off by O(1)·S.</para>
/// <para>Central differences: the directional derivative of the loss along v, (L(p + hv) − L(p − hv))/2h with
/// h = ε^(1/3)·max(1, max|p|) and max|v| = 1, at <see cref="GradientCheck"/>'s tolerance (10⁻⁶ relative or 10⁻⁸
/// absolute; see <see cref="FiniteDifferenceProperties"/> for why). The replays run under <see cref="Tape.NoGrad"/>,
/// where detached and NoGrad nodes are frozen: the function forward mode differentiates.</para>
/// </remarks>
public class ForwardModeProperties(ITestOutputHelper output)
{
    /// <summary>The shared generator under the constraints central differences need.</summary>
    private static readonly RandomGraph Graphs = new(GraphOptions.FiniteDifferences);

    private const double AdjointTolerance = 1e-11;

    [Property(MaxTest = 200)]
    public Property RandomGraph_JvpAtEveryNode_EqualsReverseAdjoint() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            foreach (var e in AdjointErrors(program, spec.Seed))
            {
                Assert.True(e.Error <= AdjointTolerance,
                    string.Create(CultureInfo.InvariantCulture, $"node {e.Node} ({e.Op}): ⟨u, Jv⟩ = {e.Forward:R}, ⟨Jᵀu, v⟩ = {e.Reverse:R}, error {e.Error:E2} of the terms' size\n\n{program}\n{program.Trace()}"));
            }
        });

    [Property(MaxTest = 200)]
    public Property RandomGraph_JvpOfLoss_AgreesWithCentralDifferences() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            // d/dt L(p + t·v) at t = 0: forward mode against (L(p + hv) − L(p − hv))/2h.
            GraphProgram program = Graphs.Build(spec);
            Parameter[] ps = program.Parameters;
            double[][] v = RandomDirections(ps, new Random(spec.Seed));
            var tape = new Tape();
            Scalar loss = program.Run(tape);
            double jvp = tape.Jvp(loss, ps, v);

            double h = new GradientCheckOptions().StepScale * Math.Max(1, ps.Max(p => p.Value.Max(Math.Abs)));
            double plus = Replay(program, v, h), minus = Replay(program, v, -h);
            double difference = (plus - minus) / (2 * h);
            Assert.True(Approx.Within(difference, jvp, 1e-6, 1e-8),
                string.Create(CultureInfo.InvariantCulture, $"Jvp {jvp:R}, central difference {difference:R} (h = {h:E2})\n\n{program}\n{program.Trace()}"));
        });

    [Fact]
    public void RandomGraph_JvpAtEveryNode_ErrorTablePerOpFamily()
    {
        // 500 programs from a fixed seed; the sweep runs over every node, so every OpKind must be traced forward on a
        // node a tangent flows through (a kind without a forward rule throws in the sweep, naming it). The largest
        // adjoint error per node kind is printed: the table of the closing note.
        GraphSpec[] specs = Graphs.Spec.Sample(500, new Rnd(20261130UL), 60);
        var worst = new Dictionary<OpKind, double>();
        var count = new Dictionary<OpKind, int>();
        foreach (var spec in specs)
        {
            GraphProgram program = Graphs.Build(spec);
            foreach (var e in AdjointErrors(program, spec.Seed))
            {
                worst[e.Op] = Math.Max(worst.GetValueOrDefault(e.Op), e.Error);
                count[e.Op] = count.GetValueOrDefault(e.Op) + 1;
                Assert.True(e.Error <= AdjointTolerance, $"node {e.Node} ({e.Op}): error {e.Error:E2}\n{program}");
            }
        }

        var table = new StringBuilder("op kind | nodes checked | max |⟨u,Jv⟩ − ⟨Jᵀu,v⟩| / terms\n");
        foreach (var (op, n) in count.OrderBy(kv => kv.Key))
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"{op} | {n} | {worst[op]:E1}");
        }
        output.WriteLine(table.ToString());

        // Constant and Detach carry no tangent, by definition; every other kind must have been traced forward.
        OpKind[] missing = [.. Enum.GetValues<OpKind>().Where(k => k is not (OpKind.Constant or OpKind.Detach) && count.GetValueOrDefault(k) < 5)];
        Assert.True(missing.Length == 0, $"OpKinds traced forward fewer than 5 times in 500 random graphs: {string.Join(", ", missing)}");
    }

    [Fact]
    public void EveryGraphOp_OneStepGraphs_JvpAgreesWithCentralDifferences_ErrorTable()
    {
        // Per public entry point (GraphOp): 40 one-step programs (random leaves and operands from a fixed seed), the
        // loss's J·v along a random v against (L(p + hv) − L(p − hv))/2h. The largest relative error per op is printed
        // (where |J·v| > 10⁻⁶; below that only the absolute 10⁻⁸ is meaningful): the closing note's table.
        GraphSpec[] samples = Graphs.Spec.Sample(40, new Rnd(20261201UL), 20);
        var table = new StringBuilder("graph op | max rel error of J·v vs central differences\n");
        foreach (GraphOp op in Graphs.GeneratedOps)
        {
            double worst = 0;
            foreach (GraphSpec sample in samples)
            {
                StepSpec first = sample.Steps[0];
                GraphSpec spec = sample with { Steps = [first with { Op = op }] };
                GraphProgram program = Graphs.Build(spec);
                Parameter[] ps = program.Parameters;
                double[][] v = RandomDirections(ps, new Random(spec.Seed));
                var tape = new Tape();
                double jvp = tape.Jvp(program.Run(tape), ps, v);
                double h = new GradientCheckOptions().StepScale * Math.Max(1, ps.Max(p => p.Value.Max(Math.Abs)));
                double difference = (Replay(program, v, h) - Replay(program, v, -h)) / (2 * h);
                Assert.True(Approx.Within(difference, jvp, 1e-6, 1e-8), $"{op}: Jvp {jvp:R}, central difference {difference:R}\n{program}");
                if (Math.Abs(jvp) > 1e-6) worst = Math.Max(worst, Math.Abs(jvp - difference) / Math.Max(Math.Abs(jvp), Math.Abs(difference)));
            }
            table.AppendLine(CultureInfo.InvariantCulture, $"{op} | {worst:E1}");
        }
        output.WriteLine(table.ToString());
    }

    /// <summary>One node's check of the adjoint identity.</summary>
    private readonly record struct AdjointError(int Node, OpKind Op, double Forward, double Reverse, double Error);

    /// <summary>
    /// Runs the program, one tangent sweep with random directions v (all parameters), then for every node a gradient
    /// flows through a backward pass seeded with a random u at that node: ⟨u, ẏ⟩ against Σₚ⟨∂⟨u, y⟩/∂p, vₚ⟩.
    /// </summary>
    private static List<AdjointError> AdjointErrors(GraphProgram program, int seed)
    {
        var random = new Random(seed);
        Parameter[] ps = program.Parameters;
        double[][] v = RandomDirections(ps, random);
        var tape = new Tape();
        program.Run(tape);
        tape.TangentSweep(tape.NodeCount - 1, ps, v);
        var errors = new List<AdjointError>();
        for (int k = 0; k < tape.NodeCount; k++)
        {
            NodeInfo info = tape.Describe(k);
            if (!info.RequiresGrad) continue;
            double[] tangent = tape.TangentSpan(k).ToArray();
            double[] u = [.. tangent.Select(_ => random.NextDouble() * 2 - 1)];
            double forward = 0, size = 1e-3;
            for (int e = 0; e < u.Length; e++)
            {
                forward += u[e] * tangent[e];
                size += Math.Abs(u[e] * tangent[e]);
            }
            foreach (var p in ps) p.ZeroGrad();
            tape.Backward(new Node(tape, k), u, retainGraph: true);
            double reverse = 0, reverseSize = 0;
            for (int q = 0; q < ps.Length; q++)
            {
                for (int e = 0; e < v[q].Length; e++)
                {
                    reverse += ps[q].Grad[e] * v[q][e];
                    reverseSize += Math.Abs(ps[q].Grad[e] * v[q][e]);
                }
            }
            errors.Add(new AdjointError(k, info.Op, forward, reverse, Math.Abs(forward - reverse) / (size + reverseSize)));
        }
        foreach (var p in ps) p.ZeroGrad();
        return errors;
    }

    /// <summary>A direction per parameter, elements uniform in [−1, 1] and scaled so that the largest is ±1.</summary>
    private static double[][] RandomDirections(Parameter[] ps, Random random)
    {
        double[][] v = [.. ps.Select(p => p.Value.Select(_ => random.NextDouble() * 2 - 1).ToArray())];
        double max = v.Max(a => a.Max(Math.Abs));
        foreach (var a in v) for (int e = 0; e < a.Length; e++) a[e] /= max;
        return v;
    }

    /// <summary>L(p + h·v) without gradient (detached and NoGrad nodes frozen), the parameters restored after.</summary>
    private static double Replay(GraphProgram program, double[][] v, double h)
    {
        Parameter[] ps = program.Parameters;
        double[][] saved = [.. ps.Select(p => (double[])p.Value.Clone())];
        try
        {
            for (int q = 0; q < ps.Length; q++) for (int e = 0; e < v[q].Length; e++) ps[q].Value[e] += h * v[q][e];
            var tape = new Tape();
            using (tape.NoGrad()) return program.Run(tape).Value;
        }
        finally
        {
            for (int q = 0; q < ps.Length; q++) saved[q].CopyTo(ps[q].Value, 0);
        }
    }
}
