using System.Globalization;
using System.Runtime.CompilerServices;
using System.Xml.Linq;

namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

/// <remarks>
/// Golden file: Golden/micrograd.svg is the SVG of micrograd's first example. After a deliberate change of the
/// picture, regenerate it with
/// <c>GDAD_REGENERATE_GOLDEN=1 dotnet test tests/GradientDescent.Autodiff.Teaching.Tests -c Release --filter Golden</c>
/// and review the diff (and the picture) before committing it.
/// </remarks>
public sealed class SvgWriterTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Write_MicrogradExample_OneGroupPerNodeAndEdgeMatchingTheLayout()
    {
        var tape = new Tape();
        MicrogradExample.Record(tape);
        GraphLayout layout = GraphLayout.Create(tape);

        XDocument doc = XDocument.Parse(SvgWriter.Write(layout));

        XElement root = doc.Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Contains("monospace", (string)root.Attribute("font-family")!);
        var nodes = root.Descendants(Svg + "g").Where(g => ((string?)g.Attribute("class"))?.StartsWith("node ") == true).ToList();
        var edges = root.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "edge").ToList();
        Assert.Equal(layout.Nodes.Count, nodes.Count);
        Assert.Equal(layout.Edges.Count, edges.Count);
        foreach (var (g, box) in nodes.Zip(layout.Nodes))
        {
            Assert.Equal($"node-{box.Id}", (string?)g.Attribute("id"));
            string kind = box.Kind switch { NodeKind.Parameter => "parameter", NodeKind.Constant => "constant", _ => "op" };
            Assert.Equal($"node {kind}", (string?)g.Attribute("class"));
            XElement rect = g.Element(Svg + "rect")!;
            Assert.Equal(box.Box, new LayoutRect(Number(rect, "x"), Number(rect, "y"), Number(rect, "width"), Number(rect, "height")));
            Assert.Equal(box.Lines, g.Elements(Svg + "text").Select(t => t.Value));
        }
        Assert.Equal(layout.Edges.Select(e => e.Id), edges.Select(g => (string?)g.Attribute("id")));
        Assert.All(edges, g => Assert.StartsWith("M", (string)g.Element(Svg + "path")!.Attribute("d")!));
        // The three kinds look different: fill colours from the style sheet.
        string style = root.Element(Svg + "style")!.Value;
        Assert.Contains(".node.parameter rect { fill: #fde7c4", style);
        Assert.Contains(".node.constant rect { fill: #eeeeee", style);
        Assert.Contains(".node.op rect { fill: #dbe8fb", style);
    }

    [Fact]
    public void Write_MarkupInNames_EscapedIntoValidXml()
    {
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("<w & 'b'>", 1));
        _ = (x + 1).Named("a \"quoted\" \u0001 name");

        XDocument doc = XDocument.Parse(SvgWriter.Write(tape));

        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("%0 Parameter <w & 'b'>", texts);
        Assert.Contains("%1 a \"quoted\" \uFFFD name = AddConstant(1)(%0)", texts);
    }

    [Fact]
    public void Write_EmptyTape_ValidEmptyPicture()
    {
        XDocument doc = XDocument.Parse(SvgWriter.Write(new Tape()));

        Assert.Empty(doc.Descendants(Svg + "rect"));
        Assert.Equal("32", (string?)doc.Root!.Attribute("width"));
    }

    [Fact]
    public void PathData_GapCrossing_CubicWithHorizontalTangentsBetweenColumns()
    {
        // (0, 0) → (10, 0) is a run inside a column; (10, 0) → (30, 20) crosses a gap: control points at the gap's middle x.
        string d = SvgWriter.PathData([new(0, 0), new(10, 0), new(30, 20)]);

        Assert.Equal("M0 0 L10 0 C20 0 20 20 30 20", d);
    }

    [Fact]
    public void Write_MicrogradExample_MatchesGoldenFile()
    {
        var tape = new Tape();
        MicrogradExample.Record(tape);
        string svg = SvgWriter.Write(tape);

        string path = GoldenPath("micrograd.svg");
        if (Environment.GetEnvironmentVariable("GDAD_REGENERATE_GOLDEN") == "1") File.WriteAllText(path, svg);

        Assert.True(File.Exists(path), $"golden file {path} is missing; regenerate it with GDAD_REGENERATE_GOLDEN=1 (see this class's remarks)");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings(), svg.ReplaceLineEndings());
    }

    private static double Number(XElement e, string attribute) => double.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);

    /// <summary>The golden file beside this source file (tests run from the source tree).</summary>
    private static string GoldenPath(string name, [CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Golden", name);
}
