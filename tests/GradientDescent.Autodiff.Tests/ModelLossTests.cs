using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The fused model losses (Ops/ModelLosses.cs) against the graphs they replace, composed of ops:
/// LinearRegression = ½·mean((Xw + b − y)²) = HalfMeanSquaredError(MatVec(X, w) + b, y),
/// LogisticRegression = BinaryCrossEntropyWithLogits(MatVec(X, w) + b, y),
/// SoftmaxRegression = SoftmaxCrossEntropy(MatMul(X, W) + b, labels);
/// values and every gradient (X, w, b and the linear loss's y), first and second order and forward mode, against
/// central differences and the seed's hand formulas; their errors.
/// </summary>
/// <remarks>
/// Tolerance against the composed graph: 10⁻¹² relative for the value and 10⁻¹⁰ relative (10⁻¹³ absolute, for
/// elements that are sums cancelling to about zero) for gradients. The two compute the same sums in another order
/// (per row r·x accumulated, then ÷n, against ÷n first and a transposed product), so they differ by rounding, a few
/// ulps per term; a wrong rule (a lost 1/n, a transposed W, a missing bias sum) is off by O(1).
/// </remarks>
// Sets Parallelism.ThreadCount (process-wide): runs alone, with the worker pool's tests (Batched/WorkerPoolTests.cs).
[Collection(nameof(Batched.ThreadCountCollection))]
public sealed class ModelLossTests
{
    public enum Kind { Linear, Logistic, Softmax }

    /// <summary>One problem: X [n × d], W [d × k] (k = 1 for the linear and logistic losses: w), b [k], y or labels.</summary>
    public sealed record Problem(Kind Kind, int N, int D, int K, double[] X, double[] W, double[] B, double[] Y, int[] Labels)
    {
        public static Problem Random(Kind kind, int n, int d, int k, int seed, double biasShift = 0)
        {
            var rng = new System.Random(seed);
            double U() => 2 * rng.NextDouble() - 1;
            if (kind != Kind.Softmax) k = 1;
            double[] x = [.. Enumerable.Range(0, n * d).Select(_ => U())];
            double[] w = [.. Enumerable.Range(0, d * k).Select(_ => U())];
            double[] b = [.. Enumerable.Range(0, k).Select(c => 0.3 * U() + (c % 2 == 0 ? biasShift : -biasShift))];
            double[] y = kind == Kind.Logistic
                ? [.. Enumerable.Range(0, n).Select(i => i % 3 == 0 ? rng.NextDouble() : Math.Round(rng.NextDouble()))]
                : [.. Enumerable.Range(0, n).Select(_ => 2 * U())];
            int[] labels = [.. Enumerable.Range(0, n).Select(_ => rng.Next(k))];
            return new Problem(kind, n, d, k, x, w, b, y, labels);
        }
    }

    /// <summary>Parameters for every input that can take a gradient: X, w or W, b, and y for the linear loss.</summary>
    private sealed class Inputs
    {
        public Inputs(Problem p)
        {
            P = p;
            X = MatrixParameter.FromRowMajor("X", p.N, p.D, (double[])p.X.Clone());
            if (p.Kind == Kind.Softmax)
            {
                WMatrix = MatrixParameter.FromRowMajor("W", p.D, p.K, (double[])p.W.Clone());
                BVector = new VectorParameter("b", (double[])p.B.Clone());
            }
            else
            {
                WVector = new VectorParameter("w", (double[])p.W.Clone());
                BScalar = new ScalarParameter("b", p.B[0]);
            }
            if (p.Kind == Kind.Linear) Y = new VectorParameter("y", (double[])p.Y.Clone());
        }

        public Problem P { get; }
        public MatrixParameter X { get; }
        public VectorParameter? WVector { get; }
        public MatrixParameter? WMatrix { get; }
        public ScalarParameter? BScalar { get; }
        public VectorParameter? BVector { get; }
        public VectorParameter? Y { get; }

        public Parameter[] All => [.. new Parameter?[] { X, WVector, WMatrix, BScalar, BVector, Y }.OfType<Parameter>()];

