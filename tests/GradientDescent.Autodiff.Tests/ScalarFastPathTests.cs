using System.Runtime.CompilerServices;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The inlined paths for one-element nodes — recording (+ − × ÷, a + c, c·a, −a, relu folded in place; Σ and mean
/// of one element) and the backward rules written out for +, ×, a + c, c·a, relu, Σ and mean — give what the general
/// paths give, and every state
/// that must leave them (NoGrad, a freed graph, anomaly detection, one-element nodes whose value is not a plain
/// arena slot) does.
/// </summary>
public class ScalarFastPathTests
{
    [Fact]
    public void Record_NestedNoGrad_ScalarOpsRequireNoGradientUntilTheOutermostScopeEnds()
    {
        var w = new ScalarParameter("w", 2.0);
        var t = new Tape();
        Scalar x = t.Use(w);
        using (t.NoGrad())
        {
            using (t.NoGrad())
            {
                Assert.False(((Node)(x * x)).RequiresGrad);
                Assert.False(((Node)Ops.Relu(x + 1.0)).RequiresGrad);
            }
            // The inner scope's end must not switch gradients back on.
            Assert.False(((Node)(x * x)).RequiresGrad);
            Assert.False(((Node)(x * 3.0)).RequiresGrad);
        }
        Scalar y = x * x + x * 3.0; // y = w² + 3w: ∂y/∂w = 2w + 3 = 7
        Assert.True(((Node)y).RequiresGrad);
        y.Backward();
        Assert.Equal(7.0, w.Grad);
    }

    [Fact]
    public void Record_AfterBackwardFreedTheGraph_BinaryScalarOpNamesTheOp()
    {
        var w = new ScalarParameter("w", 1.0);
        var t = new Tape();
        Scalar x = t.Use(w);
        (x * x).Backward();
        var e = Assert.Throws<InvalidOperationException>(() => x * x);
        Assert.StartsWith("Multiply: this tape's graph was freed by Backward", e.Message);
        var u = Assert.Throws<InvalidOperationException>(() => x + 1.0);
        Assert.StartsWith("AddConstant: this tape's graph was freed by Backward", u.Message);

        // Clear re-opens the fast path.
        t.Clear();
        Scalar z = t.Use(w) * 4.0;
        Assert.Equal(4.0, z.Value);
    }

    [Fact]
    public void Record_DetectAnomaliesSwitchedOnMidway_ScalarOpsAreChecked()
    {
        var w = new ScalarParameter("w", -1.0);
        var t = new Tape();
        Scalar x = t.Use(w);
        Scalar fine = x / (x - x); // −1/0 = −∞, unchecked
        Assert.Equal(double.NegativeInfinity, fine.Value);
        t.DetectAnomalies = true;
        var e = Assert.Throws<ArithmeticException>(() => x / (x - x));
        Assert.StartsWith("Divide:", e.Message);
        t.DetectAnomalies = false;
        Assert.Equal(double.NegativeInfinity, (x / (x - x)).Value);
    }

    [Fact]
    public void Relu_FastPathAtTheEdges_ValuesAndGradientsAsTheVectorRule()
    {
        // relu(x) = max(x, 0) with NaN passed through; relu′(x) = 1 for x > 0, else 0 (0 at x = 0, PyTorch's choice).
        double[] xs = [-2.0, -0.0, 0.0, 1e-300, 3.5, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        var scalarGrads = new double[xs.Length];
        var scalarValues = new double[xs.Length];
        for (int k = 0; k < xs.Length; k++)
        {
            var p = new ScalarParameter("x", xs[k]);
            var t = new Tape();
            Scalar y = Ops.Relu(t.Use(p));
            scalarValues[k] = y.Value;
            (y * 2.0).Backward();
            scalarGrads[k] = p.Grad;
        }
        var v = new VectorParameter("x", xs);
        var tv = new Tape();
        Vector yv = Ops.Relu(tv.Use(v));
        double[] vectorValues = yv.Value;
        Ops.Sum(yv * 2.0).Backward();
        for (int k = 0; k < xs.Length; k++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(vectorValues[k]), BitConverter.DoubleToInt64Bits(scalarValues[k]));
            Assert.Equal(vectorValues[k] > 0 ? 2.0 : 0.0, scalarGrads[k]);
            Assert.Equal(v.Grad[k], scalarGrads[k]);
        }
    }

    [Fact]
    public void Backward_InlinedRules_MatchCentralDifferences()
    {
        // f(a, b) = relu(a·b + 0.5) · 3 + (a + b) − a/b: every inlined backward rule (×, +, a + c, c·a, relu) and one
        // general one (÷), against central differences (h = 10⁻⁶, error O(h²) ≈ 10⁻¹²; tolerance 10⁻⁸ relative).
        static Scalar F(Scalar a, Scalar b) => Ops.Relu(a * b + 0.5) * 3.0 + (a + b) - a / b;
        var pa = new ScalarParameter("a", 0.7);
        var pb = new ScalarParameter("b", 1.3);
        var t = new Tape();
        F(t.Use(pa), t.Use(pb)).Backward();
        double Value(double a, double b)
        {
            var tape = new Tape();
            return F(tape.Constant(a), tape.Constant(b)).Value;
        }
        const double H = 1e-6;
        double da = (Value(0.7 + H, 1.3) - Value(0.7 - H, 1.3)) / (2 * H);
        double db = (Value(0.7, 1.3 + H) - Value(0.7, 1.3 - H)) / (2 * H);
        Approx.Equal(da, pa.Grad, 1e-8, 0, "∂f/∂a");
        Approx.Equal(db, pb.Grad, 1e-8, 0, "∂f/∂b");
        // By hand: ∂f/∂a = 3b + 1 − 1/b, ∂f/∂b = 3a + 1 + a/b² (a·b + 0.5 > 0).
        Approx.Equal(3 * 1.3 + 1 - 1 / 1.3, pa.Grad, 1e-14, 0, "∂f/∂a by hand");
        Approx.Equal(3 * 0.7 + 1 + 0.7 / (1.3 * 1.3), pb.Grad, 1e-14, 0, "∂f/∂b by hand");
    }

    [Fact]
    public void Record_OneElementResultsOfOtherOps_CombineWithScalars()
    {
        // A sum (an arena slot), an element of a parameter read in place (a view of the parameter's array) and a
        // fused loss (one element narrowed from its storage block) each combine with scalar ops; L = s·e + loss.
        var w = new VectorParameter("w", [0.5, -1.0, 2.0]);
        var t = new Tape();
        Vector wv = t.Use(w);
        Scalar s = Ops.Sum(wv);               // 1.5
        Scalar e = wv[2];                     // 2
        Matrix x = t.Constant(new double[] { 1, 0, 0, 0, 1, 0 }, 2, 3);
        Scalar loss = Loss.LinearRegression(x, wv, t.Constant(0.0), [0.0, 0.0]); // ½·mean(0.5², 1²) = 0.3125
        Scalar total = s * e + loss;
        Assert.Equal(1.5 * 2 + 0.3125, total.Value, 15);
        total.Backward();
        // ∂L/∂w = e·1 + s·[0, 0, 1] + mean((h − y)x) = [2, 2, 2] + [0, 0, 1.5] + [0.25, −0.5, 0]
        Assert.Equal([2.25, 1.5, 3.5], w.Grad);
    }

    [Fact]
    public void Record_OneElementVectorsAndMatrices_KeepTheirKind_ScalarsStayScalars()
    {
        // The inlined paths take only scalars (their result is a scalar without reading the kinds); a vector or matrix
        // of one element, alone or with a scalar, keeps the higher kind through the out-of-line one-element path.
        var pv = new VectorParameter("v", [3.0]);
        var pm = new MatrixParameter("m", new double[,] { { 2.0 } });
        var ps = new ScalarParameter("s", 5.0);
        var t = new Tape();
        Vector v = t.Use(pv) * 1.0;
        Matrix m = t.Use(pm) + 0.0;
        Scalar s = t.Use(ps);
        Assert.Equal(Shape.Vector(1), ((Node)(v * s)).Shape);
        Assert.Equal(Shape.Vector(1), ((Node)(s - v)).Shape);
        Assert.Equal(Shape.Vector(1), ((Node)(v * v)).Shape);
        Assert.Equal(Shape.Vector(1), ((Node)Ops.Relu(v)).Shape);
        Assert.Equal(Shape.Matrix(1, 1), ((Node)(m * s)).Shape);
        Assert.Equal(Shape.Matrix(1, 1), ((Node)Ops.Exp(m)).Shape);
        Assert.Equal(Shape.Scalar, ((Node)(s * s + Ops.Relu(s) * 2.0)).Shape);
        Assert.Equal(Shape.Scalar, ((Node)(v[0] * s)).Shape);
        Assert.Equal([15.0], (v * s).Value);
        Assert.Equal([10.0], (m * s).Value);

        // Values and gradients through them: L = Σ(v·v·s) + mean(e^m) + Σ(v − s) = 45 + e² − 2,
        // ∂L/∂v = 2vs + 1 = 31, ∂L/∂m = e² , ∂L/∂s = v² − 1 = 8.
        t.Clear();
        v = t.Use(pv) * 1.0;
        m = t.Use(pm) + 0.0;
        s = t.Use(ps);
        Scalar loss = Ops.Sum(v * v * s) + Ops.Mean(Ops.Exp(m)) + Ops.Sum(v - s);
        Assert.Equal(45 + Math.Exp(2) - 2, loss.Value, 14);
        loss.Backward();
        Assert.Equal([31.0], pv.Grad);
        Assert.Equal(Math.Exp(2), pm.Grad[0], 14);
        Assert.Equal(8.0, ps.Grad);
    }

    [Fact]
    public void Record_FromOneSlot_ScalarsBetweenVectorsViewsAndAFailedCustomOp_GrowTheArenasAndKeepEveryValue()
    {
        // A scalar op that finds an arena full leaves the fast path for the general one, which grows it: a tape
        // reserved for one node and one value, fed scalars between vectors of every length up to 9, views and a custom
        // op that throws (its node is taken back), must grow at each boundary, fast path or not, and keep every value.
        var t = new Tape(nodes: 1, values: 1);
        var a = new ScalarParameter("a", 1.0);
        Scalar y = t.Use(a);
        double expected = 1.0;
        for (int k = 1; k <= 40; k++)
        {
            var data = new double[k % 9 + 1];
            for (int j = 0; j < data.Length; j++) data[j] = 0.25 * (j + 1);
            Vector v = t.Constant(data) * 2.0;                // an arena vector of 1–9 elements
            Scalar first = v[0];                               // a view
            Scalar sum = Ops.Sum(v);
            y = y * 0.5 + first * sum;                         // scalars after both
            expected = expected * 0.5 + 0.5 * (0.5 * data.Length * (data.Length + 1) * 0.5);
            if (k % 7 == 0)
            {
                Assert.Throws<InvalidOperationException>(() => Ops.Custom(new ThrowingOp(), [y]));
                y += 1.0;                                      // the scalar after the taken-back node
                expected += 1.0;
            }
        }
        Approx.Equal(expected, y.Value, 1e-12, 0, "value after 40 rounds of growth");
        y.Backward();
        Assert.Equal(Math.Pow(0.5, 40), a.Grad, 15);
    }

    private sealed class ThrowingOp : CustomOp
    {
        public override string Name => "throws";

        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => Shape.Scalar;

        public override void Forward(CustomOpContext context) => throw new InvalidOperationException("throws: by design");

        public override void Backward(CustomOpContext context) { }
    }

    [Fact]
    public void SumAndMean_OfOneElement_AreTheElementWithGradientOne_AsTheGeneralRule()
    {
        // Σ and mean of one element are that element, ∂/∂x = 1 (mean: g/n with n = 1). Three one-element inputs take
        // the inlined path (an arena slot, a one-element parameter, a one-element slice — a view of an arena vector);
        // a three-element input, recorded in the same graph, takes the general rule. L = Σ(v·v) + mean(v·v)
        // + Σ(u·2)[1..2] + Σ(u·2) with v = [3], u = [1, 2, 4]: ∂L/∂v = 2·2v = 12, ∂L/∂u = [2, 4, 2].
        var v = new VectorParameter("v", [3.0]);
        var u = new VectorParameter("u", [1.0, 2.0, 4.0]);
        var t = new Tape();
        Vector vv = t.Use(v);
        Vector sq = vv * vv;
        Vector u2 = t.Use(u) * 2.0;
        Scalar total = Ops.Sum(sq) + Ops.Mean(sq) + Ops.Sum(u2.Slice(1..2)) + Ops.Sum(u2);
        Assert.Equal(9 + 9 + 4 + 14, total.Value);
        Assert.Equal(3.0, Ops.Mean(vv).Value);
        // A one-element input that needs no gradient gives a sum that needs none.
        Assert.False(((Node)Ops.Sum(t.Constant([5.0]) * 2.0)).RequiresGrad);
        total.Backward();
        Assert.Equal([12.0], v.Grad);
        Assert.Equal([2.0, 4.0, 2.0], u.Grad);

        // The same under NoGrad: values, no gradient.
        t.Clear();
        using (t.NoGrad())
        {
            Scalar s = Ops.Sum(t.Use(v) * 2.0);
            Assert.Equal(6.0, s.Value);
            Assert.False(((Node)s).RequiresGrad);
        }
    }

    [Fact]
    public void NodeRecord_FieldOffsets_AreTheOnesAppendScalarPacksItsStoresFor()
    {
        // AppendScalar writes a record as (A, B), (Offset, Rows), (Cols, Op, Flags, Kind, padding) and Aux: 64-bit
        // stores at bytes 0, 8, 16 and 24 that are only right for this layout.
        var r = new NodeRecord();
        static long At<T>(ref NodeRecord record, ref T field) =>
            (long)Unsafe.ByteOffset(ref Unsafe.As<NodeRecord, byte>(ref record), ref Unsafe.As<T, byte>(ref field));
        Assert.Equal(32, Unsafe.SizeOf<NodeRecord>());
        Assert.Equal([0L, 4, 8, 12, 16, 20, 21, 22, 24],
            [At(ref r, ref r.A), At(ref r, ref r.B), At(ref r, ref r.Offset), At(ref r, ref r.Rows), At(ref r, ref r.Cols),
             At(ref r, ref r.Op), At(ref r, ref r.Flags), At(ref r, ref r.Kind), At(ref r, ref r.Aux)]);

        // And what the packed stores leave in the fields, read back one by one: x·y + relu(−x) with x = 3, y = −2.
        var t = new Tape();
        Scalar x = t.Use(new ScalarParameter("x", 3.0));
        Scalar y = t.Use(new ScalarParameter("y", -2.0));
        Scalar p = x * y;
        ref NodeRecord n = ref t.Nodes[((Node)p).Index];
        Assert.Equal((((Node)x).Index, ((Node)y).Index, 1, 1, OpKind.Multiply, ShapeKind.Scalar, 0.0), (n.A, n.B, n.Rows, n.Cols, n.Op, n.Kind, n.Aux));
        Assert.Equal(NodeFlags.RequiresGrad | NodeFlags.ArenaScalar, n.Flags);
        Assert.Equal(-6.0, t.Values[n.Offset]);
        Scalar q = Ops.Relu(-x) * 0.5;
        ref NodeRecord m = ref t.Nodes[((Node)q).Index];
        Assert.Equal((OpKind.MultiplyConstant, -1, 0.5), (m.Op, m.B, m.Aux));
    }
}
