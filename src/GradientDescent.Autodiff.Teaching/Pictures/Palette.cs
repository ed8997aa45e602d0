using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// The look shared by the SVG and DOT pictures. Legend: an <b>op</b> is a blue box with rounded corners, a
/// <b>parameter</b> an orange box with a thick border, <b>constant</b> data a grey box with a dashed border. The first
/// line of a box (id, name, op) is bold; the gradient line ∂L/∂ is dark red.
/// </summary>
internal static class Palette
{
    /// <summary>Monospace families, the first installed wins; the layout measures text as monospace.</summary>
    public const string FontFamily = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace";

    public const string EdgeColour = "#5f6368";
    public const string GradientColour = "#a50e0e";

    public static string Fill(NodeKind kind) => kind switch
    {
        NodeKind.Parameter => "#fde7c4",
        NodeKind.Constant => "#eeeeee",
        _ => "#dbe8fb",
    };

    public static string Stroke(NodeKind kind) => kind switch
    {
        NodeKind.Parameter => "#c07a12",
        NodeKind.Constant => "#8a8a8a",
        _ => "#3d6eb4",
    };

    /// <summary>"op", "parameter" or "constant": the CSS class of a box.</summary>
    public static string ClassOf(NodeKind kind) => kind switch
    {
        NodeKind.Parameter => "parameter",
        NodeKind.Constant => "constant",
        _ => "op",
    };

    /// <summary>A coordinate with at most two decimals, invariant culture.</summary>
    public static string Num(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Text safe inside XML content and attribute values: markup escaped, control characters replaced by U+FFFD.</summary>
    public static string Xml(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text)
        {
            sb.Append(ch switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                _ when char.IsControl(ch) => "\uFFFD",
                _ => ch.ToString(),
            });
        }
        return sb.ToString();
    }
}
