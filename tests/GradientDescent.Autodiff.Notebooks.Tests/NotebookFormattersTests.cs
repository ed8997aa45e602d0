using GradientDescent.Autodiff.Teaching;
using Microsoft.DotNet.Interactive.Formatting;

namespace GradientDescent.Autodiff.Notebooks.Tests;

/// <summary>
/// The formatters driven through .NET Interactive's own <see cref="Formatter"/>, as a notebook kernel calls them when
/// a cell ends with a value.
/// </summary>
[Collection(nameof(FormatterCollection))]
public sealed class NotebookFormattersTests
{
    public NotebookFormattersTests() => NotebookFormatters.Register();

    [Fact]
    public void Register_Tape_DisplaysAsSvgWithEveryNodeAndGradient()
    {
        // y = x² + 3x at x = −4: y = 4, dy/dx = 2x + 3 = −5.
        var x = new ScalarParameter("x", -4.0);
        var tape = new Tape();
        Scalar xs = tape.Use(x);
        Scalar y = (xs * xs) + (3 * xs);
        y.Backward();

        string html = Formatter.ToDisplayString(tape, HtmlFormatter.MimeType);

        // The picture SvgWriter draws, inline: one box per node (x, x·x, 3x, the sum), x's box with ∂L/∂x = −5.
        Assert.Equal(SvgWriter.Write(tape), html);
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", html, StringComparison.Ordinal);
        Assert.Equal(tape.NodeCount, CountOf(html, "<g id=\"node-"));
        Assert.Contains("<g id=\"node-0\" class=\"node parameter\">", html, StringComparison.Ordinal);
        Assert.Contains("-5", html[html.IndexOf("<g id=\"node-0\"", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    [Fact]
    public void Register_TapeOverTheNodeLimit_ShowsTheRefusalInsteadOfAPicture()
    {
        // 400 additions: more boxes than PictureOptions.DefaultNodeLimit (300) make a readable picture.
        var tape = new Tape();
        Scalar sum = tape.Constant(0.0);
        for (int k = 0; k < 400; k++) sum += 1.0;

        string html = Formatter.ToDisplayString(tape, HtmlFormatter.MimeType);

        Assert.StartsWith("<p class=\"gdad-refused\">GraphLayout: the graph has 401 nodes", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<svg", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_Tape_PlainTextIsTheTapeListing()
    {
        var tape = new Tape();
        _ = tape.Constant(2.0) * tape.Constant(3.0);

        Assert.Equal(tape.Format(), Formatter.ToDisplayString(tape, PlainTextFormatter.MimeType));
    }

    [Fact]
    public void Register_NodeNameWithMarkup_IsEscaped()
    {
        // A user's name is text, never markup: "<b>" must not open a tag in the notebook.
        var tape = new Tape();
        _ = tape.Constant(1.0).Named("<b>");

        string html = Formatter.ToDisplayString(tape, HtmlFormatter.MimeType);

        Assert.Contains("&lt;b&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_BackwardTrace_DisplaysTheStepTableEscaped()
    {
        // y = x·x at x = 3: one Multiply step with two terms into x (a and b), each 3 · 1; ∂y/∂x = 3 + 3 = 6.
        var x = new ScalarParameter("x", 3.0);
        var tape = new Tape();
        Scalar xs = tape.Use(x);
        BackwardTrace trace = BackwardTrace.Record(xs * xs);

        string html = Formatter.ToDisplayString(trace, HtmlFormatter.MimeType);

        Assert.Equal($"<pre class=\"gdad-trace\">{System.Net.WebUtility.HtmlEncode(trace.ToText())}</pre>", html);
        Assert.Contains("∂L/∂x is added into x.Grad", html, StringComparison.Ordinal);
        Assert.Equal(trace.ToText(), Formatter.ToDisplayString(trace, PlainTextFormatter.MimeType));
        Assert.Equal(6, x.Grad);
    }

    [Fact]
    public void Register_PassingGradientCheck_DisplaysTableWithPassedVerdict()
    {
        // f(w) = w₀² + 3w₁ at w = (1, 2): ∇f = (2w₀, 3) = (2, 3), given by hand as well.
        var w = new VectorParameter("w", 1.0, 2.0);
        GradientCheckReport report = GradientCheck.Run(
            t => { Vector v = t.Use(w); return (v[0] * v[0]) + (3 * v[1]); },
            [w],
            new GradientCheckOptions { HandDerived = _ => [2.0, 3.0] });

        string html = Formatter.ToDisplayString(report, HtmlFormatter.MimeType);

        Assert.StartsWith("<table class=\"gdad-gradient-check\">", html, StringComparison.Ordinal);
        Assert.Contains("<caption>Gradient check of f = 7 ", html, StringComparison.Ordinal);
        // One row against finite differences and one against the hand-derived gradient, both ok.
        Assert.Equal(2, CountOf(html, "<tr><td>w</td>"));
        Assert.Contains("<td>finite diff</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>hand-derived</td>", html, StringComparison.Ordinal);
        Assert.Equal(2, CountOf(html, "<td>ok</td>"));
        Assert.EndsWith("<b>PASSED</b></p>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_WrongHandDerivative_DisplaysFailAtTheWrongElement()
    {
        // f(w) = w₀² + 3w₁ at w = (1, 2); the hand says ∂f/∂w₁ = 4, but it is 3: element [1] fails, 3 against 4.
        var w = new VectorParameter("w", 1.0, 2.0);
        GradientCheckReport report = GradientCheck.Run(
            t => { Vector v = t.Use(w); return (v[0] * v[0]) + (3 * v[1]); },
            [w],
            new GradientCheckOptions { HandDerived = _ => [2.0, 4.0] });

        string html = Formatter.ToDisplayString(report, HtmlFormatter.MimeType);

        Assert.False(report.Passed);
        Assert.Contains("<td>hand-derived</td><td>1.000E+000</td><td>2.500E-001</td><td>[1]</td><td>3</td><td>4</td><td><b style=\"color:#cf222e\">FAIL</b></td>", html, StringComparison.Ordinal);
        Assert.EndsWith("<b>FAILED</b></p>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_GradientCheck_PlainTextIsTheReportsText()
    {
        var p = new ScalarParameter("p", 0.5);
        GradientCheckReport report = GradientCheck.Run(t => Ops.Sigmoid(t.Use(p)), [p]);

        Assert.Equal(report.ToString(), Formatter.ToDisplayString(report, PlainTextFormatter.MimeType));
    }

    private static int CountOf(string text, string part) => text.Split(part).Length - 1;
}

/// <summary>The formatters are process-wide state: the classes that register or read them do not run in parallel.</summary>
[CollectionDefinition(nameof(FormatterCollection))]
public sealed class FormatterCollection;
