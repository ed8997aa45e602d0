using System.Globalization;

namespace GradientDescent.Autodiff.Tests.Support;

/// <summary>
/// Floating-point assertions: a value passes when |expected − actual| ≤ abs or
/// |expected − actual| ≤ rel·max(|expected|, |actual|) — the same rule as <see cref="GradientCheck"/>.
/// </summary>
internal static class Approx
{
    public static bool Within(double expected, double actual, double rel, double abs)
    {
        if (expected.Equals(actual)) return true; // also ∞ = ∞
        double d = Math.Abs(expected - actual);
        return d <= abs || d <= rel * Math.Max(Math.Abs(expected), Math.Abs(actual));
    }

    public static void Equal(double expected, double actual, double rel = 1e-12, double abs = 1e-15, string? what = null)
    {
        if (!Within(expected, actual, rel, abs))
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what ?? "value"}: expected {expected:R}, got {actual:R} (|Δ| = {Math.Abs(expected - actual):E3}; rel {rel:E1}, abs {abs:E1})"));
        }
    }

    public static void Equal(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double rel = 1e-12, double abs = 1e-15, string? what = null)
    {
        Assert.True(expected.Length == actual.Length, $"{what ?? "array"}: expected {expected.Length} elements, got {actual.Length}");
        for (int k = 0; k < expected.Length; k++) Equal(expected[k], actual[k], rel, abs, $"{what ?? "array"}[{k}]");
    }

    public static void Equal(double[,] expected, double[,] actual, double rel = 1e-12, double abs = 1e-15, string? what = null)
    {
        Assert.Equal(expected.GetLength(0), actual.GetLength(0));
        Assert.Equal(expected.GetLength(1), actual.GetLength(1));
        Equal(Flat(expected), Flat(actual), rel, abs, what);
    }

    /// <summary>Every element finite (no NaN, no ±∞).</summary>
    public static void Finite(ReadOnlySpan<double> values, string what)
    {
        for (int k = 0; k < values.Length; k++) Assert.True(double.IsFinite(values[k]), $"{what}[{k}] = {values[k]} is not finite");
    }

    public static double[] Flat(double[,] m)
    {
        var flat = new double[m.Length];
        int k = 0;
        foreach (double v in m) flat[k++] = v;
        return flat;
    }
}

/// <summary>Reference implementations written independently of the core, straight from the formulas.</summary>
internal static class Reference
{
    /// <summary>σ(x) = 1/(1 + e^−x), in the overflow-free form (e^x/(1 + e^x) for x &lt; 0).</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>ln(1 + u), accurate for tiny u (where 1 + u rounds to 1): u·ln(w)/(w − 1) with w = 1 + u (Goldberg).</summary>
    public static double Log1P(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    /// <summary>softplus x = ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|), accurate to the last digits for every x.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x)));

    /// <summary>Softmax of a row: e^(xₖ − m)/Σ e^(x − m).</summary>
    public static double[] Softmax(ReadOnlySpan<double> x)
    {
        double m = double.NegativeInfinity;
        foreach (double v in x) m = Math.Max(m, v);
        var y = new double[x.Length];
        double s = 0;
        for (int k = 0; k < x.Length; k++) s += y[k] = Math.Exp(x[k] - m);
        for (int k = 0; k < x.Length; k++) y[k] /= s;
        return y;
    }

    /// <summary>ln Σ e^x = m + ln Σ e^(x − m).</summary>
    public static double LogSumExp(ReadOnlySpan<double> x)
    {
        double m = double.NegativeInfinity;
        foreach (double v in x) m = Math.Max(m, v);
        double s = 0;
        foreach (double v in x) s += Math.Exp(v - m);
        return m + Math.Log(s);
    }
}
