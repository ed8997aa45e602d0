using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Teaching.Tests.Expressions;

public sealed class ExpressionTests
{
    private static Dictionary<string, double> At(params (string Name, double Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value);

    // ------------------------------------------------------------------ precedence and associativity

    [Theory]
    [InlineData("1 + 2 * 3", "(+ 1 (* 2 3))")]
    [InlineData("(1 + 2) * 3", "(* (+ 1 2) 3)")]
    [InlineData("a - b - c", "(- (- a b) c)")]                 // left-associative
    [InlineData("a - (b - c)", "(- a (- b c))")]
    [InlineData("a / b * c", "(* (/ a b) c)")]
    [InlineData("a / b / c", "(/ (/ a b) c)")]
    [InlineData("2 ^ 3 ^ 2", "(^ 2 (^ 3 2))")]                 // right-associative: 2^9
    [InlineData("2 ** 3 ** 2", "(^ 2 (^ 3 2))")]               // ** is ^
    [InlineData("(2 ^ 3) ^ 2", "(^ (^ 2 3) 2)")]
    [InlineData("-x^2", "(- (^ x 2))")]                        // −(x²), as in maths and Python
    [InlineData("-x**2", "(- (^ x 2))")]
    [InlineData("(-x)^2", "(^ (- x) 2)")]
    [InlineData("-a*b", "(* (- a) b)")]
    [InlineData("-a + b", "(+ (- a) b)")]
    [InlineData("a*-b", "(* a (- b))")]
    [InlineData("2^-x", "(^ 2 (- x))")]                        // Python's 2**-x
    [InlineData("2^-x^2", "(^ 2 (- (^ x 2)))")]                // Python's 2**-x**2 = 2**(−(x**2))
    [InlineData("x^-y*z", "(* (^ x (- y)) z)")]                // Python's x**-y*z
    [InlineData("--x", "(- (- x))")]
    [InlineData("+x - -y", "(- (+ x) (- y))")]
    [InlineData("a + b * c ^ d ^ e2 - f / g", "(- (+ a (* b (^ c (^ d e2)))) (/ f g))")]
    [InlineData("sin(x)^2 + cos(x)^2", "(+ (^ (sin x) 2) (^ (cos x) 2))")]
    [InlineData("max(x, -y) * pow(x, 2)", "(* (max x (- y)) (pow x 2))")]
    [InlineData("leaky_relu(x, 0.2) + elu(x) + clamp(x, -1, 1)", "(+ (+ (leaky_relu x 0.2) (elu x)) (clamp x (- 1) 1))")]
    [InlineData("pi * e", "(* pi e)")]
    [InlineData(".5 + 1e-3 + 2.5E+10 + 1.", "(+ (+ (+ 0.5 0.001) 25000000000) 1)")]
    public void Parse_PrecedenceAndAssociativity_GiveTheseTrees(string text, string tree) =>
        Assert.Equal(tree, Expression.Parse(text).ToSExpression());

    [Fact]
    public void Parse_PowerIsRightAssociative_TwoCubedSquaredIs512()
    {
        // 2^3^2 = 2^(3^2) = 2^9 = 512, not (2^3)^2 = 64.
        Assert.Equal(512, Expression.Parse("2^3^2").Evaluate(At()));
        Assert.Equal(-9, Expression.Parse("-3^2").Evaluate(At()));
    }

    [Fact]
    public void Variables_AreInFirstAppearanceOrder()
    {
        Assert.Equal(["y", "x", "θ", "_b2"], Expression.Parse("y*x + sin(y) + θ - x + _b2").Variables);
        Assert.Empty(Expression.Parse("pi + e + sin(1)").Variables);
    }

    // ------------------------------------------------------------------ printing

    [Theory]
    [InlineData("((x))", "x")]
    [InlineData("(a + b) + c", "a + b + c")]
    [InlineData("a + (b + c)", "a + (b + c)")]
    [InlineData("a - (b + c)", "a - (b + c)")]
    [InlineData("(a * b) / c", "a*b/c")]
    [InlineData("a / (b * c)", "a/(b*c)")]
    [InlineData("(a ^ b) ^ c", "(a^b)^c")]
    [InlineData("a ^ (b ^ c)", "a^b^c")]
    [InlineData("-(x^2)", "-x^2")]
    [InlineData("(-x)^2", "(-x)^2")]
    [InlineData("-(a*b)", "-(a*b)")]
    [InlineData("(-a)*b", "-a*b")]
    [InlineData("x^(-y)", "x^-y")]
    [InlineData("a - (-b)", "a - -b")]
    [InlineData("2 ** x", "2^x")]
    [InlineData("max( x ,y)+ LEAKY", "max(x, y) + LEAKY")]
    [InlineData("1e-5 * x", "1E-05*x")]
    public void ToString_PrintsTheFewestParentheses(string text, string printed) =>
        Assert.Equal(printed, Expression.Parse(text).ToString());

    // ------------------------------------------------------------------ values and gradients

    [Fact]
    public void Differentiate_ProductAndSine_MatchesTheHandDerivation()
    {
        // f(x, y) = x²y + sin x;  ∂f/∂x = 2xy + cos x,  ∂f/∂y = x².
        double x = 1.5, y = -2;
        var g = Expression.Parse("x^2*y + sin(x)").Differentiate(At(("x", x), ("y", y)));
        Assert.Equal(x * x * y + Math.Sin(x), g.Value, 15);
        Assert.Equal(2 * x * y + Math.Cos(x), g.Partial("x"), 14);
        Assert.Equal(x * x, g.Partial("y"), 14);
        Assert.Equal(["x", "y"], g.Gradient.Select(p => p.Key));
    }

    [Fact]
    public void Differentiate_SeedSigmoidDerivative_IsSigmaTimesOneMinusSigma()
    {
        // d/dx σ(x) = σ(x)(1 − σ(x)).
        foreach (double x in new[] { -3.0, -0.5, 0, 0.25, 2 })
        {
            double s = 1 / (1 + Math.Exp(-x));
            var g = Expression.Parse("sigmoid(x)").Differentiate(At(("x", x)));
            Assert.Equal(s * (1 - s), g.Partial("x"), 15);
        }
    }

    [Fact]
    public void Differentiate_VariableUsedTwice_GradientsAccumulate()
    {
        // f = x·x + x: df/dx = 2x + 1 — each use contributes.
        var g = Expression.Parse("x*x + x").Differentiate(At(("x", 3)));
        Assert.Equal(7, g.Partial("x"));
    }

    [Fact]
    public void Differentiate_ConstantsPiAndE_AreTheDoubles()
    {
        // f = e^x·pi: at x = 1, f = e·π and df/dx = e·π.
        var g = Expression.Parse("e^x*pi").Differentiate(At(("x", 1)));
        Assert.Equal(Math.E * Math.PI, g.Value, 14);
        Assert.Equal(Math.E * Math.PI * Math.Log(Math.E), g.Partial("x"), 14);
    }

    [Fact]
    public void Differentiate_FormulaWithoutVariables_HasValueAndNoGradient()
    {
        var g = Expression.Parse("2^10 - sqrt(16)").Differentiate(At());
        Assert.Equal(1020, g.Value);
        Assert.Empty(g.Gradient);
    }

    [Fact]
    public void RecordAt_ConstantSubtrees_BecomeTheNumbersOfConstantOps()
    {
        // x*2 records x·c, x^(1/2) records x^c with c = 0.5, max(x, 0) records max(x, c): no constant nodes for them.
        RecordedExpression r = Expression.Parse("x*2 + x^(1/2) + max(x, 0)").RecordAt(At(("x", 4)));
        string listing = r.Tape.Format();
        Assert.Contains("Parameter x", listing, StringComparison.Ordinal);
        Assert.Contains("MultiplyConstant(2)", listing, StringComparison.Ordinal);
        Assert.Contains("PowerConstant(0.5)", listing, StringComparison.Ordinal);
        Assert.Contains("MaxConstant(0)", listing, StringComparison.Ordinal);
        Assert.Contains("f = Add(", listing, StringComparison.Ordinal);   // the output is named f
        Assert.DoesNotContain(Enumerable.Range(0, r.Tape.NodeCount).Select(r.Tape.Describe), n => n.Op == OpKind.Constant);
        Assert.Equal(8 + 2 + 4, r.Output.Value);
    }

    [Fact]
    public void Record_OnAGivenTape_UsesTheGivenNodes()
    {
        // f(a, b) = a/b at a = 3, b = 4: ∂f/∂a = 1/b, ∂f/∂b = −a/b².
        var a = new ScalarParameter("a", 3);
        var b = new ScalarParameter("b", 4);
        var tape = new Tape();
        Scalar f = Expression.Parse("a/b").Record(tape, new Dictionary<string, Scalar> { ["a"] = tape.Use(a), ["b"] = tape.Use(b), ["unused"] = tape.Constant(1) });
        f.Backward();
        Assert.Equal(0.75, f.Value);
        Assert.Equal(0.25, a.Grad);
        Assert.Equal(-3.0 / 16, b.Grad);
    }

    [Fact]
    public void Record_MissingVariable_ThrowsNamingIt()
    {
        var tape = new Tape();
        var e = Assert.Throws<ArgumentException>(() =>
            Expression.Parse("x*y").Record(tape, new Dictionary<string, Scalar> { ["x"] = tape.Constant(1) }));
        Assert.Contains("'y'", e.Message, StringComparison.Ordinal);
        var d = Assert.Throws<ArgumentException>(() => Expression.Parse("x*y").Differentiate(At(("y", 1))));
        Assert.Contains("'x'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_NodeOfAnotherTape_ThrowsNamingTheVariable()
    {
        var other = new Tape();
        var e = Assert.Throws<ArgumentException>(() =>
            Expression.Parse("x + 1").Record(new Tape(), new Dictionary<string, Scalar> { ["x"] = other.Constant(1) }));
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Functions_EveryListedFunction_ParsesAndRecordsItsOp()
    {
        foreach (string name in Expression.FunctionNames)
        {
            string text = name switch
            {
                "max" or "min" or "pow" => $"{name}(x, 0.5)",
                "clamp" => "clamp(x, -1, 1)",
                _ => $"{name}(x)",
            };
            var g = Expression.Parse(text).Differentiate(At(("x", 0.3)));
            Assert.True(double.IsFinite(g.Value), text);
            Assert.True(double.IsFinite(g.Partial("x")), text);
        }
    }

    // ------------------------------------------------------------------ errors

    [Theory]
    [InlineData("log(x", 5, 1, "expected ')'")]
    [InlineData("", 1, 1, "empty formula: type one, such as x^2 + 3*x")]
    [InlineData("   ", 1, 3, "empty formula: type one, such as x^2 + 3*x")]
    [InlineData("x +", 3, 1, "expected an operand (a number, a variable, a function call or '(') after '+', but the formula ends")]
    [InlineData("x + * y", 5, 1, "expected an operand (a number, a variable, a function call or '(') before '*'")]
    [InlineData("(x + 1", 6, 1, "expected ')'")]
    [InlineData("log(xyz  ", 7, 1, "expected ')'")]
    [InlineData("x + 1)", 6, 1, "unbalanced ')': no '(' before it")]
    [InlineData("()", 2, 1, "empty parentheses: expected a formula before ')'")]
    [InlineData("sigmod(x)", 1, 6, "unknown function 'sigmod' (did you mean 'sigmoid'?)")]
    [InlineData("Tanh(x)", 1, 4, "unknown function 'Tanh' (did you mean 'tanh'?)")]
    [InlineData("ln(x)", 1, 2, "unknown function 'ln' (did you mean 'log'?)")]
    [InlineData("foo(x)", 1, 3, "unknown function 'foo' (the functions are exp, log, log2, log10, sqrt, square, abs, sign, floor, ceil, round, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, sigmoid, logsigmoid, softplus, relu, leaky_relu, elu, gelu, silu, clamp, max, min, pow)")]
    [InlineData("sin(x, y)", 1, 9, "sin takes 1 argument, got 2: write sin(x)")]
    [InlineData("max(x)", 1, 6, "max takes 2 arguments, got 1: write max(a, b)")]
    [InlineData("sin()", 1, 5, "sin takes 1 argument, got 0: write sin(x)")]
    [InlineData("leaky_relu(x, y)", 15, 1, "leaky_relu's argument 2 must be a number (it is a setting, not differentiated): write leaky_relu(x[, slope])")]
    [InlineData("clamp(x, 1, -1)", 10, 5, "clamp's bounds must satisfy lo ≤ hi, got lo = 1, hi = -1")]
    [InlineData("x y", 3, 1, "expected an operator before 'y'")]
    [InlineData("2x", 2, 1, "expected an operator before 'x' (write 2*x for a product)")]
    [InlineData("2(x + 1)", 2, 1, "expected an operator before '(' (write 2*(…) for a product)")]
    [InlineData("x $ 2", 3, 1, "unexpected character '$'")]
    [InlineData("x − 2", 3, 1, "unexpected character '−' (type - for minus)")]
    [InlineData("1.2.3", 1, 5, "bad number '1.2.3': a number has at most one decimal point")]
    [InlineData("1e", 1, 2, "bad number '1e': an exponent needs digits, as in 1e-3 or 2.5E+10")]
    [InlineData("1e+ x", 1, 3, "bad number '1e+': an exponent needs digits, as in 1e-3 or 2.5E+10")]
    [InlineData("1e400", 1, 5, "bad number '1e400': too large for a double (the largest is about 1.8e308)")]
    [InlineData("sin + 1", 1, 3, "'sin' is a function, not a variable: call it as sin(x)")]
    [InlineData("x, y", 2, 1, "unexpected ',' outside a function's arguments")]
    [InlineData("max(x y)", 7, 1, "expected an operator or ',' or ')' before 'y'")]
    [InlineData("🙂 + x", 1, 1, "unexpected character '🙂'")]
    [InlineData("é + 🙂", 5, 1, "unexpected character '🙂'")]
    public void Parse_BadText_ThrowsWithColumnLengthAndReason(string text, int column, int length, string reason)
    {
        var e = Assert.Throws<ExpressionParseException>(() => Expression.Parse(text));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(column, e.Column);
        Assert.Equal(length, e.Length);
        Assert.Equal($"{reason} at column {column}", e.Message);
    }

    [Fact]
    public void Render_LogWithoutClose_PutsTheCaretUnderColumn5()
    {
        var e = Assert.Throws<ExpressionParseException>(() => Expression.Parse("log(x"));
        Assert.Equal("expected ')' at column 5\n  log(x\n      ^", e.Render());
    }

    [Fact]
    public void Render_SpanAfterAWideCharacter_CountsCharactersNotCodeUnits()
    {
        // "𝑥" is two UTF-16 code units but one character: the caret under "foo" starts at column 5.
        var e = Assert.Throws<ExpressionParseException>(() => Expression.Parse("𝑥 + foo(1)"));
        Assert.Equal(1, e.Column);
        var f = Assert.Throws<ExpressionParseException>(() => Expression.Parse("é\t+ fooo(1)"));
        Assert.Equal(5, f.Column);
        Assert.Equal(4, f.Length);
        Assert.Equal("  é + fooo(1)\n      ^^^^", f.Render()[(f.Render().IndexOf('\n', StringComparison.Ordinal) + 1)..]);
    }

    [Fact]
    public void Parse_DeepNesting_IsAParseErrorNotAStackOverflow()
    {
        foreach (string text in new[]
        {
            new string('(', 100_000) + "x" + new string(')', 100_000),
            string.Concat(Enumerable.Repeat("-", 100_000)) + "x",
            string.Join("^", Enumerable.Repeat("x", 100_000)),
            string.Join("+", Enumerable.Repeat("x", 100_000)),
            string.Concat(Enumerable.Repeat("sin(", 100_000)) + "x" + new string(')', 100_000),
        })
        {
            var e = Assert.Throws<ExpressionParseException>(() => Expression.Parse(text));
            Assert.StartsWith("the formula nests too deeply", e.Reason, StringComparison.Ordinal);
        }
        // 150 levels are fine.
        Assert.Equal(1, Expression.Parse(new string('(', 150) + "1" + new string(')', 150)).Evaluate(At()));
    }

    [Fact]
    public void Parse_ReservedNames_AreNotVariables()
    {
        Assert.True(Expression.IsReservedName("pi"));
        Assert.True(Expression.IsReservedName("e"));
        Assert.True(Expression.IsReservedName("sigmoid"));
        Assert.False(Expression.IsReservedName("x"));
        Assert.False(Expression.IsReservedName("E"));       // names are case-sensitive: E is a variable
        Assert.Equal(["E"], Expression.Parse("E + e").Variables);
    }
}
