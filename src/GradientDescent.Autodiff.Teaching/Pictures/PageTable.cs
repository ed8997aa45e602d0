namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A table of text that <see cref="HtmlPage"/> shows under the steps: a hand derivation beside what backward derived,
/// say (<c>gdad explain</c> shows the seed's −(y − ŷ)(x, 1) this way). Cells are text; the page escapes them.
/// </summary>
/// <param name="Heading">The table's heading.</param>
/// <param name="Columns">The column headers.</param>
/// <param name="Rows">The rows, each with one cell per column.</param>
public sealed record PageTable(string Heading, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>Checks that every row has one cell per column.</summary>
    internal void Validate()
    {
        for (int r = 0; r < Rows.Count; r++)
        {
            if (Rows[r].Count != Columns.Count)
            {
                throw new ArgumentException(
                    $"HtmlPage: row {r} of the table \"{Heading}\" has {Rows[r].Count} cells but the table has {Columns.Count} columns; give every row one cell per column.");
            }
        }
    }
}
