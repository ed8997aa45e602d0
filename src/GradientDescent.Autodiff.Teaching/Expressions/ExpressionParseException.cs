using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A formula that does not parse: a message and a span of the text, as a diagnostic (codespan-reporting's idea:
/// the error is data, the rendering is separate). <see cref="Exception.Message"/> reads "expected ')' at column 5";
/// <see cref="Render"/> adds the text with a caret line under the span.
/// </summary>
/// <remarks>
/// Columns and lengths count characters as a reader sees them (text elements: a letter with a combining accent or an
/// emoji made of two UTF-16 code units is one column), starting at 1. An error at the end of the text (a missing
/// ')' or operand) points at the last character, the one the missing piece should follow: <c>log(x</c> gives
/// "expected ')' at column 5".
/// </remarks>
public sealed class ExpressionParseException : Exception
{
    internal ExpressionParseException(string text, int offset, int length, string reason)
        : base($"{reason} at column {ColumnOf(text, offset)}")
    {
        Text = text;
        Offset = offset;
        OffsetLength = length;
        Reason = reason;
        Column = ColumnOf(text, offset);
        Length = Math.Max(1, ColumnOf(text, offset + length) - Column);
    }

    /// <summary>The text that failed to parse.</summary>
    public string Text { get; }

    /// <summary>What is wrong, without the position ("expected ')'").</summary>
    public string Reason { get; }

    /// <summary>The 1-based column, in characters, where the problem starts.</summary>
    public int Column { get; }

    /// <summary>How many characters the problem spans (at least 1).</summary>
    public int Length { get; }

    /// <summary>The span's start as a UTF-16 index into <see cref="Text"/>.</summary>
    internal int Offset { get; }

    /// <summary>The span's length in UTF-16 code units.</summary>
    internal int OffsetLength { get; }

    /// <summary>
    /// The message, the text and a caret line under the span:
    /// <code>
    /// expected ')' at column 5
    ///   log(x
    ///       ^
    /// </code>
    /// Line breaks and tabs in the text are shown as spaces so the caret stays under its column.
    /// </summary>
    /// <param name="indent">Spaces before the text and the caret line.</param>
    public string Render(int indent = 2)
    {
        var pad = new string(' ', Math.Max(0, indent));
        var sb = new StringBuilder();
        sb.Append(Message).Append('\n');
        sb.Append(pad).Append(Printable(Text)).Append('\n');
        sb.Append(pad).Append(' ', Column - 1).Append('^', Length);
        return sb.ToString();
    }

    /// <summary>The text on one line: every character (text element) holding a control character (a line break, a tab) becomes one space.</summary>
    private static string Printable(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int k = 0; k < text.Length;)
        {
            int n = Math.Clamp(StringInfo.GetNextTextElementLength(text, k), 1, text.Length - k);
            ReadOnlySpan<char> element = text.AsSpan(k, n);
            bool control = false;
            foreach (char c in element) control |= char.IsControl(c);
            if (control) sb.Append(' ');
            else sb.Append(element);
            k += n;
        }
        return sb.ToString();
    }

    /// <summary>The 1-based column of UTF-16 index <paramref name="offset"/>: one plus the text elements before it.</summary>
    internal static int ColumnOf(string text, int offset)
    {
        offset = Math.Clamp(offset, 0, text.Length);
        int column = 1, k = 0;
        while (k < offset)
        {
            k += Math.Max(1, StringInfo.GetNextTextElementLength(text, k));
            column++;
        }
        return column;
    }
}
