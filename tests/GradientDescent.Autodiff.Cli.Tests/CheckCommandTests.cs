using System.Text.Json;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

public sealed class CheckCommandTests
{
    private static string[] Lines(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    [Fact]
    public void Check_SeedMisprint_FailsNamingTheVariableAndWhere()
    {
        // The seed lesson's misprint: d/dx σ(x) written σ(x)(1 − x) instead of σ(x)(1 − σ(x)).
        var r = Run("check", "sigmoid(x)", "--hand", "x=sigmoid(x)*(1-x)", "--random", "20");
        Assert.Equal(1, r.Code);
        Assert.Equal("", r.Stderr);
        string[] lines = Lines(r.Stdout);
        Assert.Equal("gdad check: f(x) = sigmoid(x) at 20 random points in [-3, 3) (seed 1)", lines[0]);
        Assert.Equal("∂f/∂x = sigmoid(x)*(1-x): DIFFERS", lines[2]);
        Assert.StartsWith("  largest relative error ", lines[3], StringComparison.Ordinal);
        Assert.Contains(" at x = ", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("FAILED: ∂f/∂x = sigmoid(x)*(1-x) differs", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SeedRightFormula_Passes()
    {
        // d/dx σ(x) = σ(x)(1 − σ(x)).
        var r = Run("check", "sigmoid(x)", "--hand", "x=sigmoid(x)*(1-sigmoid(x))", "--random", "20");
        Assert.Equal(0, r.Code);
        Assert.Equal("∂f/∂x = sigmoid(x)*(1-sigmoid(x)): AGREES", Lines(r.Stdout)[2]);
        Assert.Equal("PASSED: every hand derivative agrees with autodiff at all 20 points", Lines(r.Stdout)[^1]);
    }

    [Fact]
    public void Check_DefaultPoints_Are20RandomOnesFromSeed1()
    {
        var a = Run("check", "x*y", "--hand", "x=y; y=x");
        var b = Run("check", "x*y", "--hand", "x=y; y=x", "--random", "20", "--range", "-3,3", "--seed", "1");
        Assert.Equal(0, a.Code);
        Assert.Equal(a.Stdout, b.Stdout);
        var c = Run("check", "x*y", "--hand", "x=y; y=x", "--seed", "2");
        Assert.NotEqual(a.Stdout, c.Stdout);
    }

    [Fact]
    public void Check_AtAPoint_TwoVariables()
    {
        // f = x²y: ∂f/∂x = 2xy, ∂f/∂y = x²; the second typed wrong as 2x.
        Assert.Equal(0, Run("check", "x^2*y", "--hand", "x=2*x*y; y=x^2", "--at", "x=1.5,y=2").Code);
        var r = Run("check", "x^2*y", "--hand", "x=2*x*y; y=2*x", "--at", "x=1.5,y=2");
        Assert.Equal(1, r.Code);
        Assert.Contains("∂f/∂x = 2*x*y: AGREES", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("∂f/∂y = 2*x: DIFFERS", r.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("FAILED: ∂f/∂y = 2*x differs", Lines(r.Stdout)[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ZeroGradientAtThePoint_Agrees()
    {
        // f = x² − 2x at x = 1: ∂f/∂x = 2x − 2 = 0 exactly on both sides.
        Assert.Equal(0, Run("check", "x^2 - 2*x", "--hand", "x=2*x - 2", "--at", "x=1").Code);
    }

    [Fact]
    public void Check_TinyGradients_AreComparedRelatively()
    {
        // f = 10⁻¹²x²: every gradient is ~10⁻¹², so an absolute floor would pass the wrong 10⁻¹²x; the floor scales with them.
        Assert.Equal(1, Run("check", "1e-12*x^2", "--hand", "x=1e-12*x").Code);
        Assert.Equal(0, Run("check", "1e-12*x^2", "--hand", "x=2e-12*x").Code);
    }

    [Fact]
    public void Check_AutodiffNotFinite_PointsAreNotComparedAndTheReportSaysSo()
    {
        // d/dx √x = 1/(2√x) is NaN for x < 0 (outside the domain); the hand formula 0.5/√|x| is finite there.
        var r = Run("check", "sqrt(x)", "--hand", "x=0.5/sqrt(abs(x))", "--random", "20");
        Assert.Equal(0, r.Code);
        Assert.Contains("  not compared at ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("where autodiff itself is not finite (first: NaN at x = -", r.Stdout, StringComparison.Ordinal);
        var json = Run("check", "sqrt(x)", "--hand", "x=0.5/sqrt(abs(x))", "--random", "20", "--json").Json();
        int skipped = json.GetProperty("variables")[0].GetProperty("not_compared").GetInt32();
        Assert.InRange(skipped, 1, 19);
    }

    [Fact]
    public void Check_Json_PinsTheFields()
    {
        var r = Run("check", "x^2*y", "--hand", "x=2*x*y; y=2*x", "--random", "5", "--json");
        Assert.Equal(1, r.Code);
        JsonElement json = r.Json();
        Assert.Equal(["passed", "tolerance", "points", "seed", "range", "variables"], json.EnumerateObject().Select(p => p.Name));
        Assert.False(json.GetProperty("passed").GetBoolean());
        Assert.Equal(1e-8, json.GetProperty("tolerance").GetDouble());
        Assert.Equal(5, json.GetProperty("points").GetInt32());
        Assert.Equal(1UL, json.GetProperty("seed").GetUInt64());
        Assert.Equal([-3.0, 3.0], json.GetProperty("range").EnumerateArray().Select(e => e.GetDouble()));
        JsonElement[] vars = [.. json.GetProperty("variables").EnumerateArray()];
        Assert.Equal(["name", "hand", "verdict", "max_relative_error", "at", "autodiff", "hand_value", "central_difference", "max_relative_error_central", "not_compared"],
            vars[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("agrees", vars[0].GetProperty("verdict").GetString());
        Assert.Equal("differs", vars[1].GetProperty("verdict").GetString());
        Assert.Equal("2*x", vars[1].GetProperty("hand").GetString());
        // At the reported point the numbers are those of the formulas: autodiff x², hand 2x.
        double x = vars[1].GetProperty("at").GetProperty("x").GetDouble();
        Assert.Equal(x * x, vars[1].GetProperty("autodiff").GetDouble(), 14);
        Assert.Equal(2 * x, vars[1].GetProperty("hand_value").GetDouble(), 14);
        Assert.True(vars[1].GetProperty("max_relative_error").GetDouble() > 1e-8);
    }

    [Fact]
    public void Check_Torch_AddsLibtorchToTheComparison()
    {
        var r = Run("check", "log(x)*y", "--hand", "x=y/x; y=log(x)", "--range", "0.1,5", "--seed", "7", "--random", "10", "--torch", "--json");
        Assert.Equal(0, r.Code);
        JsonElement v = r.Json().GetProperty("variables")[0];
        Assert.Equal(v.GetProperty("autodiff").GetDouble(), v.GetProperty("torch").GetDouble(), 12);
        Assert.True(v.GetProperty("max_relative_error_torch").GetDouble() <= 1e-8);
        var text = Run("check", "log(x)*y", "--hand", "x=y/x; y=log(x)", "--range", "0.1,5", "--random", "3", "--torch");
        Assert.Contains("    libtorch     ", text.Stdout, StringComparison.Ordinal);
        Assert.Equal("PASSED: every hand derivative agrees with autodiff and libtorch at all 3 points", Lines(text.Stdout)[^1]);
    }

    [Theory]
    [InlineData(new[] { "x^2", "--hand", "x=2*x; y=1" }, "gdad: --hand: the formula has no variable 'y'; its variables are x.")]
    [InlineData(new[] { "x*y", "--hand", "x=y" }, "gdad: --hand: no derivative for 'y'; add y=… (∂f/∂y), separated from the others by ';'.")]
    [InlineData(new[] { "x^2", "--hand", "x=2*z" }, "gdad: --hand: the derivative for 'x' uses 'z', which is not a variable of the formula (x).")]
    [InlineData(new[] { "x^2", "--hand", "x=2*" }, "gdad: --hand: expected an operand (a number, a variable, a function call or '(') after '*', but the formula ends at column 4")]
    [InlineData(new[] { "x^2 +", "--hand", "x=2*x" }, "gdad: the formula: expected an operand (a number, a variable, a function call or '(') after '+', but the formula ends at column 5")]
    [InlineData(new[] { "2", "--hand", "x=1" }, "gdad: the formula has no variables, so there is nothing to differentiate.")]
    [InlineData(new[] { "x^2", "--hand", "x=2*x", "--at", "y=1" }, "gdad: --at: the formula has no variable 'y'; its variables are x.")]
    [InlineData(new[] { "x^2", "--hand", "x=2*x", "--at", "x=1", "--random", "5" }, "gdad: --at checks one point; --random, --range and --seed choose random points instead: give one or the other.")]
    [InlineData(new[] { "x^2", "--hand", "x=2*x", "--range", "3,-3" }, "gdad: --range: '3,-3' is not lo,hi with finite lo < hi, such as -3,3 or 0.1,5.")]
    [InlineData(new[] { "x^2", "--hand", "x=2*x", "--random", "0" }, "gdad: --random: the number of points must be between 1 and 1000000. (see 'gdad check --help')")]
    [InlineData(new[] { "x^2" }, "gdad: Option '--hand' is required. (see 'gdad check --help')")]
    public void Check_BadInput_Exit2WithTheMessageFirst(string[] args, string firstLine)
    {
        var r = Run(["check", .. args]);
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Equal(firstLine, Lines(r.Stderr)[0]);
    }

    [Fact]
    public void Check_HandParseError_ShowsTheHandTextWithACaret()
    {
        var r = Run("check", "x*y", "--hand", "x=y; y=log(x");
        Assert.Equal(2, r.Code);
        Assert.Equal(["gdad: --hand: expected ')' at column 12", "  x=y; y=log(x", "             ^"], Lines(r.Stderr));
    }
}
