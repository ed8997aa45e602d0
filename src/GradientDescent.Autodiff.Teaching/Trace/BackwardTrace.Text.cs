using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

public sealed partial class BackwardTrace
{
    private static readonly string[] Header =
        ["step", "node", "value", "∂L/∂node", "input", "∂node/∂input", "local", "contribution", "∂L/∂input so far", "use"];

    /// <summary>
    /// The trace as an aligned table for a monospace font: one row per term (input), the step's node on its first
    /// row. Numbers in invariant culture, six significant digits; vectors and matrices as their first
    /// <paramref name="maxElements"/> elements and "…". Lines end in "\n" on every platform.
    /// </summary>
    /// <example>
    /// micrograd's first example (the start of the test project's golden file):
    /// <code>
    /// step  node                           value     ∂L/∂node  input  ∂node/∂input  local        contribution  ∂L/∂input so far  use
    /// ----  -----------------------------  --------  --------  -----  ------------  -----------  ------------  ----------------  ---
    ///    1  %28 g = Add(%25, %27)          24.7041   1         %25    1             1            1             1                 1/1
    ///                                                          %27    1             1            1             1                 1/1
    ///    2  %27 Divide(%26, %23)           0.204082  1         %23 f  −a/b²         -0.00416493  -0.00416493   -0.00416493       1/2
    ///    3  %25 Divide(%23, %24)           24.5      1         %23 f  1/b           0.5          0.5           0.495835          2/2
    ///    4  %23 f = PowerConstant(2)(%22)  49        0.495835  %22 e  2x            -14          -6.94169      -6.94169          1/1
    /// </code>
    /// </example>
    public string ToText(int maxElements = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxElements, 1);
        var c = CultureInfo.InvariantCulture;
        var rows = new List<string[]>();
        // An input is shown by id, and by name where it has one ("%23 f"): every input has a step of its own.
        var names = Steps.Where(s => s.Name is not null).ToDictionary(s => s.Node, s => s.Name!);
        for (int s = 0; s < Steps.Count; s++)
        {
            TraceStep step = Steps[s];
            string[] node =
            [
                (s + 1).ToString(c), $"%{step.Node.ToString(c)} {step.Label}", Show(step.Value, maxElements), Show(step.Upstream, maxElements),
            ];
            if (step.Terms.Count == 0)
            {
                string what = step.Op == OpKind.Parameter ? step.LeafRule : "(no input takes a gradient)";
                rows.Add([.. node, "", what, "", "", "", ""]);
                continue;
            }
            for (int k = 0; k < step.Terms.Count; k++)
            {
                TraceTerm t = step.Terms[k];
                string[] term =
                [
                    names.TryGetValue(t.Input, out string? name) ? $"%{t.Input.ToString(c)} {name}" : $"%{t.Input.ToString(c)}", t.Formula, t.Local is double l ? Number(l) : "",
                    Show(t.Contribution, maxElements), Show(t.RunningSum, maxElements), $"{t.Use.ToString(c)}/{t.Uses.ToString(c)}",
                ];
                rows.Add(k == 0 ? [.. node, .. term] : ["", "", "", "", .. term]);
            }
        }

        int[] widths = [.. Header.Select(DisplayWidth)];
        foreach (string[] row in rows)
        {
            for (int k = 0; k < row.Length; k++) widths[k] = Math.Max(widths[k], DisplayWidth(row[k]));
        }

        var sb = new StringBuilder();
        string from = Steps.Count > 0 ? $"%{Output.ToString(c)} {Steps[0].Label}" : $"%{Output.ToString(c)}";
        sb.Append(c, $"Backward pass from {from}, L = {Number(Loss)}: each step adds ∂L/∂node · ∂node/∂input into ∂L/∂input.\n");
        Line(sb, Header, widths);
        Line(sb, [.. widths.Select(w => new string('-', w))], widths);
        foreach (string[] row in rows) Line(sb, row, widths);
        return sb.ToString();
    }

    /// <summary>One table row: the step number right-aligned, every other column left-aligned, no trailing spaces.</summary>
    private static void Line(StringBuilder sb, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (int k = 0; k < cells.Length; k++)
        {
            string cell = cells[k];
            int pad = widths[k] - DisplayWidth(cell);
            if (k == 0) line.Append(' ', pad).Append(cell);
            else line.Append("  ").Append(cell).Append(' ', pad);
        }
        sb.Append(line.ToString().TrimEnd()).Append('\n');
    }

    /// <summary>Columns a string takes in a monospace font: combining marks (the bar of x̄) take none.</summary>
    private static int DisplayWidth(string s)
    {
        int width = 0;
        foreach (char ch in s)
        {
            UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (category is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark)) width++;
        }
        return width;
    }

    /// <summary>"0.5" for one value, "[1, 2, 3, …]" for more: G6, invariant culture.</summary>
    private static string Show(IReadOnlyList<double> v, int max)
    {
        if (v.Count == 1) return Number(v[0]);
        var sb = new StringBuilder("[");
        for (int k = 0; k < Math.Min(v.Count, max); k++) sb.Append(k == 0 ? "" : ", ").Append(Number(v[k]));
        if (v.Count > max) sb.Append(", …");
        return sb.Append(']').ToString();
    }

    private static string Number(double v) => Tape.Number(v);
}
