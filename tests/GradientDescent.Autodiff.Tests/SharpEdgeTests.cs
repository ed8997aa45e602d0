using System.Reflection;
using GradientDescent.Autodiff.Testing;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The sharp edges a new user hit (issue 7 §3): each test pins the behaviour that replaced a surprise.
/// </summary>
public class SharpEdgeTests
{
    // ---------------------------------------------------------------- parameters: one meaning per call

    [Fact]
    public void VectorParameter_IntLengthConstructor_IsACompileError()
    {
        // new VectorParameter("w", 2) used to make [0, 0] while new VectorParameter("w", 2.0) makes [2]: the
        // (string, int) constructor now exists only to fail compilation with a message naming the replacement.
        ConstructorInfo ctor = typeof(VectorParameter).GetConstructor([typeof(string), typeof(int)])!;
        var obsolete = ctor.GetCustomAttribute<ObsoleteAttribute>();
        Assert.NotNull(obsolete);
        Assert.True(obsolete.IsError);
        Assert.Contains("VectorParameter.Zeros(name, n)", obsolete.Message);

        ConstructorInfo matrix = typeof(MatrixParameter).GetConstructor([typeof(string), typeof(int), typeof(int)])!;
        Assert.True(matrix.GetCustomAttribute<ObsoleteAttribute>()!.IsError);
    }

