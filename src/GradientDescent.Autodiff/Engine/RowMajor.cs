using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff;

/// <summary>A two-dimensional array seen as its row-major elements: .NET stores <c>double[r, c]</c> exactly so.</summary>
internal static class RowMajor
{
    /// <summary>The elements of <paramref name="matrix"/>, row by row, without a copy (empty for an empty array).</summary>
    internal static Span<double> Of(double[,] matrix) =>
        matrix.Length == 0 ? Span<double>.Empty : MemoryMarshal.CreateSpan(ref matrix[0, 0], matrix.Length);

    /// <summary>A <paramref name="rows"/> × <paramref name="cols"/> array holding the row-major <paramref name="values"/>.</summary>
    internal static double[,] ToArray2D(ReadOnlySpan<double> values, int rows, int cols)
    {
        var result = new double[rows, cols];
        values.CopyTo(Of(result));
        return result;
    }
}
