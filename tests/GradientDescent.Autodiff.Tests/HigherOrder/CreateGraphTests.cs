using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>
/// The create-graph backward (<see cref="Tape.Grad(Scalar, IReadOnlyList{Node}, bool)"/>) on closed forms: third
/// derivatives of scalar chains, mixed partials, a gradient penalty; its semantics (no side effects, zeros for
/// unused inputs); and its errors.
/// </summary>
public sealed class CreateGraphTests
{
    public static TheoryData<string, double> ThirdOrderCases => new()
    {
        { "sin", 0.7 }, { "sin", -2.3 }, { "exp", 0.4 }, { "exp", -1.5 }, { "x^5", 1.3 }, { "x^5", -0.6 }, { "x*x*x*x*x", 1.3 },
    };

    [Theory]
    [MemberData(nameof(ThirdOrderCases))]
    public void Grad_ThirdOrderScalarChain_MatchesClosedForm(string f, double x0)
    {
        // d³/dx³ sin x = −cos x; d³/dx³ eˣ = eˣ; d³/dx³ x⁵ = 60x² (as Pow(x, 5) and as a product of five x).
        var tape = new Tape();
        var p = new ScalarParameter("x", x0);
        Scalar x = tape.Use(p);
        Scalar y = f switch
        {
            "sin" => Ops.Sin(x),
            "exp" => Ops.Exp(x),
            "x^5" => Ops.Pow(x, 5),
            _ => x * x * x * x * x,
        };
        Scalar d1 = tape.Grad(y, x, createGraph: true);
        Scalar d2 = tape.Grad(d1, x, createGraph: true);
        Scalar d3 = tape.Grad(d2, x);
        (double e1, double e2, double e3) = f switch
        {
            "sin" => (Math.Cos(x0), -Math.Sin(x0), -Math.Cos(x0)),
            "exp" => (Math.Exp(x0), Math.Exp(x0), Math.Exp(x0)),
            _ => (5 * Math.Pow(x0, 4), 20 * Math.Pow(x0, 3), 60 * x0 * x0),
        };
        Approx.Equal(e1, d1.Value, 1e-14, 0, "f′");
        Approx.Equal(e2, d2.Value, 1e-14, 0, "f″");
        Approx.Equal(e3, d3.Value, 1e-14, 0, "f‴");
        Assert.Equal(0, p.Grad); // tape.Grad adds nothing into Parameter.Grad
    }

    [Fact]
    public void Derivative_FourthOrderOfSin_IsSin()
    {
        // d⁴/dx⁴ sin x = sin x; the fifth derivative of x⁴ is 0 (the fourth, 24, no longer depends on x).
        Approx.Equal(Math.Sin(0.9), Functional.Derivative((tape, x) => Ops.Sin(x), 0.9, order: 4), 1e-14, 0);
        Assert.Equal(0, Functional.Derivative((tape, x) => Ops.Pow(x, 4), 0.9, order: 5));
        Approx.Equal(24, Functional.Derivative((tape, x) => Ops.Pow(x, 4), 0.9, order: 4), 1e-14, 0);
    }

