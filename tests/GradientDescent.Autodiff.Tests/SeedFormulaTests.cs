using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The seeds' hand derivations, checked against reverse mode.
/// </summary>
/// <remarks>
/// <para>Logistic regression (the seed): prediction ŷ = σ(W·x + b), error per point
/// E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], averaged over m points E = −(1/m) Σ [y ln ŷ + (1 − y) ln(1 − ŷ)].
/// With z = W·x + b: ∂E/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ) = (ŷ − y)/(ŷ(1 − ŷ)) and dŷ/dz = ŷ(1 − ŷ), so
/// ∂E/∂z = ŷ − y = −(y − ŷ), and by ∂z/∂wᵢ = xᵢ, ∂z/∂b = 1: ∇E = −(y − ŷ)(x₁, …, xₙ, 1) per point, and the mean
/// of those over m points.</para>
/// <para>Linear regression (the seed): h = w x + b, L = ½(h − y)², ∂L/∂w = (h − y)x, ∂L/∂b = h − y; with two
/// features h = w₁x₁ + w₂x₂ + b and J = (1/m) Σ ½(hᵢ − yᵢ)²: ∂J/∂w₁ = mean((h − y)x₁), ∂J/∂w₂ = mean((h − y)x₂),
/// ∂J/∂b = mean(h − y).</para>
/// <para>Tolerances: the autodiff result and the closed form compute the same real number through different
/// roundings (a handful of operations each), so they agree to a few units in the last place: 10⁻¹² relative
/// (10⁻¹⁴ absolute near zero) for values. Gradients of the logistic error get 10⁻¹⁰: they contain 1 − ŷ, whose
/// relative rounding grows like ε/(1 − ŷ) as ŷ → 1 (|z| ≤ 11 here, so 1 − ŷ ≥ 1.7·10⁻⁵). Both bounds are tight
/// enough that any missing factor or term fails by orders of magnitude.</para>
/// </remarks>
public class SeedFormulaTests
{
    private const double Rel = 1e-12, Abs = 1e-14;

    /// <summary>One labelled point: features x, label y ∈ {0, 1}, weights w and bias b.</summary>
    internal sealed record LogisticPoint(double[] X, double Y, double[] W, double B);

    private static readonly Gen<LogisticPoint> PointGen =
        from n in Gen.Choose(1, 5)
        from x in Gens.Array(n, -2, 2)
        from y in Gen.Elements(0.0, 1.0)
        from w in Gens.Array(n, -1, 1)
        from b in Gens.Double(-1, 1)
        select new LogisticPoint(x, y, w, b);

    /// <summary>m points with n features: the design matrix X (m×n, row-major), labels y, weights w and bias b.</summary>
    internal sealed record LogisticData(int M, int N, double[] X, double[] Y, double[] W, double B);

