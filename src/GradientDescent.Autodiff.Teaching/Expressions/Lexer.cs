using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>What a token is.</summary>
internal enum TokenKind : byte
{
    Number,
    Identifier,
    Plus,
    Minus,
    Star,
    Slash,
    /// <summary>^ or **: both spell the power.</summary>
    Power,
    LeftParen,
    RightParen,
    Comma,
    End,
}

/// <summary>A token and where it stands in the text: UTF-16 offset and length (columns are counted from these only for messages).</summary>
internal readonly record struct Token(TokenKind Kind, int Offset, int Length, string Text, double Number = 0);

/// <summary>
/// Splits a formula into tokens: numbers (<c>2</c>, <c>0.5</c>, <c>.5</c>, <c>1e-3</c>, <c>2.5E+10</c>), identifiers
/// (a letter or _ then letters, digits, _), <c>+ - * / ^ ** ( ) ,</c>; white space separates and is dropped.
/// </summary>
internal static class Lexer
{
    /// <summary>Lexes <paramref name="text"/>[<paramref name="start"/>, <paramref name="end"/>); offsets stay those of the whole text.</summary>
    internal static List<Token> Tokenize(string text, int start, int end)
    {
        var tokens = new List<Token>();
        int k = start;
        while (k < end)
        {
            char c = text[k];
            if (char.IsWhiteSpace(c))
            {
                k++;
                continue;
            }
            if (IsDigit(c) || (c == '.' && k + 1 < end && IsDigit(text[k + 1])))
            {
                tokens.Add(Number(text, ref k, end));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int s = k;
                while (k < end && (char.IsLetterOrDigit(text[k]) || text[k] == '_')) k++;
                tokens.Add(new Token(TokenKind.Identifier, s, k - s, text[s..k]));
                continue;
            }
            TokenKind? kind = c switch
            {
                '+' => TokenKind.Plus,
                '-' => TokenKind.Minus,
                '*' => TokenKind.Star,
                '/' => TokenKind.Slash,
                '^' => TokenKind.Power,
                '(' => TokenKind.LeftParen,
                ')' => TokenKind.RightParen,
                ',' => TokenKind.Comma,
                _ => null,
            };
            if (kind is { } op)
            {
                int length = op == TokenKind.Star && k + 1 < end && text[k + 1] == '*' ? 2 : 1;
                tokens.Add(new Token(length == 2 ? TokenKind.Power : op, k, length, text.Substring(k, length)));
                k += length;
                continue;
            }
            int n = Math.Min(Math.Max(1, StringInfo.GetNextTextElementLength(text, k)), end - k);
            string what = text.Substring(k, n);
            throw new ExpressionParseException(text, k, n, $"unexpected character {Quote(what)}{Hint(what)}");
        }
        tokens.Add(new Token(TokenKind.End, end, 0, ""));
        return tokens;
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    /// <summary>digits [. digits] [(e|E) [+|-] digits], or . digits [exponent]; the value must be a finite double.</summary>
    private static Token Number(string text, ref int k, int end)
    {
        int s = k;
        while (k < end && IsDigit(text[k])) k++;
        if (k < end && text[k] == '.')
        {
            k++;
            while (k < end && IsDigit(text[k])) k++;
        }
        if (k < end && text[k] is 'e' or 'E')
        {
            int e = k + 1;
            bool signed = e < end && text[e] is '+' or '-';
            if (signed) e++;
            if (e < end && IsDigit(text[e]))
            {
                k = e;
                while (k < end && IsDigit(text[k])) k++;
            }
            else if (signed || e >= end || !(char.IsLetter(text[e]) || text[e] == '_'))
            {
                // "1e", "1e+", "1e)": an exponent without digits. ("2exp(x)" ends the number at 2 instead, and the
                // parser then asks for the missing '*'.)
                throw new ExpressionParseException(text, s, e - s,
                    $"bad number '{text[s..e]}': an exponent needs digits, as in 1e-3 or 2.5E+10");
            }
        }
        // "1.2.3", "2.5.": a second decimal point.
        if (k < end && text[k] == '.')
        {
            int stop = k;
            while (stop < end && (IsDigit(text[stop]) || text[stop] == '.')) stop++;
            throw new ExpressionParseException(text, s, stop - s, $"bad number '{text[s..stop]}': a number has at most one decimal point");
        }
        string literal = text[s..k];
        double value = double.Parse(literal, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
        {
            throw new ExpressionParseException(text, s, k - s, $"bad number '{literal}': too large for a double (the largest is about 1.8e308)");
        }
        return new Token(TokenKind.Number, s, k - s, literal, value);
    }

    /// <summary>The character in quotes, or its code point when it is invisible (a control or format character).</summary>
    private static string Quote(string what)
    {
        Rune[] runes = [.. what.EnumerateRunes()];
        bool invisible = runes.Any(r => Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator);
        return invisible ? string.Join(' ', runes.Select(r => $"U+{r.Value:X4}")) : $"'{what}'";
    }

    /// <summary>Typographic characters people paste from papers, and what to type instead.</summary>
    private static string Hint(string what) => what switch
    {
        "−" or "–" or "—" => " (type - for minus)",
        "×" or "·" or "⋅" or "∙" => " (type * for a product)",
        "÷" or "∕" => " (type / for division)",
        "²" => " (type ^2 for a square)",
        "³" => " (type ^3 for a cube)",
        "π" => " (type pi)",
        "[" or "]" or "{" or "}" => " (only round parentheses group)",
        ";" => " (one formula at a time)",
        "=" => " (type the formula only, without 'f =')",
        _ => "",
    };
}
