namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A Pratt parser (Crafting Interpreters' compiler.c, matklad's minipratt): one loop over infix operators, each with a
/// pair of binding powers, and one prefix table. Every error is an <see cref="ExpressionParseException"/> with a span.
/// </summary>
/// <remarks>
/// <para>Binding powers (left, right): + − (1, 2), * / (3, 4), ^ and ** (8, 7); prefix − and + bind their operand at 5.
/// A left power below the right one makes an operator left-associative (a − b − c = (a − b) − c); above, right-
/// associative (2^3^2 = 2^(3^2) = 512). The prefix 5 sits between * and ^, as in Python and in maths: −x^2 = −(x^2),
/// −a*b = (−a)*b, 2^−x = 2^(−x).</para>
/// <para>Nesting is limited to <see cref="MaxDepth"/> levels (parentheses, operators, calls), so that no input can
/// exhaust the stack of this recursive parser or of the recursive walks over its tree.</para>
/// </remarks>
internal sealed class Parser
{
    /// <summary>The deepest nesting accepted: far beyond any formula typed by hand.</summary>
    internal const int MaxDepth = 200;

    private const int PrefixPower = 5;

    private readonly string _text;
    private readonly List<Token> _tokens;
    private readonly List<string> _variables = [];
    private int _position;
    private int _depth;
    private Tape? _scratch;

    private Parser(string text, int start, int end)
    {
        _text = text;
        _tokens = Lexer.Tokenize(text, start, end);
    }

    /// <summary>Parses <paramref name="text"/>[<paramref name="start"/>, <paramref name="end"/>) as one formula; spans are offsets into the whole text.</summary>
    internal static (Syntax Root, IReadOnlyList<string> Variables) Parse(string text, int start, int end)
    {
        var parser = new Parser(text, start, end);
        if (parser.Peek.Kind == TokenKind.End)
        {
            throw new ExpressionParseException(text, start, end - start, "empty formula: type one, such as x^2 + 3*x");
        }
        Syntax root = parser.ParseExpression(0);
        Token next = parser.Peek;
        if (next.Kind != TokenKind.End)
        {
            throw next.Kind switch
            {
                TokenKind.RightParen => parser.Error(next, "unbalanced ')': no '(' before it"),
                TokenKind.Comma => parser.Error(next, "unexpected ',' outside a function's arguments"),
                _ => parser.Error(next, $"expected an operator before {Describe(next)}{parser.ProductHint(root, next)}"),
            };
        }
        return (root, parser._variables);
    }

    private Token Peek => _tokens[_position];

    private Token Next() => _tokens[_position++];

    /// <summary>
    /// An error at a token. At the end of the formula (a missing ')' or operand) it points at the formula's last
    /// character, the one the missing piece should follow: <c>log(x</c> → "expected ')' at column 5".
    /// </summary>
    private ExpressionParseException Error(Token at, string reason)
    {
        if (at.Kind != TokenKind.End) return new(_text, at.Offset, at.Length, reason);
        int last = _tokens.Count >= 2 ? _tokens[^2].Offset + _tokens[^2].Length - 1 : at.Offset;
        return new(_text, last, 1, reason);
    }

    private ExpressionParseException Error(Syntax at, string reason) => new(_text, at.Offset, at.Length, reason);

    /// <summary>(left, right) binding powers of an infix operator, or null for a token that is not one.</summary>
    private static (int Left, int Right, BinaryOperator Op)? Infix(TokenKind kind) => kind switch
    {
        TokenKind.Plus => (1, 2, BinaryOperator.Add),
        TokenKind.Minus => (1, 2, BinaryOperator.Subtract),
        TokenKind.Star => (3, 4, BinaryOperator.Multiply),
        TokenKind.Slash => (3, 4, BinaryOperator.Divide),
        TokenKind.Power => (8, 7, BinaryOperator.Power),
        _ => null,
    };

