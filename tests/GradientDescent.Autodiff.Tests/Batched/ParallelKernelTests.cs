using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.Batched;

/// <summary>
/// Kernels split over the pool (issue 10 §1): the same values and gradients with 1 thread as with N, within rounding
/// (only sums may associate differently), and bit for bit the same for a fixed N, run after run.
/// </summary>
[Collection(nameof(ThreadCountCollection))]
public sealed class ParallelKernelTests : IDisposable
{
    private readonly int _saved = Parallelism.ThreadCount;

    public void Dispose() => Parallelism.ThreadCount = _saved;

    /// <summary>Long enough that every elementwise kernel splits (several grains of 2¹⁵), odd so the last range is ragged.</summary>
    private const int N = 3 * (1 << 15) + 5;

    /// <summary>
    /// A graph touching every split kernel: binary ops with same-shape and scalar operands, unary ops (vectorised and
    /// element-by-element rules), sum and mean, a matrix–vector product both ways, BCE with logits, and large
    /// parameters accumulated into Parameter.Grad.
    /// </summary>
    private static (double Loss, double[] Gradient) Run(int seed)
    {
        var rng = new Random(seed);
        double[] Uniform(int n, double lo, double hi) => [.. Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * rng.NextDouble())];
        const int Rows = 4_000, Cols = 50;
        double[] x = Uniform(N, -2, 2), m = Uniform(Rows * Cols, -1, 1), y = [.. Enumerable.Range(0, Rows).Select(_ => (double)rng.Next(2))];
        var a = new VectorParameter("a", Uniform(N, 0.5, 1.5));
        var b = new VectorParameter("b", Uniform(N, 0.5, 1.5));
        var w = new VectorParameter("w", Uniform(Cols, -0.5, 0.5));
        var s = new ScalarParameter("s", 0.3);
        var tape = new Tape();
        Vector av = tape.Use(a), bv = tape.Use(b), xv = tape.Constant(x);
        Scalar sv = tape.Use(s);
        Vector e1 = (av + bv) * xv - av / bv + sv * av;
        Vector e2 = Ops.Exp(0.1 * e1) + Ops.Relu(e1) + Ops.Tanh(bv - 1) + Ops.Sigmoid(xv * bv) + Ops.Log(av) + Ops.Sqrt(bv) - (-e1);
        Vector z = Ops.MatVec(tape.Constant(m, Rows, Cols), tape.Use(w)) + sv;
        Scalar loss = Ops.Mean(e2) + Ops.Sum(Ops.Square(av)) / N + Ops.Dot(av, bv) / N + Loss.BinaryCrossEntropyWithLogits(z, tape.Constant(y));
        loss.Backward();
        return (loss.Value, [.. a.Grad, .. b.Grad, .. w.Grad, s.Grad]);
    }

    [Fact]
    public void OneThread_AndN_AgreeWithinRounding_AndFixedNIsBitIdentical()
    {
        Parallelism.ThreadCount = 1;
        (double loss1, double[] g1) = Run(seed: 5);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            Parallelism.ThreadCount = threads;
            (double lossN, double[] gN) = Run(seed: 5);
            // Elementwise results are the same bits; sums (Σ, mean, Mᵀg, Σ of broadcast contributions) associate their
            // terms by range: a few ulps of the sum of |terms|, far below 1e-12 relative here.
            Approx.Equal(loss1, lossN, rel: 1e-12, what: $"loss, {threads} threads");
            Approx.Equal(g1, gN, rel: 1e-12, abs: 1e-15, what: $"gradient, {threads} threads");
            (double again, double[] gAgain) = Run(seed: 5);
            Assert.Equal(BitConverter.DoubleToInt64Bits(lossN), BitConverter.DoubleToInt64Bits(again));
            Assert.Equal(gN, gAgain);
        }
    }

    [Fact]
    public void TransposedMatVec_RowBlocksColumnTailsAndRanges_MatchesTheSumsAndRepeatsBitForBit()
    {
        // ∂L/∂w = Mᵀg of L = g·(M w): Mᵀg goes four rows at a time (each block read in order, then one update of the
        // sums per block), the rows left over one at a time, columns four at a time, then one; M of 4,001 × 50 splits
        // into ranges of rows on 2 and 3 threads, and M of 21,001 × 50 (over 2²⁰ elements) also reads each block in
        // order first. Each ∂L/∂wⱼ = Σᵢ gᵢMᵢⱼ against the sum in row order, within a few ulps of Σ|gᵢMᵢⱼ|, and bit for
        // bit the same when run again.
        var rng = new Random(29);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            Parallelism.ThreadCount = threads;
            foreach ((int rows, int cols) in new[] { (1, 4), (3, 5), (4, 4), (5, 8), (7, 13), (8, 3), (13, 100), (4_001, 50), (4_003, 33), (21_001, 50) })
            {
                double[] m = [.. Enumerable.Range(0, rows * cols).Select(_ => rng.NextDouble() * 2 - 1)];
                double[] g = [.. Enumerable.Range(0, rows).Select(_ => rng.NextDouble() * 2 - 1)];
                double[] Gradient()
                {
                    var w = new VectorParameter("w", new double[cols]);
                    var tape = new Tape();
                    Ops.Dot(Ops.MatVec(tape.Constant(m, rows, cols), tape.Use(w)), tape.Constant(g)).Backward();
                    return w.Grad;
                }
                double[] grad = Gradient();
                for (int j = 0; j < cols; j++)
                {
                    double sum = 0, scale = 0;
                    for (int i = 0; i < rows; i++)
                    {
                        sum += g[i] * m[i * cols + j];
                        scale += Math.Abs(g[i] * m[i * cols + j]);
                    }
                    Assert.True(Math.Abs(grad[j] - sum) <= 1e-14 * scale, $"{rows}×{cols}, {threads} threads: ∂L/∂w[{j}] = {grad[j]:R}, the sum {sum:R}");
                }
                Assert.Equal(grad, Gradient());
            }
        }
    }

    [Fact]
    public void RowTimesMatrix_GradientOfTheRow_SplitByRows_MatchesTheSumsAndRepeatsBitForBit()
    {
        // A row a [1×k] times M [k×n], twice (with two weightings c₁, c₂ of the product): the gradient of the row,
        // G Mᵀ for each product, is a matrix–vector product M g by rows of M, split over the pool for M of 3,001 × 50
        // and added into a's gradient (the second product's contribution adds to the first's). Each ∂L/∂aₚ =
        // Σⱼ Mₚⱼ(c₁ⱼ + c₂ⱼ) against the sum in column order, within a few ulps of its terms' magnitudes, and bit for bit
        // the same when run again.
        var rng = new Random(31);
        const int K = 3_001, Cols = 50;
        double[] Uniform(int n) => [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];
        double[] m = Uniform(K * Cols), c1 = Uniform(Cols), c2 = Uniform(Cols), a0 = Uniform(K);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            Parallelism.ThreadCount = threads;
            double[] Gradient()
            {
                var a = new VectorParameter("a", a0);
                var tape = new Tape();
                Matrix row = Ops.Reshape(tape.Use(a), 1, K), mm = tape.Constant(m, K, Cols);
                Scalar loss = Ops.Sum(Ops.Flatten(Ops.MatMul(row, mm)) * tape.Constant(c1))
                    + Ops.Sum(Ops.Flatten(Ops.MatMul(row, mm)) * tape.Constant(c2));
                loss.Backward();
                return a.Grad;
            }
            double[] grad = Gradient();
            for (int p = 0; p < K; p++)
            {
                double sum = 0, scale = 0;
                for (int j = 0; j < Cols; j++)
                {
                    sum += m[p * Cols + j] * (c1[j] + c2[j]);
                    scale += Math.Abs(m[p * Cols + j]) * (Math.Abs(c1[j]) + Math.Abs(c2[j]));
                }
                Assert.True(Math.Abs(grad[p] - sum) <= 1e-14 * scale, $"{threads} threads: ∂L/∂a[{p}] = {grad[p]:R}, the sum {sum:R}");
            }
            Assert.Equal(grad, Gradient());
        }
    }

    [Fact]
    public void SplitGradients_MatchCentralDifferences()
    {
        // The split kernels' gradient of a smaller copy of the graph's main terms, checked against differences of the
        // loss (which is computed by the same split kernels) in a few coordinates.
        Parallelism.ThreadCount = 2;
        var rng = new Random(11);
        double[] x = [.. Enumerable.Range(0, N).Select(_ => rng.NextDouble() * 2 - 1)];
        var a = new VectorParameter("a", [.. Enumerable.Range(0, N).Select(_ => 0.5 + rng.NextDouble())]);
        Scalar Loss(Tape t) => Ops.Mean(Ops.Exp(t.Use(a) * t.Constant(x)) + Ops.Sigmoid(t.Use(a)) * t.Use(a));
        var tape = new Tape();
        Loss(tape).Backward();
        foreach (int k in new[] { 0, 1, N / 3, N / 2 + 1, N - 1 })
        {
            double v = a.Value[k], h = 1e-3;
            a.Value[k] = v + h;
            var up = new Tape();
            double fUp = Loss(up).Value;
            a.Value[k] = v - h;
            var down = new Tape();
            double fDown = Loss(down).Value;
            a.Value[k] = v;
            // ∂/∂aₖ = (xₖe^(aₖxₖ) + σ(aₖ) + aₖσ(aₖ)(1 − σ(aₖ)))/N; differences of a sum of N terms carry its rounding / h.
            Approx.Equal(a.Grad[k], (fUp - fDown) / (2 * h), rel: 1e-6, abs: 1e-11, what: $"∂L/∂a[{k}]");
        }
    }

    [Fact]
    public void ExpOfALongVector_IsMathExpWithinTwoUlps_ExactOutsideTheNormalRange()
    {
        // The vector kernel (VectorMath.Exp, four at a time) against Math.Exp, element by element, over the whole
        // range, the edges where e^x leaves the normal doubles (computed by Math.Exp itself), NaN and ±∞.
        var rng = new Random(17);
        double[] x = [.. Enumerable.Range(0, N).Select(_ => -745 + 1455 * rng.NextDouble()),
            -745.2, -708.5, -708, 0, -0.0, 1e-300, 709, 709.7, 710, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        double[] y = Ops.Exp(new Tape().Constant(x)).Value;
        for (int k = 0; k < x.Length; k++)
        {
            double expected = Math.Exp(x[k]);
            if (x[k] is < -708 or > 709 || !double.IsFinite(x[k])) Assert.Equal(expected, y[k]);
            else Assert.True(Math.Abs(y[k] - expected) <= 2 * Math.BitIncrement(expected) - 2 * expected, $"exp({x[k]:R}) = {y[k]:R}, Math.Exp {expected:R}");
        }
    }

    [Fact]
    public void ReluOfALongVector_IsTheScalarRuleBitForBit()
    {
        // Four at a time: x where x > 0 or x is NaN, else +0 (−0 and −∞ give +0), exactly the scalar op's value.
        var rng = new Random(23);
        double[] x = [.. Enumerable.Range(0, 1001).Select(_ => rng.NextDouble() * 4 - 2), 0, -0.0, 1e-320, -1e-320, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        var tape = new Tape();
        double[] y = Ops.Relu(tape.Constant(x)).Value;
        for (int k = 0; k < x.Length; k++)
        {
            double expected = Ops.Relu(tape.Constant(x[k])).Value;
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(y[k]));
        }
    }

    [Theory]
    [InlineData(1, 4_097)]
    [InlineData(2, 3 * 4_096 + 3)]
    [InlineData(2, (1 << 19) + 9)]
    [InlineData(3, 100_003)]
    public void KernelsCalledInChunks_AreTheElementRulesBitForBit(int threads, int n)
    {
        // Elementwise kernels run in calls of 4,096 elements (and whole, for a write-only output above 2¹⁹ elements):
        // every element is still its own rule's value. y = a·b + a, L = Σ y: ∂L/∂a = b + 1, ∂L/∂b = a, added into
        // Parameter.Grad on top of what it holds (1 here), element by element the same numbers as scalar arithmetic.
        Parallelism.ThreadCount = threads;
        var rng = new Random(n);
        double[] a0 = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2)];
        double[] b0 = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2)];
        var a = new VectorParameter("a", a0);
        var b = new VectorParameter("b", b0);
        Array.Fill(a.Grad, 1.0);
        Array.Fill(b.Grad, 1.0);
        var tape = new Tape();
        Vector av = tape.Use(a);
        Vector y = av * tape.Use(b) + av;
        double[] values = y.Value;
        Ops.Sum(y).Backward();
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(a0[k] * b0[k] + a0[k]), BitConverter.DoubleToInt64Bits(values[k]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(1.0 + (b0[k] + 1.0)), BitConverter.DoubleToInt64Bits(a.Grad[k]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(1.0 + a0[k]), BitConverter.DoubleToInt64Bits(b.Grad[k]));
        }
    }
}
