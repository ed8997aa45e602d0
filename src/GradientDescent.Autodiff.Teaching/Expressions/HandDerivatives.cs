namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// Partial derivatives derived by hand, typed as <c>x=2*x*y; y=x^2</c>: for each variable, its name, '=' and a
/// formula for ∂f/∂variable; entries separated by ';'. Errors are <see cref="ExpressionParseException"/>s whose
/// columns count in the whole text.
/// </summary>
public sealed class HandDerivatives
{
    private HandDerivatives(string text, IReadOnlyList<KeyValuePair<string, Expression>> partials)
    {
        Text = text;
        Partials = partials;
    }

    /// <summary>The text as typed.</summary>
    public string Text { get; }

    /// <summary>Each variable with its hand-derived ∂f/∂variable, in the order typed.</summary>
    public IReadOnlyList<KeyValuePair<string, Expression>> Partials { get; }

    /// <summary>Parses <c>name=formula</c> entries separated by ';' (an empty entry, as after a final ';', is skipped).</summary>
    /// <exception cref="ExpressionParseException">
    /// An entry without '=', a name that is not a variable's (not an identifier, or pi, e or a function's), a second
    /// entry for one variable, no entry at all, or a formula that does not parse.
    /// </exception>
    public static HandDerivatives Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var partials = new List<KeyValuePair<string, Expression>>();
        var firstAt = new Dictionary<string, int>(StringComparer.Ordinal);
        int start = 0;
        while (start <= text.Length)
        {
            int end = text.IndexOf(';', start);
            if (end < 0) end = text.Length;
            var (s, e) = Trim(text, start, end);
            if (s < e)
            {
                int eq = text.IndexOf('=', s, e - s);
                if (eq < 0)
                {
                    throw new ExpressionParseException(text, s, e - s, "expected variable=derivative, such as x=2*x*y");
                }
                var (ns, ne) = Trim(text, s, eq);
                if (ns == ne) throw new ExpressionParseException(text, eq, 1, "expected a variable's name before '='");
                string name = text[ns..ne];
                if (!IsIdentifier(name))
                {
                    throw new ExpressionParseException(text, ns, ne - ns, $"'{name}' is not a variable's name (a letter or _, then letters, digits or _)");
                }
                if (Functions.Constant(name) is not null) throw new ExpressionParseException(text, ns, ne - ns, $"'{name}' is a constant, not a variable");
                if (Functions.Find(name) is not null) throw new ExpressionParseException(text, ns, ne - ns, $"'{name}' is a function, not a variable");
                if (firstAt.TryGetValue(name, out int first))
                {
                    throw new ExpressionParseException(text, ns, ne - ns,
                        $"a second derivative for '{name}' (the first is at column {ExpressionParseException.ColumnOf(text, first)})");
                }
                firstAt[name] = ns;
                var (fs, fe) = Trim(text, eq + 1, e);
                if (fs == fe) throw new ExpressionParseException(text, eq, 1, $"expected a formula for ∂f/∂{name} after '='");
                partials.Add(new(name, Expression.Parse(text, fs, fe - fs)));
            }
            start = end + 1;
        }
        if (partials.Count == 0)
        {
            throw new ExpressionParseException(text, 0, text.Length, "no hand derivatives: write variable=derivative for each variable, separated by ';', such as x=2*x*y; y=x^2");
        }
        return new HandDerivatives(text, partials);
    }

    private static (int Start, int End) Trim(string text, int start, int end)
    {
        while (start < end && char.IsWhiteSpace(text[start])) start++;
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        return (start, end);
    }

    private static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');

    /// <summary>The entries as typed, normalised: "x=2*x*y; y=x^2".</summary>
    public override string ToString() => string.Join("; ", Partials.Select(p => $"{p.Key}={p.Value}"));
}
