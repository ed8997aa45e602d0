namespace GradientDescent.Autodiff.Datasets;

/// <summary>The small classic data sets embedded in this assembly (provenance and licences: <c>data/README.md</c>).</summary>
public static class SampleData
{
    /// <summary>
    /// Fisher's Iris data (1936), as corrected in the UCI Machine Learning Repository (CC BY 4.0): 150 rows, 4 features
    /// in centimetres (<c>sepal_length</c>, <c>sepal_width</c>, <c>petal_length</c>, <c>petal_width</c>) and the
    /// species as class 0 setosa, 1 versicolor, 2 virginica (first appearance; 50 rows each, in that order).
    /// </summary>
    public static Table Iris() => Embedded("iris.csv", new CsvOptions
    {
        Target = "species",
        TargetKind = TargetKind.MultiClass,
        ClassNames = ClassNameOrder.FirstAppearance,
    });

    /// <summary>
    /// The student-admissions set of the seed lesson: 100 rows, 2 features (<c>x1</c>, <c>x2</c>), a 0/1 label
    /// (udacity/deep-learning-v2-pytorch, MIT).
    /// </summary>
    public static Table Admissions() => Embedded("admissions.csv", new CsvOptions { HasHeader = false, TargetKind = TargetKind.Binary });

    private static Table Embedded(string name, CsvOptions options)
    {
        using Stream stream = typeof(SampleData).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"SampleData: the embedded {name} is missing from the assembly; rebuild the Datasets project.");
        return Table.ReadCsv(stream, "embedded " + name, options);
    }
}
