using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The vectorised, pool-split kernels of the losses on inputs long enough to split (more than two ranges of 2¹⁵
/// elements) and with a tail that is not a multiple of four, against the scalar formulas element by element.
/// </summary>
public class LossKernelTests
{
    [Fact]
    public void BinaryCrossEntropyWithLogits_LongInput_MatchesElementFormulasAndRepeatsBitForBit()
    {
        // ℓ = (1/N) Σ [max(z, 0) − z·y + ln(1 + e^−|z|)], ∂ℓ/∂zₖ = (σ(zₖ) − yₖ)/N
        const int n = 100_003;
        var rng = new Random(3);
        double[] z = [.. Enumerable.Range(0, n).Select(k => k % 1000 == 0 ? (k % 2000 == 0 ? 1000.0 : -1000.0) : (rng.NextDouble() * 2 - 1) * 40)];
        double[] y = [.. Enumerable.Range(0, n).Select(k => (k % 3) switch { 0 => 0.0, 1 => 1.0, _ => 0.3 })];
        (double loss, double[] grad) = Run(z, y);
        double expected = 0;
        for (int k = 0; k < n; k++) expected += BinaryCrossEntropyOps.OnLogit(z[k], y[k]);
        Approx.Equal(expected / n, loss, 1e-13, 0, "ℓ");
        // σ(z) − y cancels where σ(z) ≈ y: a few ulps of σ (at most 1) over N, absolutely.
        for (int k = 0; k < n; k++) Approx.Equal((Elementwise.Sigmoid(z[k]) - y[k]) / n, grad[k], 1e-14, 4 * Math.Pow(2, -52) / n, $"∂ℓ/∂z[{k}]");
        (double again, double[] gradAgain) = Run(z, y);
        Assert.Equal(loss, again);
        Assert.Equal(grad, gradAgain);

        static (double Loss, double[] Grad) Run(double[] z, double[] y)
        {
            var pz = new VectorParameter("z", z);
            var t = new Tape();
            Scalar l = Loss.BinaryCrossEntropyWithLogits(t.Use(pz), y);
            l.Backward();
            return (l.Value, pz.Grad);
        }
    }

    [Fact]
    public void SoftmaxCrossEntropy_ManyRows_GradientIsSoftmaxMinusOneHotOverB()
    {
        // ∂ℓ/∂xᵢₖ = (softmax(xᵢ)ₖ − [k = cᵢ])/B, rows of 7 classes (one vector of four and a tail of three)
        const int rows = 9000, cols = 7;
        var rng = new Random(4);
        double[] x = [.. Enumerable.Range(0, rows * cols).Select(_ => (rng.NextDouble() * 2 - 1) * 30)];
        int[] labels = [.. Enumerable.Range(0, rows).Select(r => r % cols)];
        var px = MatrixParameter.FromRowMajor("X", rows, cols, x);
        var t = new Tape();
        Scalar l = Loss.SoftmaxCrossEntropy(t.Use(px), labels);
        l.Backward();
        double expectedLoss = 0;
        for (int r = 0; r < rows; r++)
        {
            double m = x.Skip(r * cols).Take(cols).Max(), s = 0;
            for (int k = 0; k < cols; k++) s += Math.Exp(x[r * cols + k] - m);
            expectedLoss += Math.Log(s) - (x[r * cols + labels[r]] - m);
            for (int k = 0; k < cols; k++)
            {
                double softmax = Math.Exp(x[r * cols + k] - m) / s;
                // softmax − 1 cancels for a confident row: a few ulps of 1 over B, absolutely.
                Approx.Equal((softmax - (k == labels[r] ? 1 : 0)) / rows, px.Grad[r * cols + k], 1e-13, 4 * Math.Pow(2, -52) / rows, $"∂ℓ/∂x[{r},{k}]");
            }
        }
        Approx.Equal(expectedLoss / rows, l.Value, 1e-13, 0, "ℓ");
    }
}
