using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Laws every reverse-mode implementation must satisfy, whatever the ops: linearity, the product and chain rules,
/// accumulation over uses and over passes, and what Detach, NoGrad, retainGraph and constants do to the flow.
/// </summary>
/// <remarks>
/// The laws hold exactly in real arithmetic; in floating point both sides are a few roundings apart, so they are
/// compared at 10⁻¹² relative (10⁻¹⁴ absolute). Where a law is exact in floating point too (sums of ones,
/// accumulating the same numbers twice) it is compared exactly.
/// </remarks>
public class AlgebraicLawTests
{
    private const double Rel = 1e-12, Abs = 1e-14;

    private static readonly Gen<double[]> XGen = Gens.Vector(5, -2, 2);

    /// <summary>f(x) = Σ tanh(xₖ)·xₖ + (Σ x)², a smooth function with a dense gradient.</summary>
    private static Scalar F(Vector x) => Ops.Sum(Ops.Tanh(x) * x) + Ops.Square(Ops.Sum(x));

    /// <summary>g(x) = ln Σ e^x + Σ σ(x)·x².</summary>
    private static Scalar G(Vector x) => Ops.LogSumExp(x) + Ops.Dot(Ops.Sigmoid(x), Ops.Square(x));

    /// <summary>∇ of <paramref name="f"/> at <paramref name="x"/> on a fresh tape and parameter.</summary>
    private static double[] Gradient(double[] x, Func<Vector, Scalar> f)
    {
        var p = new VectorParameter("x", x);
        var t = new Tape();
        f(t.Use(p)).Backward();
        return p.Grad;
    }

    private static double Value(double[] x, Func<Vector, Scalar> f)
    {
        var t = new Tape();
        return f(t.Constant(x)).Value;
    }

    [Property(MaxTest = 200)]
    public Property Linearity_AlphaFPlusBetaG_IsAlphaGradFPlusBetaGradG() =>
        Prop.ForAll(XGen.ToArbitrary(), Gens.Double(-3, 3).Two().ToArbitrary(), (x, ab) =>
        {
            var (alpha, beta) = ab;
            double[] combined = Gradient(x, v => alpha * F(v) + beta * G(v));
            double[] gf = Gradient(x, F), gg = Gradient(x, G);
            for (int k = 0; k < x.Length; k++) Approx.Equal(alpha * gf[k] + beta * gg[k], combined[k], 1e-11, 1e-12, $"∇(αf + βg)[{k}]");
        });

    [Property(MaxTest = 200)]
    public Property ProductRule_GradFTimesG_IsFGradGPlusGGradF() =>
        Prop.ForAll(XGen.ToArbitrary(), x =>
        {
            double[] product = Gradient(x, v => F(v) * G(v));
            double f = Value(x, F), g = Value(x, G);
            double[] gf = Gradient(x, F), gg = Gradient(x, G);
            for (int k = 0; k < x.Length; k++) Approx.Equal(f * gg[k] + g * gf[k], product[k], 1e-11, 1e-12, $"∇(fg)[{k}]");
        });

    [Property(MaxTest = 200)]
    public Property QuotientRule_GradFOverG_IsGradFTimesGMinusFGradGOverGSquared() =>
        Prop.ForAll(XGen.ToArbitrary(), x =>
        {
            // g > 0 here: ln Σ e^x ≥ max x and the second term ≥ 0 … not always; use e^g instead, always positive.
            double[] quotient = Gradient(x, v => F(v) / Ops.Exp(G(v)));
            double f = Value(x, F), eg = Math.Exp(Value(x, G));
            double[] gf = Gradient(x, F), gg = Gradient(x, G);
            // ∇(f/e^g) = (∇f·e^g − f·e^g·∇g)/e^(2g) = (∇f − f∇g)/e^g.
            for (int k = 0; k < x.Length; k++) Approx.Equal((gf[k] - f * gg[k]) / eg, quotient[k], 1e-11, 1e-12, $"∇(f/e^g)[{k}]");
        });

    [Property(MaxTest = 200)]
    public Property ChainRule_OuterOfInner_IsOuterDerivativeTimesInnerGradient() =>
        Prop.ForAll(XGen.ToArbitrary(), x =>
        {
            // h(f(x)) with h = tanh, and with h = ln(1 + u²): ∇h(f) = h'(f)·∇f.
            double f = Value(x, F);
            double[] gf = Gradient(x, F);
            double[] tanhOfF = Gradient(x, v => Ops.Tanh(F(v)));
            double[] logOfF = Gradient(x, v => Ops.Log(1 + Ops.Square(F(v))));
            double dTanh = 1 - Math.Tanh(f) * Math.Tanh(f), dLog = 2 * f / (1 + f * f);
            for (int k = 0; k < x.Length; k++)
            {
                Approx.Equal(dTanh * gf[k], tanhOfF[k], 1e-11, 1e-13, $"∇tanh(f)[{k}]");
                Approx.Equal(dLog * gf[k], logOfF[k], 1e-11, 1e-13, $"∇ln(1 + f²)[{k}]");
            }
        });

