namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// A data file that cannot be read as a numeric table: the message, and <see cref="File"/>, <see cref="Line"/>,
/// <see cref="Column"/> and <see cref="ColumnName"/>, say where and what. The loaders throw only this for bad content
/// (and <see cref="FileNotFoundException"/> for a missing file, <see cref="ArgumentException"/> for inconsistent
/// options), and never return a partly read table.
/// </summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>An error at <paramref name="line"/> and <paramref name="column"/> of <paramref name="file"/>.</summary>
    /// <param name="file">The file path, or a description of the source ("embedded iris.csv").</param>
    /// <param name="line">The 1-based line of the input, or 0 when the problem is the whole input.</param>
    /// <param name="column">The 1-based column, or 0 when the problem is not one column.</param>
    /// <param name="columnName">The column's header name, when there is a header.</param>
    /// <param name="problem">What is wrong and what to do, without the position (the message adds it).</param>
    /// <param name="inner">The parser's exception, if it found the problem.</param>
    public DataFormatException(string file, long line, int column, string? columnName, string problem, Exception? inner = null)
        : base(Describe(file, line, column, columnName) + ": " + problem, inner)
    {
        File = file;
        Line = line;
        Column = column;
        ColumnName = columnName;
    }

    /// <summary>The file path, or a description of the source.</summary>
    public string File { get; }

    /// <summary>The 1-based line of the input where the problem is, or 0 when it is the whole input.</summary>
    public long Line { get; }

    /// <summary>The 1-based column where the problem is, or 0 when it is not one column.</summary>
    public int Column { get; }

    /// <summary>The column's header name, or <see langword="null"/> without a header (or without a column).</summary>
    public string? ColumnName { get; }

    private static string Describe(string file, long line, int column, string? columnName)
    {
        string where = file;
        if (line > 0) where += $", line {line}";
        if (column > 0) where += columnName is null ? $", column {column}" : $", column {column} ('{columnName}')";
        return where;
    }
}
