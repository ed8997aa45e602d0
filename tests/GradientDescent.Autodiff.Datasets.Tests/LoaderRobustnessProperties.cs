using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>
/// Arbitrary input either loads or throws <see cref="DataFormatException"/> — never another exception, never a hang
/// (each case runs on a task that must finish within a generous bound; nothing else about time is asserted).
/// </summary>
public sealed class LoaderRobustnessProperties
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Options a file might be read with: header or not, each target kind, numeric or named classes.</summary>
    private static readonly CsvOptions[] Readings =
    [
        new(),
        new() { HasHeader = false },
        new() { HasHeader = false, TargetKind = TargetKind.Binary },
        new() { TargetKind = TargetKind.MultiClass },
        new() { TargetKind = TargetKind.MultiClass, ClassNames = ClassNameOrder.Sorted },
        new() { HasHeader = false, TargetIndex = 0, AllowNonFinite = true },
        new() { HasHeader = false, TargetKind = TargetKind.Binary, ClassNames = ClassNameOrder.FirstAppearance },
    ];

    /// <summary>
    /// Text that looks like CSV: mostly numbers and separators, some line breaks, and now and then a quote, a word,
    /// NaN, ∞, an overflow, a NUL, a byte order mark or a stray separator.
    /// </summary>
    private static readonly Gen<string> CsvLike =
        Gen.Frequency(
                (30, Gen.Elements("0", "1", "2", "7", "0.5", "-3", "1e-2")),
                (12, Gen.Constant(",")),
                (3, Gen.Elements("\n", "\r\n", "\r")),
                (4, Gen.Elements("\"", " ", "\t", "NaN", "Infinity", "a", "x", "é", ";", "1e400", "+", ".", "e", "\0", "\uFEFF")))
            .ArrayOf()
            .Select(parts => string.Concat(parts));

    /// <summary>Rows of numbers with an occasional defect, so that many cases load and the rest fail late.</summary>
    private static readonly Gen<string> NearlyValid =
        from rows in Gen.Choose(1, 6)
        from cols in Gen.Choose(1, 4)
        from cells in Gen.Elements("0", "1", "2.5", "-3e2", "1", "0", "", "x", "NaN", "1,2").ArrayOf(rows * cols)
        select string.Join("\n", Enumerable.Range(0, rows).Select(r => string.Join(",", cells.Skip(r * cols).Take(cols)))) + "\n";

    /// <summary>Random bytes, half of them behind a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE), so the reader's transcoding is exercised too.</summary>
    private static readonly Gen<byte[]> RandomBytes =
        from bom in Gen.Elements<byte[]>([], [], [], [], [], [0xEF, 0xBB, 0xBF], [0xFF, 0xFE], [0xFE, 0xFF], [0xFF, 0xFE, 0, 0], [0, 0, 0xFE, 0xFF])
        from body in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()
        select (byte[])[.. bom, .. body];

    [Property(MaxTest = 300)]
    public Property RandomBytes_LoadOrThrowDataFormatException() =>
        Prop.ForAll(RandomBytes.ToArbitrary(), Gen.Choose(0, Readings.Length - 1).ToArbitrary(),
            (bytes, reading) => LoadsOrThrowsDataFormatException(bytes, Readings[reading]));

    [Theory]
    [InlineData("FFFE31002C00")]          // UTF-16 LE "1," then an odd trailing byte below
    [InlineData("FFFE31002C003200")]      // UTF-16 LE "1,2": loads
    [InlineData("FFFE3100")]              // UTF-16 LE "1": one column, no feature
    [InlineData("FEFF0031002C0032000A")]  // UTF-16 BE "1,2\n"
    [InlineData("FFFE000031000000")]      // UTF-32 LE "1"
    [InlineData("C328312C320A")]          // invalid UTF-8 before "1,2"
    [InlineData("312C32FF0A")]            // invalid UTF-8 in a number
    [InlineData("00")]
    [InlineData("0D")]
    public void Encodings_LoadOrThrowDataFormatException(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        foreach (var reading in Readings) Assert.True(LoadsOrThrowsDataFormatException(bytes, reading));
        Assert.True(LoadsOrThrowsDataFormatException([.. bytes, 0x41], Readings[1]));
    }

    [Property(MaxTest = 300)]
    public Property CsvLikeText_LoadsOrThrowsDataFormatException() =>
        Prop.ForAll(CsvLike.ToArbitrary(), Gen.Choose(0, Readings.Length - 1).ToArbitrary(),
            (text, reading) => LoadsOrThrowsDataFormatException(Encoding.UTF8.GetBytes(text), Readings[reading]));

    [Property(MaxTest = 300)]
    public Property NearlyValidRows_LoadOrThrowDataFormatException() =>
        Prop.ForAll(NearlyValid.ToArbitrary(), Gen.Choose(0, Readings.Length - 1).ToArbitrary(),
            (text, reading) => LoadsOrThrowsDataFormatException(Encoding.UTF8.GetBytes(text), Readings[reading]));

    [Fact]
    public void Generators_ProduceBothTablesThatLoadAndInputsThatFail()
    {
        // Not vacuous: the text generators reach both outcomes, so the properties test the loader's accepting path
        // and its error paths.
        foreach (var gen in new[] { CsvLike, NearlyValid })
        {
            int loaded = 0, failed = 0;
            foreach (string text in gen.Sample(400, 20))
            {
                try
                {
                    Table.ParseCsv(text, "sample", Readings[1]);
                    loaded++;
                }
                catch (DataFormatException)
                {
                    failed++;
                }
            }
            Assert.True(loaded > 0 && failed > 0, $"loaded {loaded}, failed {failed}");
        }
    }

    private static bool LoadsOrThrowsDataFormatException(byte[] input, CsvOptions options)
    {
        var task = Task.Run(() =>
        {
            try
            {
                var table = Table.ReadCsv(new MemoryStream(input), "random", options);
                // A table that loads is complete: n ≥ 1 rows of d ≥ 1 features and n targets.
                return table.RowCount >= 1 && table.FeatureCount >= 1
                    && table.Features.Length == table.RowCount * table.FeatureCount && table.Targets.Length == table.RowCount;
            }
            catch (DataFormatException e)
            {
                return e.File == "random" && e.Message.StartsWith("random", StringComparison.Ordinal);
            }
        });
        if (!task.Wait(Bound)) throw new TimeoutException($"the loader did not finish within {Bound.TotalSeconds} s on {input.Length} bytes: {Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}");
        return task.Result;   // any other exception surfaces here (AggregateException) and fails the property
    }
}