    private static readonly Gen<LogisticData> DataGen =
        from m in Gen.Choose(1, 8)
        from n in Gen.Choose(1, 5)
        from x in Gens.Array(m * n, -2, 2)
        from y in Gens.Labels01(m)
        from w in Gens.Array(n, -1, 1)
        from b in Gens.Double(-1, 1)
        select new LogisticData(m, n, x, y, w, b);

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }

    [Property(MaxTest = 200)]
    public Property LogisticError_SinglePoint_GradientIsMinusResidualTimesInput() =>
        Prop.ForAll(PointGen.ToArbitrary(), p =>
        {
            var w = new VectorParameter("w", p.W);
            var b = new ScalarParameter("b", p.B);
            var t = new Tape();
            // E = −[y ln ŷ + (1 − y) ln(1 − ŷ)] written out with the elementary ops, exactly as in the seed.
            Scalar yHat = Ops.Sigmoid(Ops.Dot(t.Use(w), t.Constant(p.X)) + t.Use(b));
            Scalar e = -(p.Y * Ops.Log(yHat) + (1 - p.Y) * Ops.Log(1 - yHat));
            e.Backward();

            double expectedYHat = Reference.Sigmoid(Dot(p.W, p.X) + p.B);
            Approx.Equal(expectedYHat, yHat.Value, Rel, Abs, "ŷ");
            for (int i = 0; i < p.X.Length; i++) Approx.Equal(-(p.Y - expectedYHat) * p.X[i], w.Grad[i], 1e-10, Abs, $"∂E/∂w{i}");
            Approx.Equal(-(p.Y - expectedYHat), b.Grad, 1e-10, Abs, "∂E/∂b");
        });

    [Property(MaxTest = 200)]
    public Property LogisticError_AveragedOverPoints_AllThreeFormulationsGiveTheSeedsGradient() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            // The seed's gradient: ∂E/∂wⱼ = −(1/m) Σᵢ (yᵢ − ŷᵢ) xᵢⱼ, ∂E/∂b = −(1/m) Σᵢ (yᵢ − ŷᵢ).
            var expectedW = new double[d.N];
            double expectedB = 0;
            for (int i = 0; i < d.M; i++)
            {
                double yHat = Reference.Sigmoid(Dot(d.W, d.X.AsSpan(i * d.N, d.N)) + d.B);
                for (int j = 0; j < d.N; j++) expectedW[j] -= (d.Y[i] - yHat) * d.X[i * d.N + j] / d.M;
                expectedB -= (d.Y[i] - yHat) / d.M;
            }

            // Three ways to write E: the seed's formula with elementary ops, BCE on probabilities, BCE on logits.
            Func<Tape, Vector, Vector, Scalar>[] losses =
            [
                (t, z, y) =>
                {
                    Vector yHat = Ops.Sigmoid(z);
                    return -Ops.Mean(y * Ops.Log(yHat) + (1.0 - y) * Ops.Log(1.0 - yHat));
                },
                (t, z, y) => Loss.BinaryCrossEntropy(Ops.Sigmoid(z), y),
                (t, z, y) => Loss.BinaryCrossEntropyWithLogits(z, y),
            ];
            double? firstLoss = null;
            foreach (var loss in losses)
            {
                var w = new VectorParameter("w", d.W);
                var b = new ScalarParameter("b", d.B);
                var t = new Tape();
                Vector z = Ops.MatVec(t.Constant(d.X, d.M, d.N), t.Use(w)) + t.Use(b);
                Scalar e = loss(t, z, t.Constant(d.Y));
                e.Backward();
                Approx.Equal(expectedW, w.Grad, 1e-10, Abs, "∂E/∂w");
                Approx.Equal(expectedB, b.Grad, 1e-10, Abs, "∂E/∂b");
                firstLoss ??= e.Value;
                Approx.Equal(firstLoss.Value, e.Value, 1e-12, Abs, "E");
            }
        });

    [Fact]
    public void LogisticError_SeedsPrintedExample_MatchesHandComputedGradient()
    {
        // A pinned point: x = (0.78051, −0.063669), y = 1, w = (0.1, −0.2), b = 0.05.
        // z = 0.078051 + 0.0127338 + 0.05 = 0.1407848, ŷ = σ(z) = 0.535137..., ∇E = −(1 − ŷ)(x₁, x₂, 1).
        var w = new VectorParameter("w", 0.1, -0.2);
        var b = new ScalarParameter("b", 0.05);
        var t = new Tape();
        Scalar yHat = Ops.Sigmoid(Ops.Dot(t.Use(w), t.Constant([0.78051, -0.063669])) + t.Use(b));
        Loss.BinaryCrossEntropy(yHat, 1.0).Backward();

        double z = 0.1 * 0.78051 + -0.2 * -0.063669 + 0.05;
        double p = 1 / (1 + Math.Exp(-z));
        Approx.Equal(0.1407848, z, 1e-15);
        Approx.Equal(0.535138, p, 1e-6, 0, "ŷ (printed to 6 digits)");
        Approx.Equal(-(1 - p) * 0.78051, w.Grad[0], Rel, Abs);
        Approx.Equal(-(1 - p) * -0.063669, w.Grad[1], Rel, Abs);
        Approx.Equal(-(1 - p), b.Grad, Rel, Abs);
    }

    /// <summary>One linear point (the seed's first model): feature x, target y, slope w and intercept b drawn at random.</summary>
    [Property(MaxTest = 200)]
    public Property HalfSquaredError_LinearPoint_GradientIsResidualTimesInput() =>
        Prop.ForAll(
            Gens.Double(-3, 3).ToArbitrary(), Gens.Double(-3, 3).ToArbitrary(), Gens.Double(-2, 2).Two().ToArbitrary(),
            (x, y, wb) =>
            {
                var w = new ScalarParameter("w", wb.Item1);
                var b = new ScalarParameter("b", wb.Item2);
                var t = new Tape();
                Scalar h = t.Use(w) * x + t.Use(b);
                Loss.HalfSquaredError(h, t.Constant(y)).Backward();
                double residual = wb.Item1 * x + wb.Item2 - y;
                Approx.Equal(residual * x, w.Grad, Rel, Abs, "∂L/∂w = (h − y)x");
                Approx.Equal(residual, b.Grad, Rel, Abs, "∂L/∂b = h − y");
            });

    /// <summary>m points with two features, as in the seed's code.</summary>
    internal sealed record LinearData(double[] X1, double[] X2, double[] Y, double W1, double W2, double B);

    private static readonly Gen<LinearData> LinearGen =
        from m in Gen.Choose(1, 10)
        from x1 in Gens.Array(m, -3, 3)
        from x2 in Gens.Array(m, -3, 3)
        from y in Gens.Array(m, -5, 5)
        from w in Gens.Double(-2, 2).Three()
        select new LinearData(x1, x2, y, w.Item1, w.Item2, w.Item3);

    [Property(MaxTest = 200)]
    public Property HalfMeanSquaredError_TwoFeatures_GradientsAreTheSeedsMeans() =>
        Prop.ForAll(LinearGen.ToArbitrary(), d =>
        {
            var w1 = new ScalarParameter("w1", d.W1);
            var w2 = new ScalarParameter("w2", d.W2);
            var b = new ScalarParameter("b", d.B);
            var t = new Tape();
            // h = w₁x₁ + w₂x₂ + b, a scalar broadcast over the m points; J = (1/m) Σ ½(h − y)².
            Vector h = t.Use(w1) * t.Constant(d.X1) + t.Use(w2) * t.Constant(d.X2) + t.Use(b);
            Scalar j = Loss.HalfMeanSquaredError(h, t.Constant(d.Y));
            j.Backward();

            int m = d.Y.Length;
            double dw1 = 0, dw2 = 0, db = 0, cost = 0;
            for (int i = 0; i < m; i++)
            {
                double r = d.W1 * d.X1[i] + d.W2 * d.X2[i] + d.B - d.Y[i];
                dw1 += r * d.X1[i] / m;
                dw2 += r * d.X2[i] / m;
                db += r / m;
                cost += 0.5 * r * r / m;
            }
            Approx.Equal(cost, j.Value, Rel, Abs, "J");
            Approx.Equal(dw1, w1.Grad, 1e-10, Abs, "∂J/∂w1 = mean((h − y)x1)");
            Approx.Equal(dw2, w2.Grad, 1e-10, Abs, "∂J/∂w2 = mean((h − y)x2)");
            Approx.Equal(db, b.Grad, 1e-10, Abs, "∂J/∂b = mean(h − y)");
        });

    [Property(MaxTest = 300)]
    public Property Sigmoid_Derivative_IsSigmaTimesOneMinusSigma() =>
        Prop.ForAll(Gens.Double(-30, 30).ToArbitrary(), x =>
        {
            var p = new ScalarParameter("x", x);
            var t = new Tape();
            Ops.Sigmoid(t.Use(p)).Backward();
            double s = Reference.Sigmoid(x);
            Approx.Equal(s * (1 - s), p.Grad, 1e-15, 1e-15, "σ'(x) = σ(x)(1 − σ(x))");
        });

    [Theory]
    [InlineData(2.0)]
    [InlineData(-2.0)]
    [InlineData(0.0)]
    [InlineData(5.0)]
    public void Sigmoid_SeedsPrintedDerivative_DisagreesWithAutodiff(double x)
    {
        // The seed prints σ'(x) = σ(x)(1 − x). That is not the derivative: the right one is σ(x)(1 − σ(x)).
        // At x = 2: σ(2)(1 − 2) = −0.8808 against σ'(2) = 0.1050, wrong even in sign. The two agree only where
        // σ(x) = x, at x ≈ 0.659 (the fixed point of σ), so every point tested here separates them.
        var p = new ScalarParameter("x", x);
        var t = new Tape();
        Scalar s = Ops.Sigmoid(t.Use(p));
        s.Backward();
        double autodiff = p.Grad;

        double sigma = Reference.Sigmoid(x);
        double seedsFormula = sigma * (1 - x);
        double correct = sigma * (1 - sigma);

        Assert.True(Math.Abs(seedsFormula - autodiff) > 0.05, $"σ(x)(1 − x) = {seedsFormula} should differ from σ'(x) = {autodiff}");
        Assert.True(Math.Abs(correct - autodiff) <= 1e-15, $"σ(x)(1 − σ(x)) = {correct} should equal σ'(x) = {autodiff}");
        // And the autodiff value is the true derivative: central difference of σ at x.
        double h = 1e-5;
        Approx.Equal((Reference.Sigmoid(x + h) - Reference.Sigmoid(x - h)) / (2 * h), autodiff, 1e-9, 1e-12, "central difference");
    }

    [Fact]
    public void Sigmoid_SeedsPrintedDerivativeAtTwo_IsOffByNearlyOne()
    {
        var p = new ScalarParameter("x", 2.0);
        var t = new Tape();
        Ops.Sigmoid(t.Use(p)).Backward();
        double sigma = Reference.Sigmoid(2.0);
        Approx.Equal(0.10499358540350662, p.Grad, 1e-15, 0, "σ'(2)");
        Approx.Equal(-0.8807970779778823, sigma * (1 - 2.0), 1e-15, 0, "σ(2)(1 − 2)");
        Assert.True(p.Grad - sigma * (1 - 2.0) > 0.98);
    }

    [Fact]
    public void Sgd_OneStep_IsTheSeedsUpdateRule()
    {
        // w ← w − α∇E, once per parameter element.
        var w = new VectorParameter("w", 0.5, -1.5);
        var b = new ScalarParameter("b", 0.25);
        var t = new Tape();
        Scalar yHat = Ops.Sigmoid(Ops.Dot(t.Use(w), t.Constant([1.0, 2.0])) + t.Use(b));
        Loss.BinaryCrossEntropy(yHat, 0.0).Backward();
        double[] gw = (double[])w.Grad.Clone();
        double gb = b.Grad;

        var sgd = new Sgd([w, b], learningRate: 0.1);
        sgd.Step();
        Assert.Equal(0.5 - 0.1 * gw[0], w.Value[0]);
        Assert.Equal(-1.5 - 0.1 * gw[1], w.Value[1]);
        Assert.Equal(0.25 - 0.1 * gb, b.Value);
        // ∂E/∂b = −(y − ŷ) = ŷ for y = 0.
        Approx.Equal(yHat.Value, gb, Rel, Abs);
        sgd.ZeroGrad();
        Assert.Equal([0.0, 0.0], w.Grad);
        Assert.Equal(0.0, b.Grad);
    }

    [Fact]
    public void Sgd_Training_DecreasesLogisticErrorOnSeparableData()
    {
        // The seed's loop: repeat { record E, backward, w ← w − α∇E, zero }; E must fall monotonically for a small α.
        double[] x = [-2, -1, -0.5, 0.5, 1, 2];
        double[] y = [0, 0, 0, 1, 1, 1];
        var w = new VectorParameter("w", 0.0);
        var b = new ScalarParameter("b", 0.0);
        var sgd = new Sgd([w, b], 0.5);
        var t = new Tape();
        double previous = double.PositiveInfinity;
        for (int epoch = 0; epoch < 50; epoch++)
        {
            t.Clear();
            Vector z = Ops.MatVec(t.Constant(x, 6, 1), t.Use(w)) + t.Use(b);
            Scalar e = Loss.BinaryCrossEntropyWithLogits(z, t.Constant(y));
            Assert.True(e.Value < previous, $"epoch {epoch}: E = {e.Value} did not fall below {previous}");
            previous = e.Value;
            e.Backward();
            sgd.Step();
            sgd.ZeroGrad();
        }
        Assert.True(previous < 0.2, $"E = {previous} after 50 epochs");
        Assert.True(w.Value[0] > 1);
    }
}
