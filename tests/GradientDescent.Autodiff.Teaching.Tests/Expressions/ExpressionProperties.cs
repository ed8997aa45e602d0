using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Teaching.Tests.Expressions;

/// <summary>
/// The parser never fails with anything but <see cref="ExpressionParseException"/>, and printing is its inverse: a
/// random well-formed tree, printed and parsed back, is the same tree with bitwise the same value and gradient.
/// </summary>
public sealed class ExpressionProperties
{
    /// <summary>Pieces of formulas, valid and not, to glue at random: most glued strings are nearly formulas.</summary>
    private static readonly string[] Pieces =
    [
        "x", "y", "z", "θ", "_a1", "1", "2", "0.5", ".5", "1e-3", "2.5E+10", "1e400", "1.2.3", "1e", "7.",
        "+", "-", "*", "/", "^", "**", "(", ")", ",", " ", " ", "\t",
        "sin", "max", "pow", "leaky_relu", "clamp", "elu", "log", "sigmoid", "pi", "e", "foo", "Tanh",
        "$", "−", "×", "🙂", "\u0301", "\0", "\n", "[", "=", ";",
    ];

    private static readonly Gen<string> TokenSoup =
        Gen.Elements(Pieces).ArrayOf().Select(parts => string.Concat(parts));

    [Property(MaxTest = 2000)]
    public Property Parse_RandomStrings_ThrowOnlyExpressionParseException() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), text => ParsesOrThrowsParseError(text ?? ""));

    [Property(MaxTest = 3000)]
    public Property Parse_RandomMixesOfTokens_ThrowOnlyExpressionParseExceptionAndPrintBack() =>
        Prop.ForAll(TokenSoup.ToArbitrary(), ParsesOrThrowsParseError);

    /// <summary>Parses; a success must print to text that parses to the same tree; a failure must be a parse error with a span inside (or just after) the text.</summary>
    private static bool ParsesOrThrowsParseError(string text)
    {
        Expression e;
        try
        {
            e = Expression.Parse(text);
        }
        catch (ExpressionParseException p)
        {
            int columns = ExpressionParseException.ColumnOf(text, text.Length);
            return p.Column >= 1 && p.Column <= columns && p.Length >= 1 && p.Render().Split('\n').Length == 3;
        }
        Expression back = Expression.Parse(e.ToString());
        return back.ToSExpression() == e.ToSExpression() && back.ToString() == e.ToString();
    }

    // ------------------------------------------------------------------ random well-formed trees

    private static readonly string[] Names = ["x", "y", "z"];

    private static readonly Gen<double> Numbers = Gen.OneOf(
        Gen.Elements(0.0, 0.5, 1, 2, 3, 10, 0.1, 1e-3, 2.5e10, 1e22, 5e-324, 123.456, Math.PI),
        Gen.Choose(0, 100_000).Select(k => k / 1000.0),
        from m in Gen.Choose(0, 1000) from k in Gen.Choose(-30, 30) select m * Math.Pow(10, k));

    private static readonly string[] Unary =
        [.. Expression.FunctionNames.Where(n => n is not ("max" or "min" or "pow" or "clamp" or "leaky_relu" or "elu"))];

    private static Gen<Syntax> Leaf =>
        Gen.Frequency(
            (5, Gen.Elements(Names).Select(n => (Syntax)new VariableSyntax(0, n.Length, n))),
            (3, Numbers.Select(v => (Syntax)new NumberSyntax(0, 1, v))),
            (1, Gen.Elements("pi", "e").Select(n => (Syntax)new NamedConstantSyntax(0, n.Length, n, n == "pi" ? Math.PI : Math.E))));

    private static FunctionInfo F(string name) => Functions.Find(name)!;

    /// <summary>Tree generators by size, built bottom-up once (a generator is a value; recursion would rebuild them).</summary>
    private static readonly Gen<Syntax>[] BySize = BuildTrees(41);

    private static Gen<Syntax>[] BuildTrees(int largest)
    {
        var trees = new Gen<Syntax>[largest + 1];
        trees[0] = trees[1] = Leaf;
        for (int size = 2; size <= largest; size++)
        {
            Gen<Syntax> half = trees[size / 2], less = trees[size - 1];
            trees[size] = Gen.Frequency(
                (2, Leaf),
                (2, from a in less from negate in Gen.Elements(true, false) select (Syntax)new UnarySyntax(0, 1, negate, a)),
                (6, from a in half from b in half from op in Gen.Elements(Enum.GetValues<BinaryOperator>()) select (Syntax)new BinarySyntax(op, a, b)),
                (3, from a in less from f in Gen.Elements(Unary) select (Syntax)new CallSyntax(0, 1, F(f), [a])),
                (2, from a in half from b in half from f in Gen.Elements("max", "min", "pow") select (Syntax)new CallSyntax(0, 1, F(f), [a, b])),
                (1, from a in less from c in Numbers from f in Gen.Elements("leaky_relu", "elu")
                    select (Syntax)new CallSyntax(0, 1, F(f), [a, new NumberSyntax(0, 1, c)])),
                (1, from a in less from lo in Numbers from hi in Numbers
                    select (Syntax)new CallSyntax(0, 1, F("clamp"), [a, new NumberSyntax(0, 1, Math.Min(lo, hi)), new NumberSyntax(0, 1, Math.Max(lo, hi))])));
        }
        return trees;
    }

    private static readonly Gen<Syntax> Trees = Gen.Sized(n => BySize[Math.Clamp(n, 0, BySize.Length - 1)]);

    private static readonly Dictionary<string, double> Point = new() { ["x"] = 0.7, ["y"] = -1.3, ["z"] = 2.1 };

    [Property(MaxTest = 1000)]
    public Property PrintThenParse_RandomTree_SameTreeValueAndGradientBitwise() =>
        Prop.ForAll(Trees.ToArbitrary(), tree =>
        {
            Expression original = Expression.FromSyntax(tree);
            string printed = original.ToString();
            Expression parsed = Expression.Parse(printed);
            Assert.Equal(original.ToSExpression(), parsed.ToSExpression());
            Assert.Equal(printed, parsed.ToString());
            Assert.Equal(original.Variables, parsed.Variables);
            ExpressionGradient a = original.Differentiate(Point), b = parsed.Differentiate(Point);
            Assert.Equal(BitConverter.DoubleToInt64Bits(a.Value), BitConverter.DoubleToInt64Bits(b.Value));
            Assert.Equal(a.Gradient.Select(g => (g.Key, BitConverter.DoubleToInt64Bits(g.Value))), b.Gradient.Select(g => (g.Key, BitConverter.DoubleToInt64Bits(g.Value))));
            // Evaluate (constant leaves, no gradient) gives the value Differentiate recorded.
            Assert.Equal(BitConverter.DoubleToInt64Bits(a.Value), BitConverter.DoubleToInt64Bits(parsed.Evaluate(Point)));
        });

    [Fact]
    public void Trees_Generated_CoverEveryFunctionAndOperator()
    {
        var seen = new Dictionary<string, int>();
        Syntax[] trees = Trees.Sample(2000, 30);
        Assert.Equal(2000, trees.Length);
        foreach (Syntax tree in trees) Collect(tree, seen);
        string counts = string.Join(", ", seen.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"));
        foreach (string name in Expression.FunctionNames.Concat(["+", "-", "*", "/", "^", "neg", "pos"]))
        {
            Assert.True(seen.GetValueOrDefault(name) >= 5, $"{name} generated {seen.GetValueOrDefault(name)} times in 2000 trees ({counts})");
        }

        static void Collect(Syntax n, Dictionary<string, int> seen)
        {
            string? key = n switch
            {
                UnarySyntax u => u.Negate ? "neg" : "pos",
                BinarySyntax b => BinarySyntax.Symbol(b.Operator),
                CallSyntax c => c.Function.Name,
                _ => null,
            };
            if (key is not null) seen[key] = seen.GetValueOrDefault(key) + 1;
            switch (n)
            {
                case UnarySyntax u: Collect(u.Operand, seen); break;
                case BinarySyntax b: Collect(b.Left, seen); Collect(b.Right, seen); break;
                case CallSyntax c: foreach (var a in c.Arguments) Collect(a, seen); break;
            }
        }
    }
}
