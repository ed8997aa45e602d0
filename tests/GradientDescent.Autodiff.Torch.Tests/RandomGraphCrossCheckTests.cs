using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Random graphs over the whole op set (every <see cref="OpKind"/> but the two leaves), random shapes and
/// broadcasting, reused nodes, NoGrad steps and extreme but valid inputs, replayed in libtorch: every node's value,
/// every node's ∂L/∂node and every parameter's gradient agree at the bridge's default tolerance (10⁻¹⁰ relative or
/// 10⁻¹² absolute).
/// </summary>
public sealed class RandomGraphCrossCheckTests(ITestOutputHelper output)
{
    [Property(MaxTest = 200, Arbitrary = new[] { typeof(GraphArbitrary) })]
    public void Run_RandomGraph_ValuesAndGradientsMatchTorch(GraphRecipe recipe)
    {
        TorchRuntime.EnsureLoaded();
        var graph = new RandomGraph(recipe);

        TorchCrossCheckReport report = TorchCrossCheck.Run(graph.Record, graph.Parameters, RandomGraph.Options);

        Assert.True(report.Passed, $"{recipe}{Environment.NewLine}{report}{Environment.NewLine}{report.FormatNodes()}");
    }

    [Fact]
    public void Run_FixedSampleOf300Graphs_CoversEveryNonLeafOpKindAndStaysWithinTolerance()
    {
        TorchRuntime.EnsureLoaded();
        GraphRecipe[] recipes = GraphGen.Recipe.Sample(numberOfSamples: 300, seed: new Rnd(20261123UL), size: 20);
        var stats = new Dictionary<OpKind, OpStats>();

        foreach (GraphRecipe recipe in recipes)
        {
            var graph = new RandomGraph(recipe);
            TorchCrossCheckReport report = TorchCrossCheck.Run(graph.Record, graph.Parameters, RandomGraph.Options);
            Assert.True(report.Passed, $"{recipe}{Environment.NewLine}{report}{Environment.NewLine}{report.FormatNodes()}");
            foreach (NodeComparison node in report.Nodes)
            {
                stats[node.Op] = (stats.TryGetValue(node.Op, out OpStats s) ? s : default).Add(node);
            }
        }

        output.WriteLine(Format(stats));
        OpKind[] missing = GraphGen.NonLeafOps.Where(op => !stats.ContainsKey(op)).ToArray();
        Assert.True(missing.Length == 0, $"ops never exercised by 300 random graphs: {string.Join(", ", missing)}");
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
