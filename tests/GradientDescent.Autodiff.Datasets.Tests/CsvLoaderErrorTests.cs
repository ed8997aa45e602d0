namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>Every kind of bad content throws <see cref="DataFormatException"/> naming the file, the line and the column.</summary>
public sealed class CsvLoaderErrorTests
{
    private const string Header = "a,b,label\n";

    private static DataFormatException Fails(string text, CsvOptions? options = null) =>
        Assert.Throws<DataFormatException>(() => Table.ParseCsv(text, "test.csv", options));

    private static void AssertAt(DataFormatException e, long line, int column, string? name, string fragment)
    {
        Assert.Equal("test.csv", e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Equal(name, e.ColumnName);
        Assert.StartsWith(name is null ? $"test.csv, line {line}, column {column}:" : $"test.csv, line {line}, column {column} ('{name}'):", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void EmptyCell_WithHeader_NamesLineAndColumnName()
    {
        var e = Fails(Header + "1,2,0\n3,,1\n");
        AssertAt(e, 3, 2, "b", "empty");
    }

    [Fact]
    public void Text_WithoutHeader_NamesLineAndColumnIndex()
    {
        var e = Fails("1,2,0\n1,abc,1\n", new CsvOptions { HasHeader = false });
        AssertAt(e, 2, 2, null, "'abc' is not a number");
    }

    [Theory]
    [InlineData("NaN", "NaN")]
    [InlineData("Infinity", "not finite")]
    [InlineData("-Infinity", "not finite")]
    [InlineData("1e400", "not finite")]   // overflows to +∞ when parsed
    public void NonFinite_ByDefault_IsRejectedWithTheOption(string cell, string fragment)
    {
        var e = Fails(Header + $"1,{cell},0\n");
        AssertAt(e, 2, 2, "b", fragment);
        Assert.Contains("AllowNonFinite", e.Message);
    }

    [Fact]
    public void NonFinite_Allowed_Loads()
    {
        var table = Table.ParseCsv(Header + "NaN,-Infinity,0.5\n", options: new CsvOptions { AllowNonFinite = true });
        Assert.True(double.IsNaN(table[0, 0]));
        Assert.Equal(double.NegativeInfinity, table[0, 1]);
    }

    [Fact]
    public void NonFiniteLabel_EvenWhenAllowed_IsRejectedForClassification()
    {
        var e = Fails(Header + "1,2,NaN\n", new CsvOptions { AllowNonFinite = true, TargetKind = TargetKind.Binary });
        AssertAt(e, 2, 3, "label", "NaN");
    }

    [Fact]
    public void ShortRow_NamesTheFirstMissingColumn()
    {
        var e = Fails(Header + "1,2,0\n1,2\n");
        AssertAt(e, 3, 3, "label", "2 field(s) where the header has 3");
    }

    [Fact]
    public void LongRow_WithoutHeader_NamesTheFirstExtraColumn()
    {
        var e = Fails("1,2,0\n1,2,3,4\n", new CsvOptions { HasHeader = false });
        AssertAt(e, 2, 4, null, "4 fields where the first row has 3");
    }

    [Fact]
    public void LineNumbers_CountSkippedEmptyLines()
    {
        // Line 1 header, 2 a row, 3 and 4 empty, 5 the bad row.
        var e = Fails(Header + "1,2,0\n\n\n1,x,0\n");
        AssertAt(e, 5, 2, "b", "'x'");
    }

    [Theory]
    [InlineData("1,\"2,0\n", "line break inside a quoted field")]   // the quote opened in column 2 never closes on its line
    [InlineData("1,2\"x,0\n", "quote inside an unquoted field")]
    [InlineData("1,\"2\"x,0\n", "text after the closing quote")]
    public void MalformedQuote_NamesLineAndColumn(string row, string fragment)
    {
        var e = Fails(Header + row);
        AssertAt(e, 2, 2, "b", "malformed CSV");
        Assert.Contains(fragment, e.Message);
    }

    [Theory]
    [InlineData("2", "0 or 1")]
    [InlineData("0.5", "0 or 1")]
    [InlineData("-1", "0 or 1")]
    public void BinaryLabel_OtherThan01_NamesTheCell(string label, string fragment)
    {
        var e = Fails(Header + $"1,2,1\n1,2,{label}\n", new CsvOptions { TargetKind = TargetKind.Binary });
        AssertAt(e, 3, 3, "label", fragment);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    public void MultiClassLabel_NotANaturalNumber_NamesTheCell(string label)
    {
        var e = Fails(Header + $"1,2,{label}\n", new CsvOptions { TargetKind = TargetKind.MultiClass });
        AssertAt(e, 2, 3, "label", "integer 0, 1, …, k − 1");
    }

    [Fact]
    public void MultiClassLabel_AtOrAboveClassCount_NamesTheCell()
    {
        var e = Fails(Header + "1,2,0\n1,2,3\n", new CsvOptions { TargetKind = TargetKind.MultiClass, ClassCount = 3 });
        AssertAt(e, 3, 3, "label", "0 to 2");
    }

    [Fact]
    public void BinaryClassNames_AThirdName_NamesTheCell()
    {
        var e = Fails(Header + "1,2,cat\n1,2,dog\n1,2,cow\n", new CsvOptions { TargetKind = TargetKind.Binary, ClassNames = ClassNameOrder.FirstAppearance });
        AssertAt(e, 4, 3, "label", "third class name 'cow'");
    }

    [Fact]
    public void TargetName_NotInHeader_ListsTheColumns()
    {
        var e = Fails(Header + "1,2,0\n", new CsvOptions { Target = "species" });
        Assert.Equal(1, e.Line);
        Assert.Contains("'a', 'b', 'label'", e.Message);
    }

    [Fact]
    public void TargetIndex_PastTheLastColumn_SaysHowManyThereAre()
    {
        var e = Fails("1,2,0\n", new CsvOptions { HasHeader = false, TargetIndex = 3 });
        Assert.Contains("3 column(s), 0 to 2", e.Message);
    }

    [Fact]
    public void TargetAlsoAFeature_IsRejected()
    {
        var e = Fails(Header + "1,2,0\n", new CsvOptions { FeatureIndices = [0, 2] });
        AssertAt(e, 1, 3, "label", "both the target and a feature");
    }

    [Theory]
    [InlineData("", true, "empty")]
    [InlineData("", false, "no rows")]
    [InlineData("a,b,label\n", true, "header but no rows")]
    [InlineData("\n\n", false, "no rows")]
    public void NoRows_IsAWholeFileError(string text, bool header, string fragment)
    {
        var e = Fails(text, new CsvOptions { HasHeader = header });
        Assert.Equal(0, e.Line);
        Assert.Equal(0, e.Column);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void InconsistentOptions_AreArgumentErrorsBeforeReading()
    {
        Assert.Throws<ArgumentException>(() => Table.ParseCsv("1,2\n", options: new CsvOptions { HasHeader = false, Target = "y" }));
        Assert.Throws<ArgumentException>(() => Table.ParseCsv("1,2\n", options: new CsvOptions { Target = "y", TargetIndex = 1 }));
        Assert.Throws<ArgumentException>(() => Table.ParseCsv("1,2\n", options: new CsvOptions { ClassNames = ClassNameOrder.Sorted }));
    }

    [Fact]
    public void LoadCsv_ReportsThePathItWasGiven()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gdad-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "x,y\n1,2\n3,\n");
        try
        {
            var e = Assert.Throws<DataFormatException>(() => Table.LoadCsv(path));
            Assert.Equal(path, e.File);
            Assert.StartsWith($"{path}, line 3, column 2 ('y'):", e.Message);
            Assert.Throws<DataFormatException>(() => LabeledData.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => Table.LoadCsv(path));
    }
}
