namespace GradientDescent.Autodiff.Datasets;

/// <summary>What the target column holds, and so how it is validated.</summary>
public enum TargetKind
{
    /// <summary>Any number (finite unless <see cref="CsvOptions.AllowNonFinite"/>).</summary>
    Regression,

    /// <summary>A label 0 or 1, exactly.</summary>
    Binary,

    /// <summary>A class label: an integer 0 … k − 1 (or a class name, see <see cref="CsvOptions.ClassNames"/>).</summary>
    MultiClass,
}

/// <summary>How class names in a text target column become the integers 0 … k − 1.</summary>
public enum ClassNameOrder
{
    /// <summary>The target column is numeric (the default).</summary>
    None,

    /// <summary>The first name seen is 0, the next new one 1, …: the file's order (Iris: setosa 0, versicolor 1, virginica 2).</summary>
    FirstAppearance,

    /// <summary>Names sorted by ordinal (byte) comparison, the first 0: independent of row order and culture.</summary>
    Sorted,
}

/// <summary>How <see cref="Table.LoadCsv"/> reads a CSV file into a <see cref="Table"/>.</summary>
/// <remarks>
/// Fields are separated by <see cref="Separator"/>, may be quoted (RFC 4180, without line breaks inside quotes),
/// and are trimmed of spaces and tabs; numbers are read in the invariant culture (<c>1.5</c>, <c>-2e-3</c>); completely
/// empty lines are skipped. Columns are 0-based in these options and 1-based in error messages, as editors count them.
/// </remarks>
public sealed record CsvOptions
{
    /// <summary>Whether the first line names the columns. Defaults to <see langword="true"/>.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The target column by header name (needs <see cref="HasHeader"/>). Default: the last column.</summary>
    public string? Target { get; init; }

    /// <summary>The target column by 0-based index. Default: the last column. Not with <see cref="Target"/>.</summary>
    public int? TargetIndex { get; init; }

    /// <summary>The feature columns by header name, in this order. Default: every column but the target, in file order.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>The feature columns by 0-based index, in this order. Not with <see cref="Features"/>.</summary>
    public IReadOnlyList<int>? FeatureIndices { get; init; }

    /// <summary>How the target is validated: any number, 0/1, or class 0 … k − 1. Defaults to regression.</summary>
    public TargetKind TargetKind { get; init; } = TargetKind.Regression;

    /// <summary>
    /// For a classification target written as names (<c>setosa</c>), how names become integers. Default
    /// <see cref="ClassNameOrder.None"/>: the target is numeric.
    /// </summary>
    public ClassNameOrder ClassNames { get; init; } = ClassNameOrder.None;

    /// <summary>
    /// For <see cref="TargetKind.MultiClass"/> with numeric labels, the number of classes k; labels must be below it.
    /// Default: one more than the largest label.
    /// </summary>
    public int? ClassCount { get; init; }

    /// <summary>Whether NaN and ±∞ (and numbers too large for a double) are accepted as feature and regression values. Defaults to <see langword="false"/>.</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>The field separator. Defaults to a comma.</summary>
    public char Separator { get; init; } = ',';

    /// <summary>The defaults: a header, the last column a regression target, every other a feature.</summary>
    public static CsvOptions Default { get; } = new();

    internal void Validate()
    {
        if (Target is not null && TargetIndex is not null)
            throw new ArgumentException("CsvOptions: set Target (a name) or TargetIndex (an index), not both.");
        if (Features is not null && FeatureIndices is not null)
            throw new ArgumentException("CsvOptions: set Features (names) or FeatureIndices (indices), not both.");
        if (!HasHeader && (Target is not null || Features is not null))
            throw new ArgumentException("CsvOptions: columns can be chosen by name only when HasHeader is true; use TargetIndex and FeatureIndices.");
        if (TargetIndex < 0) throw new ArgumentException($"CsvOptions: TargetIndex is {TargetIndex}; columns are counted from 0.");
        if (FeatureIndices?.Any(i => i < 0) == true) throw new ArgumentException("CsvOptions: FeatureIndices has a negative index; columns are counted from 0.");
        if (ClassNames != ClassNameOrder.None && TargetKind == TargetKind.Regression)
            throw new ArgumentException("CsvOptions: class names need a classification target; set TargetKind to Binary or MultiClass.");
        if (ClassCount is not null && TargetKind != TargetKind.MultiClass)
            throw new ArgumentException("CsvOptions: ClassCount applies to a MultiClass target only.");
        if (ClassCount < 2) throw new ArgumentException($"CsvOptions: ClassCount is {ClassCount}; a classification needs at least 2 classes.");
        if (Separator is '\r' or '\n' or '"' || Separator > 127)
            throw new ArgumentException($"CsvOptions: the separator must be an ASCII character other than a quote or a line break, not U+{(int)Separator:X4}.");
    }
}
