using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff;

/// <summary>A two-dimensional array seen as its row-major elements: .NET stores <c>double[r, c]</c> exactly so.</summary>
internal static class RowMajor
{
    /// <summary>The elements of <paramref name="matrix"/>, row by row, without a copy (empty for an empty array).</summary>
    internal static Span<double> Of(double[,] matrix) =>
        matrix.Length == 0 ? Span<double>.Empty : MemoryMarshal.CreateSpan(ref matrix[0, 0], matrix.Length);
}