    /// <summary>The Pratt loop: an operand, then every infix operator that binds at least <paramref name="minPower"/>.</summary>
    private Syntax ParseExpression(int minPower)
    {
        if (++_depth > MaxDepth)
        {
            throw Error(Peek, $"the formula nests too deeply (more than {MaxDepth} levels of parentheses, operators or calls)");
        }
        Syntax left = ParsePrefix();
        while (Infix(Peek.Kind) is { } infix && infix.Left >= minPower)
        {
            Token op = Next();
            Syntax right = ParseExpression(infix.Right);
            left = Fold(Deep(new BinarySyntax(infix.Op, left, right), op));
        }
        _depth--;
        return left;
    }

    /// <summary>What may start an operand: a number, a name (variable, constant, call), '(' or a sign.</summary>
    private Syntax ParsePrefix()
    {
        Token t = Next();
        switch (t.Kind)
        {
            case TokenKind.Number:
                return new NumberSyntax(t.Offset, t.Length, t.Number);
            case TokenKind.Identifier:
                return Name(t);
            case TokenKind.LeftParen:
            {
                if (Peek.Kind == TokenKind.RightParen) throw Error(Peek, "empty parentheses: expected a formula before ')'");
                Syntax inner = ParseExpression(0);
                Token close = Peek;
                if (close.Kind != TokenKind.RightParen) throw Error(close, ExpectedClose(close, inner));
                Next();
                return inner;
            }
            case TokenKind.Minus:
            case TokenKind.Plus:
            {
                Syntax operand = ParseExpression(PrefixPower);
                return Fold(Deep(new UnarySyntax(t.Offset, operand.End - t.Offset, t.Kind == TokenKind.Minus, operand), t));
            }
            case TokenKind.End:
                _position--;
                throw Error(t, _position == 0 ? "empty formula" : $"expected an operand (a number, a variable, a function call or '(') after {Describe(_tokens[_position - 1])}, but the formula ends");
            default:
                throw Error(t, $"expected an operand (a number, a variable, a function call or '(') before {Describe(t)}");
        }
    }

    /// <summary>A name: a call when '(' follows, else a constant (pi, e) or a variable; a function's name alone is an error.</summary>
    private Syntax Name(Token t)
    {
        if (Peek.Kind == TokenKind.LeftParen) return Call(t);
        if (Functions.Constant(t.Text) is { } value) return new NamedConstantSyntax(t.Offset, t.Length, t.Text, value);
        if (Functions.Find(t.Text) is { } f)
        {
            throw Error(t, $"'{t.Text}' is a function, not a variable: call it as {f.Signature}");
        }
        if (!_variables.Contains(t.Text, StringComparer.Ordinal)) _variables.Add(t.Text);
        return new VariableSyntax(t.Offset, t.Length, t.Text);
    }

    private Syntax Call(Token name)
    {
        FunctionInfo f = Functions.Find(name.Text) ?? throw Error(name, UnknownFunction(name.Text));
        Token open = Next();
        if (++_depth > MaxDepth)
        {
            throw Error(open, $"the formula nests too deeply (more than {MaxDepth} levels of parentheses, operators or calls)");
        }
        var arguments = new List<Syntax>();
        if (Peek.Kind != TokenKind.RightParen)
        {
            while (true)
            {
                arguments.Add(ParseExpression(0));
                Token t = Peek;
                if (t.Kind == TokenKind.Comma)
                {
                    Next();
                    continue;
                }
                if (t.Kind == TokenKind.RightParen) break;
                throw Error(t, t.Kind == TokenKind.End || IsOperandStart(t.Kind)
                    ? ExpectedClose(t, arguments[^1], inCall: true)
                    : $"expected ',' or ')' after {f.Name}'s argument, found {Describe(t)}");
            }
        }
        Token close = Next();
        _depth--;
        int length = close.Offset + close.Length - name.Offset;
        if (arguments.Count < f.MinArguments || arguments.Count > f.MaxArguments)
        {
            string wanted = f.MinArguments == f.MaxArguments
                ? $"{f.MinArguments} argument{(f.MinArguments == 1 ? "" : "s")}"
                : $"{f.MinArguments} to {f.MaxArguments} arguments";
            throw new ExpressionParseException(_text, name.Offset, length,
                $"{f.Name} takes {wanted}, got {arguments.Count}: write {f.Signature}");
        }
        for (int k = f.FirstNumberArgument; k < arguments.Count; k++)
        {
            if (!arguments[k].IsConstant)
            {
                throw Error(arguments[k], $"{f.Name}'s argument {k + 1} must be a number (it is a setting, not differentiated): write {f.Signature}");
            }
        }
        var call = new CallSyntax(name.Offset, length, f, [.. arguments]);
        CheckSettings(call);
        return Fold(call);
    }

