using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The matrix-product kernel (Ops/Gemm.cs) against a plain triple loop: every transpose combination, assigning
/// (C = op(A)op(B)) and accumulating (C += op(A)op(B)), both micro-kernels, shapes from 1 to past the blocking, and
/// bit-identical results for any thread count and either micro-kernel.
/// </summary>
public class GemmTests
{
    private static readonly Gemm.MicroKernel[] Kernels = [Gemm.MicroKernel.Vector256, Gemm.MicroKernel.Vector512];

    /// <summary>The operands of one product: op(A) is m×k, op(B) is k×n, C₀ the old contents of C.</summary>
    private sealed record Operands(int M, int N, int K, bool TransA, bool TransB, double[] A, double[] B, double[] C0)
    {
        public static Operands Random(int m, int n, int k, bool transA, bool transB, int seed)
        {
            var rng = new Random(seed);
            double[] Fill(int length) => [.. Enumerable.Range(0, length).Select(_ => rng.NextDouble() * 2 - 1)];
            return new Operands(m, n, k, transA, transB, Fill(m * k), Fill(k * n), Fill(m * n));
        }

        /// <summary>op(A)ᵢₚ = transA ? A[p·m + i] : A[i·k + p].</summary>
        public double OpA(int i, int p) => TransA ? A[p * M + i] : A[i * K + p];

        /// <summary>op(B)ₚⱼ = transB ? B[j·k + p] : B[p·n + j].</summary>
        public double OpB(int p, int j) => TransB ? B[j * K + p] : B[p * N + j];

        public double[] Run(bool accumulate, Gemm.MicroKernel kernel, int threads, double[]? start = null)
        {
            double[] c = (double[])(start ?? C0).Clone();
            Gemm.Multiply(A, TransA, B, TransB, c, M, N, K, accumulate, kernel, threads);
            return c;
        }

