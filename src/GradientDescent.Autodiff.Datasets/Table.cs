namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// A complete, immutable numeric data set: n rows of d features (row-major, feature (i, j) at <c>i · d + j</c>),
/// their names, and one target per row — a regression value, a 0/1 label or a class 0 … k − 1.
/// </summary>
/// <remarks>
/// Rows are read from a CSV file (<see cref="LoadCsv"/>, <see cref="ReadCsv"/>), an embedded set
/// (<see cref="SampleData"/>) or arrays (<see cref="Create"/>). Operations that change rows or values —
/// <see cref="Select"/>, <see cref="Shuffle"/>, <see cref="Split"/>, <see cref="Standardizer.Transform"/> — return new
/// tables. For training, <see cref="MiniBatches"/> serves rows without a copy per batch.
/// </remarks>
public sealed class Table
{
    private readonly double[] _features;
    private readonly double[] _targets;
    private readonly int[]? _labels;

    private Table(string source, double[] features, int featureCount, string[] featureNames, double[] targets,
        string targetName, TargetKind kind, int classCount, string[]? classNames)
    {
        Source = source;
        _features = features;
        FeatureCount = featureCount;
        FeatureNames = featureNames;
        _targets = targets;
        TargetName = targetName;
        TargetKind = kind;
        ClassCount = classCount;
        ClassNames = classNames;
        if (kind != TargetKind.Regression)
        {
            _labels = new int[targets.Length];
            for (int i = 0; i < targets.Length; i++) _labels[i] = (int)targets[i];
        }
    }

    /// <summary>Where the rows came from: a file path, "embedded iris.csv", or what <see cref="Create"/> was told.</summary>
    public string Source { get; }

    /// <summary>The number of rows, n.</summary>
    public int RowCount => _targets.Length;

    /// <summary>The number of features per row, d.</summary>
    public int FeatureCount { get; }

    /// <summary>The d feature names: the header's, or <c>x1</c>, <c>x2</c>, … (the 1-based column) without one.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The target's name: the header's, or <c>y</c> without one.</summary>
    public string TargetName { get; }

    /// <summary>What the target holds.</summary>
    public TargetKind TargetKind { get; }

    /// <summary>The number of classes k (2 for binary), or 0 for a regression target.</summary>
    public int ClassCount { get; }

    /// <summary>The class names by label (name of class c at index c), when the target column held names; else <see langword="null"/>.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The n × d features, row-major. The table's own storage: read it, copy it with <see cref="FeatureArray"/>.</summary>
    public ReadOnlySpan<double> Features => _features;

    /// <summary>The n targets (labels as 0.0, 1.0, …).</summary>
    public ReadOnlySpan<double> Targets => _targets;

    /// <summary>The n class labels of a classification target.</summary>
    /// <exception cref="InvalidOperationException">The target is a regression value.</exception>
    public ReadOnlySpan<int> Labels => _labels ?? throw new InvalidOperationException(
        $"Table.Labels: the target '{TargetName}' of {Source} is a regression value; read Targets, or load it with TargetKind Binary or MultiClass.");

    /// <summary>The features of row <paramref name="row"/> (d values).</summary>
    public ReadOnlySpan<double> Row(int row) => _features.AsSpan(checked(RowIndex(row) * FeatureCount), FeatureCount);

    /// <summary>Feature <paramref name="feature"/> of row <paramref name="row"/>.</summary>
    public double this[int row, int feature] =>
        (uint)feature < (uint)FeatureCount ? _features[RowIndex(row) * FeatureCount + feature]
        : throw new ArgumentOutOfRangeException(nameof(feature), $"Table: feature {feature} of a table with {FeatureCount} features.");

    /// <summary>A copy of the n × d features, row-major, for <c>tape.Constant(values, n, d)</c>.</summary>
    public double[] FeatureArray() => (double[])_features.Clone();

    /// <summary>A copy of the n targets.</summary>
    public double[] TargetArray() => (double[])_targets.Clone();

    /// <summary>A copy of the n class labels (see <see cref="Labels"/>).</summary>
    public int[] LabelArray() => Labels.ToArray();

    /// <summary>The index of the feature called <paramref name="name"/> (ordinal match).</summary>
    /// <exception cref="KeyNotFoundException">No feature has that name; the message lists those that do exist.</exception>
    public int FeatureIndex(string name)
    {
        for (int j = 0; j < FeatureCount; j++) if (FeatureNames[j] == name) return j;
        throw new KeyNotFoundException($"Table: no feature '{name}' in {Source}; the features are {string.Join(", ", FeatureNames.Select(n => $"'{n}'"))}.");
    }

