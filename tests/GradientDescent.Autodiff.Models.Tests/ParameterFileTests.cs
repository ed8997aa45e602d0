using System.Text.Json;

namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>Parameter files: bit-exact round trips, all-or-nothing loads that name every mismatch, atomic writes.</summary>
public sealed class ParameterFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gdad-models-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static double[][] Snapshot(Module m) => [.. m.Parameters().Select(p => (double[])p.Value.Clone())];

    private static void AssertBitEqual(double[][] expected, Module m)
    {
        double[][] actual = Snapshot(m);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i][j]), BitConverter.DoubleToInt64Bits(actual[i][j]));
            }
        }
    }

    [Fact]
    public void SaveLoad_DifferentSeed_RestoresEveryBit()
    {
        var saved = new Mlp(2, [16, 16], 1, new RandomSource(1), Activation.Tanh);
        string path = PathOf("mlp.json");
        ParameterFile.Save(saved, path);
        var loaded = new Mlp(2, [16, 16], 1, new RandomSource(2), Activation.Tanh);
        ParameterFile.Load(loaded, path);
        AssertBitEqual(Snapshot(saved), loaded);
    }

    [Fact]
    public void SaveLoad_HardDoubles_RoundTripBitExact()
    {
        // Shortest round-trip formatting must give back every bit: −0, subnormals, extremes, 0.1, NaN, ±∞,
        // and 10,000 random bit patterns (all finite doubles equally likely by exponent).
        var random = new RandomSource(3);
        double[] special = [-0.0, 0.0, double.Epsilon, -double.Epsilon, 2.2250738585072009e-308, double.MaxValue, double.MinValue,
            0.1, 1.0 / 3, Math.PI, 1e-300, 123456789.123456789, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        var values = new List<double>(special);
        while (values.Count < 10_000 + special.Length)
        {
            double d = BitConverter.Int64BitsToDouble((long)random.NextUInt64());
            if (double.IsFinite(d)) values.Add(d);
        }
        var model = new Linear(values.Count, 1, new RandomSource(4), bias: false);
        values.CopyTo(model.Weight.Value);
        string path = PathOf("hard.json");
        ParameterFile.Save(model, path);
        var loaded = new Linear(values.Count, 1, new RandomSource(5), bias: false);
        ParameterFile.Load(loaded, path);
        AssertBitEqual(Snapshot(model), loaded);
    }

    [Fact]
    public void Save_File_HasFormatNamesShapesAndNumbers()
    {
        var model = new LogisticRegression(2, new RandomSource(6));
        string path = PathOf("logistic.json");
        ParameterFile.Save(model, path);
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(ParameterFile.Format, json.RootElement.GetProperty("format").GetString());
        var entries = json.RootElement.GetProperty("parameters").EnumerateArray().ToArray();
        Assert.Equal(["linear.weight", "linear.bias"], entries.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal([1, 2], entries[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([1], entries[1].GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(model.Linear.Weight.Value, entries[0].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
    }

    [Fact]
    public void Load_WrongArchitecture_NamesEveryMissingUnexpectedAndMisshapedKey_LoadsNothing()
    {
        // File: 0.weight [16×2], 0.bias [16], 2.weight [16×16], 2.bias [16], 4.weight [1×16], 4.bias [1]
        // Model: 0.weight [16×3], 0.bias [16], 2.weight [1×16], 2.bias [1]
        // → missing none; unexpected 4.weight, 4.bias; mis-shaped 0.weight and 2.weight, 2.bias
        string path = PathOf("mlp.json");
        ParameterFile.Save(new Mlp(2, [16, 16], 1, new RandomSource(7)), path);
        var model = new Mlp(3, [16], 1, new RandomSource(8));
        double[][] before = Snapshot(model);

        var e = Assert.Throws<ParameterMismatchException>(() => ParameterFile.Load(model, path));

        Assert.Empty(e.Missing);
        Assert.Equal(["4.weight", "4.bias"], e.Unexpected);
        Assert.Equal(
            [new ShapeMismatch("0.weight", Shape.Matrix(16, 2), Shape.Matrix(16, 3)), new ShapeMismatch("2.weight", Shape.Matrix(16, 16), Shape.Matrix(1, 16)),
             new ShapeMismatch("2.bias", Shape.Vector(16), Shape.Vector(1))],
            e.Mismatched);
        Assert.Contains("unexpected '4.weight' [1×16] (and 4 more)", e.Message);
        Assert.Contains("0.weight file [16×2], model [16×3]", e.Message);
        Assert.Contains("nothing was loaded", e.Message);
        // 0.bias fits, but nothing is half-loaded: it keeps its old value too.
        AssertBitEqual(before, model);
    }

    [Fact]
    public void Load_MissingKeys_ListedInModelOrder_FirstOneFirst()
    {
        string path = PathOf("small.json");
        ParameterFile.Save(new Mlp(2, [4], 1, new RandomSource(9)), path);
        var model = new Mlp(2, [4, 4], 1, new RandomSource(10));
        double[][] before = Snapshot(model);
        var e = Assert.Throws<ParameterMismatchException>(() => ParameterFile.Load(model, path));
        Assert.Equal(["4.weight", "4.bias"], e.Missing);
        Assert.Empty(e.Unexpected);
        Assert.Equal(["2.weight", "2.bias"], e.Mismatched.Select(m => m.Name));
        Assert.StartsWith($"ParameterFile.Load: '{path}' does not fit Mlp(Linear(2 → 4), Relu, Linear(4 → 4), Relu, Linear(4 → 1)): missing '4.weight' [1×4] (and 3 more)", e.Message);
        AssertBitEqual(before, model);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"format": "something else", "parameters": []}""")]
    [InlineData("""{"format": "GradientDescent.Autodiff.Models/parameters/1"}""")]
    [InlineData("""{"format": "GradientDescent.Autodiff.Models/parameters/1", "parameters": [{"name": "weight", "shape": [1, 2], "values": [1]}]}""")]
    [InlineData("""{"format": "GradientDescent.Autodiff.Models/parameters/1", "parameters": [{"name": "weight", "shape": [1, 2], "values": [1, "x"]}]}""")]
    [InlineData("""{"format": "GradientDescent.Autodiff.Models/parameters/1", "parameters": [{"name": "weight", "shape": [1, 0], "values": []}]}""")]
    [InlineData("""{"format": "GradientDescent.Autodiff.Models/parameters/1", "parameters": [{"name": "weight", "shape": [1, 2], "values": [1, 2]}, {"name": "weight", "shape": [1, 2], "values": [1, 2]}]}""")]
    public void Load_MalformedFile_InvalidDataAndModelUnchanged(string content)
    {
        string path = PathOf("bad.json");
        File.WriteAllText(path, content);
        var model = new Linear(2, 1, new RandomSource(11), bias: false);
        double[][] before = Snapshot(model);
        var e = Assert.Throws<InvalidDataException>(() => ParameterFile.Load(model, path));
        Assert.Contains(path, e.Message);
        AssertBitEqual(before, model);
    }

    [Fact]
    public void Save_StreamFailsMidway_OldFileIntactAndNoTemporaryLeft()
    {
        string path = PathOf("model.json");
        var original = new Mlp(2, [16, 16], 1, new RandomSource(12));
        ParameterFile.Save(original, path);
        byte[] before = File.ReadAllBytes(path);

        // A disk that fills after 1,000 bytes: the new file would be several kilobytes.
        var other = new Mlp(2, [16, 16], 1, new RandomSource(13));
        Assert.Throws<IOException>(() => ParameterFile.Save(other, path, wrap: s => new FailingStream(s, 1000)));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_directory));
        var reloaded = new Mlp(2, [16, 16], 1, new RandomSource(14));
        ParameterFile.Load(reloaded, path);
        AssertBitEqual(Snapshot(original), reloaded);
    }

    [Fact]
    public void Save_OverExistingFile_Replaces()
    {
        string path = PathOf("model.json");
        ParameterFile.Save(new Linear(2, 1, new RandomSource(15)), path);
        var second = new Linear(2, 1, new RandomSource(16));
        ParameterFile.Save(second, path);
        var loaded = new Linear(2, 1, new RandomSource(17));
        ParameterFile.Load(loaded, path);
        AssertBitEqual(Snapshot(second), loaded);
    }

    /// <summary>Passes writes through until a byte budget is spent, then throws as a full disk would.</summary>
    private sealed class FailingStream(Stream inner, long budget) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > budget) throw new IOException("No space left on device (simulated).");
            inner.Write(buffer);
            _written += buffer.Length;
        }
    }
}
