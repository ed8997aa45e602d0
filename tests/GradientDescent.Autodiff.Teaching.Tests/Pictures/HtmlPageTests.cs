using System.Text.RegularExpressions;

namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

public sealed class HtmlPageTests
{
    private static (Tape Tape, BackwardTrace Trace) Micrograd()
    {
        var tape = new Tape();
        var (g, _, _) = MicrogradExample.Record(tape, backward: false);
        return (tape, BackwardTrace.Record(g, retainGraph: true));
    }

    [Fact]
    public void Write_MicrogradExample_SelfContainedGraphAndOneTableBodyPerStep()
    {
        var (tape, trace) = Micrograd();

        string html = HtmlPage.Write(tape, trace);

        // No network: no external script, style sheet, image or font; the only URL is the SVG namespace.
        Assert.DoesNotMatch(new Regex(@"<(script|link|img)[^>]+(src|href)="), html);
        Assert.All(Regex.Matches(html, @"https?://\S+").Select(m => m.Value), url => Assert.StartsWith("http://www.w3.org/2000/svg", url));
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", html);
        Assert.Equal(trace.Steps.Count, Regex.Matches(html, "<tbody class=\"step\"").Count);
        // Step 1 is the output's rule (g = g + 10/f): its rows name the node and the arrows the script highlights.
        TraceStep first = trace.Steps[0];
        Assert.Contains($"data-step=\"1\" data-node=\"{first.Node}\"", html);
        Assert.Contains($"data-edges=\"edge-25-{first.Node} edge-27-{first.Node}\"", html);
    }

    [Fact]
    public void Write_NoTrace_GraphAloneWithoutTable()
    {
        var tape = new Tape();
        MicrogradExample.Record(tape);

        string html = HtmlPage.Write(tape, trace: null, title: "a <graph>");

        Assert.Contains("<title>a &lt;graph&gt;</title>", html);
        Assert.DoesNotContain("<table", html);
        Assert.Contains("id=\"node-28\"", html);
    }

    [Fact]
    public void Write_MicrogradExample_ChromiumRendersItAndTheScriptHighlightsTheChosenStep()
    {
        var (tape, trace) = Micrograd();
        string dir = Directory.CreateTempSubdirectory("gdad-page-").FullName;
        try
        {
            string page = Path.Combine(dir, "page.html");
            File.WriteAllText(page, HtmlPage.Write(tape, trace));
            string url = new Uri(page).AbsoluteUri;

            // The DOM after the script ran, opened at step 3: ready marker, no script error, the step's node, inputs and arrows marked.
            string dom = Chromium.DumpDom(url + "#step=3");
            Assert.Contains("data-page-ready=\"yes\"", dom);
            Assert.DoesNotContain("data-script-errors=\"yes\"", dom);
            Assert.Contains("<pre id=\"script-errors\" class=\"errors\"></pre>", dom);
            TraceStep step = trace.Steps[2];
            Assert.Matches($"<g id=\"node-{step.Node}\" class=\"node \\w+ selected\"", dom);
            foreach (TraceTerm term in step.Terms)
            {
                Assert.Matches($"<g id=\"node-{term.Input}\" class=\"node \\w+ (selected )?input\"", dom);
                Assert.Matches($"<g id=\"edge-{term.Input}-{step.Node}(-\\d)?\" class=\"edge active\"", dom);
            }
            Assert.Matches("<tbody class=\"step selected\" id=\"step-3\"", dom);
            // Step 3 is g = f/2 (%25): the script writes its chain rule; two nodes are named g, so the line uses their ids.
            Assert.Contains($"step 3 of {trace.Steps.Count}: ∂L/∂f += ∂L/∂%25 · ∂%25/∂f = 1 · (1/2 = 0.5) = 0.5   → ∂L/∂f so far = 0.495835", dom);

            // The screenshot is not blank: many colours, plenty of ink, the boxes' fills and the highlight's red among them.
            string png = Path.Combine(dir, "page.png");
            Chromium.Screenshot(url, png, 1400, 1000);
            PngImage image = PngImage.Decode(File.ReadAllBytes(png));
            Assert.Equal((1400, 1000), (image.Width, image.Height));
            int distinct = image.Pixels.Distinct().Count();
            double ink = image.Pixels.Count(p => p != 0xFFFFFF && p != 0xFAFAFA) / (double)image.Pixels.Length;
            Assert.True(distinct > 100, $"{distinct} distinct colours: the page looks blank");
            Assert.True(ink > 0.05, $"only {ink:P1} of the pixels are not background");
            Assert.Contains(0xFDE7C4u, image.Pixels); // a parameter's fill
            Assert.Contains(0xDBE8FBu, image.Pixels); // an op's fill
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