    /// <summary>
    /// A table from arrays: <paramref name="features"/> n × <paramref name="featureCount"/> row-major, one target per
    /// row, validated as <paramref name="kind"/> says (labels 0/1 for binary, integers 0 … k − 1 for multi-class,
    /// where k is <paramref name="classCount"/> or one more than the largest label). The arrays are copied.
    /// </summary>
    public static Table Create(double[] features, int featureCount, double[] targets, TargetKind kind = TargetKind.Regression,
        int? classCount = null, IReadOnlyList<string>? featureNames = null, string targetName = "y", string source = "arrays")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (featureCount <= 0) throw new ArgumentException($"Table.Create: featureCount is {featureCount}; a table needs at least one feature.", nameof(featureCount));
        if (targets.Length == 0) throw new ArgumentException("Table.Create: no rows; pass at least one target.", nameof(targets));
        if ((long)targets.Length * featureCount != features.Length)
            throw new ArgumentException($"Table.Create: {features.Length} feature values for {targets.Length} rows of {featureCount}; pass n × d = {(long)targets.Length * featureCount} values, row-major.", nameof(features));
        if (featureNames is not null && featureNames.Count != featureCount)
            throw new ArgumentException($"Table.Create: {featureNames.Count} feature names for {featureCount} features.", nameof(featureNames));
        if (classCount is not null && kind != TargetKind.MultiClass) throw new ArgumentException("Table.Create: classCount applies to a MultiClass target only.", nameof(classCount));
        int k = kind switch { TargetKind.Binary => 2, TargetKind.MultiClass => classCount ?? 0, _ => 0 };
        for (int i = 0; i < targets.Length; i++)
        {
            double t = targets[i];
            string? problem = kind switch
            {
                TargetKind.Binary when t is not (0 or 1) => "a binary label must be 0 or 1",
                TargetKind.MultiClass when !(t >= 0 && t == Math.Floor(t) && t < int.MaxValue) => "a class label must be an integer 0, 1, …",
                TargetKind.MultiClass when classCount is not null && t >= classCount => $"a class label must be below the class count {classCount}",
                _ => null,
            };
            if (problem is not null) throw new ArgumentException($"Table.Create: target {i} is {t}; {problem}.", nameof(targets));
            if (kind == TargetKind.MultiClass && classCount is null) k = Math.Max(k, (int)t + 1);
        }
        string[] names = featureNames?.ToArray() ?? DefaultNames(featureCount);
        return new Table(source, (double[])features.Clone(), featureCount, names, (double[])targets.Clone(), targetName, kind, k, null);
    }

    /// <summary>Reads a CSV file (see <see cref="CsvOptions"/>).</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The content is not a numeric table as the options describe; names the line and column.</exception>
    public static Table LoadCsv(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Table.LoadCsv: no file at '{path}'.", path);
        using var stream = System.IO.File.OpenRead(path);
        return CsvTableReader.Read(stream, path, options ?? CsvOptions.Default);
    }

    /// <summary>Reads CSV from <paramref name="input"/>; <paramref name="source"/> names it in errors and in <see cref="Source"/>.</summary>
    /// <exception cref="DataFormatException">The content is not a numeric table as the options describe; names the line and column.</exception>
    public static Table ReadCsv(Stream input, string source, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(source);
        return CsvTableReader.Read(input, source, options ?? CsvOptions.Default);
    }

    /// <summary>Reads CSV text (see <see cref="ReadCsv"/>).</summary>
    public static Table ParseCsv(string text, string source = "text", CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
        return ReadCsv(stream, source, options);
    }

    /// <summary>The rows <paramref name="rows"/>, in that order (a row may repeat), as a new table.</summary>
    public Table Select(ReadOnlySpan<int> rows)
    {
        if (rows.IsEmpty) throw new ArgumentException("Table.Select: no rows; a table needs at least one.", nameof(rows));
        int d = FeatureCount;
        var features = new double[rows.Length * d];
        var targets = new double[rows.Length];
        for (int k = 0; k < rows.Length; k++)
        {
            int i = RowIndex(rows[k]);
            _features.AsSpan(i * d, d).CopyTo(features.AsSpan(k * d, d));
            targets[k] = _targets[i];
        }
        return With(features, targets);
    }

    /// <summary>The rows in a random order drawn from <paramref name="seed"/> (Fisher–Yates over <see cref="SplitMix64"/>): the same seed, the same order, on every machine and .NET version.</summary>
    public Table Shuffle(ulong seed) => Select(Permutation(RowCount, seed));

    /// <summary>
    /// A seeded random split: round(n · <paramref name="trainFraction"/>) rows to train, the rest to test, both in
    /// the order of one permutation drawn from <paramref name="seed"/> (as <see cref="Shuffle"/>). Each part gets at
    /// least one row.
    /// </summary>
    public (Table Train, Table Test) Split(double trainFraction, ulong seed)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), $"Table.Split: the train fraction is {trainFraction}; it must be strictly between 0 and 1.");
        int train = (int)Math.Round(RowCount * trainFraction, MidpointRounding.ToEven);
        if (train < 1 || train > RowCount - 1)
            throw new ArgumentOutOfRangeException(nameof(trainFraction), $"Table.Split: {trainFraction} of {RowCount} rows leaves {train} to train and {RowCount - train} to test; each part needs at least one.");
        int[] order = Permutation(RowCount, seed);
        return (Select(order.AsSpan(0, train)), Select(order.AsSpan(train)));
    }

    /// <summary>A table with the same names and kind over other values (n′ × d features, n′ targets already validated).</summary>
    internal Table With(double[] features, double[] targets) =>
        new(Source, features, FeatureCount, (string[])FeatureNames, targets, TargetName, TargetKind, ClassCount, (string[]?)ClassNames);

    internal static Table FromValidated(string source, double[] features, int featureCount, string[] featureNames, double[] targets,
        string targetName, TargetKind kind, int classCount, string[]? classNames) =>
        new(source, features, featureCount, featureNames, targets, targetName, kind, classCount, classNames);

    internal double[] FeatureStorage => _features;

    internal double[] TargetStorage => _targets;

    internal int[]? LabelStorage => _labels;

    internal static int[] Permutation(int n, ulong seed)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        new SplitMix64(seed).Shuffle(order.AsSpan());
        return order;
    }

    internal static string[] DefaultNames(int count) => [.. Enumerable.Range(1, count).Select(j => $"x{j}")];

    private int RowIndex(int row) =>
        (uint)row < (uint)RowCount ? row
        : throw new ArgumentOutOfRangeException(nameof(row), $"Table: row {row} of a table with {RowCount} rows ({Source}).");
}
