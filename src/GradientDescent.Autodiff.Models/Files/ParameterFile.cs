using System.Globalization;
using System.Text.Json;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// Saves a module's parameters to a JSON file by dotted name and shape, and loads them back, all or nothing.
/// </summary>
/// <remarks>
/// <para>The file is one object:</para>
/// <code>
/// { "format": "GradientDescent.Autodiff.Models/parameters/1",
///   "parameters": [ { "name": "0.weight", "shape": [16, 2], "values": [ …32 numbers, row-major… ] }, … ] }
/// </code>
/// <para>A shape is <c>[]</c> for a scalar, <c>[n]</c> for a vector, <c>[r, c]</c> for a matrix, as PyTorch's
/// <c>state_dict</c> shapes. Numbers are written in the shortest form that reads back to the same double
/// (<see cref="Utf8JsonWriter.WriteNumberValue(double)"/>), so a round trip is bit-exact, −0 included; JSON has no
/// NaN or infinity, so those are written as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>.</para>
/// <para><see cref="Save(Module, string)"/> writes to a temporary file in the same directory, flushes it to disk, then moves it over
/// the target, so a crash or an error leaves either the old file or the new one, never half a model.
/// <see cref="Load"/> reads and checks the whole file (its structure, then every name and shape against the
/// module) before it writes any value: on any problem it throws and the module is unchanged.</para>
/// </remarks>
public static class ParameterFile
{
    /// <summary>The value of the file's <c>format</c> field.</summary>
    public const string Format = "GradientDescent.Autodiff.Models/parameters/1";

    /// <summary>Writes every parameter of <paramref name="module"/> to <paramref name="path"/>, atomically (see remarks).</summary>
    public static void Save(Module module, string path) => Save(module, path, wrap: null);

