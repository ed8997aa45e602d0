namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A formula typed as text, parsed into a spanned tree, then recorded on a tape and differentiated by the library's
/// own rules: <c>Expression.Parse("x^2*y + sin(x)").Differentiate(new Dictionary&lt;string, double&gt; { ["x"] = 1, ["y"] = 2 })</c>
/// gives the value and ∂/∂x, ∂/∂y.
/// </summary>
/// <remarks>
/// <para><b>Grammar.</b> Numbers (<c>2</c>, <c>0.5</c>, <c>.5</c>, <c>1e-3</c>, <c>2.5E+10</c>); variables (a letter or _
/// then letters, digits, _; case matters); the constants <c>pi</c> (π) and <c>e</c> (Euler's number), which no variable
/// may be called, nor may it take a function's name; <c>+ - * /</c>; <c>^</c> and <c>**</c> for powers; unary minus and
/// plus; parentheses; and the functions exp, log (natural), log2, log10, sqrt, square, abs, sign, floor, ceil, round,
/// sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, sigmoid, logsigmoid, softplus, relu, leaky_relu(x[, slope]),
/// elu(x[, alpha]), gelu, silu, clamp(x, lo, hi), max(a, b), min(a, b), pow(a, b). A function's settings (slope, alpha,
/// lo, hi) must be numbers: they are not differentiated.</para>
/// <para><b>Precedence</b>, loosest first: + −; * /; unary − +; ^ (right-associative). So −x^2 = −(x^2), as in maths and
/// Python; 2^3^2 = 2^9; a − b − c = (a − b) − c; a/b*c = (a/b)·c; 2^−x = 2^(−x). There is no implicit product: 2x is an
/// error that asks for 2*x.</para>
/// <para><b>Errors</b> are <see cref="ExpressionParseException"/>s, always, with a column and a length: empty input,
/// an unexpected character, a bad number, an unknown function (with the nearest names), a wrong number of arguments, an
/// unbalanced parenthesis, something left over after the formula, nesting deeper than 200 levels.</para>
/// <para><b>Recording.</b> Each operator and function records the <see cref="Ops"/> function (or <see cref="Scalar"/>
/// operator) of the same meaning, so gradients, traces and pictures are the library's. Subtrees without a variable are
/// evaluated once when parsing and enter as numbers: <c>x*2</c> records x·c with c = 2, <c>x^(1/2)</c> records x^c with
/// c = 0.5.</para>
/// </remarks>
public sealed class Expression
{
    private Expression(string text, Syntax root, IReadOnlyList<string> variables)
    {
        Text = text;
        Root = root;
        Variables = variables;
    }

    /// <summary>The text that was parsed.</summary>
    public string Text { get; }

    /// <summary>The variables, in the order they first appear in the text.</summary>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>The tree (spans index <see cref="Text"/>).</summary>
    internal Syntax Root { get; }

    /// <summary>The names of the functions a formula may call.</summary>
    public static IReadOnlyList<string> FunctionNames { get; } = [.. Functions.All.Select(f => f.Name)];

