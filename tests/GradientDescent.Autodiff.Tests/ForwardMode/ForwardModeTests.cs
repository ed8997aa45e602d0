using GradientDescent.Autodiff.Tests.Support;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Tests.ForwardMode;

/// <summary>
/// Forward mode on the tape (<see cref="Tape.Jvp(Node, ReadOnlySpan{Parameter}, ReadOnlySpan{double[]}, Span{double})"/>):
/// hand-derived directional derivatives, what carries no tangent, custom ops with and without a forward rule, and
/// that a sweep changes nothing but tangents and allocates nothing when warm.
/// </summary>
public class ForwardModeTests
{
    [Fact]
    public void Jvp_ScalarChain_IsTheHandDerivedDerivative()
    {
        // y = sin(x²)·eˣ, dy/dx = 2x·cos(x²)·eˣ + sin(x²)·eˣ; the tangent along v = 1 is dy/dx.
        var p = new ScalarParameter("x", 0.7);
        var t = new Tape();
        Scalar x = t.Use(p);
        Scalar y = Ops.Sin(Ops.Square(x)) * Ops.Exp(x);
        double x0 = 0.7;
        double expected = 2 * x0 * Math.Cos(x0 * x0) * Math.Exp(x0) + Math.Sin(x0 * x0) * Math.Exp(x0);
        Approx.Equal(expected, t.Jvp(y, [p], [[1.0]]), 1e-15);
        // Linear in the direction: v = −2.5 gives −2.5·dy/dx.
        Approx.Equal(-2.5 * expected, t.Jvp(y, [p], [[-2.5]]), 1e-15);
    }

    [Fact]
    public void Jvp_LinearModel_IsXTimesTheDirection()
    {
        // ŷ = X w + b (broadcast), so ŷ̇ = X ẇ + ḃ·1.
        var w = new VectorParameter("w", 0.5, -1.0);
        var b = new ScalarParameter("b", 0.25);
        double[] data = [1, 2, 3, 4, 5, 6];
        var t = new Tape();
        Vector yHat = Ops.MatVec(t.Constant(data, 3, 2), t.Use(w)) + t.Use(b);
        var tangent = new double[3];
        t.Jvp(yHat, [w, b], [[1.0, -2.0], [0.5]], tangent);
        // Rows (1, 2), (3, 4), (5, 6) dotted with (1, −2), plus 0.5.
        Assert.Equal([-2.5, -4.5, -6.5], tangent);
    }

    [Fact]
    public void Jvp_ParameterNotListed_IsHeldFixed()
    {
        // f = a·b; along (ȧ = 1) with b fixed, ḟ = b.
        var a = new ScalarParameter("a", 3);
        var b = new ScalarParameter("b", -2);
        var t = new Tape();
        Scalar f = t.Use(a) * t.Use(b);
        Assert.Equal(-2.0, t.Jvp(f, [a], [[1.0]]));
        Assert.Equal(3.0, t.Jvp(f, [b], [[1.0]]));
        Assert.Equal(0.0, t.Jvp(f, [], []));
    }

    [Fact]
    public void Jvp_ParameterUsedTwice_GetsItsTangentAtEveryUse()
    {
        // f = x·x through two leaves of one parameter: ḟ = 2x·ẋ.
        var p = new ScalarParameter("x", 1.5);
        var t = new Tape();
        Scalar f = t.Use(p) * t.Use(p);
        Assert.Equal(3.0, t.Jvp(f, [p], [[1.0]]));
    }

    [Fact]
    public void Jvp_ThroughDetachAndNoGrad_CarriesNoTangent()
    {
        // f = x·detach(x) + (x² under NoGrad): forward mode stops where backward stops, so ḟ = detach(x)·ẋ = x·ẋ,
        // the same as ∂f/∂x from backward.
        var p = new ScalarParameter("x", 2);
        var t = new Tape();
        Scalar x = t.Use(p);
        Scalar frozen;
        using (t.NoGrad()) frozen = Ops.Square(x);
        Scalar f = x * Ops.Detach(x) + frozen;
        Assert.Equal(2.0, t.Jvp(f, [p], [[1.0]]));
        f.Backward();
        Assert.Equal(2.0, p.Grad);
    }