        /// <summary>
        /// cᵢⱼ = [accumulate]·c₀ᵢⱼ + Σₚ op(A)ᵢₚ op(B)ₚⱼ by the triple loop, checked against <paramref name="actual"/>
        /// within the rounding bound of any summation order: (k + 2)·2⁻⁵²·(Σₚ |op(A)ᵢₚ op(B)ₚⱼ| + |c₀ᵢⱼ|).
        /// </summary>
        public void AssertMatches(double[] actual, bool accumulate, string what)
        {
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double c0 = accumulate ? C0[i * N + j] : 0, sum = c0, magnitude = Math.Abs(c0);
                    for (int p = 0; p < K; p++)
                    {
                        sum += OpA(i, p) * OpB(p, j);
                        magnitude += Math.Abs(OpA(i, p) * OpB(p, j));
                    }
                    double bound = (K + 2) * Math.Pow(2, -52) * magnitude;
                    double got = actual[i * N + j];
                    if (!(Math.Abs(got - sum) <= bound))
                    {
                        Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                            $"{what}: C[{i},{j}] = {got:R}, the triple loop gives {sum:R} (|Δ| = {Math.Abs(got - sum):E3} > bound {bound:E3})"));
                    }
                }
            }
        }

        public override string ToString() =>
            $"[{M}×{K}]{(TransA ? "ᵀ-stored" : "")} · [{K}×{N}]{(TransB ? "ᵀ-stored" : "")}";
    }

    private static readonly Gen<Operands> SmallShapes =
        from m in Gen.Choose(1, 40)
        from n in Gen.Choose(1, 40)
        from k in Gen.Choose(1, 40)
        from transA in Gen.Elements(false, true)
        from transB in Gen.Elements(false, true)
        from seed in Gen.Choose(0, int.MaxValue)
        select Operands.Random(m, n, k, transA, transB, seed);

    [Property(MaxTest = 150)]
    public Property Multiply_RandomShapesUpTo40_MatchesTripleLoopForBothKernelsAndModes() =>
        Prop.ForAll(SmallShapes.ToArbitrary(), d =>
        {
            // C = op(A)·op(B) and C = C₀ + op(A)·op(B), each micro-kernel, one thread and two.
            foreach (Gemm.MicroKernel kernel in Kernels)
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    d.AssertMatches(d.Run(accumulate, kernel, threads: 1), accumulate, $"{d} {kernel} accumulate={accumulate}");
                }
            }
        });

    [Theory]
    [InlineData(70, 300, 600)] // past Kc = 256 (three k blocks) and Nc = 128 (three column blocks)
    [InlineData(13, 129, 257)] // one past each block, edge row panels
    [InlineData(300, 17, 40)] // many row panels, narrow C (edge column panels)
    [InlineData(5, 200, 300)] // fewer rows than one panel
    [InlineData(1, 50, 30)] // a row vector times a matrix (the streaming path)
    [InlineData(256, 10, 128)] // the MLP's output layer
    public void Multiply_ShapesPastTheBlocking_MatchTripleLoopForEveryTransposeAndMode(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                var d = Operands.Random(m, n, k, transA, transB, seed: m * 1000 + n + k);
                foreach (Gemm.MicroKernel kernel in Kernels)
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        d.AssertMatches(d.Run(accumulate, kernel, threads: 2), accumulate, $"{d} {kernel} accumulate={accumulate}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(37, 45, 300)]
    [InlineData(1, 45, 30)]
    [InlineData(3, 4, 5)]
    [InlineData(20, 30, 0)]
    public void Multiply_Assigning_NeverReadsTheOldContents(int m, int n, int k)
    {
        // C = op(A)·op(B) into storage full of NaN (an uncleared gradient slot): no NaN may leak through.
        foreach (Gemm.MicroKernel kernel in Kernels)
        {
            var d = Operands.Random(m, n, k, transA: false, transB: true, seed: 7);
            double[] nan = [.. Enumerable.Repeat(double.NaN, m * n)];
            double[] assigned = d.Run(accumulate: false, kernel, threads: 2, start: nan);
            d.AssertMatches(assigned, accumulate: false, $"{d} {kernel} over NaN");
        }
    }

    [Theory]
    [InlineData(256, 128, 128, false, false)] // split by row panels
    [InlineData(24, 400, 300, false, true)] // split by column panels
    [InlineData(128, 128, 256, true, false)] // Aᵀ G, the MLP's weight gradient
    [InlineData(97, 61, 513, true, true)]
    public void Multiply_OneOrSeveralThreadsEitherKernel_BitIdentical(int m, int n, int k, bool transA, bool transB)
    {
        // Each element is one chain of fused multiply-adds per k block whoever computes it: the same bits.
        var d = Operands.Random(m, n, k, transA, transB, seed: 11);
        Assert.True(Gemm.PartsFor((long)m * n * k, panels: 4, threads: 2) > 1, "the product must be large enough to split");
        foreach (bool accumulate in new[] { false, true })
        {
            double[] reference = d.Run(accumulate, Gemm.MicroKernel.Vector256, threads: 1);
            d.AssertMatches(reference, accumulate, $"{d} one thread");
            foreach (int threads in new[] { 2, 3 })
            {
                Assert.Equal(reference, d.Run(accumulate, Gemm.MicroKernel.Vector256, threads));
            }
            Assert.Equal(reference, d.Run(accumulate, Gemm.MicroKernel.Vector512, threads: 1));
            Assert.Equal(reference, d.Run(accumulate, Gemm.MicroKernel.Vector512, threads: 2));
        }
    }

    [Fact]
    public void Multiply_OperandTooShort_NamesTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new double[5], false, new double[6], false, new double[4], 2, 2, 3, false, Gemm.MicroKernel.Vector256, 1));
        Assert.StartsWith("Gemm: a [2×3] times [3×2] product needs 6, 6 and 4 elements, got 5, 6 and 4", e.Message);
    }
}
