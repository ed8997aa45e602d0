using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>
/// Hessians of the seeds' losses on the admissions data against their closed forms, and Newton's method with them.
/// </summary>
public sealed class SeedHessianTests
{
    private static readonly LabeledData Data = LabeledData.Admissions();
    private static readonly int M = Data.Count;
    private static readonly double[] X = Data.FeatureMatrix();
    private static readonly double[] Y = [.. Data.Labels];

    /// <summary>Xₐ = [X, 1]: the rows augmented with the bias's 1, so θ = (w₀, w₁, b) and z = Xₐθ.</summary>
    private static double[] Row(int i) => [X[2 * i], X[2 * i + 1], 1];

    /// <summary>J(w, b) = −(1/m) Σ [y ln σ(z) + (1 − y) ln(1 − σ(z))], z = Xw + b, the fused form on logits.</summary>
    private static Scalar LogisticLoss(Tape tape, VectorParameter w, ScalarParameter b, double[] x) =>
        Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(tape.Constant(x, M, 2), tape.Use(w)) + tape.Use(b), Y);

    [Fact]
    public void Hessian_LogisticRegression_IsXtSXOverM()
    {
        // ∇²J = Xₐᵀ S Xₐ / m with S = diag(ŷ(1 − ŷ)), ŷ = σ(Xₐθ): the textbook Hessian of logistic regression.
        var w = new VectorParameter("w", 0.05, -0.03);
        var b = new ScalarParameter("b", 0.4);
        double[,] h = Functional.Hessian(tape => LogisticLoss(tape, w, b, X), [w, b]);
        Approx.Equal(ClosedFormLogistic([w.Value[0], w.Value[1], b.Value], X), h, 1e-12, 1e-15, "∇²J");
    }

    [Fact]
    public void Hessian_LogisticRegressionComposed_IsXtSXOverM()
    {
        // The seed's composition, ŷ = σ(z) then the cross-entropy on probabilities: the same J, the same Hessian,
        // through the sigmoid's and the probability-BCE's recorded rules.
        var w = new VectorParameter("w", 0.05, -0.03);
        var b = new ScalarParameter("b", 0.4);
        double[,] h = Functional.Hessian(
            tape => Loss.BinaryCrossEntropy(Ops.Sigmoid(Ops.MatVec(tape.Constant(X, M, 2), tape.Use(w)) + tape.Use(b)), tape.Constant(Y)),
            [w, b]);
        Approx.Equal(ClosedFormLogistic([w.Value[0], w.Value[1], b.Value], X), h, 1e-11, 1e-15, "∇²J");
    }

    [Fact]
    public void Hessian_LinearRegression_IsXtXOverM()
    {
        // J = (1/m) Σ ½(h − y)², h = Xw + b: ∇²J = XₐᵀXₐ/m, whatever θ and y.
        var w = new VectorParameter("w", 0.2, 0.1);
        var b = new ScalarParameter("b", -1);
        double[,] h = Functional.Hessian(
            tape => Loss.HalfMeanSquaredError(Ops.MatVec(tape.Constant(X, M, 2), tape.Use(w)) + tape.Use(b), Y), [w, b]);
        var expected = new double[3, 3];
        for (int i = 0; i < M; i++)
        {
            double[] x = Row(i);
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < 3; c++) expected[r, c] += x[r] * x[c] / M;
            }
        }
        Approx.Equal(expected, h, 1e-12, 1e-15, "∇²J");
    }

    [Fact]
    public void HessianVectorProduct_LogisticRegression_EqualsHessianTimesVector()
    {
        var w = new VectorParameter("w", 0.05, -0.03);
        var b = new ScalarParameter("b", 0.4);
        double[] v = [0.3, -1.2, 2.5];
        double[,] h = ClosedFormLogistic([0.05, -0.03, 0.4], X);
        double[][] hv = Functional.HessianVectorProduct(tape => LogisticLoss(tape, w, b, X), [w, b], [[v[0], v[1]], [v[2]]]);
        double[] expected = [.. Enumerable.Range(0, 3).Select(r => h[r, 0] * v[0] + h[r, 1] * v[1] + h[r, 2] * v[2])];
        Approx.Equal(expected, [.. hv[0], .. hv[1]], 1e-12, 1e-15, "H v");
        // Forward-over-reverse: one tangent sweep along v through the recorded gradient.
        double[][] forward = Functional.HessianVectorProductForward(tape => LogisticLoss(tape, w, b, X), [w, b], [[v[0], v[1]], [v[2]]]);
        Approx.Equal(expected, [.. forward[0], .. forward[1]], 1e-12, 1e-15, "H v (forward-over-reverse)");
    }

    [Fact]
    public void NewtonsMethod_Admissions_ConvergesInAHandfulOfStepsToTheGradientDescentOptimum()
    {
        // θ ← θ − H⁻¹∇J with H and ∇J from the functional API, on standardised features (so that plain gradient
        // descent reaches the same optimum in a reasonable number of steps to compare against).
        double[] xs = Standardised(X);
        var w = VectorParameter.Zeros("w", 2);
        var b = new ScalarParameter("b");
        Parameter[] ps = [w, b];
        Scalar J(Tape tape) => LogisticLoss(tape, w, b, xs);

        int steps = 0;
        double gradientNorm = double.PositiveInfinity;
        var norms = new List<double>();
        while (steps < 20)
        {
            var (_, g) = Functional.ValueAndGrad(J, ps);
            double[] gradient = [.. g[0], .. g[1]];
            gradientNorm = Math.Sqrt(gradient.Sum(v => v * v));
            norms.Add(gradientNorm);
            if (gradientNorm <= 1e-10) break;
            double[] step = DenseSolve.Solve(Functional.Hessian(J, ps), gradient);
            w.Value[0] -= step[0];
            w.Value[1] -= step[1];
            b.Value -= step[2];
            steps++;
        }
        // From θ = 0 the optimum is far (the classes are nearly separable: |w| ≈ 3.5 in standard units), so the first
        // steps are damped by the curvature; then convergence is quadratic: ‖∇J‖ 7·10⁻⁵, 3·10⁻⁷, 7·10⁻¹² at steps 6–8.
        Assert.True(steps <= 10, $"Newton took {steps} steps: ‖∇J‖ = {string.Join(", ", norms.Select(v => v.ToString("E1")))}");
        // Quadratic: ‖∇J‖ₖ₊₁ ≤ C‖∇J‖ₖ² (C ≈ 60 here) over the last two steps.
        Assert.True(norms[^1] <= 100 * norms[^2] * norms[^2] && norms[^2] <= 100 * norms[^3] * norms[^3],
            $"no quadratic convergence: {string.Join(", ", norms.Select(v => v.ToString("E1")))}");

        // Long gradient descent from 0 with the fast backward: θ ← θ − ∇J, 20,000 steps.
        var gw = VectorParameter.Zeros("w", 2);
        var gb = new ScalarParameter("b");
        var tape = new Tape();
        for (int t = 0; t < 20_000; t++)
        {
            tape.Clear();
            LogisticLoss(tape, gw, gb, xs).Backward();
            for (int k = 0; k < 2; k++) gw.Value[k] -= gw.Grad[k];
            gb.Value -= gb.Grad;
            gw.ZeroGrad();
            gb.ZeroGrad();
        }
        Approx.Equal([gw.Value[0], gw.Value[1], gb.Value], [w.Value[0], w.Value[1], b.Value], 1e-8, 1e-10, "θ* (gradient descent vs Newton)");
    }

    /// <summary>Xₐᵀ S Xₐ / m, S = diag(ŷ(1 − ŷ)), ŷᵢ = σ(xᵢ·w + b), straight from the formula.</summary>
    private static double[,] ClosedFormLogistic(double[] theta, double[] x)
    {
        var h = new double[3, 3];
        for (int i = 0; i < M; i++)
        {
            double[] row = [x[2 * i], x[2 * i + 1], 1];
            double yHat = Reference.Sigmoid(row[0] * theta[0] + row[1] * theta[1] + theta[2]);
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < 3; c++) h[r, c] += yHat * (1 - yHat) * row[r] * row[c] / M;
            }
        }
        return h;
    }

    /// <summary>Each feature column shifted to mean 0 and scaled to standard deviation 1.</summary>
    private static double[] Standardised(double[] x)
    {
        var result = (double[])x.Clone();
        for (int c = 0; c < 2; c++)
        {
            double mean = Enumerable.Range(0, M).Average(i => x[2 * i + c]);
            double sd = Math.Sqrt(Enumerable.Range(0, M).Average(i => Math.Pow(x[2 * i + c] - mean, 2)));
            for (int i = 0; i < M; i++) result[2 * i + c] = (x[2 * i + c] - mean) / sd;
        }
        return result;
    }
}