    [Property(MaxTest = 100)]
    public Property NodeUsedKTimes_SumOfKCopies_GradientIsExactlyK() =>
        Prop.ForAll(Gen.Choose(1, 200).ToArbitrary(), Gens.Double(-5, 5).ToArbitrary(), (k, x0) =>
        {
            // x + x + … + x (k terms): every use adds 1 to ∂L/∂x, so the gradient is k, exactly.
            var p = new ScalarParameter("x", x0);
            var t = new Tape();
            Scalar x = t.Use(p);
            Scalar sum = x;
            for (int i = 1; i < k; i++) sum += x;
            sum.Backward();
            Assert.Equal(k, p.Grad);
        });

    [Property(MaxTest = 100)]
    public Property NodeUsedKTimes_VectorAndMatrixUses_EveryUseContributes() =>
        Prop.ForAll(Gen.Choose(1, 20).ToArbitrary(), XGen.ToArbitrary(), (k, x0) =>
        {
            // L = Σ over k uses of Σ x (vector) + k uses through a row broadcast of an [2×n] matrix: each element's
            // gradient is k (vector sums) + 2k (the row was broadcast over two rows) = 3k.
            var p = new VectorParameter("x", x0);
            var t = new Tape();
            Vector x = t.Use(p);
            Matrix zeros = t.Constant(new double[2, x0.Length]);
            Scalar loss = t.Constant(0.0);
            for (int i = 0; i < k; i++) loss = loss + Ops.Sum(x) + Ops.Sum(zeros + x);
            loss.Backward();
            Assert.All(p.Grad, g => Assert.Equal(3.0 * k, g));
        });

    [Fact]
    public void NodeUsedTwice_ProductWithItself_IsTwoX()
    {
        // x·x uses x as both operands: ∂/∂x = x + x = 2x. And x·x·x: 3x².
        var p = new ScalarParameter("x", 1.7);
        var t = new Tape();
        Scalar x = t.Use(p);
        (x * x).Backward();
        Assert.Equal(2 * 1.7, p.Grad);

        p.ZeroGrad();
        t.Clear();
        x = t.Use(p);
        (x * x * x).Backward();
        Approx.Equal(3 * 1.7 * 1.7, p.Grad, 1e-15);
    }

    [Fact]
    public void ParameterGrad_TwoBackwardPassesOnTwoTapes_Accumulates()
    {
        // Gradients accumulate in Parameter.Grad across passes and tapes until ZeroGrad: ∂(2w)/∂w + ∂(w²)/∂w = 2 + 2w.
        var w = new ScalarParameter("w", 3.0);
        var t1 = new Tape();
        (2 * t1.Use(w)).Backward();
        Assert.Equal(2.0, w.Grad);
        var t2 = new Tape();
        Ops.Square(t2.Use(w)).Backward();
        Assert.Equal(2.0 + 6.0, w.Grad);

        w.ZeroGrad();
        Assert.Equal(0.0, w.Grad);
        var t3 = new Tape();
        Ops.Square(t3.Use(w)).Backward();
        Assert.Equal(6.0, w.Grad);
    }

    [Fact]
    public void ParameterGrad_SameParameterUsedTwiceOnOneTape_BothLeavesContribute()
    {
        // Two leaves of one parameter: L = u·v with u = v = w, so ∂L/∂w = v + u = 2w.
        var w = new VectorParameter("w", 1.5, -0.5);
        var t = new Tape();
        Ops.Dot(t.Use(w), t.Use(w)).Backward();
        Assert.Equal([3.0, -1.0], w.Grad);
    }

    [Fact]
    public void ZeroGrad_AfterAccumulation_ResetsEveryElement()
    {
        var m = new MatrixParameter("M", new double[,] { { 1, 2 }, { 3, 4 } });
        for (int pass = 0; pass < 3; pass++)
        {
            var t = new Tape();
            Ops.Sum(Ops.Square(t.Use(m))).Backward();
        }
        Assert.Equal([6.0, 12.0, 18.0, 24.0], m.Grad);
        m.ZeroGrad();
        Assert.Equal([0.0, 0.0, 0.0, 0.0], m.Grad);
        Assert.Equal([1.0, 2.0, 3.0, 4.0], m.Value);
    }

