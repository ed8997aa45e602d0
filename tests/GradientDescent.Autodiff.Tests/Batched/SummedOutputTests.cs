using GradientDescent.Autodiff.Tests.Support;
using System.Runtime.Intrinsics;

namespace GradientDescent.Autodiff.Tests.Batched;

/// <summary>
/// Long elementwise outputs summed as they are written (Split.ElementwiseSummed, StreamSum): the output's values are
/// each element's rule, a Σ or mean of the output is the same bits as a Σ that reads the values, the order of that sum
/// is the documented one wherever the array lies, and a remembered sum is never used for anything else.
/// </summary>
[Collection(nameof(ThreadCountCollection))]
public sealed unsafe class SummedOutputTests : IDisposable
{
    private readonly int _saved = Parallelism.ThreadCount;

    public void Dispose() => Parallelism.ThreadCount = _saved;

    private static long Bits(double x) => BitConverter.DoubleToInt64Bits(x);

    /// <summary>Values of mixed sign and magnitude (1e-3 … 1e3), so that a different order of the sum changes its bits.</summary>
    private static double[] Mixed(Random rng, int n) =>
        [.. Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.3) * Math.Pow(10, rng.Next(-3, 4)))];

    /// <summary>The ops that sum their long outputs as they write them: how each is recorded, and each element's rule.</summary>
    private static readonly Dictionary<string, (Func<Vector, Vector, Vector> Record, Func<double, double, double> Rule)> Cases = new()
    {
        ["a+b"] = ((a, b) => a + b, (a, b) => a + b),
        ["a-b"] = ((a, b) => a - b, (a, b) => a - b),
        ["a*b"] = ((a, b) => a * b, (a, b) => a * b),
        ["a/b"] = ((a, b) => a / b, (a, b) => a / b),
        ["-a"] = ((a, _) => -a, (a, _) => -a),
        ["a+c"] = ((a, _) => a + 0.375, (a, _) => a + 0.375),
        ["a-c"] = ((a, _) => a - 1.25, (a, _) => a - 1.25),
        ["c*a"] = ((a, _) => 3.5 * a, (a, _) => 3.5 * a),
        ["square"] = ((a, _) => Autodiff.Ops.Square(a), (a, _) => a * a),
        ["relu"] = ((a, _) => Autodiff.Ops.Relu(a), (a, _) => a > 0 || double.IsNaN(a) ? a : 0),
    };

    public static TheoryData<string> Ops_ => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Ops_))]
    public void SumAndMeanOfALongOutput_AreTheSumOfItsValues_BitForBit(string op)
    {
        // Above 2¹⁹ elements the op sums what it writes; Σ y must then be exactly what Σ over y's values gives when
        // they are read (here: a constant holding a copy, in another array at another address), on 1, 2 and 3
        // threads, for lengths that end inside a block of sixteen, inside a group of four, and on a page. On 3 threads
        // the operands hold special values too (their Σ is NaN, so the order is checked on 1 and 2).
        foreach (int threads in new[] { 1, 2, 3 })
        {
            foreach (int n in new[] { (1 << 19) + 1, (1 << 19) + 4_099, 3 * (1 << 18) + 16 })
            {
                Parallelism.ThreadCount = threads;
                var rng = new Random(n + threads);
                double[] a0 = Mixed(rng, n), b0 = Mixed(rng, n);
                if (threads == 3) WithSpecials(a0, b0);
                var tape = new Tape();
                (Func<Vector, Vector, Vector> record, Func<double, double, double> rule) = Cases[op];
                Vector y = record(tape.Constant(a0), tape.Constant(b0));
                double[] values = y.Value;
                for (int k = 0; k < n; k++)
                {
                    double expected = rule(a0[k], b0[k]);
                    if (Bits(values[k]) != Bits(expected)) Assert.Fail($"{op}, {threads} threads, n = {n}: y[{k}] = {values[k]:R}, the rule gives {expected:R}");
                }
                var reader = new Tape();
                Vector copy = reader.Constant(values);
                Assert.Equal(Bits(Autodiff.Ops.Sum(copy).Value), Bits(Autodiff.Ops.Sum(y).Value));
                Assert.Equal(Bits(Autodiff.Ops.Mean(copy).Value), Bits(Autodiff.Ops.Mean(y).Value));
            }
        }
    }

    [Fact]
    public void MeansOfLongOutputs_GradientsMatchCentralDifferences()
    {
        // L = Σ over the fused ops of mean(op(a, b)): every mean takes the sum its op added up as it wrote, so the
        // differences of L check those sums against the backward rules, in a few coordinates on two threads.
        Parallelism.ThreadCount = 2;
        var rng = new Random(13);
        var a = new VectorParameter("a", [.. Enumerable.Range(0, Long).Select(_ => rng.NextDouble() * 4 - 2)]);
        var b = new VectorParameter("b", [.. Enumerable.Range(0, Long).Select(_ => 0.5 + rng.NextDouble())]);
        Scalar Loss(Tape t)
        {
            Vector x = t.Use(a), y = t.Use(b);
            Scalar loss = Autodiff.Ops.Mean(Cases["a+b"].Record(x, y));
            foreach (string op in Cases.Keys.Skip(1)) loss += Autodiff.Ops.Mean(Cases[op].Record(x, y));
            return loss;
        }
        Loss(new Tape()).Backward();
        foreach (int k in new[] { 0, 5, Long / 2 + 3, Long - 1 })
        {
            foreach (VectorParameter p in new[] { a, b })
            {
                double v = p.Value[k], h = 1e-4;
                p.Value[k] = v + h;
                double up = Loss(new Tape()).Value;
                p.Value[k] = v - h;
                double down = Loss(new Tape()).Value;
                p.Value[k] = v;
                // Each term's derivative is O(1)/n; the means of 5·10⁵ terms carry a rounding of about 10⁻¹⁶, over 2h.
                Approx.Equal(p.Grad[k], (up - down) / (2 * h), rel: 1e-6, abs: 1e-12, what: $"∂L/∂{p.Name}[{k}]");
            }
        }
    }

    /// <summary>
    /// Signed zeros, infinities, a NaN and subnormals in both operands, in the vector part and in the tail: each element
    /// must still be its rule's, −0 included, and Σ (NaN) the same bits.
    /// </summary>
    private static void WithSpecials(double[] a, double[] b)
    {
        double[] specials = [0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e-310, -1e-310, double.Epsilon];
        for (int k = 0; k < specials.Length; k++)
        {
            a[3 * k + 1] = specials[k];
            b[5 * k + 2] = specials[(k + 3) % specials.Length];
            a[a.Length - 1 - k] = specials[k];
            b[b.Length - 1 - 2 * k] = specials[(k + 1) % specials.Length];
        }
    }

    /// <summary>The documented order of StreamSum, written out: 4 × 4 lanes over blocks of 16, (s₀ + s₁) + (s₂ + s₃), lanes (l₀ + l₁) + (l₂ + l₃), then the rest one by one.</summary>
    private static double ReferenceSum(double[] x, int start, int end)
    {
        var acc = new double[16];
        int k = start;
        for (; k + 16 <= end; k += 16)
        {
            for (int j = 0; j < 16; j++) acc[j] += x[k + j];
        }
        var lanes = new double[4];
        for (int j = 0; j < 4; j++) lanes[j] = (acc[j] + acc[4 + j]) + (acc[8 + j] + acc[12 + j]);
        double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
        for (; k < end; k++) s += x[k];
        return s;
    }

    private readonly struct AddOp : IStreamOp
    {
        public Vector256<double> Four(double* a, double* b, nint i) => Vector256.Load(a + i) + Vector256.Load(b + i);

        public double One(double* a, double* b, nint i) => a[i] + b[i];
    }

    [Fact]
    public void StreamSum_AddsInTheDocumentedOrder_WhetherTheOutputIsAlignedOrNot()
    {
        // Range (the sum that reads) and Apply (the op that sums what it writes, with aligned non-temporal stores or
        // plain ones) against the order written out, over lengths around a block, a page and none, at every start
        // alignment of the output within a 32-byte boundary.
        var rng = new Random(3);
        foreach (int n in new[] { 0, 1, 3, 4, 15, 16, 17, 31, 33, 511, 512, 513, 4_099, 100_003 })
        {
            double[] a = Mixed(rng, n), b = Mixed(rng, n), sum = new double[n];
            for (int k = 0; k < n; k++) sum[k] = a[k] + b[k];
            double expected = ReferenceSum(sum, 0, n);
            fixed (double* ps = sum) Assert.Equal(Bits(expected), Bits(StreamSum.Range(ps, 0, n)));
            double* raw = (double*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(n + 8) * sizeof(double), 64);
            try
            {
                for (int shift = 0; shift < 4; shift++)
                {
                    double* y = raw + shift;
                    double got;
                    fixed (double* pa = a, pb = b) got = StreamSum.Apply(default(AddOp), pa, pb, y, 0, n, aStream: true, bStream: true);
                    Assert.Equal(Bits(expected), Bits(got));
                    for (int k = 0; k < n; k++) Assert.Equal(Bits(sum[k]), Bits(y[k]));
                }
            }
            finally
            {
                System.Runtime.InteropServices.NativeMemory.AlignedFree(raw);
            }
        }
    }

    private const int Long = (1 << 19) + 1_001;

    /// <summary>z, recorded at the index of y (whose sum the tape remembered), sums to Σ c, its own values.</summary>
    private static void AssertSumReads(Vector z, double[] c, Vector sameIndexAs)
    {
        Assert.Equal(sameIndexAs.Handle.Index, z.Handle.Index);
        Assert.Equal(Bits(Autodiff.Ops.Sum(new Tape().Constant(c)).Value), Bits(Autodiff.Ops.Sum(z).Value));
    }

    [Fact]
    public void ARememberedSum_IsForgottenByClear()
    {
        // y = a + b is node 2 and its sum is remembered; after Clear, node 2 is a constant with other values.
        var rng = new Random(5);
        double[] a = Mixed(rng, Long), b = Mixed(rng, Long), c = Mixed(rng, Long);
        var tape = new Tape();
        Vector y = tape.Constant(a) + tape.Constant(b);
        _ = Autodiff.Ops.Sum(y).Value;
        tape.Clear();
        tape.Constant(a);
        tape.Constant(b);
        Vector z = tape.Constant(c);
        AssertSumReads(z, c, sameIndexAs: y);
    }

    [Fact]
    public void ARememberedSum_IsForgottenWhenItsNodeIsTruncated()
    {
        // A failed call truncates the tape back to where it was; the next node takes the truncated node's index.
        var rng = new Random(7);
        double[] a = Mixed(rng, Long), b = Mixed(rng, Long), c = Mixed(rng, Long);
        var tape = new Tape();
        Vector av = tape.Constant(a), bv = tape.Constant(b);
        (int count, int values, int operands, int objects) = (tape.Count, tape.ValueCount, tape.Operands.Count, tape.Objects.Count);
        Vector y = av + bv;
        tape.Truncate(count, values, operands, objects);
        Vector z = tape.Constant(c);
        AssertSumReads(z, c, sameIndexAs: y);
    }

    [Fact]
    public void ARememberedSum_IsNotUsedAfterTheThreadCountChanged()
    {
        // Summed on two threads (two ranges), summed again on one: the one-range sum of the values, which differs in
        // its last bits from the two-range one for these values (checked, so the test can tell the two apart).
        var rng = new Random(9);
        double[] a = Mixed(rng, Long), b = Mixed(rng, Long);
        Parallelism.ThreadCount = 2;
        var tape = new Tape();
        Vector y = tape.Constant(a) + tape.Constant(b);
        double[] values = y.Value;
        double twoRanges = Autodiff.Ops.Sum(new Tape().Constant(values)).Value;
        Parallelism.ThreadCount = 1;
        double oneRange = Autodiff.Ops.Sum(new Tape().Constant(values)).Value;
        Assert.NotEqual(Bits(twoRanges), Bits(oneRange));
        Assert.Equal(Bits(oneRange), Bits(Autodiff.Ops.Sum(y).Value));
    }
}