    /// <summary>The numeric settings the op would refuse: leaky_relu's slope and elu's α must be finite, clamp's lo ≤ hi.</summary>
    private void CheckSettings(CallSyntax call)
    {
        var a = call.Arguments;
        switch (call.Function.Name)
        {
            case "leaky_relu" or "elu" when a.Count > 1 && !double.IsFinite(a[1].ConstantValue!.Value):
                throw Error(a[1], $"{call.Function.Name}'s {(call.Function.Name == "elu" ? "alpha" : "slope")} must be a finite number, got {Syntax.Format(a[1].ConstantValue!.Value)}");
            case "clamp" when !(a[1].ConstantValue!.Value <= a[2].ConstantValue!.Value):
                throw new ExpressionParseException(_text, a[1].Offset, a[2].End - a[1].Offset,
                    $"clamp's bounds must satisfy lo ≤ hi, got lo = {Syntax.Format(a[1].ConstantValue!.Value)}, hi = {Syntax.Format(a[2].ConstantValue!.Value)}");
        }
    }

    /// <summary>Rejects a tree deeper than <see cref="MaxDepth"/> (a chain x + x + … + x is as deep as it is long).</summary>
    private T Deep<T>(T node, Token op) where T : Syntax =>
        node.Depth > MaxDepth
            ? throw Error(op, $"the formula nests too deeply (more than {MaxDepth} levels of parentheses, operators or calls)")
            : node;

    /// <summary>Evaluates a constant node once, with the library's kernels on a scratch tape.</summary>
    private Syntax Fold(Syntax node)
    {
        if (node.IsConstant)
        {
            _scratch ??= new Tape();
            _scratch.Clear();
            node.ConstantValue = Recorder.Emit(node, _scratch, null, folding: true).Value;
        }
        return node;
    }

    private static bool IsOperandStart(TokenKind kind) =>
        kind is TokenKind.Number or TokenKind.Identifier or TokenKind.LeftParen;

    private string ExpectedClose(Token at, Syntax before, bool inCall = false)
    {
        if (at.Kind == TokenKind.End) return "expected ')'";
        if (IsOperandStart(at.Kind)) return $"expected an operator or {(inCall ? "',' or " : "")}')' before {Describe(at)}{ProductHint(before, at)}";
        return $"expected ')' instead of {Describe(at)}";
    }

    /// <summary>After "2x" or "2(x + 1)": the product needs its '*'.</summary>
    private string ProductHint(Syntax before, Token at) =>
        before is NumberSyntax && at.Kind is TokenKind.Identifier or TokenKind.LeftParen
            ? $" (write {_text[before.Offset..before.End]}*{(at.Kind == TokenKind.Identifier ? at.Text : "(…)")} for a product)"
            : "";

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end",
        TokenKind.Number => $"the number {t.Text}",
        TokenKind.Identifier => $"'{t.Text}'",
        _ => $"'{t.Text}'",
    };

    private static string UnknownFunction(string name)
    {
        IReadOnlyList<string> near = Functions.Nearest(name);
        string suggestion = near.Count switch
        {
            0 => $" (the functions are {string.Join(", ", Functions.All.Select(f => f.Name))})",
            1 => $" (did you mean '{near[0]}'?)",
            _ => $" (did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}?)",
        };
        return $"unknown function '{name}'{suggestion}";
    }
}
