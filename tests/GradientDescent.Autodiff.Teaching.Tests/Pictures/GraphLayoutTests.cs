using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

public sealed class GraphLayoutTests
{
    private const double CharWidth = GraphLayout.CharWidth, Padding = GraphLayout.Padding, LineHeight = GraphLayout.LineHeight;
    private const double Margin = GraphLayout.Margin, RankGap = GraphLayout.RankGap, NodeGap = GraphLayout.NodeGap;

    private static readonly RandomGraph Graphs = new(GraphOptions.FiniteDifferences);

    /// <summary>A box's width for its longest line of <paramref name="chars"/> characters, and its height for <paramref name="lines"/> lines.</summary>
    private static double BoxWidth(int chars) => Padding + chars * CharWidth + Padding;
    private static double BoxHeight(int lines) => Padding + lines * LineHeight + Padding;

    [Fact]
    public void Create_HandGraph_CoordinatesAreSumsOfSizesAndGaps()
    {
        // z = x·y, n = −z, before any backward pass (two lines per box):
        //   column 0: "%0 Parameter x" / "%1 Parameter y" (14 chars), "scalar = 2" / "scalar = 3"
        //   column 1: "%2 Multiply(%0, %1)" (19 chars), "scalar = 6"
        //   column 2: "%3 Negate(%2)" (13 chars), "scalar = -6"
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("x", 2)), y = tape.Use(new ScalarParameter("y", 3));
        _ = -(x * y);

        GraphLayout layout = GraphLayout.Create(tape);

        double h = BoxHeight(2);
        double column0 = BoxWidth(14), column1 = BoxWidth(19), column2 = BoxWidth(13);
        double tallest = h + NodeGap + h; // column 0 holds two boxes; the others one, centred against it
        double centred = Margin + (tallest - h) / 2;
        double x1 = Margin + column0 + RankGap, x2 = x1 + column1 + RankGap;
        Assert.Equal(new LayoutRect(Margin, Margin, column0, h), layout.Node(0).Box);
        Assert.Equal(new LayoutRect(Margin, Margin + h + NodeGap, column0, h), layout.Node(1).Box);
        Assert.Equal(new LayoutRect(x1, centred, column1, h), layout.Node(2).Box);
        Assert.Equal(new LayoutRect(x2, centred, column2, h), layout.Node(3).Box);
        Assert.Equal(x2 + column2 + Margin, layout.Width);
        Assert.Equal(Margin + tallest + Margin, layout.Height);
        Assert.Equal([0, 0, 1, 2], layout.Nodes.Select(n => n.Rank));
        Assert.Equal(3, layout.RankCount);