        /// <summary>The loss, fused or composed of ops; <paramref name="dataX"/> records X as a constant instead of a parameter.</summary>
        public Scalar Loss(Tape t, bool fused, bool dataX = false)
        {
            Matrix x = dataX ? t.Constant(P.X, P.N, P.D) : t.Use(X);
            switch (P.Kind)
            {
                case Kind.Softmax:
                {
                    Matrix w = t.Use(WMatrix!);
                    Vector b = t.Use(BVector!);
                    return fused
                        ? Autodiff.Loss.SoftmaxRegression(x, w, b, P.Labels)
                        : Autodiff.Loss.SoftmaxCrossEntropy(Ops.MatMul(x, w) + b, P.Labels);
                }
                case Kind.Logistic:
                {
                    Vector w = t.Use(WVector!);
                    Scalar b = t.Use(BScalar!);
                    return fused
                        ? Autodiff.Loss.LogisticRegression(x, w, b, P.Y)
                        : Autodiff.Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(x, w) + b, P.Y);
                }
                default:
                {
                    Vector w = t.Use(WVector!);
                    Scalar b = t.Use(BScalar!);
                    Vector y = t.Use(Y!);
                    return fused
                        ? Autodiff.Loss.LinearRegression(x, w, b, y)
                        : Autodiff.Loss.HalfMeanSquaredError(Ops.MatVec(x, w) + b, y);
                }
            }
        }

