using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Cli;

/// <summary>What <c>gdad grad</c> and <c>gdad check</c> share: reading a formula and a point, and writing numbers.</summary>
internal static class FormulaInput
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Parses <paramref name="text"/>; a parse error becomes a usage error: one line, then the text with a caret under the span.</summary>
    internal static Expression Parse(string text, string what)
    {
        try
        {
            return Expression.Parse(text);
        }
        catch (ExpressionParseException e)
        {
            throw new UsageException($"{what}: {e.Message}", Caret(e));
        }
    }

    /// <summary>Parses the hand derivatives of <c>--hand</c>, as <see cref="Parse"/>.</summary>
    internal static HandDerivatives ParseHand(string text)
    {
        try
        {
            return HandDerivatives.Parse(text);
        }
        catch (ExpressionParseException e)
        {
            throw new UsageException($"--hand: {e.Message}", Caret(e));
        }
    }

    /// <summary>The text and caret lines of the rendering, without its first line (the message, already written).</summary>
    private static string Caret(ExpressionParseException e)
    {
        string rendered = e.Render();
        return rendered[(rendered.IndexOf('\n', StringComparison.Ordinal) + 1)..];
    }

    /// <summary>
    /// The point of <c>--at x=1,y=2</c>: a value for every variable of <paramref name="f"/> and for no other name.
    /// Null or empty text is the empty point (enough for a formula without variables).
    /// </summary>
    internal static Dictionary<string, double> Point(string? text, Expression f)
    {
        var point = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string entry in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? "" : entry[..eq].Trim();
            string value = eq < 0 ? "" : entry[(eq + 1)..].Trim();
            if (name.Length == 0 || value.Length == 0)
            {
                throw new UsageException($"--at: '{entry}' is not name=value; write --at {Example(f)}.");
            }
            if (Expression.IsReservedName(name))
            {
                throw new UsageException($"--at: '{name}' is {(name is "pi" or "e" ? "a constant" : "a function")}, not a variable; the formula's variables are {List(f)}.");
            }
            if (!f.Variables.Contains(name, StringComparer.Ordinal))
            {
                throw new UsageException($"--at: the formula has no variable '{name}'; its variables are {List(f)}.");
            }
            if (!double.TryParse(value, NumberStyles.Float, Inv, out double v) || !double.IsFinite(v))
            {
                throw new UsageException($"--at: {name}={value}: the value must be a finite number, such as 1.5 or -2e-3.");
            }
            if (!point.TryAdd(name, v)) throw new UsageException($"--at: '{name}' is given twice.");
        }
        string[] missing = [.. f.Variables.Where(v => !point.ContainsKey(v))];
        if (missing.Length > 0)
        {
            throw new UsageException($"--at: no value for {string.Join(", ", missing.Select(m => $"'{m}'"))}; give every variable, as in --at {Example(f)}.");
        }
        return point;
    }

    private static string List(Expression f) => f.Variables.Count == 0 ? "none" : string.Join(", ", f.Variables);

    private static string Example(Expression f) =>
        f.Variables.Count == 0 ? "x=1" : string.Join(",", f.Variables.Select((v, k) => $"{v}={k + 1}"));

    /// <summary>A double as JSON: the shortest round-trip form; NaN and ±∞ (which JSON lacks) as the strings "NaN", "Infinity", "-Infinity" (System.Text.Json's named literals).</summary>
    internal static string Json(double v) =>
        double.IsFinite(v) ? v.ToString("R", Inv) : double.IsNaN(v) ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"";

    /// <summary>A string as a JSON string (quotes and escapes; letters such as θ kept as they are).</summary>
    internal static string Json(string s) => JsonSerializer.Serialize(s, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A number for people: the shortest text that reads back to the same double.</summary>
    internal static string Text(double v) => v.ToString("R", Inv);

    /// <summary>"x = 1, y = 2".</summary>
    internal static string Text(IReadOnlyList<string> names, IReadOnlyDictionary<string, double> point)
    {
        var sb = new StringBuilder();
        foreach (string n in names)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(n).Append(" = ").Append(Text(point[n]));
        }
        return sb.ToString();
    }
}