    [Fact]
    public void Zeros_AndValues_MeanWhatTheySay()
    {
        Assert.Equal([0.0, 0.0], VectorParameter.Zeros("w", 2).Value);
        Assert.Equal([2.0], new VectorParameter("w", 2.0).Value);
        Assert.Equal(new double[6], MatrixParameter.Zeros("W", 2, 3).Value);
        Assert.Equal(Shape.Matrix(2, 3), MatrixParameter.Zeros("W", 2, 3).Shape);
        var fromRows = MatrixParameter.FromRowMajor("W", 2, 2, [1.0, 2, 3, 4]);
        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4 } }, fromRows.Value2D);
        Assert.StartsWith("Parameter w: a vector needs at least one element", Assert.Throws<ArgumentException>(() => VectorParameter.Zeros("w", 0)).Message);
        Assert.StartsWith("Parameter W: 3 values for a [2×2] matrix", Assert.Throws<ArgumentException>(() => MatrixParameter.FromRowMajor("W", 2, 2, [1.0, 2, 3])).Message);
    }

    [Fact]
    public void ScalarParameter_ValueAndGrad_AreNumbers()
    {
        // L = b², ∂L/∂b = 2b: read as b.Grad, not b.Grad[0]; an optimizer-style update writes b.Value.
        var b = new ScalarParameter("b", 1.5);
        var t = new Tape();
        Ops.Square(t.Use(b)).Backward();
        double grad = b.Grad;
        Assert.Equal(3.0, grad);
        b.Value -= 0.1 * b.Grad;
        Assert.Equal(1.2, b.Value, 15);
        Parameter asBase = b;
        Assert.Equal([b.Value], asBase.Value); // the same storage seen through the base class
    }

    // ---------------------------------------------------------------- matrices read row-major everywhere

    [Fact]
    public void MatrixValue_IsRowMajorLikeParameters()
    {
        // M = W·2: Value and Grad are flat row-major arrays, as MatrixParameter.Value; Value2D is the 2-D copy.
        var w = MatrixParameter.FromRowMajor("W", 2, 3, [1.0, 2, 3, 4, 5, 6]);
        var t = new Tape();
        Matrix m = t.Use(w) * 2.0;
        double[] value = m.Value;
        Assert.Equal([2.0, 4, 6, 8, 10, 12], value);
        Assert.Equal(new double[,] { { 2, 4, 6 }, { 8, 10, 12 } }, m.Value2D);
        // L = Σ Mᵢⱼ·Cᵢⱼ, ∂L/∂M = C.
        Ops.Sum(m * t.Constant([1.0, 0, -1, 0.5, 0, 2], 2, 3)).Backward();
        Assert.Equal([1.0, 0, -1, 0.5, 0, 2], m.Grad);
        Assert.Equal(new double[,] { { 1, 0, -1 }, { 0.5, 0, 2 } }, m.Grad2D);
        Assert.Equal([2.0, 0, -2, 1, 0, 4], w.Grad);
        Assert.Equal(new double[,] { { 2, 0, -2 }, { 1, 0, 4 } }, w.Grad2D);
    }

    // ---------------------------------------------------------------- losses take plain numbers

    [Fact]
    public void Losses_PlainArrayTargets_EqualNodeTargets()
    {
        // Every loss gives the same value and gradient for a target passed as numbers or as a constant node.
        double[] y = [0.0, 1, 0.25];
        double[] labels = [0.0, 1, 1];
        double[,] y2 = { { 1, -1 }, { 0.5, 2 } };
        double[] y2Flat = [1.0, -1, 0.5, 2];
        (double, double[]) Run(Func<Tape, Vector, Scalar> loss)
        {
            var p = new VectorParameter("p", 0.2, 0.7, 0.4);
            var t = new Tape();
            Scalar l = loss(t, t.Use(p));
            l.Backward();
            return (l.Value, p.Grad);
        }
        static void Same((double Value, double[] Grad) expected, (double Value, double[] Grad) actual)
        {
            Assert.Equal(expected.Value, actual.Value);
            Assert.Equal(expected.Grad, actual.Grad);
        }
        (double, double[]) RunMatrix(Func<Tape, Matrix, Scalar> loss)
        {
            var p = MatrixParameter.FromRowMajor("P", 2, 2, [0.3, -0.2, 1.0, 0.0]);
            var t = new Tape();
            Scalar l = loss(t, t.Use(p));
            l.Backward();
            return (l.Value, p.Grad);
        }

        Same(Run((t, p) => Loss.HalfMeanSquaredError(p, t.Constant(y))), Run((_, p) => Loss.HalfMeanSquaredError(p, y)));
        Same(Run((t, p) => Loss.MeanSquaredError(p, t.Constant(y))), Run((_, p) => Loss.MeanSquaredError(p, y)));
        Same(Run((t, p) => Loss.BinaryCrossEntropy(p, t.Constant(labels))), Run((_, p) => Loss.BinaryCrossEntropy(p, labels)));
        Same(Run((t, p) => Loss.BinaryCrossEntropyWithLogits(p, t.Constant(labels))), Run((_, p) => Loss.BinaryCrossEntropyWithLogits(p, labels)));
        var matrixNode = RunMatrix((t, p) => Loss.MeanSquaredError(p, t.Constant(y2)));
        Same(matrixNode, RunMatrix((_, p) => Loss.MeanSquaredError(p, y2)));
        Same(matrixNode, RunMatrix((_, p) => Loss.MeanSquaredError(p, y2Flat)));
        // MSE = (1/4) Σ (P − Y)² = (0.49 + 0.64 + 0.25 + 4)/4; ∂/∂P = (P − Y)/2.
        Approx.Equal((0.49 + 0.64 + 0.25 + 4) / 4, matrixNode.Item1);
        Approx.Equal([-0.35, 0.4, 0.25, -1], matrixNode.Item2);

        // Scalar forms: ½(h − y)² with y a number; BCE with y a node.
        var h = new ScalarParameter("h", 0.75);
        var ts = new Tape();
        Scalar half = Loss.HalfSquaredError(ts.Use(h), 0.25);
        half.Backward();
        Assert.Equal(0.125, half.Value);
        Assert.Equal(0.5, h.Grad);
        var ts2 = new Tape();
        Assert.Equal(Loss.BinaryCrossEntropy(ts2.Use(h), 1.0).Value, Loss.BinaryCrossEntropy(ts2.Use(h), ts2.Constant(1.0)).Value);
        Assert.Equal(Loss.BinaryCrossEntropyWithLogits(ts2.Use(h), 0.0).Value, Loss.BinaryCrossEntropyWithLogits(ts2.Use(h), ts2.Constant(0.0)).Value);
    }

    [Fact]
    public void Losses_ArrayTargetOfWrongLength_ErrorNamesLossAndShapes()
    {
        var t = new Tape();
        Vector p = t.Constant([0.5, 0.5]);
        var e = Assert.Throws<ArgumentException>(() => Loss.MeanSquaredError(p, [1.0, 2, 3]));
        Assert.StartsWith("MeanSquaredError: 3 targets for a prediction of shape [2]", e.Message);
        Matrix m = t.Constant([1.0, 2, 3, 4, 5, 6], 2, 3);
        var f = Assert.Throws<ArgumentException>(() => Loss.MeanSquaredError(m, new double[3, 2]));
        Assert.StartsWith("MeanSquaredError: targets of shape [3×2] for a prediction of shape [2×3]", f.Message);
        var g = Assert.Throws<ArgumentException>(() => Loss.MeanSquaredError(m, [1.0]));
        Assert.StartsWith("MeanSquaredError: 1 targets for a prediction of shape [2×3]; pass rows × cols = 6 targets, row-major", g.Message);
    }

    // ---------------------------------------------------------------- typed custom ops

    [Fact]
    public void CustomOps_TypedApply_ReturnTypedHandles()
    {
        // swish(x) = x·σ(x) on a scalar, Σ x³ of a vector, swish of a matrix: no AsScalar()/AsVector() needed.
        var t = new Tape();
        Scalar s = Ops.CustomScalar(SwishOp.Instance, t.Constant(0.0));
        Assert.Equal(0.0, s.Value);
        Scalar cubes = Ops.CustomScalar(SumOfCubesOp.Instance, t.Constant([1.0, 2]));
        Assert.Equal(9.0, cubes.Value);
        Vector v = Ops.CustomVector(SwishOp.Instance, t.Constant([0.0, 0.0]));
        Assert.Equal([0.0, 0.0], v.Value);
        Matrix m = Ops.CustomMatrix(SwishOp.Instance, t.Constant(new double[,] { { 0, 0 } }));
        Assert.Equal(1, m.Rows);

        int before = t.NodeCount;
        var e = Assert.Throws<InvalidOperationException>(() => Ops.CustomVector(SumOfCubesOp.Instance, t.Constant([1.0, 2])));
        Assert.Equal("Custom op sum-of-cubes: applied as Ops.CustomVector, but its output has shape scalar; use Ops.CustomScalar (or Ops.Custom for an untyped node).", e.Message);
        Assert.Equal(before + 1, t.NodeCount); // only the constant: nothing half-recorded
    }

    // ---------------------------------------------------------------- NaN in backward, as libtorch

    [Fact]
    public void Backward_ZeroGradientIntoSqrtAtZero_NanOnScalarAndVectorPaths()
    {
        // L = 0·√x at x = 0: ∂L/∂√x = 0 and d√x/dx = 1/(2√x) = ∞, so ∂L/∂x = 0·∞ = NaN — libtorch's answer. The
        // scalar path used to skip the zero gradient and give 0 while the vector path gave NaN.
        var s = new ScalarParameter("s", 0.0);
        var v = new VectorParameter("v", 0.0, 1.0);
        var t = new Tape();
        (0.0 * Ops.Sqrt(t.Use(s)) + Ops.Sum(0.0 * Ops.Sqrt(t.Use(v)))).Backward();
        Assert.True(double.IsNaN(s.Grad), $"scalar path: {s.Grad}");
        Assert.True(double.IsNaN(v.Grad[0]), $"vector path: {v.Grad[0]}");
        Assert.Equal(0.0, v.Grad[1]); // 0·½ = 0
    }

    [Fact]
    public void Backward_UnusedSqrtAtZero_DoesNotTouchGradients()
    {
        // √x recorded but unused; L = 2x. Its rule would give 0·∞ = NaN; libtorch never visits it, nor does backward.
        var s = new ScalarParameter("s", 0.0);
        var v = new VectorParameter("v", 0.0, 1.0);
        var t = new Tape();
        Scalar sv = t.Use(s);
        Vector vv = t.Use(v);
        _ = Ops.Sqrt(sv);
        _ = Ops.Sqrt(vv);
        (sv * 2.0 + Ops.Sum(vv * 2.0)).Backward();
        Assert.Equal(2.0, s.Grad);
        Assert.Equal([2.0, 2.0], v.Grad);
    }

    [Fact]
    public void Backward_AfterABackwardStoppedByAnAnomaly_NoStaleReachedMarks()
    {
        // L₁ = √x + ln y at x = y = 0 (ln 0 and √0 are finite-valued enough: −∞ and 0). With anomaly detection the
        // first backward stops at ln's infinite gradient, after marking √x as reached. L₂ = 2x must then not run √x's
        // rule (0·∞ = NaN): ∂L₂/∂x = 2.
        var x = new ScalarParameter("x", 0.0);
        var y = new ScalarParameter("y", 0.0);
        var t = new Tape();
        Scalar xv = t.Use(x);
        Scalar l1 = Ops.Sqrt(xv) + Ops.Log(t.Use(y));
        t.DetectAnomalies = true;
        Assert.Throws<ArithmeticException>(() => l1.Backward(retainGraph: true));
        t.DetectAnomalies = false;
        x.ZeroGrad();
        Scalar l2 = xv * 2.0;
        l2.Backward();
        Assert.Equal(2.0, x.Grad);
    }

    // ---------------------------------------------------------------- inspection

    [Fact]
    public void Format_ElementsRowsAndNames_ShowTheirIndexAndName()
    {
        // w[0] and w[1] used to print as the same Element(%0); W[1, 2] and W.Row(1) now say where they look, and a
        // named node shows its name. z = w₀·w₁ + W₁₂ = 1·2 + 6 = 8.
        var w = new VectorParameter("w", 1.0, 2.0);
        var m = MatrixParameter.FromRowMajor("W", 2, 3, [1.0, 2, 3, 4, 5, 6]);
        var t = new Tape();
        Vector wv = t.Use(w);
        Matrix mv = t.Use(m);
        Scalar z = (wv[0] * wv[1] + mv[1, 2]).Named("z");
        Vector r = mv.Row(1).Named("row");
        Assert.Equal(8.0, z.Value);
        Assert.Equal([4.0, 5, 6], r.Value);

        string[] lines = t.Format().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("%2    Element[0](%0) ", lines[2]);
        Assert.StartsWith("%3    Element[1](%0) ", lines[3]);
        Assert.StartsWith("%5    Element[1, 2](%1) ", lines[5]);
        Assert.StartsWith("%6    z = Add(%4, %5) ", lines[6]);
        Assert.StartsWith("%7    row = Row[1](%1) ", lines[7]);
        Assert.Equal("z", t.Describe(6).Name);
        Assert.Null(t.Describe(4).Name);
    }

    [Fact]
    public void NodeInfoToString_IsTheFormatLabel()
    {
        // Records print arrays as System.Int32[]; NodeInfo prints its inputs as ids.
        var w = new VectorParameter("w", 1.0, 2.0);
        var t = new Tape();
        Vector x = t.Use(w);
        Scalar s = Ops.Sum(x * t.Constant([3.0, 4.0])).Named("s");
        Assert.Equal("%3 s = Sum(%2) scalar", t.Describe(3).ToString());
        Assert.Equal("%2 Multiply(%0, %1) [2]", t.Describe(2).ToString());
        Assert.Equal("%1 Constant [2] (no gradient)", t.Describe(1).ToString());
        Assert.Equal("%0 Parameter w [2]", t.Describe(0).ToString());
        Assert.Equal(11.0, s.Value);
    }

    [Fact]
    public void Named_ReturnsTheSameHandle_NamesForgottenByClear()
    {
        var t = new Tape();
        Scalar a = t.Constant(2.0);
        Assert.Equal((Node)a, (Node)a.Named("a"));
        Assert.Equal("a", t.Describe(0).Name);
        t.Clear();
        t.Constant(3.0);
        Assert.Null(t.Describe(0).Name);
        Assert.DoesNotContain("a =", t.Format());
        Assert.Throws<ArgumentException>(() => t.Constant(1.0).Named(" "));
    }

    // ---------------------------------------------------------------- capacity and in-place constants

    [Fact]
    public void Tape_ReservedCapacity_RecordingAllocatesNothing()
    {
        // 10,001 scalar nodes (a leaf and 10,000 ops) on a tape reserved for them: no array is grown. Each run records on
        // a fresh tape (made outside the measured window; the first Use sizes the parameter table, one small array).
        var a = new ScalarParameter("a", 0.5);
        Scalar y = default;
        long allocated = Allocations.Least(
            () =>
            {
                var t = new Tape(nodes: 10_001, values: 10_001);
                y = t.Use(a);
                return t;
            },
            _ =>
            {
                for (int k = 0; k < 10_000; k++) y = y * 1.0001;
            });
        Assert.Equal(0, allocated);
        Assert.Equal(10_001, y.Tape.NodeCount);
        y.Backward();
        Approx.Equal(Math.Pow(1.0001, 10_000), a.Grad, 1e-9);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Tape(0, 10));
        Assert.Contains("Tape: reserve at least one node and one value slot, got nodes = 0, values = 10.", e.Message);
    }

    [Fact]
    public void Backward_ConstantArrayChangedAfterRecording_AnomalyModeNamesTheNode()
    {
        // tape.Constant(x) reads x in place; changing x between forward and backward would silently give
        // ∂(w·x)/∂w = the new x. With DetectAnomalies the change is caught before any gradient is touched.
        var w = new VectorParameter("w", 1.0, 2.0);
        double[] x = [3.0, 4.0];
        var t = new Tape { DetectAnomalies = true };
        Scalar loss = Ops.Dot(t.Use(w), t.Constant(x));
        x[1] = 5;
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.StartsWith("Backward: the array of constant node 1 ([2]) changed after it was recorded.", e.Message);
        Assert.Equal([0.0, 0.0], w.Grad); // nothing half-updated

        // Unchanged (or changed back), the same graph differentiates normally.
        x[1] = 4;
        loss.Backward();
        Assert.Equal([3.0, 4.0], w.Grad);
    }
}
