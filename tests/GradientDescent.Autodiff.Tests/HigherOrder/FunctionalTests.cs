using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>The reverse-mode functional API against closed forms, over plain vectors and over parameters.</summary>
public sealed class FunctionalTests
{
    /// <summary>Rosenbrock f(x, y) = (1 − x)² + 100(y − x²)².</summary>
    private static Scalar Rosenbrock(Tape tape, Vector v) => Ops.Square(1 - v[0]) + 100 * Ops.Square(v[1] - Ops.Square(v[0]));

    [Fact]
    public void GradAndValueAndGrad_Rosenbrock_MatchClosedForm()
    {
        // ∇f = (−2(1 − x) − 400x(y − x²), 200(y − x²))
        double x = -1.2, y = 1;
        double[] expected = [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)];
        Approx.Equal(expected, Functional.Grad(Rosenbrock, [x, y]), 1e-14, 0);
        var (value, gradient) = Functional.ValueAndGrad(Rosenbrock, [x, y]);
        Approx.Equal((1 - x) * (1 - x) + 100 * Math.Pow(y - x * x, 2), value, 1e-15, 0);
        Approx.Equal(expected, gradient, 1e-14, 0);
    }

    [Fact]
    public void Hessian_Rosenbrock_MatchesClosedForm()
    {
        // ∇²f = [[2 − 400(y − 3x²), −400x], [−400x, 200]]
        double x = -1.2, y = 1;
        double[,] expected = { { 2 - 400 * (y - 3 * x * x), -400 * x }, { -400 * x, 200 } };
        Approx.Equal(expected, Functional.Hessian(Rosenbrock, [x, y]), 1e-14, 0);
    }

    [Fact]
    public void HessianVectorProduct_Rosenbrock_IsHessianTimesV()
    {
        double x = 0.3, y = -0.4;
        double[] v = [1.5, -2];
        double h00 = 2 - 400 * (y - 3 * x * x), h01 = -400 * x, h11 = 200;
        Approx.Equal([h00 * v[0] + h01 * v[1], h01 * v[0] + h11 * v[1]], Functional.HessianVectorProduct(Rosenbrock, [x, y], v), 1e-14, 1e-15);
        Approx.Equal([h00 * v[0] + h01 * v[1], h01 * v[0] + h11 * v[1]], Functional.HessianVectorProductForward(Rosenbrock, [x, y], v), 1e-14, 1e-15);
    }

    /// <summary>f(x) = (x₀x₁, sin x₀, x₁³).</summary>
    private static Vector F(Tape tape, Vector v) => Ops.Stack(v[0] * v[1], Ops.Sin(v[0]), Ops.Pow(v[1], 3));

    [Fact]
    public void JacobianAndVjp_SmallMap_MatchClosedForm()
    {
        // J = [[x₁, x₀], [cos x₀, 0], [0, 3x₁²]]
        double a = 0.6, b = -1.4;
        double[,] j = { { b, a }, { Math.Cos(a), 0 }, { 0, 3 * b * b } };
        Approx.Equal(j, Functional.Jacobian(F, [a, b]), 1e-15, 0);
        double[] u = [2, -1, 0.5];
        var (value, vjp) = Functional.Vjp(F, [a, b], u);
        Approx.Equal([a * b, Math.Sin(a), b * b * b], value, 1e-15, 0);
        Approx.Equal([u[0] * b + u[1] * Math.Cos(a), u[0] * a + u[2] * 3 * b * b], vjp, 1e-15, 0);
    }

    [Fact]
    public void OverParameters_GradAndHessian_LeaveParameterGradUnchanged()
    {
        // f(W, c) = Σ (W c)² for W 2×2, c a vector: ∂f/∂c = 2Wᵀ W c, ∇²_c f = 2WᵀW; Parameter.Grad keeps what it held.
        var w = MatrixParameter.FromRowMajor("W", 2, 2, [1, 2, -1, 0.5]);
        var c = new VectorParameter("c", 0.3, -0.7);
        w.Grad[0] = 42;
        c.Grad[1] = -7;
        Scalar Loss(Tape tape) => Ops.Sum(Ops.Square(Ops.MatVec(tape.Use(w), tape.Use(c))));
        double[] wc = [1 * 0.3 + 2 * -0.7, -1 * 0.3 + 0.5 * -0.7];
        double[][] g = Functional.Grad(Loss, [c]);
        Approx.Equal([2 * (1 * wc[0] + -1 * wc[1]), 2 * (2 * wc[0] + 0.5 * wc[1])], g[0], 1e-15, 0);
        double[,] h = Functional.Hessian(Loss, [c]);
        Approx.Equal(new double[,] { { 2 * (1 + 1), 2 * (2 - 0.5) }, { 2 * (2 - 0.5), 2 * (4 + 0.25) } }, h, 1e-15, 0);
        Assert.Equal([42.0, 0, 0, 0], w.Grad);
        Assert.Equal([0.0, -7], c.Grad);
        // With respect to both: a 6 × 6 Hessian, rows in order W (row-major), then c; symmetric.
        double[,] full = Functional.Hessian(Loss, [w, c]);
        Assert.Equal(6, full.GetLength(0));
        for (int r = 0; r < 6; r++)
        {
            for (int k = 0; k < 6; k++) Approx.Equal(full[r, k], full[k, r], 1e-14, 1e-15, $"H[{r},{k}]");
        }
    }

    [Fact]
    public void Hessian_AffineFunction_IsZero()
    {
        // f(x) = 3x₀ − x₁ + 2: the gradient is constant, the Hessian 0 (no error for a gradient that depends on nothing).
        double[,] h = Functional.Hessian((tape, x) => 3 * x[0] - x[1] + 2, [1.0, 2.0]);
        Assert.Equal(new double[2, 2], h);
    }
}
