namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

/// <summary>HtmlPage's extra tables: a hand derivation beside backward's numbers, escaped, after the steps.</summary>
public sealed class PageTableTests
{
    [Fact]
    public void Write_WithATable_ShowsItEscapedAfterTheSteps()
    {
        var tape = new Tape();
        var (g, _, _) = MicrogradExample.Record(tape, backward: false);
        BackwardTrace trace = BackwardTrace.Record(g, retainGraph: true);
        var table = new PageTable("hand <vs> backward", ["gradient", "value"], [["∂g/∂a", "138.83 & more"]]);

        string html = HtmlPage.Write(tape, trace, tables: [table]);

        int steps = html.IndexOf("<table id=\"steps\">", StringComparison.Ordinal);
        int notes = html.IndexOf("<section class=\"notes\"><h2>hand &lt;vs&gt; backward</h2>", StringComparison.Ordinal);
        Assert.True(steps >= 0 && notes > steps, "the table follows the steps");
        Assert.Contains("<th>gradient</th><th>value</th>", html);
        Assert.Contains("<tr><td>∂g/∂a</td><td>138.83 &amp; more</td></tr>", html);
    }

    [Fact]
    public void Write_RowWithTheWrongNumberOfCells_ThrowsNamingTheTable()
    {
        var tape = new Tape();
        MicrogradExample.Record(tape);
        var table = new PageTable("checks", ["a", "b"], [["1", "2"], ["3"]]);

        var e = Assert.Throws<ArgumentException>(() => HtmlPage.Write(tape, trace: null, tables: [table]));

        Assert.Equal("HtmlPage: row 1 of the table \"checks\" has 1 cells but the table has 2 columns; give every row one cell per column.", e.Message);
    }
}