    [Fact]
    public void Jvp_OutputWithoutParameters_IsZero()
    {
        // A constant function has the derivative 0 (JAX's jvp returns zeros; backward would refuse: nothing to differentiate).
        var p = new ScalarParameter("x", 2);
        var t = new Tape();
        t.Use(p);
        Vector c = Ops.Exp(t.Constant([1.0, 2.0]));
        var tangent = new double[] { 9, 9 };
        t.Jvp(c, [p], [[1.0]], tangent);
        Assert.Equal([0.0, 0.0], tangent);
    }

    [Fact]
    public void Jvp_ViewOfAView_SharesTheTangentOfItsInput()
    {
        // y = M[1..3] (rows), z = y[1] (a row of it), s = Σ z² ; ṡ = Σ 2zⱼ·Ṁ₂ⱼ: the views read their input's tangent slots.
        var m = new MatrixParameter("M", new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var t = new Tape();
        Matrix y = t.Use(m)[1..3];
        Vector z = y.Row(1);
        Scalar s = Ops.Sum(Ops.Square(z));
        double[] dm = [0, 0, 0, 0, 1, -1];
        Assert.Equal(2 * 5 * 1 + 2 * 6 * -1, t.Jvp(s, [m], [dm]));
    }

    [Fact]
    public void Jvp_DoesNotChangeValuesGradientsOrParameterGrad()
    {
        // A sweep writes only the tangent arena: every node's value, every gradient from an earlier backward, and
        // Parameter.Grad stay bit for bit; a backward after it gives the gradients it gives without it.
        var w = new VectorParameter("w", 0.3, -0.4, 0.9);
        var b = new ScalarParameter("b", 0.1);
        double[] data = [1, 2, 3, -1, 0.5, 2, 0.2, -0.3, 1.1];
        double[] labels = [1, 0, 1];

        Scalar Record(Tape tape) => Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(tape.Constant(data, 3, 3), tape.Use(w)) + tape.Use(b), labels)
                                  + Ops.Variance(Ops.Softmax(tape.Use(w)));

        var plain = new Tape();
        Record(plain).Backward();
        double[] expectedW = (double[])w.Grad.Clone();
        double expectedB = b.Grad;

        var t = new Tape();
        Scalar loss = Record(t);
        loss.Backward(retainGraph: true);
        double[][] values = [.. Enumerable.Range(0, t.NodeCount).Select(k => t.ValueSpan(k).ToArray())];
        double[][] grads = [.. Enumerable.Range(0, t.NodeCount).Select(k => new Node(t, k).GradToArray())];
        double[] wGrad = (double[])w.Grad.Clone(), wValue = (double[])w.Value.Clone();

        t.Jvp(loss, [w, b], [[1.0, 2.0, 3.0], [4.0]]);

        for (int k = 0; k < t.NodeCount; k++)
        {
            Assert.Equal(values[k], t.ValueSpan(k).ToArray());
            Assert.Equal(grads[k], new Node(t, k).GradToArray());
        }
        Assert.Equal(wGrad, w.Grad);
        Assert.Equal(wValue, w.Value);

        // The graph is still usable: a second backward (after zeroing) gives the plain gradients.
        w.ZeroGrad();
        b.ZeroGrad();
        loss.Backward();
        Assert.Equal(expectedW, w.Grad);
        Assert.Equal(expectedB, b.Grad);
    }

    [Fact]
    public void Jvp_CustomOpWithForwardRule_UsesIt()
    {
        // y = Σ cube(2x) with cube′ = 3x²: ẏ = Σ 3(2xₖ)²·2ẋₖ = Σ 24xₖ²ẋₖ.
        var p = new VectorParameter("x", 1.0, -2.0, 0.5);
        var t = new Tape();
        Scalar y = Ops.Sum(Ops.CustomVector(CubeOp.Instance, t.Use(p) * 2.0));
        Assert.Equal(24 * 1 * 1 + 24 * 4 * -1 + 24 * 0.25 * 2, t.Jvp(y, [p], [[1.0, -1.0, 2.0]]));
    }

    [Fact]
    public void Jvp_CustomOpWithoutForwardRule_ThrowsNamingTheOp()
    {
        // Backward works through the op; forward mode refuses, never a silent 0.
        var p = new VectorParameter("x", 1.0, 2.0);
        var t = new Tape();
        Scalar y = Ops.Sum(Ops.CustomVector(new BackwardOnlyCube(), t.Use(p)));
        var e = Assert.Throws<NotSupportedException>(() => t.Jvp(y, [p], [[1.0, 0.0]]));
        Assert.StartsWith("Custom op backward-only-cube: has no forward-mode rule", e.Message);
        Assert.Contains("Override CustomOp.Jvp", e.Message);
        y.Backward();
        Assert.Equal([3.0, 12.0], p.Grad);
    }