    /// <summary><see cref="Save(Module, string)"/> with the file stream wrapped (tests inject a failing stream).</summary>
    internal static void Save(Module module, string path, Func<Stream, Stream>? wrap)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        var named = Named(module);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"ParameterFile.Save: '{path}' names no file.", nameof(path));
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Stream stream = wrap?.Invoke(file) ?? file;
                Write(named, stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="module"/>'s parameters. Throws
    /// <see cref="ParameterMismatchException"/> naming every missing, unexpected and mis-shaped name when the file
    /// does not fit the module, and <see cref="InvalidDataException"/> when it is not a parameter file; in either
    /// case no value has been changed.
    /// </summary>
    public static void Load(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        var named = Named(module);
        List<Entry> entries = Read(File.ReadAllBytes(path), path);

        // Check everything first: every name and shape, both ways.
        var inFile = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var e in entries) inFile.Add(e.Name, e);
        var inModel = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<(string, Shape)>();
        var mismatched = new List<ShapeMismatch>();
        foreach (var (name, parameter) in named)
        {
            inModel.Add(name);
            if (!inFile.TryGetValue(name, out Entry? e)) missing.Add((name, parameter.Shape));
            else if (e.Shape != parameter.Shape) mismatched.Add(new ShapeMismatch(name, e.Shape, parameter.Shape));
        }
        var unexpected = entries.Where(e => !inModel.Contains(e.Name)).Select(e => (e.Name, e.Shape)).ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            throw new ParameterMismatchException(path, module.ToString() ?? module.GetType().Name, missing, unexpected, mismatched);
        }

        // Then write: nothing can fail from here on.
        foreach (var (name, parameter) in named) inFile[name].Values.CopyTo(parameter.Value, 0);
    }

    private static List<(string Name, Parameter Parameter)> Named(Module module)
    {
        var named = module.NamedParameters().ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in named)
        {
            if (!seen.Add(name))
            {
                throw new InvalidOperationException($"ParameterFile: {module} yields the name '{name}' twice; every parameter needs its own name to be saved and loaded.");
            }
        }
        return named;
    }

    // ---------------------------------------------------------------- writing

    private static void Write(List<(string Name, Parameter Parameter)> named, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteStartArray("parameters");
        foreach (var (name, parameter) in named)
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteStartArray("shape");
            Shape s = parameter.Shape;
            if (s.Kind != ShapeKind.Scalar) w.WriteNumberValue(s.Rows);
            if (s.Kind == ShapeKind.Matrix) w.WriteNumberValue(s.Cols);
            w.WriteEndArray();
            w.WriteStartArray("values");
            foreach (double v in parameter.Value)
            {
                if (double.IsFinite(v)) w.WriteNumberValue(v);
                else w.WriteStringValue(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
    }

    // ---------------------------------------------------------------- reading

    private sealed record Entry(string Name, Shape Shape, double[] Values);

    private static List<Entry> Read(byte[] bytes, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"ParameterFile.Load: '{path}' is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.String
                || format.GetString() != Format)
            {
                throw Bad(path, $"the root must be an object with \"format\": \"{Format}\"");
            }
            if (!root.TryGetProperty("parameters", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
            {
                throw Bad(path, "the root has no \"parameters\" array");
            }
            var entries = new List<Entry>(list.GetArrayLength());
            var names = new HashSet<string>(StringComparer.Ordinal);
            int index = 0;
            foreach (JsonElement item in list.EnumerateArray())
            {
                Entry e = ReadEntry(item, index, path);
                if (!names.Add(e.Name)) throw Bad(path, $"parameter {index} repeats the name '{e.Name}'");
                entries.Add(e);
                index++;
            }
            return entries;
        }
    }

    private static Entry ReadEntry(JsonElement item, int index, string path)
    {
        if (item.ValueKind != JsonValueKind.Object
            || !item.TryGetProperty("name", out JsonElement nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            throw Bad(path, $"parameter {index} is not an object with a string \"name\"");
        }
        string name = nameElement.GetString()!;
        if (!item.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || shapeElement.GetArrayLength() > 2
            || shapeElement.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int n) || n <= 0))
        {
            throw Bad(path, $"parameter '{name}' needs a \"shape\" of 0, 1 or 2 positive integers");
        }
        int[] dims = [.. shapeElement.EnumerateArray().Select(d => d.GetInt32())];
        Shape shape = dims.Length switch
        {
            0 => Shape.Scalar,
            1 => Shape.Vector(dims[0]),
            _ => Shape.Matrix(dims[0], dims[1]),
        };
        if (!item.TryGetProperty("values", out JsonElement valuesElement) || valuesElement.ValueKind != JsonValueKind.Array
            || valuesElement.GetArrayLength() != (long)dims.Aggregate(1L, (a, d) => a * d))
        {
            throw Bad(path, $"parameter '{name}' of shape {shape} needs a \"values\" array of {dims.Aggregate(1L, (a, d) => a * d)} numbers");
        }
        var values = new double[valuesElement.GetArrayLength()];
        int k = 0;
        foreach (JsonElement v in valuesElement.EnumerateArray())
        {
            values[k] = v.ValueKind switch
            {
                JsonValueKind.Number when v.TryGetDouble(out double d) => d,
                JsonValueKind.String => v.GetString() switch
                {
                    "NaN" => double.NaN,
                    "Infinity" => double.PositiveInfinity,
                    "-Infinity" => double.NegativeInfinity,
                    _ => throw Bad(path, $"value {k} of '{name}' is the string {v.GetRawText()}; only \"NaN\", \"Infinity\" and \"-Infinity\" stand for numbers"),
                },
                _ => throw Bad(path, $"value {k} of '{name}' is {v.GetRawText()}, not a number"),
            };
            k++;
        }
        return new Entry(name, shape, values);
    }

    private static InvalidDataException Bad(string path, string what) =>
        new($"ParameterFile.Load: '{path}' is not a parameter file: {what}. Nothing was loaded.");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The temporary file stays behind; the target is untouched either way.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One name whose shape differs between a parameter file and a module.</summary>
/// <param name="Name">The dotted name.</param>
/// <param name="InFile">The shape stored in the file.</param>
/// <param name="InModel">The shape of the module's parameter.</param>
public sealed record ShapeMismatch(string Name, Shape InFile, Shape InModel);

/// <summary>
/// A parameter file that does not fit a module: every name the module has and the file lacks, every name the file
/// has and the module lacks, and every name whose shapes differ, all at once (as PyTorch's <c>load_state_dict</c>
/// reports them). Nothing was loaded.
/// </summary>
public sealed class ParameterMismatchException : Exception
{
    internal ParameterMismatchException(string path, string module, IReadOnlyList<(string Name, Shape Shape)> missing,
        IReadOnlyList<(string Name, Shape Shape)> unexpected, IReadOnlyList<ShapeMismatch> mismatched)
        : base(Describe(path, module, missing, unexpected, mismatched))
    {
        Missing = [.. missing.Select(m => m.Name)];
        Unexpected = [.. unexpected.Select(u => u.Name)];
        Mismatched = mismatched;
    }

    /// <summary>Names the module has and the file lacks, in the module's order.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Names the file has and the module lacks, in the file's order.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Names whose shapes differ, in the module's order.</summary>
    public IReadOnlyList<ShapeMismatch> Mismatched { get; }

    private static string Describe(string path, string module, IReadOnlyList<(string Name, Shape Shape)> missing,
        IReadOnlyList<(string Name, Shape Shape)> unexpected, IReadOnlyList<ShapeMismatch> mismatched)
    {
        var lines = new List<string>();
        int total = missing.Count + unexpected.Count + mismatched.Count;
        string first = missing.Count > 0 ? $"missing '{missing[0].Name}' {missing[0].Shape}"
            : unexpected.Count > 0 ? $"unexpected '{unexpected[0].Name}' {unexpected[0].Shape}"
            : $"'{mismatched[0].Name}' is {mismatched[0].InFile} in the file but {mismatched[0].InModel} in the model";
        string more = total > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {total - 1} more)") : "";
        lines.Add($"ParameterFile.Load: '{path}' does not fit {module}: {first}{more}; nothing was loaded. Load into the model the file was saved from.");
        if (missing.Count > 0)
        {
            lines.Add($"  missing from the file ({missing.Count}): {string.Join(", ", missing.Select(m => $"{m.Name} {m.Shape}"))}");
        }
        if (unexpected.Count > 0)
        {
            lines.Add($"  unexpected in the file ({unexpected.Count}): {string.Join(", ", unexpected.Select(u => $"{u.Name} {u.Shape}"))}");
        }
        if (mismatched.Count > 0)
        {
            lines.Add($"  shape differs ({mismatched.Count}): {string.Join(", ", mismatched.Select(m => $"{m.Name} file {m.InFile}, model {m.InModel}"))}");
        }
        return string.Join(Environment.NewLine, lines);
    }
}
