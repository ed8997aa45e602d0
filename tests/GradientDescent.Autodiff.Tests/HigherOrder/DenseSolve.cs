namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>The small dense solver Newton's method needs in the higher-order tests (one copy for all of them).</summary>
internal static class DenseSolve
{
    /// <summary>H s = g for a small dense H, by Gaussian elimination with partial pivoting.</summary>
    internal static double[] Solve(double[,] h, double[] g)
    {
        int n = g.Length;
        var a = (double[,])h.Clone();
        var s = (double[])g.Clone();
        for (int col = 0; col < n; col++)
        {
            int pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(a[r, col]));
            for (int c = 0; c < n; c++) (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            (s[col], s[pivot]) = (s[pivot], s[col]);
            for (int r = col + 1; r < n; r++)
            {
                double f = a[r, col] / a[col, col];
                for (int c = col; c < n; c++) a[r, c] -= f * a[col, c];
                s[r] -= f * s[col];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            for (int c = r + 1; c < n; c++) s[r] -= a[r, c] * s[c];
            s[r] /= a[r, r];
        }
        return s;
    }
}