    /// <summary>Whether <paramref name="name"/> is taken (a function or the constants pi and e), so no variable may be called so.</summary>
    public static bool IsReservedName(string name) => Functions.Find(name) is not null || Functions.Constant(name) is not null;

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="ExpressionParseException">The text is not a formula; the exception names the column and span.</exception>
    public static Expression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text, 0, text.Length);
    }

    /// <summary>Parses the part [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of <paramref name="text"/>; error columns count from the start of the whole text.</summary>
    internal static Expression Parse(string text, int start, int length)
    {
        var (root, variables) = Parser.Parse(text, start, start + length);
        return new Expression(text.Substring(start, length), root, variables);
    }

    /// <summary>Wraps a tree built directly (tests); variables in the order of a left-to-right walk, which is the printed order.</summary>
    /// <remarks>Constant subtrees are evaluated here, bottom-up, as the parser does.</remarks>
    internal static Expression FromSyntax(Syntax root)
    {
        var variables = new List<string>();
        var scratch = new Tape();
        Walk(root);
        return new Expression(root.ToString(), root, variables);

        void Walk(Syntax n)
        {
            switch (n)
            {
                case VariableSyntax v when !variables.Contains(v.Name): variables.Add(v.Name); break;
                case UnarySyntax u: Walk(u.Operand); break;
                case BinarySyntax b: Walk(b.Left); Walk(b.Right); break;
                case CallSyntax c: foreach (var a in c.Arguments) Walk(a); break;
            }
            if (n.IsConstant && n is UnarySyntax or BinarySyntax or CallSyntax)
            {
                scratch.Clear();
                n.ConstantValue = Recorder.Emit(n, scratch, null, folding: true).Value;
            }
        }
    }

    /// <summary>
    /// Records the formula on <paramref name="tape"/> with <paramref name="variables"/> standing for its variables
    /// (nodes of that tape; entries for names the formula does not use are ignored) and returns its node.
    /// </summary>
    /// <exception cref="ArgumentException">A variable of the formula has no entry, or an entry is a node of another tape.</exception>
    public Scalar Record(Tape tape, IReadOnlyDictionary<string, Scalar> variables)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(variables);
        foreach (string name in Variables)
        {
            if (!variables.TryGetValue(name, out Scalar s))
            {
                throw new ArgumentException(MissingVariable(name, variables.Keys), nameof(variables));
            }
            if (!ReferenceEquals(((Node)s).TapeOrNull, tape))
            {
                throw new ArgumentException($"Expression.Record: the node given for '{name}' is not a node of the tape being recorded on; make it with that tape (tape.Use(parameter) or tape.Constant(value)).", nameof(variables));
            }
        }
        return Recorder.Emit(Root, tape, name => variables[name]);
    }

    /// <summary>
    /// Records the formula on a fresh tape at <paramref name="point"/>, each variable a <see cref="ScalarParameter"/>
    /// named after it and the output node named f (so <see cref="Tape.Format"/>, traces and graph pictures show the
    /// names); nothing is differentiated yet.
    /// </summary>
    /// <exception cref="ArgumentException">A variable of the formula has no value in <paramref name="point"/>.</exception>
    public RecordedExpression RecordAt(IReadOnlyDictionary<string, double> point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var parameters = new ScalarParameter[Variables.Count];
        for (int k = 0; k < parameters.Length; k++)
        {
            string name = Variables[k];
            if (!point.TryGetValue(name, out double value)) throw new ArgumentException(MissingVariable(name, point.Keys), nameof(point));
            parameters[k] = new ScalarParameter(name, value);
        }
        var tape = new Tape();
        var nodes = new Dictionary<string, Scalar>(StringComparer.Ordinal);
        foreach (var p in parameters) nodes[p.Name] = tape.Use(p);
        Scalar output = Record(tape, nodes);
        // The output is called f in listings, traces and pictures, unless it is a variable's own leaf (the formula "x").
        if (tape.Describe(((Node)output).Id).Op != OpKind.Parameter) output.Named("f");
        return new RecordedExpression(this, tape, output, parameters);
    }

    /// <summary>The value and every partial derivative at <paramref name="point"/> (records, then runs backward once).</summary>
    /// <exception cref="ArgumentException">A variable of the formula has no value in <paramref name="point"/>.</exception>
    public ExpressionGradient Differentiate(IReadOnlyDictionary<string, double> point)
    {
        RecordedExpression recorded = RecordAt(point);
        if (recorded.Parameters.Count > 0) recorded.Output.Backward();
        return new ExpressionGradient(recorded.Output.Value, [.. recorded.Parameters.Select(p => new KeyValuePair<string, double>(p.Name, p.Grad))], recorded);
    }

    /// <summary>The value at <paramref name="point"/>, recorded with constant leaves and no gradient (the same kernels as <see cref="Differentiate"/>).</summary>
    /// <exception cref="ArgumentException">A variable of the formula has no value in <paramref name="point"/>.</exception>
    public double Evaluate(IReadOnlyDictionary<string, double> point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var tape = new Tape();
        var nodes = new Dictionary<string, Scalar>(StringComparer.Ordinal);
        foreach (string name in Variables)
        {
            if (!point.TryGetValue(name, out double value)) throw new ArgumentException(MissingVariable(name, point.Keys), nameof(point));
            nodes[name] = tape.Constant(value);
        }
        using (tape.NoGrad()) return Record(tape, nodes).Value;
    }

    private string MissingVariable(string name, IEnumerable<string> given)
    {
        string[] have = [.. given];
        return $"Expression: no value for the variable '{name}' of '{Text}'; it needs {string.Join(", ", Variables)}" +
            (have.Length == 0 ? " (none was given)." : $" (given: {string.Join(", ", have)}).");
    }

    /// <summary>Parseable text with the fewest parentheses that keep the tree (<c>-(x^2)</c> prints as <c>-x^2</c>); parsing it gives the same tree.</summary>
    public override string ToString() => Root.ToString();

    /// <summary>The tree as an S-expression, "(+ x (* 2 y))": for tests of precedence and associativity.</summary>
    internal string ToSExpression() => Root.ToSExpression();
}

/// <summary>A formula recorded on its own tape: the output node and the parameter standing for each variable.</summary>
/// <param name="Expression">The formula.</param>
/// <param name="Tape">The tape it was recorded on.</param>
/// <param name="Output">The formula's node (run <c>Output.Backward()</c>, or a backward trace, from it).</param>
/// <param name="Parameters">One parameter per variable, named after it, in <see cref="Expression.Variables"/> order; after backward their <see cref="ScalarParameter.Grad"/> is ∂f/∂variable.</param>
public sealed record RecordedExpression(Expression Expression, Tape Tape, Scalar Output, IReadOnlyList<ScalarParameter> Parameters);

/// <summary>The value of a formula at a point and its partial derivatives.</summary>
/// <param name="Value">f at the point.</param>
/// <param name="Gradient">∂f/∂v for each variable v, in <see cref="Expression.Variables"/> order.</param>
/// <param name="Recorded">The differentiated tape (for <see cref="Tape.Format"/> and pictures).</param>
public sealed record ExpressionGradient(double Value, IReadOnlyList<KeyValuePair<string, double>> Gradient, RecordedExpression Recorded)
{
    /// <summary>∂f/∂<paramref name="variable"/>.</summary>
    /// <exception cref="ArgumentException">The formula has no such variable.</exception>
    public double Partial(string variable)
    {
        foreach (var (name, value) in Gradient)
        {
            if (name == variable) return value;
        }
        throw new ArgumentException($"ExpressionGradient: the formula has no variable '{variable}'; it has {string.Join(", ", Gradient.Select(g => g.Key))}.", nameof(variable));
    }
}
