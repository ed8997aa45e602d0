using System.Globalization;
using System.Text.RegularExpressions;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

/// <summary>
/// gdad explain: the seed's logistic regression on one admissions point, the backward trace, and the seed's hand
/// formula ∂E/∂(w₁, w₂, b) = −(y − ŷ)(x₁, x₂, 1) beside backward's numbers, printed and written as one HTML page.
/// </summary>
public sealed class ExplainCommandTests
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The hand formula computed here, independently of the command: ŷ = σ(w₁x₁ + w₂x₂ + b), ∇ = −(y − ŷ)(x₁, x₂, 1).</summary>
    private static double[] HandGradient(double x1, double x2, double y)
    {
        double z = 0.5 * x1 + -0.3 * x2 + 0.1;
        double yHat = 1 / (1 + Math.Exp(-z));
        return [-(y - yHat) * x1, -(y - yHat) * x2, -(y - yHat)];
    }

    /// <summary>The hand and backward numbers of the comparison lines, in the order ∂E/∂w₁, ∂E/∂w₂, ∂E/∂b.</summary>
    private static (double Hand, double Backward, string Verdict)[] Comparison(string stdout) =>
        [.. Regex.Matches(stdout, @"^  ∂E/∂\S+\s+hand .+? = (\S+)\s+backward = (\S+)\s+(\w+)$", RegexOptions.Multiline)
            .Select(m => (double.Parse(m.Groups[1].Value, Inv), double.Parse(m.Groups[2].Value, Inv), m.Groups[3].Value))];

    [Theory]
    // Row 1 is admitted (y = 1: x = (0.78051, −0.063669)); row 52 is not (y = 0: x = (0.44274, 0.59205)).
    [InlineData(1, 0.78051, -0.063669, 1.0)]
    [InlineData(52, 0.44274, 0.59205, 0.0)]
    public void Explain_AdmissionsRow_HandFormulaAndBackwardAgreeAndThePageHoldsGraphStepsAndComparison(int row, double x1, double x2, double y)
    {
        string page = Path.Combine(Path.GetDirectoryName(WriteTemp("unused.txt", ""))!, "lesson.html");

        Outcome result = Run("explain", "--row", row.ToString(Inv), "--out", page);

        Assert.Equal(0, result.Code);
        Assert.Equal("", result.Stderr);
        Assert.StartsWith(string.Create(Inv, $"The seed's logistic regression on admissions row {row}: x = ({x1}, {x2}), y = {y}"), result.Stdout);
        // The trace: the loss's step first, the parameters' steps among the last.
        Assert.Contains("Backward pass from %", result.Stdout);
        Assert.Contains("σ(z)(1 − σ(z)) = ŷ(1 − ŷ)", result.Stdout);
        Assert.Contains("∂L/∂w₁ is added into w₁.Grad", result.Stdout);
        var lines = Comparison(result.Stdout);
        Assert.Equal(3, lines.Length);
        double[] expected = HandGradient(x1, x2, y);
        for (int k = 0; k < 3; k++)
        {
            // The command's hand column is the formula; its backward column is what the tape derived. Both equal the
            // formula computed here to a few ulps (the same products in another order).
            Assert.Equal(expected[k], lines[k].Hand, 1e-15);
            Assert.Equal(expected[k], lines[k].Backward, 1e-15);
            Assert.Equal("agree", lines[k].Verdict);
        }
        Assert.Contains($"Wrote {page}", result.Stdout);

        string html = File.ReadAllText(page);
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", html);
        Assert.Contains("<tbody class=\"step\"", html);
        Assert.Contains("<h2>The seed&apos;s hand formula against backward</h2>", html);
        Assert.Contains("<td>−(y − ŷ)·x₁</td>", html);
        Assert.Equal(3, Regex.Matches(html, "<td>agree</td>").Count);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    public void Explain_RowOutsideTheData_ExitsTwoWithOneLine(string row)
    {
        Outcome result = Run("explain", "--row", row, "--out", Path.Combine(Path.GetTempPath(), "never-written.html"));

        Assert.Equal(2, result.Code);
        Assert.Equal("", result.Stdout);
        Assert.Equal($"gdad: explain: --row {row} is outside the admissions data's rows 1 to 100.", result.Stderr.TrimEnd());
    }

    [Fact]
    public void Explain_Svg_IsTheReadmesPictureOfTheSeedGraph()
    {
        // The README's Teaching section shows docs/seed-graph.svg; it must be what the command draws today
        // (regenerate: dotnet run --project src/GradientDescent.Autodiff.Cli -- explain --svg docs/seed-graph.svg).
        string dir = Path.GetDirectoryName(WriteTemp("unused.txt", ""))!;
        string svg = Path.Combine(dir, "seed-graph.svg");

        Outcome result = Run("explain", "--out", Path.Combine(dir, "explain.html"), "--svg", svg);

        Assert.Equal(0, result.Code);
        Assert.Contains($"Wrote {svg}: the graph.", result.Stdout);
        string committed = File.ReadAllText(Path.Combine(ReadmeOutputTests.RepositoryRoot(), "docs", "seed-graph.svg"));
        Assert.Equal(committed.ReplaceLineEndings("\n"), File.ReadAllText(svg).ReplaceLineEndings("\n"));
        Assert.Contains("∂L/∂w₁", committed);
    }
}