        /// <summary>The loss value and every parameter's gradient after one backward pass.</summary>
        public (double Value, double[][] Grads) Run(bool fused, bool dataX = false)
        {
            foreach (var p in All) p.ZeroGrad();
            var t = new Tape();
            Scalar loss = Loss(t, fused, dataX);
            double value = loss.Value;
            loss.Backward();
            return (value, [.. All.Select(p => (double[])p.Grad.Clone())]);
        }
    }

    private static void AssertSame((double Value, double[][] Grads) expected, (double Value, double[][] Grads) actual, Inputs inputs, string what)
    {
        Approx.Equal(expected.Value, actual.Value, 1e-12, 1e-15, $"{what}: loss");
        for (int k = 0; k < expected.Grads.Length; k++)
        {
            Approx.Equal(expected.Grads[k], actual.Grads[k], 1e-10, 1e-13, $"{what}: ∂L/∂{inputs.All[k].Name}");
        }
    }

    /// <summary>
    /// The fused loss, run twice: the first run equals <paramref name="composed"/> to rounding (<see cref="AssertSame"/>),
    /// the second repeats it bit for bit.
    /// </summary>
    private static void AssertFusedMatchesAndRepeats((double Value, double[][] Grads) composed, Inputs inputs, string what)
    {
        var first = inputs.Run(fused: true);
        AssertSame(composed, first, inputs, what);
        var second = inputs.Run(fused: true);
        Assert.Equal(first.Value, second.Value);
        for (int g = 0; g < first.Grads.Length; g++) Assert.Equal(first.Grads[g], second.Grads[g]);
    }

    private static Gen<Problem> Problems(bool extreme) =>
        from kind in Gen.Elements(Kind.Linear, Kind.Logistic, Kind.Softmax)
        from n in Gen.Choose(1, 40)
        from d in Gen.Choose(1, 7)
        from k in Gen.Choose(2, 5)
        from seed in Gen.Choose(0, int.MaxValue)
        select Problem.Random(kind, n, d, k, seed,
            biasShift: !extreme ? 0 : kind == Kind.Logistic ? 1e3 : kind == Kind.Softmax ? 1e4 : 0);

    [Property(MaxTest = 200)]
    public Property ModelLoss_RandomShapes_MatchesComposedGraphInValueAndEveryGradient() =>
        Prop.ForAll(Problems(extreme: false).ToArbitrary(), p =>
        {
            var inputs = new Inputs(p);
            AssertSame(inputs.Run(fused: false), inputs.Run(fused: true), inputs, $"{p.Kind} n={p.N} d={p.D} k={p.K}");
        });

    [Property(MaxTest = 100)]
    public Property ModelLoss_ExtremeLogits_MatchesComposedGraphAndStaysFinite() =>
        Prop.ForAll(Problems(extreme: true).ToArbitrary(), p =>
        {
            // Logits near ±10³ (logistic) and ±10⁴ (softmax): σ(z) and softmax saturate, e^z would overflow; the
            // stable forms give the composed graph's numbers, all finite.
            var inputs = new Inputs(p);
            var fused = inputs.Run(fused: true);
            Assert.True(double.IsFinite(fused.Value), $"{p.Kind}: loss {fused.Value}");
            foreach (double[] g in fused.Grads) Approx.Finite(g, $"{p.Kind} gradient");
            AssertSame(inputs.Run(fused: false), fused, inputs, $"{p.Kind} n={p.N} d={p.D} k={p.K} extreme");
        });

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_ManyRowsOnOneTwoAndThreeThreads_MatchesComposedGraphAndRepeatsBitForBit(Kind kind)
    {
        // n·d·k ≥ 2¹⁷ multiply-adds: the rows are split into ranges, one per thread, with partial sums added in
        // range order, so a repeat with the same thread count gives the same bits, and any count the same numbers
        // as the composed graph to rounding.
        var p = Problem.Random(kind, n: 6000, d: 24, k: 3, seed: 11);
        var inputs = new Inputs(p);
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 1;
            var composed = inputs.Run(fused: false);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Parallelism.ThreadCount = threads;
                AssertFusedMatchesAndRepeats(composed, inputs, $"{kind}, {threads} threads");
                // X as data: only the parameters' gradients, from the one pass.
                var data = inputs.Run(fused: true, dataX: true);
                var dataComposed = inputs.Run(fused: false, dataX: true);
                AssertSame(dataComposed, data, inputs, $"{kind}, {threads} threads, X constant");
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_XThatStreams_SeveralRangesAThread_MatchesComposedGraphAndRepeatsBitForBit(Kind kind)
    {
        // X of 42,000 × 100 (33.6 MB, at least StreamingBytes): RangesPerThread ranges a thread, taken as threads come free;
        // below that size, one a thread. The same numbers as the composed graph to rounding, the same bits on repeat.
        const int N = 42_000, D = 100;
        int k = kind == Kind.Softmax ? 3 : 1;
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 1;
            Assert.Equal(1, ModelLosses.Ranges(N, D, k));
            Parallelism.ThreadCount = 2;
            Assert.Equal(2 * ModelLosses.RangesPerThread, ModelLosses.Ranges(N, D, k));
            Assert.Equal(2, ModelLosses.Ranges(N / 2, D, k));
            // Each range keeps at least 16·k rows: 64 rows of 100,000 columns (51.2 MB) give 4 ranges of 16, not 32.
            Assert.Equal(4, ModelLosses.Ranges(64, 100_000, 1));
            Parallelism.ThreadCount = 3;
            Assert.Equal(3 * ModelLosses.RangesPerThread, ModelLosses.Ranges(N, D, k));

            var inputs = new Inputs(Problem.Random(kind, N, D, k, seed: 3));
            Parallelism.ThreadCount = 1;
            var composed = inputs.Run(fused: false);
            Parallelism.ThreadCount = 2;
            AssertFusedMatchesAndRepeats(composed, inputs, $"{kind}, X of {N} × {D}, 2 threads");
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    public static TheoryData<Kind, int> BlockEdgeCases()
    {
        var cases = new TheoryData<Kind, int>();
        foreach (Kind kind in new[] { Kind.Linear, Kind.Logistic })
        {
            foreach (int d in new[] { 1, 3, 5, 7, 9, 100, 101 }) cases.Add(kind, d);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(BlockEdgeCases))]
    public void ModelLoss_RowsAndColumnsAcrossBlockEdges_MatchesComposedGraph(Kind kind, int d)
    {
        // The k = 1 kernel takes rows four at a time and columns a vector (4 or 8) at a time: n = 1…9 and 13 rows
        // leave 0–3 rows over, d = 1…101 leaves 0–7 columns over (d = 1, 3: no full vector at all). Every split must
        // give the composed graph's loss and gradients (w, b, X, and y for the linear loss).
        foreach (int n in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 13 })
        {
            var inputs = new Inputs(Problem.Random(kind, n, d, k: 1, seed: 100 * n + d));
            AssertSame(inputs.Run(fused: false), inputs.Run(fused: true), inputs, $"{kind} n={n} d={d}");
            AssertSame(inputs.Run(fused: false, dataX: true), inputs.Run(fused: true, dataX: true), inputs, $"{kind} n={n} d={d}, X constant");
        }
    }

    [Fact]
    public void SoftmaxRegression_ClassesAndColumnsAcrossVectorEdges_MatchesComposedGraph()
    {
        // The softmax kernel takes classes four at a time (the dot products and the gradient's rows) and columns
        // eight, then four, then one at a time: k = 1…10 leaves 0–3 classes over, d = 1…100 every column remainder.
        // Each split must give the composed graph's loss and gradients (W, b and X).
        foreach (int k in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 10 })
        {
            foreach (int d in new[] { 1, 3, 4, 5, 8, 9, 12, 17, 100 })
            {
                var inputs = new Inputs(Problem.Random(Kind.Softmax, n: 13, d, k, seed: 100 * k + d));
                AssertSame(inputs.Run(fused: false), inputs.Run(fused: true), inputs, $"softmax k={k} d={d}");
            }
        }
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_RangesOfOneToThreeRows_MatchesComposedGraphAndRepeatsBitForBit(Kind kind)
    {
        // n·d·k ≥ 3·2¹⁵ multiply-adds on 3 threads: 3 ranges. n = 5 splits as 1, 2, 2 rows and n = 7 as 2, 2, 3: no
        // range holds a full block of four, so every row takes the rows-left-over path; n = 11 gives 3, 4, 4 and
        // n = 13 gives 4, 4, 5. The softmax loss takes 3 classes (its ∂L/∂Wᵀ goes four rows at a time too).
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 3;
            int classes = kind == Kind.Softmax ? 3 : 1;
            foreach (int n in new[] { 5, 7, 11, 13 })
            {
                var inputs = new Inputs(Problem.Random(kind, n, d: 20_003 / classes, classes, seed: n));
                var composed = inputs.Run(fused: false);
                AssertFusedMatchesAndRepeats(composed, inputs, $"{kind} n={n}, 3 threads");
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(OpKind.LinearRegressionLoss)]
    [InlineData(OpKind.LogisticRegressionLoss)]
    public unsafe void LinearRange_XAndSumsAnywhereInMemory_WithAndWithoutLinePrefetches_SameBitsAsAtALineStart(OpKind op)
    {
        // The kernel starts ∂L/∂w's vector sums where X's rows meet a vector boundary (when d is a multiple of the
        // width), so its loads and stores do not straddle cache lines; the sums must not depend on it. X and Σ r·x at
        // every 8-byte offset from a 64-byte line, at 4 and 8 lanes, for widths that are and are not multiples of the
        // vector: loss, Σr and Σ r·x bit for bit as with both at a line's start. Rows [1, 10) leave rows over at
        // both ends of the blocks of four. Half of the placements run with every line prefetched ahead (as for an X
        // that streams from memory), which must not change a bit either.
        const int N = 13;
        foreach (int d in new[] { 4, 8, 13, 16, 100 })
        {
            var rng = new System.Random(d);
            double[] w = [.. Enumerable.Range(0, d).Select(_ => rng.NextDouble() - 0.5)];
            double[] values = [.. Enumerable.Range(0, N * d).Select(_ => 2 * rng.NextDouble() - 1)];
            double[] y = [.. Enumerable.Range(0, N).Select(i => op == OpKind.LogisticRegressionLoss ? i % 2 : rng.NextDouble())];
            double[] xBuffer = GC.AllocateArray<double>(N * d + 16, pinned: true), gBuffer = GC.AllocateArray<double>(d + 16, pinned: true);
            fixed (double* px = xBuffer, pg = gBuffer, pw = w, py = y)
            {
                double* xLine = (double*)(((nint)px + 63) & ~(nint)63), gLine = (double*)(((nint)pg + 63) & ~(nint)63), wp = pw, yp = py;
                foreach (int lanes in new[] { 4, 8 })
                {
                    foreach (var (first, last) in new[] { (0, N), (1, 10) })
                    {
                        (double Loss, double SumR, double[] Gw) Run(int xOffset, int gOffset, bool prefetchLines)
                        {
                            double* x = xLine + xOffset, g = gLine + gOffset;
                            values.CopyTo(new Span<double>(x, N * d));
                            new Span<double>(g, d).Clear();
                            double loss = ModelLosses.LinearRange(op, x, wp, 0.25, yp, d, first, last, g, null, lanes, prefetchLines, out double sumR);
                            return (loss, sumR, new Span<double>(g, d).ToArray());
                        }
                        var atLine = Run(0, 0, prefetchLines: false);
                        for (int xOffset = 0; xOffset < 8; xOffset++)
                        {
                            for (int gOffset = 0; gOffset < 8; gOffset++)
                            {
                                bool lines = (xOffset + gOffset) % 2 == 1;
                                var moved = Run(xOffset, gOffset, lines);
                                string what = $"{op} d={d} {lanes} lanes rows [{first}, {last}), X +{xOffset} and Σ r·x +{gOffset} doubles from a line, line prefetches {lines}";
                                Assert.True(atLine.Loss.Equals(moved.Loss), $"{what}: Σℓ {moved.Loss:R}, at the line {atLine.Loss:R}");
                                Assert.True(atLine.SumR.Equals(moved.SumR), $"{what}: Σr {moved.SumR:R}, at the line {atLine.SumR:R}");
                                Assert.Equal(atLine.Gw, moved.Gw);
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    public unsafe void ModelLoss_XArraysAtDifferentAlignments_SameBitsOnOneAndTwoThreads(Kind kind)
    {
        // The same X in arrays that start at different places within a 32-byte span (pinned, so that they stay
        // there): the fused loss moves each range's Σ r·x to lie as X's rows do and back; the value and every gradient
        // must come out bit for bit the same, and as the composed graph's to rounding. n·d = 1,000·96 multiply-adds
        // split into two ranges on two threads (at least 2 × 2¹⁵), whose blocks of partial sums lie at different
        // places within a line.
        const int N = 1000, D = 96;
        var problem = Problem.Random(kind, N, D, k: 1, seed: 7);
        var arrays = new List<double[]>();
        var seen = new HashSet<long>();
        var keep = new List<double[]>();
        for (int k = 0; k < 32 && seen.Count < 4; k++)
        {
            keep.Add(GC.AllocateArray<double>(1 + k % 5, pinned: true));
            double[] x = GC.AllocateArray<double>(N * D, pinned: true);
            problem.X.CopyTo(x, 0);
            fixed (double* p = x)
            {
                if (seen.Add((nint)p & 31)) arrays.Add(x);
            }
        }
        Assert.True(seen.Count >= 3, $"pinned arrays fell at {seen.Count} place(s) within 32 bytes; the test needs at least 3");
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.ThreadCount = threads;
                (double Value, double[] W, double B) Run(double[] x, bool fused)
                {
                    var w = new VectorParameter("w", (double[])problem.W.Clone());
                    var b = new ScalarParameter("b", problem.B[0]);
                    var t = new Tape();
                    Matrix xm = t.Constant(x, N, D);
                    Scalar loss = kind == Kind.Linear
                        ? (fused ? Autodiff.Loss.LinearRegression(xm, t.Use(w), t.Use(b), problem.Y) : Autodiff.Loss.HalfMeanSquaredError(Ops.MatVec(xm, t.Use(w)) + t.Use(b), t.Constant(problem.Y)))
                        : (fused ? Autodiff.Loss.LogisticRegression(xm, t.Use(w), t.Use(b), problem.Y) : Autodiff.Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(xm, t.Use(w)) + t.Use(b), problem.Y));
                    double value = loss.Value;
                    loss.Backward();
                    return (value, (double[])w.Grad.Clone(), b.Grad);
                }
                var first = Run(arrays[0], fused: true);
                var composed = Run(arrays[0], fused: false);
                Approx.Equal(composed.Value, first.Value, 1e-12, 1e-15, $"{kind} {threads} thread(s): loss against the composed graph");
                Approx.Equal(composed.W, first.W, 1e-10, 1e-13, $"{kind} {threads} thread(s): ∂L/∂w against the composed graph");
                foreach (double[] x in arrays.Skip(1))
                {
                    var other = Run(x, fused: true);
                    Assert.True(first.Value.Equals(other.Value), $"{kind} {threads} thread(s): loss {other.Value:R} against {first.Value:R}");
                    Assert.Equal(first.W, other.W);
                    Assert.True(first.B.Equals(other.B), $"{kind} {threads} thread(s): ∂L/∂b {other.B:R} against {first.B:R}");
                }
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
        GC.KeepAlive(keep);
    }

    [Theory]
    [InlineData(OpKind.LinearRegressionLoss)]
    [InlineData(OpKind.LogisticRegressionLoss)]
    public void LinearRange_EveryVectorWidthAndRange_MatchesRowByRowSums(OpKind op)
    {
        // The kernel itself at 1 (row at a time), 4 (Vector256) and 8 (Vector512, in software where the CPU lacks
        // AVX-512) lanes, over ranges that start and end anywhere, against the sums written out row by row:
        // zᵢ = xᵢ·w + b; linear ℓ = ½(z − y)², r = z − y; logistic ℓ = max(z, 0) − z·y + ln(1 + e^−|z|), r = σ(z) − y;
        // returns Σℓ, Σr, Σ r·x and every r. Rows 2 and 6 have logits of +10³ and −10³ (x = ±(10³/|w|²)·w), inside a
        // block next to ordinary rows: e^−|z| underflows to 0 there, σ = 1 or 0, and the lanes beside them stay exact.
        const int N = 13;
        foreach (int d in new[] { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100, 101 })
        {
            var rng = new System.Random(d);
            double[] w = [.. Enumerable.Range(0, d).Select(_ => rng.NextDouble() - 0.5)];
            double[] x = [.. Enumerable.Range(0, N * d).Select(_ => 2 * rng.NextDouble() - 1)];
            double[] y = [.. Enumerable.Range(0, N).Select(i => op == OpKind.LogisticRegressionLoss ? i % 2 : rng.NextDouble())];
            double ww = w.Sum(v => v * v);
            for (int j = 0; j < d; j++)
            {
                x[2 * d + j] = 1e3 / ww * w[j];
                x[6 * d + j] = -1e3 / ww * w[j];
            }
            const double Bias = 0.25;
            foreach (var (first, last) in new[] { (0, N), (0, 1), (1, 3), (2, 5), (3, 6), (2, 10), (5, 13), (12, 13), (4, 4) })
            {
                // The sums row by row.
                double loss = 0, sumR = 0;
                var gw = new double[d];
                var residuals = new double[N];
                for (int i = first; i < last; i++)
                {
                    double z = Bias;
                    for (int j = 0; j < d; j++) z += x[i * d + j] * w[j];
                    double r;
                    if (op == OpKind.LinearRegressionLoss)
                    {
                        r = z - y[i];
                        loss += 0.5 * r * r;
                    }
                    else
                    {
                        double t = Math.Exp(-Math.Abs(z));
                        r = (z >= 0 ? 1 / (1 + t) : t / (1 + t)) - y[i];
                        loss += Math.Max(z, 0) - z * y[i] + Elementwise.Log1P(t);
                    }
                    sumR += r;
                    residuals[i] = r;
                    for (int j = 0; j < d; j++) gw[j] += r * x[i * d + j];
                }
                foreach (int lanes in new[] { 1, 4, 8 })
                {
                    string what = $"{op} d={d} rows [{first}, {last}) {lanes} lanes";
                    var kernelGw = new double[d];
                    var kernelResiduals = new double[N];
                    double kernelLoss = ModelLosses.LinearRange(op, x, w, Bias, y, first, last, kernelGw, kernelResiduals, lanes, out double kernelSumR);
                    Approx.Equal(loss, kernelLoss, 1e-12, 1e-14, $"{what}: Σℓ");
                    Approx.Equal(sumR, kernelSumR, 1e-12, 1e-14, $"{what}: Σr");
                    Approx.Equal(gw, kernelGw, 1e-12, 1e-14, $"{what}: Σ r·x");
                    Approx.Equal(residuals, kernelResiduals, 1e-12, 1e-15, $"{what}: r");
                    // Without ∂L/∂w and residuals (X constant, w not a parameter): the same loss and Σr.
                    double plain = ModelLosses.LinearRange(op, x, w, Bias, y, first, last, [], [], lanes, out double plainSumR);
                    Assert.Equal(kernelLoss, plain);
                    Assert.Equal(kernelSumR, plainSumR);
                }
            }
        }
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    public void ModelLoss_NaNAndInfinityInsideABlock_PropagateAsInTheComposedGraph(Kind kind)
    {
        // X has a NaN in row 1 and +∞ in row 6, among ordinary rows (blocks of four: rows 0–3 and 4–7, row 8 left
        // over). As in the composed graph: the loss is NaN; the NaN row's residual is NaN, so every Σ r·xⱼ and Σr is
        // NaN; the same elements are NaN or ±∞ in both, and the finite ones agree.
        foreach (int d in new[] { 3, 8, 101 })
        {
            var p = Problem.Random(kind, n: 9, d, k: 1, seed: d);
            p.X[1 * d + d / 2] = double.NaN;
            p.X[6 * d] = double.PositiveInfinity;
            var inputs = new Inputs(p);
            var composed = inputs.Run(fused: false);
            var fused = inputs.Run(fused: true);
            Assert.True(double.IsNaN(fused.Value), $"{kind} d={d}: loss {fused.Value}");
            Assert.True(double.IsNaN(fused.Grads[1][0]), $"{kind} d={d}: ∂L/∂w₀ {fused.Grads[1][0]}");
            AssertSame(composed, fused, inputs, $"{kind} d={d} NaN and ∞");

            // Only +∞ (z = ±∞ in row 6): the logistic loss's residual σ(±∞) − y is finite, ln(1 + e^−∞) = 0.
            p.X[1 * d + d / 2] = 0.5;
            inputs = new Inputs(p);
            AssertSame(inputs.Run(fused: false), inputs.Run(fused: true), inputs, $"{kind} d={d} ∞");
        }
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_GradientCheck_AgreesWithCentralDifferences(Kind kind)
    {
        var inputs = new Inputs(Problem.Random(kind, n: 9, d: 4, k: 3, seed: 5));
        GradientCheckReport report = GradientCheck.Run(t => inputs.Loss(t, fused: true), inputs.All);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void LinearRegression_SeedExample_GradientIsMeanOfResidualTimesX()
    {
        // J = (1/m) Σ ½(hᵢ − yᵢ)², h = w·x + b; ∂J/∂w = mean((h − y)x), ∂J/∂b = mean(h − y), ∂J/∂yᵢ = −(hᵢ − yᵢ)/m.
        // X = [[1, 2], [3, −1], [0, 4]], w = (0.5, −0.25), b = 0.1, y = (1, 0, −2):
        // h = (0.1, 1.85, −0.9), h − y = (−0.9, 1.85, 1.1);
        // J = ½·(0.81 + 3.4225 + 1.21)/3; ∂J/∂w = ((−0.9 + 5.55 + 0)/3, (−1.8 − 1.85 + 4.4)/3) = (4.65/3, 0.75/3).
        var tape = new Tape();
        var w = new VectorParameter("w", 0.5, -0.25);
        var b = new ScalarParameter("b", 0.1);
        var y = new VectorParameter("y", 1, 0, -2);
        Scalar j = Loss.LinearRegression(tape.Constant(new double[,] { { 1, 2 }, { 3, -1 }, { 0, 4 } }), tape.Use(w), tape.Use(b), tape.Use(y));
        Approx.Equal(0.5 * (0.81 + 3.4225 + 1.21) / 3, j.Value, 1e-15);
        j.Backward();
        Approx.Equal([4.65 / 3, 0.75 / 3], w.Grad, 1e-14);
        Approx.Equal((-0.9 + 1.85 + 1.1) / 3, b.Grad, 1e-14);
        Approx.Equal([0.9 / 3, -1.85 / 3, -1.1 / 3], y.Grad, 1e-14);
    }

    [Fact]
    public void LogisticRegression_OneRow_GradientIsSeedsMinusResidualTimesX()
    {
        // One example: E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], ŷ = σ(w·x + b); ∂E/∂w = −(y − ŷ)x, ∂E/∂b = −(y − ŷ).
        // x = (2, −1), w = (0.3, 0.4), b = −0.1, y = 1: z = 0.1, ŷ = σ(0.1).
        var tape = new Tape();
        var w = new VectorParameter("w", 0.3, 0.4);
        var b = new ScalarParameter("b", -0.1);
        Scalar e = Loss.LogisticRegression(tape.Constant([2.0, -1.0], 1, 2), tape.Use(w), tape.Use(b), [1.0]);
        double yHat = 1 / (1 + Math.Exp(-0.1));
        Approx.Equal(-Math.Log(yHat), e.Value, 1e-15);
        e.Backward();
        Approx.Equal([-(1 - yHat) * 2, -(1 - yHat) * -1], w.Grad, 1e-15);
        Approx.Equal(-(1 - yHat), b.Grad, 1e-15);
    }

    [Fact]
    public void LogisticRegression_LogitsOfPlusMinusAThousand_FiniteAndExact()
    {
        // z = ±1000: σ(1000) = 1 and σ(−1000) = e^−1000 ≈ 0 in doubles. Rows: (z = 1000, y = 0) costs 1000 and has
        // residual σ(z) − y = 1; (z = −1000, y = 0) costs ln(1 + e^−1000) = 0 (underflow) with residual 0.
        var tape = new Tape();
        var w = new VectorParameter("w", 1000.0);
        var b = new ScalarParameter("b", 0);
        Scalar e = Loss.LogisticRegression(tape.Constant([1.0, -1.0], 2, 1), tape.Use(w), tape.Use(b), [0.0, 0.0]);
        Assert.Equal(500.0, e.Value);
        e.Backward();
        Assert.Equal(0.5, w.Grad[0]); // (1·1 + 0·(−1))/2
        Assert.Equal(0.5, b.Grad);
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_HessianVectorProduct_MatchesComposedGraph(Kind kind)
    {
        // H·v by create-graph backward then backward: the recorded rule is the composed graph's gradient written
        // with ops, so its second derivatives are the composed graph's.
        var inputs = new Inputs(Problem.Random(kind, n: 7, d: 3, k: 3, seed: 21));
        var rng = new System.Random(3);
        double[][] v = [.. inputs.All.Select(p => p.Value.Select(_ => rng.NextDouble() - 0.5).ToArray())];
        double[][] fused = Functional.HessianVectorProduct(t => inputs.Loss(t, fused: true), inputs.All, v);
        double[][] composed = Functional.HessianVectorProduct(t => inputs.Loss(t, fused: false), inputs.All, v);
        for (int k = 0; k < v.Length; k++) Approx.Equal(composed[k], fused[k], 1e-10, 1e-13, $"{kind}: (H v) at {inputs.All[k].Name}");
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_Jvp_MatchesComposedGraphAndGradientDotTangent(Kind kind)
    {
        // Forward mode: L̇ = Σᵢ rᵢ·żᵢ/n along a random direction of every input, = ⟨∇L, v⟩.
        var inputs = new Inputs(Problem.Random(kind, n: 8, d: 3, k: 4, seed: 8));
        var rng = new System.Random(4);
        Parameter[] all = inputs.All;
        double[][] v = [.. all.Select(p => p.Value.Select(_ => rng.NextDouble() - 0.5).ToArray())];
        var t1 = new Tape();
        double fused = t1.Jvp(inputs.Loss(t1, fused: true), all, v);
        var t2 = new Tape();
        double composed = t2.Jvp(inputs.Loss(t2, fused: false), all, v);
        Approx.Equal(composed, fused, 1e-12, 1e-14, $"{kind}: Jvp");
        var (_, grads) = inputs.Run(fused: true);
        double dot = 0;
        for (int k = 0; k < all.Length; k++) dot += grads[k].Zip(v[k], (g, x) => g * x).Sum();
        Approx.Equal(dot, fused, 1e-12, 1e-14, $"{kind}: ⟨∇L, v⟩");
    }

    [Theory]
    [InlineData(Kind.Linear)]
    [InlineData(Kind.Logistic)]
    [InlineData(Kind.Softmax)]
    public void ModelLoss_UnderNoGrad_SameValueAndNoGradient(Kind kind)
    {
        var inputs = new Inputs(Problem.Random(kind, n: 12, d: 5, k: 3, seed: 2));
        var tape = new Tape();
        Scalar plain = inputs.Loss(tape, fused: true);
        Scalar value;
        using (tape.NoGrad()) value = inputs.Loss(tape, fused: true);
        Assert.Equal(plain.Value, value.Value);
        Assert.False(value.Handle.RequiresGrad);
    }

    [Fact]
    public void ModelLoss_DescribeAndFormat_NameTheOpAndItsInputs()
    {
        var tape = new Tape();
        Matrix x = tape.Constant(new double[,] { { 1, 2 }, { 3, 4 } });
        Vector w = tape.Use(new VectorParameter("w", 0.1, 0.2));
        Scalar b = tape.Use(new ScalarParameter("b", 0));
        Scalar l = Loss.LogisticRegression(x, w, b, [1.0, 0.0]);
        NodeInfo info = tape.Describe(l.Handle.Id);
        Assert.Equal(OpKind.LogisticRegressionLoss, info.Op);
        Assert.Equal(4, info.Inputs.Count);
        Assert.Equal(Shape.Scalar, info.Shape);
        Assert.Contains("LogisticRegressionLoss(%0, %1, %2, %3)", tape.Format());

        Scalar s = Loss.SoftmaxRegression(x, tape.Use(MatrixParameter.Zeros("W", 2, 3)), tape.Use(VectorParameter.Zeros("c", 3)), [2, 0]);
        NodeInfo softmax = tape.Describe(s.Handle.Id);
        Assert.Equal([2, 0], softmax.Labels!);
        Assert.Equal(0, softmax.Constant);
        // Three classes, W = 0: every row costs ln 3.
        Approx.Equal(Math.Log(3), s.Value, 1e-15);
    }

    [Fact]
    public void ModelLoss_WrongShapes_ErrorsNameTheLossAndTheShapes()
    {
        var tape = new Tape();
        Matrix x = tape.Constant(new double[2 * 3], 2, 3);
        Vector w2 = tape.Use(VectorParameter.Zeros("w", 2));
        Vector w3 = tape.Use(VectorParameter.Zeros("w", 3));
        Scalar b = tape.Use(new ScalarParameter("b"));

        var e = Assert.Throws<ArgumentException>(() => Loss.LinearRegression(x, w2, b, [1.0, 2.0]));
        Assert.StartsWith("LinearRegression: X is [2×3] but w has shape [2]; w needs one weight per column of X (3).", e.Message);

        e = Assert.Throws<ArgumentException>(() => Loss.LogisticRegression(x, w3, b, [1.0, 0.0, 1.0]));
        Assert.StartsWith("LogisticRegression: 3 targets for X of shape [2×3]; pass one target per row of X.", e.Message);

        e = Assert.Throws<ArgumentException>(() => Loss.LogisticRegression(x, w3, b, tape.Use(VectorParameter.Zeros("y", 2))));
        Assert.StartsWith("LogisticRegression: the labels y require a gradient; labels are data.", e.Message);

        e = Assert.Throws<ArgumentException>(() => Loss.LinearRegression(x, w3, b, tape.Constant([1.0, 2.0, 3.0])));
        Assert.StartsWith("LinearRegression: X has 2 rows but y has shape [3]; pass one target per row of X.", e.Message);

        Matrix w = tape.Use(MatrixParameter.Zeros("W", 3, 4));
        e = Assert.Throws<ArgumentException>(() => Loss.SoftmaxRegression(x, tape.Use(MatrixParameter.Zeros("W", 4, 3)), tape.Use(VectorParameter.Zeros("c", 3)), [0, 1]));
        Assert.StartsWith("SoftmaxRegression: X is [2×3] but W has shape [4×3]; W must be [d × k] = [3 × classes]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Loss.SoftmaxRegression(x, w, tape.Use(VectorParameter.Zeros("c", 3)), [0, 1]));
        Assert.StartsWith("SoftmaxRegression: W is [3×4] but b has shape [3]; b needs one bias per class (4).", e.Message);
        e = Assert.Throws<ArgumentException>(() => Loss.SoftmaxRegression(x, w, tape.Use(VectorParameter.Zeros("c", 4)), [0]));
        Assert.StartsWith("SoftmaxRegression: 1 labels for X of 2 rows; pass one label per row.", e.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.SoftmaxRegression(x, w, tape.Use(VectorParameter.Zeros("c", 4)), [0, 4]));
        Assert.StartsWith("SoftmaxRegression: label 4 of row 1 is not a class of W [3×4]; labels run from 0 to 3.", range.Message);
    }
}
