using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Tests.Support;

using static GradientDescent.Autodiff.Tests.HigherOrder.DenseSolve;

namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>The higher-order lines proposed for the README, run verbatim (between the markers) with their stated results.</summary>
public sealed class ReadmeHigherOrderExampleTests
{
    [Fact]
    public void FunctionalApi_ReadmeLines_GiveTheStatedValues()
    {
        // README-BEGIN functional
        double[] g = Functional.Grad((tape, x) => Ops.Sum(Ops.Square(x)), [1.0, 2.0]);      // ∇Σx² = 2x = [2, 4]
        double[,] h = Functional.Hessian((tape, x) => x[0] * x[0] * x[1], [1.0, 3.0]);     // [[2x₁, 2x₀], [2x₀, 0]] = [[6, 2], [2, 0]]
        double[] hv = Functional.HessianVectorProduct((tape, x) => x[0] * x[0] * x[1], [1.0, 3.0], [1.0, 0.0]); // H·e₀ = [6, 2]
        double d3 = Functional.Derivative((tape, x) => Ops.Sin(x), 0.5, order: 3);           // d³/dx³ sin x = −cos 0.5

        // Grad of grad on a tape: a create-graph gradient is a node, differentiable again.
        var t = new Tape();
        Scalar u = t.Use(new ScalarParameter("u", 0.5));
        Scalar y = Ops.Sin(u) * u;
        Scalar dy = t.Grad(y, u, createGraph: true);    // u·cos u + sin u
        Scalar d2y = t.Grad(dy, u);                     // 2 cos u − u·sin u
        // README-END functional

        Assert.Equal([2.0, 4.0], g);
        Assert.Equal(new double[,] { { 6, 2 }, { 2, 0 } }, h);
        Assert.Equal([6.0, 2.0], hv);
        Approx.Equal(-Math.Cos(0.5), d3, 1e-15, 0);
        Approx.Equal(0.5 * Math.Cos(0.5) + Math.Sin(0.5), dy.Value, 1e-15, 0);
        Approx.Equal(2 * Math.Cos(0.5) - 0.5 * Math.Sin(0.5), d2y.Value, 1e-15, 0);
    }

    [Fact]
    public void NewtonsMethod_ReadmeLines_ReachTheOptimumInAHandfulOfSteps()
    {
        // README-BEGIN newton
        // Newton's method on the seed's logistic regression: θ ← θ − (∇²J)⁻¹∇J, with ∇²J = XᵀSX/m from the tape.
        var data = LabeledData.Admissions();
        double[] x = data.FeatureMatrix(), y = [.. data.Labels];
        var w = VectorParameter.Zeros("w", 2);
        var b = new ScalarParameter("b");
        Scalar J(Tape tape) => Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(tape.Constant(x, data.Count, 2), tape.Use(w)) + tape.Use(b), y);

        for (int step = 0; step < 10; step++)
        {
            double[][] grad = Functional.Grad(J, [w, b]);            // ∇J: one array per parameter
            double[,] hessian = Functional.Hessian(J, [w, b]);       // 3 × 3, rows and columns (w₀, w₁, b)
            double[] delta = Solve(hessian, [.. grad[0], .. grad[1]]);
            w.Value[0] -= delta[0];
            w.Value[1] -= delta[1];
            b.Value -= delta[2];
        }
        // README-END newton

        // The optimum of OptimizerTableTests (Newton by hand) to 10⁻¹⁰: ∇J = 0 there.
        double[][] final = Functional.Grad(J, [w, b]);
        Assert.True(Math.Abs(final[0][0]) + Math.Abs(final[0][1]) + Math.Abs(final[1][0]) < 1e-10, $"∇J = {final[0][0]}, {final[0][1]}, {final[1][0]}");
        Assert.Equal(0, w.Grad[0]); // the functional API leaves Parameter.Grad alone
    }
}
