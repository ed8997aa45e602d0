using System.Globalization;
using System.Text.Json;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

public sealed class GradCommandTests
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    [Fact]
    public void Grad_ProductAndSine_PrintsValueAndEveryPartial()
    {
        // f(x, y) = x²y + sin x at (1, 2): f = 2 + sin 1, ∂f/∂x = 2xy + cos x = 4 + cos 1, ∂f/∂y = x² = 1.
        var r = Run("grad", "x^2*y + sin(x)", "--at", "x=1,y=2");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Stderr);
        string[] lines = r.Stdout.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(
        [
            "f(x, y) = x^2*y + sin(x)",
            "at x = 1, y = 2",
            $"f      = {(2 + Math.Sin(1)).ToString("R", Inv)}",
            $"∂f/∂x  = {(4 + Math.Cos(1)).ToString("R", Inv)}",
            "∂f/∂y  = 1",
        ], lines);
    }

    [Fact]
    public void Grad_Json_IsExactlyValueAndGradientInRoundTripForm()
    {
        var r = Run("grad", "x^2*y + sin(x)", "--at", "y=2, x=1", "--json");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Stderr);
        // The exact text: two fields, the variables in order of first appearance, doubles that read back bitwise.
        Assert.Equal(
            $"{{\"value\": {(2 + Math.Sin(1)).ToString("R", Inv)}, \"gradient\": {{\"x\": {(4 + Math.Cos(1)).ToString("R", Inv)}, \"y\": 1}}}}\n",
            r.Stdout.ReplaceLineEndings("\n"));
        JsonElement json = r.Json();
        Assert.Equal(["value", "gradient"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["x", "y"], json.GetProperty("gradient").EnumerateObject().Select(p => p.Name));
        Assert.Equal(4 + Math.Cos(1), json.GetProperty("gradient").GetProperty("x").GetDouble());
    }

    [Fact]
    public void Grad_JsonNonFinite_WritesTheNamedLiteralsAsStrings()
    {
        // d/dx √x = 1/(2√x) is +∞ at 0; JSON has no ∞, so it is the string "Infinity" (System.Text.Json's named literal).
        var r = Run("grad", "sqrt(x)", "--at", "x=0", "--json");
        Assert.Equal(0, r.Code);
        Assert.Equal("{\"value\": 0, \"gradient\": {\"x\": \"Infinity\"}}\n", r.Stdout.ReplaceLineEndings("\n"));
        var options = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        var parsed = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(r.Stdout, options)!;
        Assert.Equal(double.PositiveInfinity, parsed["gradient"].GetProperty("x").Deserialize<double>(options));
    }

    [Fact]
    public void Grad_NoVariables_ValueAndEmptyGradient()
    {
        var r = Run("grad", "2^10 - sqrt(16)", "--json");
        Assert.Equal(0, r.Code);
        Assert.Equal("{\"value\": 1020, \"gradient\": {}}\n", r.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Grad_ParseError_Exit2WithTheMessageFirstThenTheCaret()
    {
        var r = Run("grad", "log(x", "--at", "x=1");
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Equal(["gdad: the formula: expected ')' at column 5", "  log(x", "      ^"],
            r.Stderr.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("x*y", "x=1", "gdad: --at: no value for 'y'; give every variable, as in --at x=1,y=2.")]
    [InlineData("x*y", null, "gdad: --at: no value for 'x', 'y'; give every variable, as in --at x=1,y=2.")]
    [InlineData("x", "x=1,z=2", "gdad: --at: the formula has no variable 'z'; its variables are x.")]
    [InlineData("x", "x=1,x=2", "gdad: --at: 'x' is given twice.")]
    [InlineData("x", "x=abc", "gdad: --at: x=abc: the value must be a finite number, such as 1.5 or -2e-3.")]
    [InlineData("x", "x=1e999", "gdad: --at: x=1e999: the value must be a finite number, such as 1.5 or -2e-3.")]
    [InlineData("x", "x", "gdad: --at: 'x' is not name=value; write --at x=1.")]
    [InlineData("x + e", "x=1,e=2", "gdad: --at: 'e' is a constant, not a variable; the formula's variables are x.")]
    [InlineData("sigmod(x)", "x=1", "gdad: the formula: unknown function 'sigmod' (did you mean 'sigmoid'?) at column 1")]
    public void Grad_BadFormulaOrPoint_Exit2WithOneLineFirst(string formula, string? at, string firstLine)
    {
        var r = at is null ? Run("grad", formula) : Run("grad", formula, "--at", at);
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Equal(firstLine, r.Stderr.ReplaceLineEndings("\n").Split('\n')[0]);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Grad_NoFormula_Exit2()
    {
        var r = Run("grad");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("gdad: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Grad_Trace_PrintsTheGradientThenTheStepTable()
    {
        // f = a·b + a at a = 2, b = −3: ∂f/∂a = b + 1 = −2 (a is used twice: 1 from the sum, b from the product), ∂f/∂b = a = 2.
        var r = Run("grad", "a*b + a", "--at", "a=2,b=-3", "--trace");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Stderr);
        string[] lines = r.Stdout.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(["f(a, b) = a*b + a", "at a = 2, b = -3", "f      = -4", "∂f/∂a  = -2", "∂f/∂b  = 2", ""], lines[..6]);
        Assert.StartsWith("Backward pass from %3 f = Add(%2, %0)", lines[6], StringComparison.Ordinal);
        Assert.StartsWith("step  node", lines[7], StringComparison.Ordinal);
        // a's two uses: the sum's term first (1/2), then the product's (2/2), whose running sum is backward's ∂f/∂a.
        // Step 2 is the product; its first term is a's second use, with local derivative b and running sum −2 = ∂f/∂a.
        string product = Assert.Single(lines, l => l.Contains("%2 Multiply(%0, %1)", StringComparison.Ordinal));
        Assert.Matches(@"%0\s+b\s+-3\s+-3\s+-2\s+2/2$", product.TrimEnd());
        Assert.Contains(lines, l => l.Contains("Parameter a", StringComparison.Ordinal));
    }

    [Fact]
    public void Grad_TraceWithJson_Exit2()
    {
        var r = Run("grad", "x^2", "--at", "x=1", "--trace", "--json");
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("gdad: --json writes only", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Grad_DotAndSvg_WriteTheDifferentiatedGraph()
    {
        string dir = Path.GetDirectoryName(WriteTemp("unused.txt", ""))!;
        string dot = Path.Combine(dir, "g.dot"), svg = Path.Combine(dir, "g.svg");
        // f = tanh(w·x + b): the pictures name the variables' boxes and the output f.
        var r = Run("grad", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", "--dot", dot, "--svg", svg);
        Assert.Equal(0, r.Code);
        Assert.Contains($"DOT picture of the graph written to {dot}", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"SVG picture of the graph written to {svg}", r.Stdout, StringComparison.Ordinal);
        string dotText = File.ReadAllText(dot);
        Assert.StartsWith("digraph", dotText.TrimStart(), StringComparison.Ordinal);
        foreach (string name in new[] { "w", "x", "b", "f", "Tanh" }) Assert.Contains(name, dotText, StringComparison.Ordinal);
        string svgText = File.ReadAllText(svg);
        Assert.Contains("<svg", svgText, StringComparison.Ordinal);
        Assert.Contains("Tanh", svgText, StringComparison.Ordinal);

        // With --json the files are still written, and stdout holds the JSON object only.
        var j = Run("grad", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", "--svg", svg, "--json");
        Assert.Equal(0, j.Code);
        Assert.Equal(["value", "gradient"], j.Json().EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Grad_Html_WritesOnePageWithTheGraphAndTheSteps()
    {
        string path = Path.Combine(Path.GetDirectoryName(WriteTemp("unused.txt", ""))!, "lesson.html");
        var r = Run("grad", "a*b + a", "--at", "a=2,b=-3", "--html", path);
        Assert.Equal(0, r.Code);
        Assert.Contains($"HTML page (graph and steps) written to {path}", r.Stdout, StringComparison.Ordinal);
        string page = File.ReadAllText(path);
        Assert.StartsWith("<!DOCTYPE html>", page, StringComparison.Ordinal);
        Assert.Contains("<svg", page, StringComparison.Ordinal);
        Assert.Contains("f(a, b) = a*b + a at a = 2, b = -3", page, StringComparison.Ordinal);
        Assert.Contains("Multiply", page, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
