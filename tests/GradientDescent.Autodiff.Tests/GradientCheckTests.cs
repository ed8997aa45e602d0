using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>The gradient checker itself: verdicts, reports, tolerances, and that it leaves parameters as it found them.</summary>
public class GradientCheckTests
{
    /// <summary>Mean logistic error of three points, ŷ = σ(w·x + b).</summary>
    private static Scalar Logistic(Tape t, VectorParameter w, ScalarParameter b)
    {
        Matrix x = t.Constant([0.5, -1.0, 1.5, 0.25, -2.0, 1.0], 3, 2);
        return Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(x, t.Use(w)) + t.Use(b), t.Constant([1.0, 0.0, 1.0]));
    }

    /// <summary>The seed's gradient of <see cref="Logistic"/>: −(1/m) Σ (y − ŷ)(x, 1).</summary>
    private static (double[] W, double B) HandGradient(double[] w, double b)
    {
        double[,] x = { { 0.5, -1.0 }, { 1.5, 0.25 }, { -2.0, 1.0 } };
        double[] y = [1, 0, 1];
        var gw = new double[2];
        double gb = 0;
        for (int i = 0; i < 3; i++)
        {
            double r = y[i] - Reference.Sigmoid(w[0] * x[i, 0] + w[1] * x[i, 1] + b);
            gw[0] -= r * x[i, 0] / 3;
            gw[1] -= r * x[i, 1] / 3;
            gb -= r / 3;
        }
        return (gw, gb);
    }

    [Fact]
    public void Run_CorrectGradients_PassesWithErrorsFarBelowTolerance()
    {
        var w = new VectorParameter("w", 0.3, -0.7);
        var b = new ScalarParameter("b", 0.1);
        GradientCheckReport report = GradientCheck.Run(t => Logistic(t, w, b), [w, b]);
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(2, report.Parameters.Count);
        Assert.Equal(["w", "b"], report.Parameters.Select(p => p.Name));
        Assert.Equal(Shape.Vector(2), report.Parameters[0].Shape);
        foreach (var p in report.Parameters)
        {
            Assert.Null(p.HandDerived);
            Assert.Null(p.VersusHandDerived);
            // Central differences with h ≈ 6·10⁻⁶ are good to ~10⁻¹⁰ here: far inside the 10⁻⁶ default.
            Assert.True(p.VersusNumeric.MaxRelative < 1e-8, $"{p.Name}: {p.VersusNumeric}");
        }
        Assert.EndsWith("PASSED", report.ToString());
    }

    [Fact]
    public void Run_HandDerivedGradient_IsComparedAndReported()
    {
        var w = new VectorParameter("w", 0.3, -0.7);
        var b = new ScalarParameter("b", 0.1);
        var (gw, gb) = HandGradient(w.Value, b.Value);
        var options = new GradientCheckOptions { HandDerived = p => p == w ? gw : p == b ? [gb] : null };
        GradientCheckReport report = GradientCheck.Run(t => Logistic(t, w, b), [w, b], options);
        Assert.True(report.Passed, report.ToString());
        foreach (var p in report.Parameters)
        {
            Assert.NotNull(p.HandDerived);
            Assert.NotNull(p.VersusHandDerived);
            Assert.True(p.VersusHandDerived!.Value.Passed);
            Assert.True(p.VersusHandDerived.Value.MaxRelative < 1e-12, $"{p.Name}: {p.VersusHandDerived}"); // same formula, different rounding
        }
        Assert.Equal(gw, report.Parameters[0].HandDerived);
        string text = report.ToString();
        Assert.Contains("hand-derived", text);
        Assert.Contains("finite diff", text);
    }

    [Fact]
    public void Run_HandDerivedNullForOneParameter_SkipsOnlyThatComparison()
    {
        var w = new VectorParameter("w", 0.3, -0.7);
        var b = new ScalarParameter("b", 0.1);
        var (gw, _) = HandGradient(w.Value, b.Value);
        var report = GradientCheck.Run(t => Logistic(t, w, b), [w, b], new GradientCheckOptions { HandDerived = p => p == w ? gw : null });
        Assert.NotNull(report.Parameters[0].VersusHandDerived);
        Assert.Null(report.Parameters[1].VersusHandDerived);
        Assert.True(report.Passed);
    }

    [Fact]
    public void Run_WrongHandGradient_FailsAndPointsAtTheWorstElement()
    {
        var w = new VectorParameter("w", 0.3, -0.7, 0.2);
        var report = GradientCheck.Run(
            t => Ops.Sum(Ops.Square(t.Use(w))) * 0.5, // ∇ = w
            [w],
            new GradientCheckOptions { HandDerived = _ => [0.3, -0.7 * 1.5, 0.2] }); // element 1 off by 50 %
        Assert.False(report.Passed);
        ParameterCheck p = report.Parameters[0];
        Assert.True(p.VersusNumeric.Passed);
        ErrorSummary hand = p.VersusHandDerived!.Value;
        Assert.False(hand.Passed);
        Assert.Equal(1, hand.WorstIndex);
        Assert.Equal(-0.7, hand.Autodiff);
        Assert.Equal(-1.05, hand.Reference, 15);
        Approx.Equal(0.35, hand.MaxAbsolute, 1e-12);
        Approx.Equal(0.35 / 1.05, hand.MaxRelative, 1e-12);
        Assert.Contains("FAIL", report.ToString());
    }

    [Fact]
    public void Run_FailingElementBesideNearZeroOnes_WorstIndexIsTheFailingElement()
    {
        // Element 0: autodiff 10⁻¹⁰ against a hand value 3·10⁻¹⁰ — relative error ⅔, but within the absolute
        // tolerance 10⁻⁸, so it passes. Element 1: 1 against 1.1 — relative error 1/11, and it fails. The report
        // must point at element 1 (the reason for the FAIL), not at the passing element with the larger ratio.
        var w = new VectorParameter("w", 1e-10, 1.0);
        var report = GradientCheck.Run(
            t => 0.5 * Ops.Dot(t.Use(w), t.Use(w)), // ∇ = w
            [w],
            new GradientCheckOptions { HandDerived = _ => [3e-10, 1.1] });
        ErrorSummary hand = report.Parameters[0].VersusHandDerived!.Value;
        Assert.False(hand.Passed);
        Assert.Equal(1, hand.WorstIndex);
        Assert.Equal((1.0, 1.1), (hand.Autodiff, hand.Reference));
        Approx.Equal(2.0 / 3, hand.MaxRelative, 1e-9); // the maxima are still over all elements
        Approx.Equal(0.1, hand.MaxAbsolute, 1e-12);

        // When every element passes, the worst is the largest relative error (here element 0).
        var ok = GradientCheck.Run(t => 0.5 * Ops.Dot(t.Use(w), t.Use(w)), [w], new GradientCheckOptions { HandDerived = _ => [3e-10, 1.0] });
        Assert.True(ok.Passed);
        Assert.Equal(0, ok.Parameters[0].VersusHandDerived!.Value.WorstIndex);
    }

    [Fact]
    public void Run_WrongAutodiff_WorstElementIsTheWrongOne()
    {
        // A custom op wrong on purpose (2x² for d(x³)/dx): every element is off by 1/3 relative; the worst is the
        // one with the largest relative error, and the values reported are that element's.
        var x = new VectorParameter("x", 1.0, 2.0);
        var report = GradientCheck.Run(t => Ops.Sum(Ops.CustomVector(new WrongCubeOp(), t.Use(x))), [x]);
        ErrorSummary e = report.Parameters[0].VersusNumeric;
        Assert.False(e.Passed);
        Assert.Equal(e.Autodiff, report.Parameters[0].Autodiff[e.WorstIndex]);
        Assert.Equal(e.Reference, report.Parameters[0].Numeric[e.WorstIndex]);
        Approx.Equal(12.0 - 8.0, e.MaxAbsolute, 1e-8); // element 1: 3·4 vs 2·4
    }

    [Fact]
    public void Run_AfterCheck_ParameterValuesAndGradsAreRestored()
    {
        var w = new VectorParameter("w", 0.3, -0.7);
        var b = new ScalarParameter("b", 0.1);
        w.Grad[0] = 11;
        w.Grad[1] = -12;
        ((Parameter)b).Grad[0] = 13; // through the base: the scalar accessor is read-only
        double[] valuesBefore = [.. w.Value, b.Value];
        GradientCheckReport report = GradientCheck.Run(t => Logistic(t, w, b), [w, b]);
        Assert.True(report.Passed);
        Assert.Equal(valuesBefore, (double[])[.. w.Value, b.Value]); // bit for bit: restored, not recomputed
        Assert.Equal([11.0, -12.0], w.Grad);
        Assert.Equal(13.0, b.Grad);
        // And the check's autodiff gradient did not include the accumulated 11, −12, 13.
        var (gw, gb) = HandGradient(w.Value, b.Value);
        Approx.Equal(gw, report.Parameters[0].Autodiff, 1e-12);
        Approx.Equal(gb, report.Parameters[1].Autodiff[0], 1e-12);
    }

    [Fact]
    public void Run_LossThrowsDuringDifferences_RestoresValuesAndGradsAndPropagates()
    {
        var w = new VectorParameter("w", 0.3, -0.7);
        w.Grad[1] = 5;
        int calls = 0;
        var e = Assert.Throws<InvalidOperationException>(() => GradientCheck.Run(t =>
        {
            if (++calls == 3) throw new InvalidOperationException("boom");
            return Ops.Sum(Ops.Exp(t.Use(w)));
        }, [w]));
        Assert.Equal("boom", e.Message);
        Assert.Equal([0.3, -0.7], w.Value);
        Assert.Equal([0.0, 5.0], w.Grad);
    }

    [Fact]
    public void Run_ReportsLossAtCurrentValues()
    {
        var w = new ScalarParameter("w", 1.5);
        GradientCheckReport report = GradientCheck.Run(t => Ops.Exp(t.Use(w)), [w]);
        Assert.Equal(Math.Exp(1.5), report.Loss);
        Assert.StartsWith("Gradient check of f = 4.48168907 ", report.ToString());
    }

    [Fact]
    public void Run_ToleranceTighterThanDifferencesCanResolve_Fails()
    {
        // The options are honoured: central differences are only good to ~10⁻¹⁰ relative, so a demand of 10⁻¹⁴
        // (and no absolute slack) fails a correct gradient of a curved function, and the default passes it.
        var w = new VectorParameter("w", 0.4, 1.3, -0.8);
        Func<Tape, Scalar> f = t => Ops.Sum(Ops.Exp(Ops.Tanh(t.Use(w))));
        Assert.True(GradientCheck.Run(f, [w]).Passed);
        var strict = new GradientCheckOptions { RelativeTolerance = 1e-14, AbsoluteTolerance = 0 };
        GradientCheckReport report = GradientCheck.Run(f, [w], strict);
        Assert.False(report.Passed);
        Assert.Same(strict, report.Options);
    }

    [Fact]
    public void Run_NonFiniteAutodiff_Fails()
    {
        // √x at 0 has an infinite derivative: autodiff says ∞, the differences a finite number — never a pass.
        var w = new VectorParameter("w", 0.0, 1.0);
        GradientCheckReport report = GradientCheck.Run(t => Ops.Sum(Ops.Sqrt(Ops.Abs(t.Use(w)))), [w]);
        Assert.False(report.Passed);
        Assert.Equal(double.PositiveInfinity, report.Parameters[0].VersusNumeric.MaxAbsolute);
        Assert.Equal(0, report.Parameters[0].VersusNumeric.WorstIndex);
    }

    [Fact]
    public void Run_BadArguments_Throw()
    {
        var w = new VectorParameter("w", 1.0, 2.0);
        var none = Assert.Throws<ArgumentException>(() => GradientCheck.Run(t => t.Constant(1.0), []));
        Assert.StartsWith("GradientCheck: no parameters to check", none.Message);
        var length = Assert.Throws<ArgumentException>(() =>
            GradientCheck.Run(t => Ops.Sum(t.Use(w)), [w], new GradientCheckOptions { HandDerived = _ => [1.0] }));
        Assert.StartsWith("GradientCheck: the hand-derived gradient for w has 1 elements; w has shape [2] (2 elements)", length.Message);
        var other = new Tape();
        var tape = Assert.Throws<InvalidOperationException>(() => GradientCheck.Run(_ => Ops.Sum(other.Use(w)), [w]));
        Assert.StartsWith("GradientCheck: the loss function must record on the tape it is given", tape.Message);
        Assert.Equal([0.0, 0.0], w.Grad);
    }

    [Fact]
    public void Run_ParameterNotInLoss_HasZeroGradientAndPasses()
    {
        var used = new ScalarParameter("used", 2.0);
        var unused = new VectorParameter("unused", 1.0, 2.0);
        GradientCheckReport report = GradientCheck.Run(t => Ops.Square(t.Use(used)), [used, unused]);
        Assert.True(report.Passed);
        Assert.Equal([0.0, 0.0], report.Parameters[1].Autodiff);
        Assert.Equal([0.0, 0.0], report.Parameters[1].Numeric);
    }

    [Fact]
    public void DefaultOptions_AreTheDocumentedOnes()
    {
        var o = new GradientCheckOptions();
        Assert.Equal(1e-6, o.RelativeTolerance);
        Assert.Equal(1e-8, o.AbsoluteTolerance);
        Approx.Equal(6.055454452393343e-6, o.StepScale, 1e-12); // ε^(1/3), ε = 2⁻⁵²
        Assert.Null(o.HandDerived);
    }

    [Fact]
    public void ToString_MatrixParameterHandGradientWrongAtOneElement_NamesItsRowAndColumn()
    {
        // f(W) = ½ Σᵢⱼ Wᵢⱼ², so ∇f = W. The "hand formula" is W except at (1, 2), where it is off by 1: the report
        // must name that element (1, 2), not its row-major index 1·3 + 2 = 5.
        var weights = new MatrixParameter("W", new double[,] { { 0.5, -1, 2 }, { 3, -0.25, 1.5 } });

        var report = GradientCheck.Run(
            t => Ops.Sum(Ops.Square(t.Use(weights))) * 0.5,
            [weights],
            new GradientCheckOptions
            {
                HandDerived = _ =>
                {
                    double[] g = (double[])weights.Value.Clone();
                    g[5] += 1;
                    return g;
                },
            });

        Assert.False(report.Passed);
        Assert.Equal(5, report.Parameters[0].VersusHandDerived!.Value.WorstIndex);
        string[] lines = report.ToString().Split('\n');
        string hand = Assert.Single(lines, l => l.Contains("hand-derived", StringComparison.Ordinal));
        Assert.Contains(" (1, 2) ", hand, StringComparison.Ordinal);
        Assert.Contains("FAIL", hand, StringComparison.Ordinal);
        string numeric = Assert.Single(lines, l => l.Contains("finite diff", StringComparison.Ordinal));
        Assert.EndsWith("ok", numeric.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_VectorParameter_NamesTheWorstElementInBrackets()
    {
        // f(v) = ½ Σ vᵢ², ∇f = v; the hand formula is off at element 2 only.
        var v = new VectorParameter("v", 1, -2, 3);

        var report = GradientCheck.Run(
            t => Ops.Sum(Ops.Square(t.Use(v))) * 0.5,
            [v],
            new GradientCheckOptions { HandDerived = _ => [1, -2, 4] });

        string hand = Assert.Single(report.ToString().Split('\n'), l => l.Contains("hand-derived", StringComparison.Ordinal));
        Assert.Contains(" [2] ", hand, StringComparison.Ordinal);
    }
}