    [Fact]
    public void Grad_MixedPartials_MatchClosedFormAndAreSymmetric()
    {
        // f(x, y) = x²y + sin(xy): ∂²f/∂x∂y = 2x + cos(xy) − xy·sin(xy), ∂²f/∂x² = 2y − y² sin(xy).
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("x", 0.8)), y = tape.Use(new ScalarParameter("y", -1.3));
        Scalar f = x * x * y + Ops.Sin(x * y);
        Node[] g = tape.Grad(f, [x, y], createGraph: true);
        Node[] gx = tape.Grad(g[0].AsScalar(), [x, y]);
        Node[] gy = tape.Grad(g[1].AsScalar(), [x, y]);
        double xv = 0.8, yv = -1.3, xy = xv * yv;
        Approx.Equal(2 * yv - yv * yv * Math.Sin(xy), gx[0].AsScalar().Value, 1e-14, 0, "∂²f/∂x²");
        Approx.Equal(2 * xv + Math.Cos(xy) - xy * Math.Sin(xy), gx[1].AsScalar().Value, 1e-14, 0, "∂²f/∂x∂y");
        Approx.Equal(gx[1].AsScalar().Value, gy[0].AsScalar().Value, 1e-15, 0, "∂²f/∂y∂x");
        Approx.Equal(-xv * xv * Math.Sin(xy), gy[1].AsScalar().Value, 1e-14, 0, "∂²f/∂y²");
    }

    [Fact]
    public void Grad_GradientPenaltyThenBackward_GivesParameterGradient()
    {
        // A gradient penalty: P(w) = ‖∇ₓ f‖² for f(x) = Σ tanh(w ⊙ x) at fixed x, ∇ₓf = w ⊙ (1 − tanh²(w ⊙ x)).
        // P's gradient in w by the fast backward through the recorded gradient, against central differences of P.
        double[] x0 = [0.3, -1.1, 0.7];
        var w = new VectorParameter("w", 0.5, 1.5, -0.8);
        double Penalty(double[] wv)
        {
            double s = 0;
            for (int k = 0; k < 3; k++)
            {
                double t = Math.Tanh(wv[k] * x0[k]);
                s += Math.Pow(wv[k] * (1 - t * t), 2);
            }
            return s;
        }
        var tape = new Tape();
        Vector x = tape.Use(new VectorParameter("x", x0));
        Scalar f = Ops.Sum(Ops.Tanh(tape.Use(w) * x));
        Vector gx = tape.Grad(f, x, createGraph: true);
        Scalar penalty = Ops.Dot(gx, gx);
        Approx.Equal(Penalty(w.Value), penalty.Value, 1e-14, 0, "P");
        penalty.Backward();
        for (int k = 0; k < 3; k++)
        {
            double h = 1e-5;
            double[] plus = (double[])w.Value.Clone(), minus = (double[])w.Value.Clone();
            plus[k] += h;
            minus[k] -= h;
            Approx.Equal((Penalty(plus) - Penalty(minus)) / (2 * h), w.Grad[k], 1e-8, 1e-10, $"∂P/∂w{k}");
        }
    }

    [Fact]
    public void Grad_WithSeed_IsVectorJacobianProductDifferentiableInTheSeed()
    {
        // y = x ⊙ x, seed u: ∂⟨u, y⟩/∂x = 2u ⊙ x, and ∂/∂u of ⟨2u ⊙ x, 1⟩ = 2x.
        var tape = new Tape();
        Vector x = tape.Use(new VectorParameter("x", 1.0, -2.0));
        Vector u = tape.Use(new VectorParameter("u", 0.5, 3.0));
        Node[] vjp = tape.Grad(x * x, u, [x], createGraph: true);
        Assert.Equal([1.0, -12.0], vjp[0].ToArray());
        Vector du = tape.Grad(Ops.Sum(vjp[0].AsVector()), u);
        Assert.Equal([2.0, -4.0], du.Value);
    }

    [Fact]
    public void Grad_UnusedInput_IsZeros()
    {
        // An input the output does not depend on gets zeros of its shape (JAX's answer, PyTorch's allow_unused with
        // materialize_grads).
        var tape = new Tape();
        Vector a = tape.Use(new VectorParameter("a", 1.0, 2.0));
        Matrix b = tape.Use(new MatrixParameter("b", new double[,] { { 1, 2 }, { 3, 4 } }));
        Node[] g = tape.Grad(Ops.Sum(a * a), [a, b]);
        Assert.Equal([2.0, 4.0], g[0].ToArray());
        Assert.Equal(new double[4], g[1].ToArray());
        Assert.Equal(Shape.Matrix(2, 2), g[1].Shape);
    }

    [Fact]
    public void Grad_OfPlainGradient_ThrowsNamingCreateGraph()
    {
        // A gradient computed without create-graph is a plain value: a second derivative through it is an error
        // naming the fix, from tape.Grad and from Backward alike, and the tape is unchanged by the failed call.
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("x", 2));
        Scalar y = x * x * x;
        Scalar d1 = tape.Grad(y, x);
        Assert.Equal(12, d1.Value);
        Assert.False(d1.Handle.RequiresGrad);
        int count = tape.NodeCount;
        var e = Assert.Throws<InvalidOperationException>(() => tape.Grad(d1, x));
        Assert.Contains("createGraph: true", e.Message);
        Assert.Equal(count, tape.NodeCount);
        var e2 = Assert.Throws<InvalidOperationException>(() => (d1 * 2).Backward());
        Assert.Contains("createGraph: true", e2.Message);
        // Also when the output depends on x by another path: the plain gradient must not silently act as a constant.
        var e3 = Assert.Throws<InvalidOperationException>(() => tape.Grad(d1 * x, x));
        Assert.Contains("createGraph: true", e3.Message);
        // Detached on purpose, it is a constant: ∂(12·x)/∂x = 12.
        Assert.Equal(12, tape.Grad(Ops.Detach(d1) * x, x).Value);
    }

    [Fact]
    public void Clear_ForgetsPlainGradients_TheSameNodeIdsDifferentiateAgain()
    {
        // Clear forgets which node ranges were plain gradients (by generation): after it, nodes at the same ids are a
        // new recording, and d²(x³)/dx² = 6x = 12 at x = 2 through a create-graph gradient must not be refused.
        var tape = new Tape();
        var p = new ScalarParameter("x", 2);
        Scalar x = tape.Use(p);
        Scalar plain = tape.Grad(x * x * x, x);
        Assert.Throws<InvalidOperationException>(() => tape.Grad(plain * x, x));

        tape.Clear();
        x = tape.Use(p);
        Scalar d1 = tape.Grad(x * x * x, x, createGraph: true);
        Assert.Equal(12, tape.Grad(d1, x).Value);
    }

    [Fact]
    public void Grad_InputThatTakesNoGradient_ThrowsNamingIt()
    {
        var tape = new Tape();
        Scalar c = tape.Constant(3);
        Scalar x = tape.Use(new ScalarParameter("x", 2));
        var e = Assert.Throws<ArgumentException>(() => tape.Grad(c * x, [x, c]));
        Assert.Contains("input 1", e.Message);
        Assert.Contains("Constant", e.Message);
    }

    [Fact]
    public void Grad_AfterBackwardFreedTheGraph_Throws()
    {
        var tape = new Tape();
        Scalar x = tape.Use(new ScalarParameter("x", 2));
        Scalar y = x * x;
        y.Backward();
        Assert.Contains("retainGraph: true", Assert.Throws<InvalidOperationException>(() => tape.Grad(y, x)).Message);
    }

    /// <summary>y = 2x as a custom op with only a first-order rule.</summary>
    private sealed class DoubleOp : CustomOp
    {
        public override string Name => "double-it";
        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];
        public override void Forward(CustomOpContext context)
        {
            for (int k = 0; k < context.Output.Length; k++) context.Output[k] = 2 * context.Input(0)[k];
        }
        public override void Backward(CustomOpContext context)
        {
            for (int k = 0; k < context.OutputGrad.Length; k++) context.InputGrad(0)[k] += 2 * context.OutputGrad[k];
        }
    }

    [Fact]
    public void Grad_CustomOpWithoutSecondOrderRule_ThrowsNamingTheOpAndLeavesTapeUnchanged()
    {
        var tape = new Tape();
        Vector x = tape.Use(new VectorParameter("x", 1.0, 2.0));
        Vector y = Ops.CustomVector(new DoubleOp(), x);
        Scalar loss = Ops.Sum(y * y);
        int count = tape.NodeCount;
        var e = Assert.Throws<NotSupportedException>(() => tape.Grad(loss, [x], createGraph: true));
        Assert.Contains("double-it", e.Message);
        Assert.Contains("RecordBackward", e.Message);
        Assert.Equal(count, tape.NodeCount);
        // The fast backward is unaffected: ∂Σ(2x)²/∂x = 8x.
        loss.Backward();
        Assert.Equal([8.0, 16.0], x.Grad);
    }

    [Fact]
    public void Grad_CustomOpWithSecondOrderRule_DifferentiatesTwice()
    {
        // CubeOp records 3x²·g: d²/dx² Σx³ = 6x.
        var tape = new Tape();
        Vector x = tape.Use(new VectorParameter("x", 1.5, -2.0));
        Scalar s = Ops.Sum(Ops.CustomVector(CubeOp.Instance, x));
        Vector g = tape.Grad(s, x, createGraph: true);
        Assert.Equal([6.75, 12.0], g.Value);
        Assert.Equal([9.0, -12.0], tape.Grad(Ops.Sum(g), x).Value);
    }

    [Fact]
    public void Grad_ZeroDerivativeOps_AreDeclaredZerosToEveryOrder()
    {
        // relu′ and |x|′ are constant masks: their derivatives are 0; floor contributes nothing at all.
        var tape = new Tape();
        Vector x = tape.Use(new VectorParameter("x", -1.5, 0.5, 2.5));
        Scalar f = Ops.Sum(Ops.Relu(x) * x + Ops.Abs(x) + Ops.Floor(x) * x);
        Vector g = tape.Grad(f, x, createGraph: true);
        // ∂/∂x: 2x·[x > 0] + sign x + ⌊x⌋
        Assert.Equal([-1.0 - 2, 1.0 + 1 + 0, 5.0 + 1 + 2], g.Value);
        // ∂²/∂x² Σ: 2·[x > 0]
        Assert.Equal([0.0, 2.0, 2.0], tape.Grad(Ops.Sum(g), x).Value);
    }
}