    [Property(MaxTest = 100)]
    public Property Detach_InProduct_StopsFlowThroughDetachedFactor() =>
        Prop.ForAll(Gens.Double(-3, 3).ToArbitrary(), x0 =>
        {
            // L = x · detach(x): the detached factor is a constant x₀, so ∂L/∂x = x₀ (not 2x₀), and L = x₀².
            var p = new ScalarParameter("x", x0);
            var t = new Tape();
            Scalar x = t.Use(p);
            Scalar d = Ops.Detach(x);
            Scalar loss = x * d;
            loss.Backward();
            Assert.Equal(x0 * x0, loss.Value);
            Assert.Equal(x0, p.Grad);
            Assert.False(((Node)d).RequiresGrad);
            Assert.Equal(0.0, d.Grad);
        });

    [Fact]
    public void Detach_WholeLoss_FiniteDifferencesSeeADifferentFunction()
    {
        // The gradient checker compares autodiff with central differences of the function as recorded; a detach
        // makes them differ on purpose (autodiff treats detach(x) as constant, the differences do not). This pins
        // that Detach really changes the gradient: the check fails, for the detached parameter only.
        var x = new VectorParameter("x", 0.5, -1.0);
        var y = new ScalarParameter("y", 2.0);
        GradientCheckReport report = GradientCheck.Run(
            t => Ops.Sum(Ops.Square(Ops.Detach(t.Use(x)))) + Ops.Square(t.Use(y)) * Ops.Sum(t.Use(x)),
            [x, y]);
        Assert.False(report.Passed);
        Assert.False(report.Parameters[0].VersusNumeric.Passed);
        Assert.True(report.Parameters[1].VersusNumeric.Passed);
        // Autodiff: ∂/∂x = y² (= 4) per element; the differences also see ∂Σx²/∂x = 2x.
        Assert.Equal([4.0, 4.0], report.Parameters[0].Autodiff);
        Approx.Equal(4 + 2 * 0.5, report.Parameters[0].Numeric[0], 1e-8);
    }

    [Fact]
    public void Detach_VectorAndMatrix_ShareValuesButNotGradient()
    {
        var v = new VectorParameter("v", 1, 2, 3);
        var m = new MatrixParameter("m", new double[,] { { 1, 2 }, { 3, 4 } });
        var t = new Tape();
        Vector dv = Ops.Detach(t.Use(v));
        Matrix dm = Ops.Detach(t.Use(m));
        Assert.Equal([1.0, 2.0, 3.0], dv.Value);
        Assert.Equal([1.0, 2, 3, 4], dm.Value);
        Scalar loss = Ops.Sum(dv) + Ops.Sum(dm) + Ops.Sum(t.Use(v));
        loss.Backward();
        Assert.Equal([1.0, 1.0, 1.0], v.Grad);
        Assert.Equal([0.0, 0.0, 0.0, 0.0], m.Grad);
    }

    [Fact]
    public void NoGrad_Scope_RecordsValuesWithoutGradient()
    {
        var w = new ScalarParameter("w", 2.0);
        var t = new Tape();
        Scalar inside;
        using (t.NoGrad())
        {
            Assert.True(t.IsNoGrad);
            inside = Ops.Exp(t.Use(w));
            Assert.False(((Node)inside).RequiresGrad);
            Assert.Equal(Math.Exp(2.0), inside.Value);
        }
        Assert.False(t.IsNoGrad);

        // After the scope, recording has gradients again; the value from inside acts as a constant.
        Scalar outside = t.Use(w) * inside;
        Assert.True(((Node)outside).RequiresGrad);
        outside.Backward();
        Assert.Equal(Math.Exp(2.0), w.Grad); // ∂(w·c)/∂w = c, no contribution through the NoGrad path
    }

    [Fact]
    public void NoGrad_NestedScopes_OnlyTheOutermostEndRestoresGradients()
    {
        var w = new ScalarParameter("w", 1.0);
        var t = new Tape();
        using (t.NoGrad())
        {
            using (t.NoGrad())
            {
                Assert.True(t.IsNoGrad);
            }
            Assert.True(t.IsNoGrad);
            Assert.False(((Node)t.Use(w)).RequiresGrad);
        }
        Assert.False(t.IsNoGrad);
        Assert.True(((Node)t.Use(w)).RequiresGrad);
    }

    [Fact]
    public void NoGrad_LossRecordedInside_CannotBeDifferentiated()
    {
        var w = new ScalarParameter("w", 1.0);
        var t = new Tape();
        Scalar loss;
        using (t.NoGrad()) loss = Ops.Square(t.Use(w));
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("recorded under NoGrad", e.Message);
    }

