using System.Globalization;
using System.Net;
using System.Text;

namespace GradientDescent.Autodiff.Notebooks;

/// <summary>A <see cref="GradientCheckReport"/> as an HTML table: the same rows and verdicts as its text form.</summary>
internal static class GradientCheckHtml
{
    /// <summary>
    /// One table with a row per parameter and reference (finite differences, and the hand-derived gradient where one
    /// was given): max |autodiff − reference|, max relative error, the worst element, both values there, a verdict;
    /// a caption with f and the tolerances, a closing PASSED or FAILED.
    /// </summary>
    public static string Write(GradientCheckReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("<table class=\"gdad-gradient-check\">");
        sb.Append(c, $"<caption>Gradient check of f = {report.Loss:G10} (pass: abs ≤ {report.Options.AbsoluteTolerance:G3} or rel ≤ {report.Options.RelativeTolerance:G3})</caption>");
        sb.Append("<thead><tr><th>parameter</th><th>reference</th><th>max abs err</th><th>max rel err</th><th>worst</th><th>autodiff</th><th>reference value</th><th>verdict</th></tr></thead><tbody>");
        foreach (ParameterCheck p in report.Parameters)
        {
            Row(sb, p.Name, p.Shape, "finite diff", p.VersusNumeric);
            if (p.VersusHandDerived is { } hand) Row(sb, p.Name, p.Shape, "hand-derived", hand);
        }
        sb.Append("</tbody></table>");
        sb.Append(report.Passed
            ? "<p class=\"gdad-verdict\" style=\"color:#1a7f37\"><b>PASSED</b></p>"
            : "<p class=\"gdad-verdict\" style=\"color:#cf222e\"><b>FAILED</b></p>");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string name, Shape shape, string reference, ErrorSummary e)
    {
        var c = CultureInfo.InvariantCulture;
        string verdict = e.Passed ? "ok" : "<b style=\"color:#cf222e\">FAIL</b>";
        sb.Append(c, $"<tr><td>{WebUtility.HtmlEncode(name)}</td><td>{reference}</td><td>{e.MaxAbsolute:E3}</td><td>{e.MaxRelative:E3}</td>");
        sb.Append(c, $"<td>{Element(shape, e.WorstIndex)}</td><td>{e.Autodiff:G10}</td><td>{e.Reference:G10}</td><td>{verdict}</td></tr>");
    }

    /// <summary>Row-major element <paramref name="k"/> as the text report names it: "-" (a scalar), "[k]", "(row, col)".</summary>
    private static string Element(Shape shape, int k) => shape.Kind switch
    {
        ShapeKind.Scalar => "-",
        ShapeKind.Vector => string.Create(CultureInfo.InvariantCulture, $"[{k}]"),
        _ => string.Create(CultureInfo.InvariantCulture, $"({k / shape.Cols}, {k % shape.Cols})"),
    };
}