        // Arrows leave an input's right side at mid-height and enter the op at one port per input, at 1/3 and 2/3 of its height.
        Assert.Equal([new(Margin + column0, Margin + h / 2), new(x1, centred + h / 3)], layout.Edges[0].Points);
        Assert.Equal([new(Margin + column0, Margin + h + NodeGap + h / 2), new(x1, centred + 2 * h / 3)], layout.Edges[1].Points);
        Assert.Equal([new(x1 + column1, centred + h / 2), new(x2, centred + h / 2)], layout.Edges[2].Points);
        Assert.All(layout.Edges, e => Assert.Null(e.Label)); // x·y and −z are symmetric / unary
    }

    [Fact]
    public void Create_NarrowBoxInWideColumn_CentredAndEdgesRunToTheColumnSides()
    {
        // Column 0 holds "%0 Parameter long_name" (22 chars) and "%1 Parameter b" (14): b's box is centred, and its
        // arrow runs horizontally from its right side to the column's right side before crossing the gap.
        var tape = new Tape();
        Scalar a = tape.Use(new ScalarParameter("long_name", 1)), b = tape.Use(new ScalarParameter("b", 2));
        _ = a - b;

        GraphLayout layout = GraphLayout.Create(tape);

        double wide = BoxWidth(22), narrow = BoxWidth(14);
        LayoutRect boxB = layout.Node(1).Box;
        Assert.Equal(Margin + (wide - narrow) / 2, boxB.X);
        LayoutEdge fromB = layout.Edges[1];
        Assert.Equal([new(boxB.Right, boxB.Y + boxB.Height / 2), new(Margin + wide, boxB.Y + boxB.Height / 2)], fromB.Points.Take(2));
    }

    [Fact]
    public void Create_Subtract_EdgesLabelledWithInputPositions()
    {
        // a − b is not symmetric: the arrows say which input is which; a + b is.
        var tape = new Tape();
        Scalar a = tape.Use(new ScalarParameter("a", 1)), b = tape.Use(new ScalarParameter("b", 2));
        _ = a - b;
        _ = a + b;

        GraphLayout layout = GraphLayout.Create(tape);

        Assert.Equal(["1", "2", null, null], layout.Edges.Select(e => e.Label));
        LayoutEdge second = layout.Edges[1];
        LayoutRect target = layout.Node(2).Box;
        Assert.NotNull(second.LabelBox);
        Assert.True(second.LabelBox!.Value.Right <= target.X, "the label stands left of the op's box");
    }

    [Fact]
    public void Create_SameInputTwice_TwoEdgesWithDistinctIdsAndPorts()
    {
        // x·x: one input used at both positions gives two arrows, into two ports.
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("x", 3));
        _ = x * x;

        GraphLayout layout = GraphLayout.Create(tape);

        Assert.Equal(["edge-0-1", "edge-0-1-1"], layout.Edges.Select(e => e.Id));
        Assert.NotEqual(layout.Edges[0].Points[^1], layout.Edges[1].Points[^1]);
    }

    [Fact]
    public void Create_LongEdge_PassesThroughAReservedSlotOfEachColumnInBetween()
    {
        // p feeds both tanh(p) (column 1) and the last op (column 3): that arrow passes columns 1 and 2 at the height
        // of its own slot, horizontally from the column's left to its right side.
        var tape = new Tape();
        Scalar p = tape.Use(new ScalarParameter("p", 0.5));
        Scalar t = Ops.Exp(Ops.Tanh(p));
        _ = t + p;

        GraphLayout layout = GraphLayout.Create(tape);

        LayoutEdge longEdge = layout.Edges.Single(e => e.From == 0 && e.To == 3);
        Assert.Equal(2 + 2 * 2, longEdge.Points.Count); // start, two points per column passed, end
        LayoutRect c1 = layout.Node(1).Box, c2 = layout.Node(2).Box;
        Assert.Equal(c1.X, longEdge.Points[1].X);
        Assert.Equal(c1.Right, longEdge.Points[2].X);
        Assert.Equal(c2.X, longEdge.Points[3].X);
        Assert.Equal(c2.Right, longEdge.Points[4].X);
        Assert.Equal(longEdge.Points[1].Y, longEdge.Points[2].Y);
        AssertNoEdgeCrossesABox(layout);
    }

    [Fact]
    public void Create_MicrogradExample_BoxesShowOpNameShapeValueAndGradient()
    {
        var tape = new Tape();
        var (g, _, _) = MicrogradExample.Record(tape);

        GraphLayout layout = GraphLayout.Create(tape);

        Assert.Equal(29, layout.Nodes.Count);
        Assert.Equal(["%0 Parameter a", "scalar = -4", "∂L/∂a = 138.834"], layout.Node(0).Lines);
        Assert.Equal(["%28 g = Add(%25, %27)", "scalar = 24.7041", "∂L/∂g = 1"], layout.Node(g.Tape.NodeCount - 1).Lines);
        Assert.Equal(["%13 Add(%1, %0)", "scalar = -2", "∂L/∂%13 = 0"], layout.Node(13).Lines);
        Assert.Equal(["%24 Constant", "scalar = 2"], layout.Node(24).Lines); // no gradient flows into a constant
        Assert.Equal(NodeKind.Parameter, layout.Node(1).Kind);
        Assert.Equal(NodeKind.Constant, layout.Node(26).Kind);
        Assert.Equal(NodeKind.Op, layout.Node(27).Kind);
        // The constant 10 of 10/f stands just left of its division, not in column 0.
        Assert.Equal(layout.Node(27).Rank - 1, layout.Node(26).Rank);
        AssertReadable(layout);
    }

    [Fact]
    public void Create_BeforeBackward_NoGradientLines()
    {
        var tape = new Tape();
        MicrogradExample.Record(tape, backward: false);

        GraphLayout layout = GraphLayout.Create(tape);

        Assert.False(layout.HasGradients);
        Assert.All(layout.Nodes, n => Assert.Equal(2, n.Lines.Count));
    }

    [Fact]
    public void Create_VectorsAndMatrices_ShapeAndFirstElements()
    {
        var tape = new Tape();
        Matrix m = tape.Use(MatrixParameter.FromRowMajor("W", 2, 3, [1, 2, 3, 4, 5, 6]));
        Vector v = tape.Constant([0.5, -1.5, 2.5]);
        Scalar s = Ops.Sum(Ops.MatVec(m, v)); // M v is not symmetric: its arrows are labelled

        GraphLayout layout = GraphLayout.Create(tape, new PictureOptions { MaxElements = 2 });

        Assert.Equal("[2×3] = [1, 2, …]", layout.Node(0).Lines[1]);
        Assert.Equal("[3] = [0.5, -1.5, …]", layout.Node(1).Lines[1]);
        Assert.Equal(["1", "2"], layout.Edges.Where(e => e.To == 2).Select(e => e.Label));
        _ = s;
    }

    [Fact]
    public void Create_OutputOption_KeepsOnlyWhatReachesIt()
    {
        // f reaches a, b, c = a·b, f = c + 1; the unused d = a − 3 and what comes after f are left out.
        var tape = new Tape();
        Scalar a = tape.Use(new ScalarParameter("a", 1)), b = tape.Use(new ScalarParameter("b", 2));
        _ = a - 3;
        Scalar f = a * b + 1;
        _ = f * 2;

        GraphLayout layout = GraphLayout.Create(tape, new PictureOptions { Output = f });

        Assert.Equal([0, 1, 3, 4], layout.Nodes.Select(n => n.Id));
        Assert.Equal(f.Tape.NodeCount - 2, layout.Output);
        Assert.False(layout.Contains(2));
    }

    [Fact]
    public void Create_65kNodeMlp_RefusedAtOnceNamingCountLimitAndWhatToDo()
    {
        // micrograd's two-moons MLP as scalar nodes: about 65,000 of them. A picture of it is refused at once.
        var tape = new Tape();
        Scalar loss = LargeGraphs.ScalarMlp(tape, examples: 67);
        Assert.InRange(tape.NodeCount, 60_000, 70_000);

        var clock = Stopwatch.StartNew();
        var all = Assert.Throws<ArgumentException>(() => GraphLayout.Create(tape));
        var reaching = Assert.Throws<ArgumentException>(() => SvgWriter.Write(tape, new PictureOptions { Output = loss }));
        clock.Stop();

        Assert.Contains(tape.NodeCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " nodes", all.Message);
        Assert.Contains("limit of 300", all.Message);
        Assert.Contains("Pass a smaller graph", all.Message);
        Assert.Contains("PictureOptions.Output", all.Message);
        Assert.Contains("reaching the output", reaching.Message);
        // Not a timing benchmark: a guard against laying the graph out before refusing it (that takes minutes).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refusing took {clock.Elapsed}");
    }

    [Fact]
    public void Create_RaisedLimit_TakesTheLargerGraph()
    {
        var tape = new Tape();
        LargeGraphs.Chain(tape, 400);

        Assert.Throws<ArgumentException>(() => GraphLayout.Create(tape));
        GraphLayout layout = GraphLayout.Create(tape, new PictureOptions { NodeLimit = 400 });

        Assert.Equal(400, layout.RankCount);
    }

    [Fact]
    public void Create_BadOptions_NamesTheOption()
    {
        var tape = new Tape();
        LargeGraphs.Chain(tape, 3);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GraphLayout.Create(tape, new PictureOptions { MaxElements = 0 }));
        Assert.Contains("MaxElements", e.Message);
    }

    [Property(MaxTest = 150)]
    public Property Create_RandomGraphs_NoOverlapsAndNoArrowThroughABox() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            GraphProgram program = Graphs.Build(spec);
            var tape = new Tape();
            Scalar loss = program.Run(tape);
            loss.Backward(retainGraph: true);

            // Unstacking a matrix or a loss term per node now and then takes a program past the default 300 nodes.
            GraphLayout layout = GraphLayout.Create(tape, new PictureOptions { NodeLimit = 5_000 });

            Assert.Equal(tape.NodeCount, layout.Nodes.Count);
            AssertReadable(layout);
        });

    /// <summary>
    /// No two boxes overlap; every text line lies inside its own box and overlaps no other box; every position label
    /// overlaps no box; every input stands in an earlier column; no arrow crosses a box.
    /// </summary>
    internal static void AssertReadable(GraphLayout layout)
    {
        var nodes = layout.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            for (int j = i + 1; j < nodes.Count; j++)
            {
                Assert.False(nodes[i].Box.Overlaps(nodes[j].Box), $"boxes of %{nodes[i].Id} {nodes[i].Box} and %{nodes[j].Id} {nodes[j].Box} overlap");
            }
            for (int k = 0; k < nodes[i].Lines.Count; k++)
            {
                LayoutRect text = nodes[i].TextBox(k);
                Assert.True(nodes[i].Box.Contains(text), $"line {k} of %{nodes[i].Id} leaves its box");
                foreach (var other in nodes)
                {
                    if (other != nodes[i]) Assert.False(other.Box.Overlaps(text), $"box of %{other.Id} covers line {k} of %{nodes[i].Id}");
                }
            }
        }
        foreach (var edge in layout.Edges)
        {
            Assert.True(layout.Node(edge.From).Rank < layout.Node(edge.To).Rank, $"{edge.Id} does not run left to right");
            if (edge.LabelBox is LayoutRect label)
            {
                Assert.All(nodes, n => Assert.False(n.Box.Overlaps(label), $"label of {edge.Id} overlaps %{n.Id}"));
            }
        }
        AssertNoEdgeCrossesABox(layout);
    }

    /// <summary>
    /// Horizontal runs (inside a column) meet no box but their own ends' boxes; a gap crossing (drawn as a curve whose x
    /// stays between its ends) spans an x-range no box reaches into.
    /// </summary>
    private static void AssertNoEdgeCrossesABox(GraphLayout layout)
    {
        foreach (var edge in layout.Edges)
        {
            var points = edge.Points;
            Assert.True(points.Count >= 2);
            Assert.Equal(layout.Node(edge.From).Box.Right, points[0].X);
            Assert.Equal(layout.Node(edge.To).Box.X, points[^1].X);
            for (int k = 1; k < points.Count; k++)
            {
                LayoutPoint a = points[k - 1], b = points[k];
                Assert.True(b.X >= a.X, $"{edge.Id} runs backwards");
                foreach (var node in layout.Nodes)
                {
                    LayoutRect box = node.Box;
                    if (a.Y == b.Y)
                    {
                        bool meets = a.X < box.Right && box.X < b.X && box.Y < a.Y && a.Y < box.Bottom;
                        Assert.False(meets, $"{edge.Id} runs through the box of %{node.Id}");
                    }
                    else
                    {
                        Assert.False(a.X < box.Right && box.X < b.X, $"{edge.Id} crosses a gap that the box of %{node.Id} reaches into");
                    }
                }
            }
        }
    }
}
