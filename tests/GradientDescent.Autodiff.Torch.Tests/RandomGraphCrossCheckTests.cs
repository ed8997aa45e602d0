using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Random graphs from the shared generator over the whole op set (every <see cref="GraphOp"/>, so every
/// <see cref="OpKind"/> but the two leaves), random shapes and broadcasting, reused nodes, parameters used twice,
/// detached nodes, NoGrad steps, exact ties and extreme but valid inputs, replayed in libtorch: every node's value,
/// every node's ∂L/∂node and every parameter's gradient agree at the bridge's default tolerance (10⁻¹⁰ relative or
/// 10⁻¹² absolute).
/// </summary>
public sealed class RandomGraphCrossCheckTests(ITestOutputHelper output)
{
    /// <summary>The shared generator (see <see cref="RandomGraph"/>) under the oracle's constraints: extreme inputs, exact ties, NoGrad steps, 3–14 steps.</summary>
    private static readonly RandomGraph Graphs = new(GraphOptions.Torch);

    /// <summary>
    /// Cross-check options with the TorchSharp equivalents of the generator's custom ops (numbers through
    /// <see cref="TorchScalars"/>: run hundreds of times a test, an implicit Scalar would be finalized mid-call now and then).
    /// </summary>
    public static TorchCrossCheckOptions Options { get; } = new()
    {
        CustomOps =
        {
            [CubeOp.Instance] = x => TorchScalars.Pow(x[0], 3),
            [SwishOp.Instance] = x => x[0] * torch.sigmoid(x[0]),
            [ProductPlusOp.Instance] = x => TorchScalars.Add(x[0] * x[1], x[0]),
            [SumOfCubesOp.Instance] = x => TorchScalars.Pow(x[0], 3).sum(),
        },
    };

    [Property(MaxTest = 200)]
    public Property Run_RandomGraph_ValuesAndGradientsMatchTorch() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            TorchRuntime.EnsureLoaded();
            GraphProgram program = Graphs.Build(spec);

            TorchCrossCheckReport report = TorchCrossCheck.Run(program.Run, program.Parameters, Options);

            Assert.True(report.Passed, $"{program}{Environment.NewLine}{report}{Environment.NewLine}{report.FormatNodes()}");
        });

    [Fact]
    public void Run_FixedSampleOf300Graphs_CoversEveryNonLeafOpKindAndStaysWithinTolerance()
    {
        TorchRuntime.EnsureLoaded();
        GraphSpec[] specs = Graphs.Spec.Sample(numberOfSamples: 300, seed: new Rnd(20261123UL), size: 20);
        var stats = new Dictionary<OpKind, OpStats>();

        foreach (GraphSpec spec in specs)
        {
            GraphProgram program = Graphs.Build(spec);
            TorchCrossCheckReport report = TorchCrossCheck.Run(program.Run, program.Parameters, Options);
            Assert.True(report.Passed, $"{program}{Environment.NewLine}{report}{Environment.NewLine}{report.FormatNodes()}");
            foreach (NodeComparison node in report.Nodes)
            {
                stats[node.Op] = (stats.TryGetValue(node.Op, out OpStats s) ? s : default).Add(node);
            }
        }

        output.WriteLine(Format(stats));
        OpKind[] missing = Enum.GetValues<OpKind>().Where(op => op is not (OpKind.Constant or OpKind.Parameter) && !stats.ContainsKey(op)).ToArray();
        Assert.True(missing.Length == 0, $"ops never exercised by 300 random graphs: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Run_EveryGraphOpAlone_MatchesTorch()
    {
        // Every step op the generator knows (each GraphOp but the two leaves has a rule), once on fixed leaves: a
        // GraphOp added without a rule, or a custom op without its TorchSharp equivalent above, fails here by name.
        TorchRuntime.EnsureLoaded();
        Assert.Equal(Enum.GetValues<GraphOp>().Length - 2, Graphs.GeneratedOps.Count);
        foreach (GraphOp op in Graphs.GeneratedOps)
        {
            Assert.True(RandomGraph.HasRule(op), $"GraphOp.{op} has no entry in RandomGraph.Rules");
            var spec = new GraphSpec(
                [new LeafSpec(true, Shape.Matrix(2, 3), [0.3, -0.7, 1.1, 0.9, -1.4, 0.2]), new LeafSpec(false, Shape.Vector(3), [0.5, 1.5, -0.5])],
                [new StepSpec(op, 0, 1, 5, 0.7)],
                Seed: 7);
            GraphProgram program = Graphs.Build(spec);
            TorchCrossCheckReport report = TorchCrossCheck.Run(program.Run, program.Parameters, Options);
            Assert.True(report.Passed, $"{op}{Environment.NewLine}{program}{Environment.NewLine}{report}");
        }
    }

    /// <summary>Per op: how many nodes, the largest value and gradient errors (absolute, relative) and the largest fraction of the tolerance used.</summary>
    private readonly record struct OpStats(int Count, double ValueAbs, double ValueRel, double GradAbs, double GradRel, double Ratio)
    {
        public OpStats Add(NodeComparison n) => new(
            Count + 1,
            Math.Max(ValueAbs, n.Value?.MaxAbsolute ?? 0),
            Math.Max(ValueRel, n.Value?.MaxRelative ?? 0),
            Math.Max(GradAbs, n.Gradient?.MaxAbsolute ?? 0),
            Math.Max(GradRel, n.Gradient?.MaxRelative ?? 0),
            Math.Max(Ratio, n.Ratio));
    }

    private static string Format(Dictionary<OpKind, OpStats> stats)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("op                            nodes   value abs   value rel   grad abs    grad rel    of tolerance" + Environment.NewLine);
        foreach (var (op, s) in stats.OrderBy(kv => kv.Key))
        {
            sb.AppendLine(c, $"{op,-29} {s.Count,6}   {s.ValueAbs,-10:E1}  {s.ValueRel,-10:E1}  {s.GradAbs,-10:E1}  {s.GradRel,-10:E1}  {s.Ratio:G2}");
        }
        return sb.ToString();
    }
}
