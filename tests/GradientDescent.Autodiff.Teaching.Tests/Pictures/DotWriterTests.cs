using System.Xml;
using System.Xml.Linq;

namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

public sealed class DotWriterTests
{
    [Fact]
    public void Write_MicrogradExample_ReadsBackAsTheSameNodesEdgesAndLabels()
    {
        var tape = new Tape();
        MicrogradExample.Record(tape);
        GraphLayout layout = GraphLayout.Create(tape);

        DotReader.DotGraph dot = DotReader.Read(DotWriter.Write(tape));

        Assert.Equal(29, dot.Nodes.Count);
        Assert.Equal(41, dot.Edges.Count);
        foreach (var (node, box) in dot.Nodes.Zip(layout.Nodes))
        {
            Assert.Equal($"n{box.Id}", node.Name);
            Assert.Equal($"node-{box.Id}", node.Attributes["id"]);
            Assert.Equal(string.Concat(box.Lines.Select(l => l + "\n")), node.Attributes["label"]);
        }
        Assert.Equal(layout.Edges.Select(e => ($"n{e.From}", $"n{e.To}")), dot.Edges.Select(e => (e.From, e.To)));
        Assert.Equal(["1", "2"], dot.Edges.Where(e => e.To == "n22").Select(e => e.Attributes["headlabel"])); // e = c − d
        Assert.DoesNotContain(dot.Edges.Where(e => e.To == "n28"), e => e.Attributes.ContainsKey("headlabel")); // g = g + 10/f
        // Parameters, constants and ops are drawn differently.
        Assert.Equal("filled,bold", dot.Nodes[0].Attributes["style"]);
        Assert.Equal("filled,dashed", dot.Nodes[24].Attributes["style"]);
        Assert.Equal("rounded,filled", dot.Nodes[2].Attributes["style"]);
        Assert.Equal("node parameter", dot.Nodes[0].Attributes["class"]);
    }

    [Fact]
    public void Write_SameTapeTwice_IdenticalText()
    {
        var first = new Tape();
        MicrogradExample.Record(first);
        var second = new Tape();
        MicrogradExample.Record(second);

        Assert.Equal(DotWriter.Write(first), DotWriter.Write(second));
    }

    [Fact]
    public void Write_NameWithQuoteAndBackslash_EscapedAndReadBackUnchanged()
    {
        // A user's backslash must not turn into a DOT escape (\n, \l) and a quote must not end the label.
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("x", 1));
        _ = (x * 2).Named("say \"hi\" \\n");

        string text = DotWriter.Write(tape);
        DotReader.DotGraph dot = DotReader.Read(text);

        Assert.Contains("say \\\"hi\\\" \\\\n", text);
        Assert.StartsWith("%1 say \"hi\" \\n = MultiplyConstant(2)(%0)\n", dot.Nodes[1].Attributes["label"]);
    }

    [Fact]
    public void RenderSvg_GraphvizOnPath_DrawsEveryNodeAndEdgeWithOurIds()
    {
        // Runs where Graphviz is installed (CI installs it: .ci/run); elsewhere there is nothing to check.
        if (!GraphvizRenderer.IsAvailable) return;
        var tape = new Tape();
        MicrogradExample.Record(tape);

        string svg = GraphvizRenderer.RenderSvg(tape);

        XDocument doc = ParseWithDoctype(svg);
        var ids = doc.Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToList();
        Assert.Equal(29, ids.Count(id => id.StartsWith("node-")));
        Assert.Equal(41, ids.Count(id => id.StartsWith("edge-")));
        Assert.Contains("node-28", ids);
        Assert.Contains(doc.Descendants().Where(e => e.Name.LocalName == "text"), t => t.Value == "∂L/∂a = 138.834");
    }

    [Fact]
    public void RenderSvg_NoDotOnPath_SaysHowToInstallOrWhatToUseInstead()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GraphvizRenderer.RenderSvg("digraph { a -> b }", null, searchPath: ""));

        Assert.Contains("'dot' is not on the PATH", e.Message);
        Assert.Contains("apt-get install graphviz", e.Message);
        Assert.Contains("SvgWriter", e.Message);
    }

    /// <summary>Graphviz's SVG starts with a DOCTYPE naming an external DTD: read it without fetching anything.</summary>
    internal static XDocument ParseWithDoctype(string svg)
    {
        using var reader = XmlReader.Create(new StringReader(svg), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
        return XDocument.Load(reader);
    }
}
