using System.Globalization;
using CsvHelper;

namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// Rows of numeric features with a 0/1 label, as the seed lesson's data set: m rows, n features, row-major.
/// </summary>
public sealed class LabeledData
{
    private LabeledData(string source, double[][] features, double[] labels)
    {
        Source = source;
        Features = features;
        Labels = labels;
    }

    /// <summary>Where the data came from (a file path, or "embedded admissions.csv").</summary>
    public string Source { get; }

    /// <summary>One array of n features per row.</summary>
    public IReadOnlyList<double[]> Features { get; }

    /// <summary>One label (0 or 1) per row.</summary>
    public IReadOnlyList<double> Labels { get; }

    /// <summary>Number of rows, m.</summary>
    public int Count => Labels.Count;

    /// <summary>Number of features per row, n.</summary>
    public int FeatureCount => Features[0].Length;

    /// <summary>The features as one row-major m × n array (for a constant matrix X).</summary>
    public double[] FeatureMatrix()
    {
        var x = new double[Count * FeatureCount];
        for (int i = 0; i < Count; i++) Features[i].CopyTo(x, i * FeatureCount);
        return x;
    }

    /// <summary>
    /// The student-admissions set of the seed lesson (100 rows, 2 features), embedded in this assembly.
    /// Provenance: udacity/deep-learning-v2-pytorch, intro-neural-networks/gradient-descent/data.csv (MIT).
    /// </summary>
    public static LabeledData Admissions()
    {
        using Stream stream = typeof(LabeledData).Assembly.GetManifestResourceStream("admissions.csv")
            ?? throw new InvalidOperationException("LabeledData: the embedded admissions.csv is missing from the assembly; rebuild the Datasets project.");
        return Read(stream, "embedded admissions.csv");
    }

    /// <summary>
    /// Reads a CSV file without a header: every column but the last is a feature, the last is the 0/1 label.
    /// </summary>
    public static LabeledData Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"LabeledData: no file at '{path}'; pass a CSV of feature columns followed by a 0/1 label column.", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    private static LabeledData Read(Stream input, string source)
    {
        var options = CsvReaderOptions.Default with { HasHeader = false, TrimWhitespace = true, TrackLineNumbers = true };
        using var csv = CsvReader.Create(input, options, leaveOpen: true);
        var features = new List<double[]>();
        var labels = new List<double>();
        while (csv.Read())
        {
            int columns = csv.FieldCount;
            long line = csv.LineNumber;
            if (columns < 2)
            {
                throw new InvalidDataException($"{source}, line {line}: {columns} column(s); expected features followed by a 0/1 label.");
            }
            if (features.Count > 0 && columns - 1 != features[0].Length)
            {
                throw new InvalidDataException($"{source}, line {line}: {columns - 1} features where earlier rows have {features[0].Length}.");
            }
            var row = new double[columns - 1];
            for (int k = 0; k < columns; k++)
            {
                string field = csv.GetString(k);
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    throw new InvalidDataException($"{source}, line {line}, column {k + 1}: '{field}' is not a number.");
                }
                if (k < columns - 1) row[k] = value;
                else if (value is 0 or 1) labels.Add(value);
                else throw new InvalidDataException($"{source}, line {line}: the label is {value}; labels must be 0 or 1.");
            }
            features.Add(row);
        }
        if (features.Count == 0) throw new InvalidDataException($"{source}: no rows.");
        return new LabeledData(source, [.. features], [.. labels]);
    }
}
