using System.Globalization;
using CsvHelper;

namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// CSV → <see cref="Table"/>: CsvHelper splits records (RFC 4180 quoting, one record per line); this class chooses the
/// columns, parses every field as an invariant-culture number (or a class name) and validates the target. Rows are
/// collected in local lists and the table is built only after the last line was read, so a problem anywhere throws
/// one <see cref="DataFormatException"/> and nothing half-loaded escapes.
/// </summary>
internal static class CsvTableReader
{
    public static Table Read(Stream input, string source, CsvOptions options)
    {
        options.Validate();
        var csvOptions = CsvReaderOptions.Default with
        {
            HasHeader = options.HasHeader,
            Separator = options.Separator,
            TrimWhitespace = true,
            TrackLineNumbers = true,
            SkipEmptyLines = true,
            AllowLineBreaksInQuotes = false,    // one record per line, so every line number is exact
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,   // checked here, to name the column
            DetectSeparatorHint = false,
            FormatProvider = CultureInfo.InvariantCulture,
        };
        // The whole input in memory (these are small tables, and the parsed doubles take as much again): CsvHelper
        // reads the array in place, and a quoting error's byte offset can be turned into a column.
        byte[] bytes;
        using (var copy = new MemoryStream())
        {
            input.CopyTo(copy);
            bytes = copy.ToArray();
        }
        using var csv = CsvReader.Create(bytes, csvOptions);
        return new Loader(csv, bytes, source, options).Load();
    }

    /// <summary>
    /// The 1-based column of byte <paramref name="offset"/>: one more than the separators outside quotes between the
    /// start of its line and it. 0 when the offset is not in the input.
    /// </summary>
    private static int ColumnAt(byte[] bytes, long offset, byte separator)
    {
        if (offset <= 0 || offset > bytes.Length) return 0;
        int end = (int)Math.Min(offset, bytes.Length - 1);
        int start = end;
        while (start > 0 && bytes[start - 1] is not ((byte)'\n' or (byte)'\r')) start--;
        int column = 1;
        bool quoted = false;
        for (int k = start; k < end; k++)
        {
            if (bytes[k] == (byte)'"') quoted = !quoted;
            else if (bytes[k] == separator && !quoted) column++;
        }
        return column;
    }

    private sealed class Loader(CsvReader csv, byte[] bytes, string source, CsvOptions options)
    {
        private string[]? _header;
        private int _columns = -1;
        private int _target;
        private int[] _featureColumns = [];
        private readonly List<double> _features = [];
        private readonly List<double> _targets = [];
        private readonly Dictionary<string, int> _classIds = new(StringComparer.Ordinal);
        private readonly List<string> _classNames = [];
        private long _line;

        public Table Load()
        {
            try
            {
                return LoadRows();
            }
            catch (CsvFormatException e)
            {
                int column = e.FieldIndex >= 0 ? e.FieldIndex + 1 : ColumnAt(bytes, e.ByteOffset, (byte)options.Separator);
                throw Error(e.LineNumber, column,
                    $"malformed CSV ({e.Message.TrimEnd('.')}); quote a field as \"…\" with doubled quotes inside, on one line.", e);
            }
        }

        private Table LoadRows()
        {
            if (options.HasHeader)
            {
                csv.ReadHeader();
                _header = [.. csv.Headers];
                if (_header.Length == 0) throw Error(0, 0, "the input is empty; expected a header line and rows of numbers (or set HasHeader to false).");
                _line = Math.Max(1, csv.LineNumber);
                Resolve(_header.Length);
            }
            while (csv.Read())
            {
                _line = csv.LineNumber;
                int count = csv.FieldCount;
                if (_columns < 0) Resolve(count);
                if (count != _columns)
                {
                    string expected = _header is null ? $"the first row has {_columns}" : $"the header has {_columns}";
                    int column = Math.Min(count, _columns) + 1;
                    throw Error(_line, column, count < _columns
                        ? $"the row has {count} field(s) where {expected}; a cell is missing."
                        : $"the row has {count} fields where {expected}; remove the extra field(s) or fix the separator.");
                }
                foreach (int k in _featureColumns) _features.Add(Number(k, options.AllowNonFinite));
                _targets.Add(Target());
            }
            if (_targets.Count == 0)
            {
                throw Error(0, 0, _header is null ? "the input has no rows; expected rows of numbers." : "the input has a header but no rows of numbers.");
            }
            return Build();
        }

        /// <summary>Chooses the target and feature columns once the column count is known (header, or first row).</summary>
        private void Resolve(int columns)
        {
            _columns = columns;
            _target = options.Target is { } name ? IndexOf(name, "target")
                : options.TargetIndex is { } index ? CheckIndex(index, "target")
                : columns - 1;
            if (options.Features is { } names) _featureColumns = [.. names.Select(n => IndexOf(n, "feature"))];
            else if (options.FeatureIndices is { } indices) _featureColumns = [.. indices.Select(i => CheckIndex(i, "feature"))];
            else _featureColumns = [.. Enumerable.Range(0, columns).Where(k => k != _target)];

            if (_featureColumns.Length == 0)
                throw Error(_line, 0, $"the input has {columns} column(s), all of them taken by the target; a table needs at least one feature column (is the separator '{Printable(options.Separator)}' right?).");
            var seen = new HashSet<int>();
            foreach (int k in _featureColumns)
            {
                if (k == _target) throw Error(_line, k + 1, "this column is both the target and a feature; leave it out of the features.");
                if (!seen.Add(k)) throw Error(_line, k + 1, "this column is listed twice among the features.");
            }
        }

