namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>What the loader reads: header or none, the target by name or index, the features, the target kinds.</summary>
public sealed class CsvLoaderTests
{
    private const string WithHeader = "height,weight,age\n1.5,60,30\n1.8,80.5,40\n";

    [Fact]
    public void Header_DefaultTarget_IsTheLastColumnAndTheRestAreFeatures()
    {
        var t = Table.ParseCsv(WithHeader);
        Assert.Equal(["height", "weight"], t.FeatureNames);
        Assert.Equal("age", t.TargetName);
        Assert.Equal(TargetKind.Regression, t.TargetKind);
        Assert.Equal([1.5, 60, 1.8, 80.5], t.Features.ToArray());
        Assert.Equal([30.0, 40], t.Targets.ToArray());
        Assert.Equal(0, t.ClassCount);
        Assert.Throws<InvalidOperationException>(() => t.Labels.Length);
    }

    [Fact]
    public void Header_TargetByName_FeaturesInFileOrder()
    {
        var t = Table.ParseCsv(WithHeader, options: new CsvOptions { Target = "weight" });
        Assert.Equal(["height", "age"], t.FeatureNames);
        Assert.Equal([1.5, 30, 1.8, 40], t.Features.ToArray());
        Assert.Equal([60, 80.5], t.Targets.ToArray());
    }

    [Fact]
    public void Header_FeaturesByName_InTheGivenOrder()
    {
        var t = Table.ParseCsv(WithHeader, options: new CsvOptions { Target = "height", Features = ["age", "weight"] });
        Assert.Equal(["age", "weight"], t.FeatureNames);
        Assert.Equal([30, 60, 40, 80.5], t.Features.ToArray());
    }

    [Fact]
    public void NoHeader_TargetByIndex_NamesAreXjAndY()
    {
        var t = Table.ParseCsv("1,2,3\n4,5,6\n", options: new CsvOptions { HasHeader = false, TargetIndex = 0 });
        Assert.Equal(["x2", "x3"], t.FeatureNames);
        Assert.Equal("y", t.TargetName);
        Assert.Equal([2.0, 3, 5, 6], t.Features.ToArray());
        Assert.Equal([1.0, 4], t.Targets.ToArray());
    }

    [Fact]
    public void NoHeader_FeatureIndices_SelectAndOrderColumns()
    {
        var t = Table.ParseCsv("1,2,3,9\n4,5,6,9\n", options: new CsvOptions { HasHeader = false, FeatureIndices = [2, 0] });
        Assert.Equal(["x3", "x1"], t.FeatureNames);
        Assert.Equal([3.0, 1, 6, 4], t.Features.ToArray());
        Assert.Equal([9.0, 9], t.Targets.ToArray());
    }

    [Fact]
    public void Numbers_InvariantCultureQuotedAndPadded_Parse()
    {
        var t = Table.ParseCsv("a;b\n \"1.25\" ; -2e-3 \n", options: new CsvOptions { Separator = ';' });
        Assert.Equal(1.25, t[0, 0]);
        Assert.Equal(-2e-3, t.Targets[0]);
    }

    [Fact]
    public void Binary_Labels01_GiveTwoClasses()
    {
        var t = Table.ParseCsv("x,y\n1,0\n2,1\n3,1.0\n", options: new CsvOptions { TargetKind = TargetKind.Binary });
        Assert.Equal(2, t.ClassCount);
        Assert.Equal([0, 1, 1], t.Labels.ToArray());
    }

    [Fact]
    public void MultiClass_NumericLabels_ClassCountIsOneMoreThanTheLargest()
    {
        var t = Table.ParseCsv("x,y\n1,0\n2,3\n3,1\n", options: new CsvOptions { TargetKind = TargetKind.MultiClass });
        Assert.Equal(4, t.ClassCount);
        Assert.Equal([0, 3, 1], t.Labels.ToArray());
        Assert.Null(t.ClassNames);
    }

    [Fact]
    public void MultiClass_ClassCountOption_IsKept()
    {
        var t = Table.ParseCsv("x,y\n1,0\n2,1\n", options: new CsvOptions { TargetKind = TargetKind.MultiClass, ClassCount = 5 });
        Assert.Equal(5, t.ClassCount);
    }

    [Fact]
    public void ClassNames_FirstAppearance_NumbersInFileOrder()
    {
        var t = Table.ParseCsv("x,kind\n1,pear\n2,apple\n3,pear\n4,fig\n",
            options: new CsvOptions { TargetKind = TargetKind.MultiClass, ClassNames = ClassNameOrder.FirstAppearance });
        Assert.Equal(["pear", "apple", "fig"], t.ClassNames);
        Assert.Equal([0, 1, 0, 2], t.Labels.ToArray());
        Assert.Equal(3, t.ClassCount);
    }

    [Fact]
    public void ClassNames_Sorted_NumbersInOrdinalOrder()
    {
        var t = Table.ParseCsv("x,kind\n1,pear\n2,apple\n3,pear\n4,fig\n",
            options: new CsvOptions { TargetKind = TargetKind.MultiClass, ClassNames = ClassNameOrder.Sorted });
        Assert.Equal(["apple", "fig", "pear"], t.ClassNames);
        Assert.Equal([2, 0, 2, 1], t.Labels.ToArray());
    }

    [Fact]
    public void ClassNames_Binary_TwoNamesBecome01()
    {
        var t = Table.ParseCsv("x,ok\n1,no\n2,yes\n", options: new CsvOptions { TargetKind = TargetKind.Binary, ClassNames = ClassNameOrder.Sorted });
        Assert.Equal([0.0, 1], t.Targets.ToArray());
        Assert.Equal(2, t.ClassCount);
    }

    [Fact]
    public void Create_ValidatesLabelsAndCopies()
    {
        double[] x = [1, 2, 3, 4];
        var t = Table.Create(x, 2, [0, 1], TargetKind.Binary);
        x[0] = 99;
        Assert.Equal(1, t[0, 0]);
        Assert.Throws<ArgumentException>(() => Table.Create([1, 2], 1, [0, 2], TargetKind.Binary));
        Assert.Throws<ArgumentException>(() => Table.Create([1, 2], 1, [0, 0.5], TargetKind.MultiClass));
        Assert.Throws<ArgumentException>(() => Table.Create([1, 2, 3], 2, [0, 1]));
    }

    [Fact]
    public void LabeledData_StillReadsTheAdmissionsSet()
    {
        var data = LabeledData.Admissions();
        Assert.Equal(100, data.Count);
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal([0.78051, -0.063669], data.Features[0]);
        Assert.Equal(1.0, data.Labels[0]);
        Assert.Equal(data.Features[99], data.FeatureMatrix()[198..200]);
    }
}