    [Fact]
    public void RetainGraph_SecondBackward_AccumulatesAnotherGradient()
    {
        // L = w³ at w = 2: ∂L/∂w = 12. Two passes over one retained graph: Parameter.Grad = 24, while the node
        // gradients are those of the last pass (each pass recomputes them from zero).
        var w = new ScalarParameter("w", 2.0);
        var t = new Tape();
        Scalar x = t.Use(w);
        Scalar cube = x * x * x;
        cube.Backward(retainGraph: true);
        Assert.Equal(12.0, w.Grad);
        cube.Backward(retainGraph: true);
        Assert.Equal(24.0, w.Grad);
        Assert.Equal(12.0, x.Grad);
        Assert.Equal(1.0, cube.Grad);
        // A third pass may free the graph.
        cube.Backward();
        Assert.Equal(36.0, w.Grad);
    }

    [Fact]
    public void RetainGraph_RecordMoreAfterBackward_SecondLossSeesWholeGraph()
    {
        // retainGraph also keeps recording allowed: extend the graph and differentiate the new loss.
        var w = new ScalarParameter("w", 3.0);
        var t = new Tape();
        Scalar x = t.Use(w);
        Scalar first = Ops.Square(x);
        first.Backward(retainGraph: true);
        Assert.Equal(6.0, w.Grad);
        w.ZeroGrad();
        Scalar second = first * x; // x³
        second.Backward();
        Assert.Equal(27.0, w.Grad);
    }

    [Fact]
    public void RetainGraph_NodeRecordedAfterBackward_HasNoGradientFromThatPass()
    {
        // Grad is ∂L/∂node from the last pass, zeros where none flowed. A node recorded after the pass (allowed by
        // retainGraph) got nothing from it: its Grad is zeros, not whatever an earlier, larger step left in the
        // gradient arena, and not an index error when it lies beyond the arena.
        var big = new VectorParameter("big", new double[300]);
        var w = new VectorParameter("w", 1.0, 2.0);
        var t = new Tape();
        Ops.Sum(Ops.Exp(t.Use(big))).Backward(); // fills the gradient arena with ones
        t.Clear();
        Vector x = t.Use(w);
        Ops.Sum(Ops.Square(x)).Backward(retainGraph: true);
        int recordedByThePass = t.NodeCount;
        Vector after = Ops.Exp(x);
        Assert.Equal([0.0, 0.0], after.Grad);
        Vector large = Ops.Exp(t.Constant(new double[1000]) + x[0]); // beyond the gradient arena
        Assert.Equal(new double[1000], large.Grad);
        Assert.Equal([2.0, 4.0], x.Grad); // nodes of the pass keep theirs
        string[] lines = t.Format().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("∂L/∂", lines[recordedByThePass - 1]);
        Assert.All(lines[recordedByThePass..], line => Assert.DoesNotContain("∂L/∂", line)); // none shown for the new nodes
    }

    [Fact]
    public void Constants_AnyShape_ReceiveNoGradient()
    {
        var w = new ScalarParameter("w", 0.5);
        var t = new Tape();
        Scalar c = t.Constant(3.0);
        Vector cv = t.Constant([1.0, 2.0]);
        Matrix cm = t.Constant(new double[,] { { 1, 2 }, { 3, 4 } });
        Matrix external = t.Constant([1.0, 2.0, 3.0, 4.0], 2, 2);
        Assert.False(((Node)c).RequiresGrad);
        Assert.False(((Node)cv[0]).RequiresGrad);
        Assert.False(((Node)cm.Row(1)).RequiresGrad);
        Scalar loss = t.Use(w) * (c + Ops.Sum(cv) + Ops.Sum(cm) + Ops.Sum(external));
        loss.Backward();
        Assert.Equal(3.0 + 3.0 + 10.0 + 10.0, w.Grad);
        Assert.Equal(0.0, c.Grad);
        Assert.Equal([0.0, 0.0], cv.Grad);
        Assert.Equal(new double[4], cm.Grad);
        Assert.Equal(new double[4], external.Grad);
    }

    [Property(MaxTest = 100)]
    public Property Backward_SeedIsLinear_VectorOutputWithSeedEqualsDotWithSeed() =>
        Prop.ForAll(XGen.ToArbitrary(), x0 =>
        {
            // Backward from a vector y with seed s computes ∂(s·y)/∂x: the vector–Jacobian product.
            double[] seed = [.. x0.Select((v, k) => 0.5 + k - v)];
            var p = new VectorParameter("x", x0);
            var t = new Tape();
            Vector y = Ops.Softmax(t.Use(p)) * t.Use(p);
            y.Backward(seed);
            double[] viaSeed = (double[])p.Grad.Clone();

            double[] viaDot = Gradient(x0, v => Ops.Dot(Ops.Softmax(v) * v, v.Tape.Constant(seed)));
            Approx.Equal(viaDot, viaSeed, Rel, Abs, "seeded backward");
        });
}