    [Fact]
    public void Jvp_CustomOpOnAnInputWithoutTangent_SeesAnEmptyTangent()
    {
        // product-plus(a, b) = a ⊙ b + a with b a constant: ẏ = (b + 1)·ȧ, and InputTangent(1) is empty.
        var a = new VectorParameter("a", 1.0, 2.0);
        var t = new Tape();
        Vector y = Ops.CustomVector(ProductPlusOp.Instance, t.Use(a), t.Constant([3.0, -4.0]));
        var tangent = new double[2];
        t.Jvp(y, [a], [[1.0, 1.0]], tangent);
        Assert.Equal([4.0, -3.0], tangent);
    }

    [Fact]
    public void Jvp_WrongTangentLength_ThrowsNamingTheParameter()
    {
        var w = new VectorParameter("w", 1.0, 2.0);
        var t = new Tape();
        Scalar y = Ops.Sum(t.Use(w));
        var e = Assert.Throws<ArgumentException>(() => t.Jvp(y, [w], [[1.0]]));
        Assert.StartsWith("Jvp: the tangent of parameter 0 (w, shape [2]) has 1 elements; it needs one per element of the parameter (2).", e.Message);
        e = Assert.Throws<ArgumentException>(() => t.Jvp(y, [w], []));
        Assert.StartsWith("Jvp: 1 parameters but 0 tangents", e.Message);
        e = Assert.Throws<ArgumentException>(() => t.Jvp(t.Use(w), [w], [[1.0, 2.0]], new double[3]));
        Assert.StartsWith("Jvp: the output Parameter has shape [2] (2 elements) but the destination for its tangent has 3", e.Message);
    }

    [Fact]
    public void Jvp_AfterBackwardFreedTheGraph_Throws()
    {
        var p = new ScalarParameter("x", 1);
        var t = new Tape();
        Scalar y = Ops.Exp(t.Use(p));
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => t.Jvp(y, [p], [[1.0]]));
        Assert.StartsWith("Jvp: the graph was freed by Backward", e.Message);
    }

    [Fact]
    public void Jvp_DetectAnomalies_NamesTheOpWithANonFiniteTangent()
    {
        // √x at x = 0 has the tangent ẋ/(2√x) = ∞: with anomaly detection the sweep names the node.
        var p = new ScalarParameter("x", 0);
        var t = new Tape { DetectAnomalies = true };
        Scalar y = Ops.Sqrt(t.Use(p)) + 1.0;
        var e = Assert.Throws<ArithmeticException>(() => t.Jvp(y, [p], [[1.0]]));
        Assert.StartsWith("Sqrt: node 1 of shape scalar has a non-finite tangent (", e.Message);
    }

    [Fact]
    public void Jvp_WarmCall_AllocatesNothing()
    {
        // The tangent arena is allocated by the first sweep and reused: a second sweep over the same tape allocates 0 B.
        var w = new VectorParameter("w", 0.3, -0.4, 0.9);
        var t = new Tape();
        Scalar loss = Ops.LogSumExp(Ops.Tanh(t.Use(w)) * 2.0) + Ops.Sum(Ops.Square(t.Use(w)));
        Parameter[] ps = [w];
        double[][] v = [[1.0, 0.5, -1.0]];
        t.Jvp(loss, ps, v);
        double d = double.NaN;
        long allocated = Allocations.Least(() => d = t.Jvp(loss, ps, v));
        Assert.Equal(0, allocated);
        Assert.True(double.IsFinite(d));
    }

    /// <summary>x³ with a reverse rule only.</summary>
    private sealed class BackwardOnlyCube : CustomOp
    {
        public override string Name => "backward-only-cube";
        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];
        public override void Forward(CustomOpContext context)
        {
            ReadOnlySpan<double> x = context.Input(0);
            for (int k = 0; k < x.Length; k++) context.Output[k] = x[k] * x[k] * x[k];
        }
        public override void Backward(CustomOpContext context)
        {
            ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
            Span<double> gx = context.InputGrad(0);
            for (int k = 0; k < x.Length; k++) gx[k] += g[k] * 3 * x[k] * x[k];
        }
    }
}
