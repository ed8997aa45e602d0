using FsCheck;
using FsCheck.Fluent;

namespace GradientDescent.Autodiff.Tests.Support;

/// <summary>FsCheck generators of well-scaled data: finite doubles in a range, vectors, matrices, labels.</summary>
/// <remarks>
/// FsCheck's default double generator produces NaN, ±∞ and huge magnitudes; the gradient laws are about finite,
/// moderate inputs, so every number here is drawn uniformly from a stated interval on a grid of 2·10⁶ points.
/// </remarks>
internal static class Gens
{
    public static Gen<double> Double(double lo, double hi) =>
        Gen.Choose(0, 2_000_000).Select(k => lo + (hi - lo) * (k / 2_000_000.0));

    /// <summary>A double in [lo, hi] at least <paramref name="margin"/> away from every point in <paramref name="kinks"/>.</summary>
    public static Gen<double> DoubleAwayFrom(double lo, double hi, double margin, params double[] kinks) =>
        Double(lo, hi).Where(x => kinks.All(k => Math.Abs(x - k) >= margin));

    public static Gen<double[]> Array(int length, double lo, double hi) => Double(lo, hi).ArrayOf(length);

    public static Gen<double[]> Array(int length, Gen<double> element) => element.ArrayOf(length);

    /// <summary>A vector of 1 to <paramref name="maxLength"/> elements.</summary>
    public static Gen<double[]> Vector(int maxLength, double lo, double hi) =>
        Gen.Choose(1, maxLength).SelectMany(n => Array(n, lo, hi));

    /// <summary>A matrix of 1 to <paramref name="maxRows"/> × 1 to <paramref name="maxCols"/>.</summary>
    public static Gen<double[,]> Matrix(int maxRows, int maxCols, double lo, double hi) =>
        from r in Gen.Choose(1, maxRows)
        from c in Gen.Choose(1, maxCols)
        from v in Array(r * c, lo, hi)
        select ToMatrix(v, r, c);

    public static Gen<double[]> Labels01(int length) => Gen.Elements(0.0, 1.0).ArrayOf(length);

    public static double[,] ToMatrix(double[] flat, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++) m[i, j] = flat[i * cols + j];
        }
        return m;
    }

    /// <summary>Runs an FsCheck property inside a plain [Fact] or [Theory] (used where a test is parameterised by an op).</summary>
    public static void Check(Property property, int maxTest = 100) =>
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTest), property);
}