        private int IndexOf(string name, string role)
        {
            int found = -1;
            for (int k = 0; k < _header!.Length; k++)
            {
                if (_header[k] != name) continue;
                if (found >= 0) throw Error(_line, k + 1, $"the {role} column '{name}' appears twice in the header (columns {found + 1} and {k + 1}); rename one, or choose it by index.");
                found = k;
            }
            if (found < 0)
            {
                throw Error(_line, 0, $"no {role} column '{name}' in the header; the columns are {string.Join(", ", _header.Select(h => $"'{h}'"))}.");
            }
            return found;
        }

        private int CheckIndex(int index, string role) =>
            index < _columns ? index
            : throw Error(_line, 0, $"the {role} column index {index} (0-based) is past the last column; the input has {_columns} column(s), 0 to {_columns - 1}.");

        private double Number(int k, bool allowNonFinite)
        {
            ReadOnlySpan<byte> field = csv.GetSpan(k);
            if (field.IsEmpty) throw Error(_line, k + 1, "the cell is empty; every cell must hold a number.");
            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                throw Error(_line, k + 1, $"'{Shorten(csv.GetString(k))}' is not a number; write numbers in the invariant culture, such as 1.5 or -2e-3.");
            }
            if (!allowNonFinite && !double.IsFinite(value))
            {
                string what = double.IsNaN(value) ? "NaN (not a number)" : "not finite (±∞, or beyond ±1.8e308)";
                throw Error(_line, k + 1, $"'{Shorten(csv.GetString(k))}' is {what}; remove the row, or set AllowNonFinite to accept it.");
            }
            return value;
        }

        private double Target()
        {
            int k = _target;
            if (options.ClassNames != ClassNameOrder.None)
            {
                string name = csv.GetString(k);
                if (name.Length == 0) throw Error(_line, k + 1, "the class name is empty; every row needs one.");
                if (!_classIds.TryGetValue(name, out int id))
                {
                    id = _classNames.Count;
                    if (options.TargetKind == TargetKind.Binary && id == 2)
                        throw Error(_line, k + 1, $"a third class name '{Shorten(name)}' after '{_classNames[0]}' and '{_classNames[1]}'; a binary target has two classes (use TargetKind.MultiClass).");
                    if (options.ClassCount is { } limit && id == limit)
                        throw Error(_line, k + 1, $"class name '{Shorten(name)}' is class {id + 1}, but ClassCount is {limit}.");
                    _classIds.Add(name, id);
                    _classNames.Add(name);
                }
                return id;
            }
            double value = Number(k, options.AllowNonFinite && options.TargetKind == TargetKind.Regression);
            switch (options.TargetKind)
            {
                case TargetKind.Binary when value is not (0 or 1):
                    throw Error(_line, k + 1, $"the label is {Format(value)}; a binary label must be 0 or 1.");
                case TargetKind.MultiClass when value < 0 || value != Math.Floor(value) || value >= int.MaxValue:
                    throw Error(_line, k + 1, $"the label is {Format(value)}; a class label must be an integer 0, 1, …, k − 1 (or set ClassNames for names).");
                case TargetKind.MultiClass when options.ClassCount is { } count && value >= count:
                    throw Error(_line, k + 1, $"the label is {Format(value)}; with ClassCount {count} labels must be 0 to {count - 1}.");
            }
            return value;
        }

        private Table Build()
        {
            double[] targets = [.. _targets];
            string[]? classNames = null;
            int classCount = 0;
            if (options.ClassNames != ClassNameOrder.None)
            {
                if (options.TargetKind == TargetKind.Binary && _classNames.Count != 2)
                    throw Error(0, _target + 1, $"the target has only the class name '{_classNames[0]}'; a binary target needs two.");
                classNames = [.. _classNames];
                if (options.ClassNames == ClassNameOrder.Sorted)
                {
                    Array.Sort(classNames, StringComparer.Ordinal);
                    var remap = new double[classNames.Length];
                    for (int c = 0; c < classNames.Length; c++) remap[_classIds[classNames[c]]] = c;
                    for (int i = 0; i < targets.Length; i++) targets[i] = remap[(int)targets[i]];
                }
                classCount = options.ClassCount ?? classNames.Length;
            }
            else if (options.TargetKind == TargetKind.Binary) classCount = 2;
            else if (options.TargetKind == TargetKind.MultiClass) classCount = options.ClassCount ?? (int)targets.Max() + 1;

            string[] names = _header is null
                ? [.. _featureColumns.Select(k => $"x{k + 1}")]
                : [.. _featureColumns.Select(k => _header[k])];
            string targetName = _header is null ? "y" : _header[_target];
            return Table.FromValidated(source, [.. _features], _featureColumns.Length, names, targets, targetName,
                options.TargetKind, classCount, classNames);
        }

        private DataFormatException Error(long line, int column, string problem, Exception? inner = null) =>
            new(source, line, column, column > 0 && _header is not null && column <= _header.Length ? _header[column - 1] : null, problem, inner);

        private static string Printable(char c) => c == '\t' ? "\\t" : c.ToString();

        private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "…");
    }
}
