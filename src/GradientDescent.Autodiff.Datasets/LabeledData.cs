namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// Rows of numeric features with a 0/1 label, as the seed lesson's data set: m rows, n features, row-major.
/// A thin view of a binary <see cref="Table"/> read without a header; new code can use <see cref="Table"/> directly.
/// </summary>
public sealed class LabeledData
{
    private LabeledData(Table table)
    {
        Table = table;
        Features = [.. Enumerable.Range(0, table.RowCount).Select(i => table.Row(i).ToArray())];
        Labels = table.TargetArray();
    }

    /// <summary>The table these rows come from.</summary>
    public Table Table { get; }

    /// <summary>Where the data came from (a file path, or "embedded admissions.csv").</summary>
    public string Source => Table.Source;

    /// <summary>One array of n features per row.</summary>
    public IReadOnlyList<double[]> Features { get; }

    /// <summary>One label (0 or 1) per row.</summary>
    public IReadOnlyList<double> Labels { get; }

    /// <summary>Number of rows, m.</summary>
    public int Count => Table.RowCount;

    /// <summary>Number of features per row, n.</summary>
    public int FeatureCount => Table.FeatureCount;

    /// <summary>The features as one row-major m × n array (for a constant matrix X).</summary>
    public double[] FeatureMatrix() => Table.FeatureArray();

    /// <summary>
    /// The student-admissions set of the seed lesson (100 rows, 2 features), embedded in this assembly.
    /// Provenance: udacity/deep-learning-v2-pytorch, intro-neural-networks/gradient-descent/data.csv (MIT).
    /// </summary>
    public static LabeledData Admissions() => new(SampleData.Admissions());

    /// <summary>
    /// Reads a CSV file without a header: every column but the last is a feature, the last is the 0/1 label.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">A cell that is not a finite number, a label other than 0 or 1, a ragged row, or no rows; names the line and column.</exception>
    public static LabeledData Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"LabeledData: no file at '{path}'; pass a CSV of feature columns followed by a 0/1 label column.", path);
        return new(Table.LoadCsv(path, new CsvOptions { HasHeader = false, TargetKind = TargetKind.Binary }));
    }
}
