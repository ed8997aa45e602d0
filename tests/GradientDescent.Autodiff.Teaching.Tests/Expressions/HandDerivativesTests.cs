using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Teaching.Tests.Expressions;

public sealed class HandDerivativesTests
{
    [Fact]
    public void Parse_TwoEntries_KeepsTheTypedOrderAndFormulas()
    {
        // f = x²y: ∂f/∂x = 2xy, ∂f/∂y = x².
        var hand = HandDerivatives.Parse(" x = 2*x*y ;y=x^2; ");
        Assert.Equal(["x", "y"], hand.Partials.Select(p => p.Key));
        Assert.Equal("2*x*y", hand.Partials[0].Value.Text);
        Assert.Equal("x^2", hand.Partials[1].Value.Text);
        Assert.Equal("x=2*x*y; y=x^2", hand.ToString());
    }

    [Theory]
    [InlineData("x=2*x*y; y=x^", 13, 1, "expected an operand (a number, a variable, a function call or '(') after '^', but the formula ends")]
    [InlineData("x=log(x", 7, 1, "expected ')'")]
    [InlineData("x 2*x", 1, 5, "expected variable=derivative, such as x=2*x*y")]
    [InlineData("=2*x", 1, 1, "expected a variable's name before '='")]
    [InlineData("2x=2", 1, 2, "'2x' is not a variable's name (a letter or _, then letters, digits or _)")]
    [InlineData("e=1", 1, 1, "'e' is a constant, not a variable")]
    [InlineData("sin=1", 1, 3, "'sin' is a function, not a variable")]
    [InlineData("x=1; x=2", 6, 1, "a second derivative for 'x' (the first is at column 1)")]
    [InlineData("x=  ", 2, 1, "expected a formula for ∂f/∂x after '='")]
    [InlineData(" ; ", 1, 3, "no hand derivatives: write variable=derivative for each variable, separated by ';', such as x=2*x*y; y=x^2")]
    public void Parse_BadEntries_ThrowWithColumnsInTheWholeText(string text, int column, int length, string reason)
    {
        var e = Assert.Throws<ExpressionParseException>(() => HandDerivatives.Parse(text));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(column, e.Column);
        Assert.Equal(length, e.Length);
        Assert.Equal(text, e.Text);
    }
}
