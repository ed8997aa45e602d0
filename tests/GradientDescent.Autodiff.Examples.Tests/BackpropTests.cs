using System.Globalization;
using GradientDescent.Autodiff.Examples.Backprop;
using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Examples.Tests;

public sealed class BackpropTests
{
    [Fact]
    public void Run_Lecture_GradientsEqualMicrogradsAndTheSeedsAndEveryTraceAndPictureIsWritten()
    {
        string folder = Directory.CreateTempSubdirectory("backprop-test-").FullName;
        try
        {
            var output = new StringWriter();

            Lecture.Result result = Lecture.Run(output, folder);

            string text = output.ToString();
            Assert.True(result.Passed, text);
            Assert.Equal(3, result.Parts.Count);
            // micrograd's test_sanity_check: y = −20, dy/dx = 46, exactly.
            Assert.Equal([-20.0, 46.0], result.Parts[0].Checks.Select(c => c.Autodiff));
            // micrograd's README, to the 4 decimals it prints: 24.7041, 138.8338, 645.5773.
            Assert.Equal(["24.7041", "138.8338", "645.5773"], result.Parts[1].Checks.Select(c => c.Autodiff.ToString("F4", CultureInfo.InvariantCulture)));
            // The seed: ∂E/∂w = −(y − ŷ)x, ∂E/∂b = −(y − ŷ), to rounding.
            Assert.Equal(3, result.Parts[2].Checks.Count);
            Assert.All(result.Parts[2].Checks, c => Assert.InRange(Math.Abs(c.Autodiff - c.Expected), 0, Lecture.ExactTolerance));

            foreach (Lecture.Part part in result.Parts)
            {
                // The printed step table is the trace's own text; its last steps are the parameters (leaves).
                Assert.Contains(part.Trace.ToText(), text, StringComparison.Ordinal);
                Assert.Equal(OpKind.Parameter, part.Trace.Steps[^1].Op);
                // The pictures, in the folder given: an SVG with a box per node (parameters marked), and one HTML page
                // holding that graph and a table row for each step.
                Assert.Equal(folder, Path.GetDirectoryName(part.Svg));
                Assert.Equal(folder, Path.GetDirectoryName(part.Html));
                string svg = File.ReadAllText(part.Svg);
                Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg, StringComparison.Ordinal);
                Assert.Contains("class=\"node parameter\"", svg, StringComparison.Ordinal);
                string html = File.ReadAllText(part.Html);
                Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
                Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", html, StringComparison.Ordinal);
                Assert.Contains($"<title>{part.Title.Replace("'", "&apos;", StringComparison.Ordinal)}</title>", html, StringComparison.Ordinal);
                Assert.Contains($"wrote {part.Svg} and {part.Html}", text, StringComparison.Ordinal);
            }
            // Each expression's graph has one box per node of its tape: 12, 29 and 13 nodes.
            Assert.Equal([12, 29, 13], result.Parts.Select(p => File.ReadAllText(p.Svg).Split("<g id=\"node-").Length - 1));
            // micrograd's sanity check: x is used four times (2x, + x, z·x, q·x); its four contributions sum to 46.
            TraceStep[] sanity = [.. result.Parts[0].Trace.Steps];
            TraceTerm[] intoX = [.. sanity.SelectMany(s => s.Terms).Where(t => t.Input == sanity[^1].Node)];
            Assert.Equal(4, intoX.Length);
            Assert.Equal(46, intoX.Sum(t => t.Contribution[0]), 12);
            Assert.EndsWith("PASSED" + Environment.NewLine, text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void MoreOps_BackwardTwice_GradientsAccumulateToTwiceMicrogradsValues()
    {
        // Gradients accumulate (+=) until zeroed: two backward passes over fresh tapes leave 2·∂g/∂a, 2·∂g/∂b.
        var a = new ScalarParameter("a", -4.0);
        var b = new ScalarParameter("b", 2.0);

        Lecture.MoreOps(new Tape(), a, b).Backward();
        Lecture.MoreOps(new Tape(), a, b).Backward();

        Assert.Equal(2 * 138.83381924198252, a.Grad, 1e-9);
        Assert.Equal(2 * 645.5772594752186, b.Grad, 1e-9);
    }

    [Fact]
    public void Check_PublishedValueOffInTheFourthDecimal_Fails()
    {
        // 138.8338 printed to 4 decimals admits [138.83375, 138.83385]; 138.8340 is outside it.
        var good = new Lecture.Check("∂g/∂a", 138.83381924198252, 138.8338, Lecture.FourDecimals, "micrograd");
        var bad = good with { Expected = 138.8340 };

        Assert.True(good.Passed);
        Assert.False(bad.Passed);
    }
}
