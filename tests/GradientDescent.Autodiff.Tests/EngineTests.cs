using GradientDescent.Autodiff.Tests.Support;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// The tape as an engine: depth, memory, reuse, threads, inspection — and every error, with the message checked
/// for the op's name and the shapes involved.
/// </summary>
public class EngineTests
{
    // ---------------------------------------------------------------- depth, memory, reuse, threads

    [Fact]
    public void Backward_MillionDeepScalarChain_NoStackOverflowAndExactGradient()
    {
        // y = x·c·c·…·c (10⁶ multiplications by c = 1 + 10⁻⁶): ∂y/∂x = c^(10⁶) ≈ e^(1 − 5·10⁻⁷). Backward is one loop
        // over the tape, so depth costs no stack. Forward and backward multiply the same 10⁶ constants, so the
        // gradient equals y/x up to rounding; against c^(10⁶) from Math.Pow the 10⁶ roundings drift by ≲ 10⁻¹⁰.
        const int depth = 1_000_000;
        const double c = 1 + 1e-6;
        var x = new ScalarParameter("x", 0.5);
        var t = new Tape();
        Scalar y = t.Use(x);
        for (int i = 0; i < depth; i++) y *= c;
        Assert.Equal(depth + 1, t.NodeCount);
        Assert.Equal(depth + 1, t.ValueSlots);

        y.Backward();
        Approx.Equal(Math.Pow(c, depth), x.Grad, 1e-9, 0, "∂y/∂x");
        Approx.Equal(y.Value / 0.5, x.Grad, 1e-9, 0, "∂y/∂x = y/x");
        Approx.Equal(Math.E * Math.Exp(-0.5e-6), x.Grad, 1e-9, 0, "e^(1 − 1/2·10⁻⁶)");
    }

    [Fact]
    public void Backward_MillionDeepChainOfBinaryOps_NoStackOverflow()
    {
        // s = x + x + … + x through binary Add nodes, each using the previous sum: a chain 10⁶ deep whose
        // gradient is the count of uses, exactly.
        const int depth = 1_000_000;
        var x = new ScalarParameter("x", 0.25);
        var t = new Tape();
        Scalar xs = t.Use(x);
        Scalar s = xs;
        for (int i = 0; i < depth; i++) s += xs;
        s.Backward();
        Assert.Equal(depth + 1.0, x.Grad);
        Assert.Equal(0.25 * (depth + 1), s.Value);
    }

    [Fact]
    public void ValueSlots_PerOp_ProportionalToOutputsAndZeroForViews()
    {
        // Memory is one value slot per output element; views (element, row, reshape, flatten, detach) and
        // caller-owned constant arrays take none.
        var t = new Tape();
        var w = MatrixParameter.Zeros("W", 3, 4);
        Matrix m = t.Use(w);
        Assert.Equal(12, t.ValueSlots);
        Matrix e = Ops.Exp(m);
        Assert.Equal(24, t.ValueSlots);
        _ = e.Row(1);
        _ = e[2, 3];
        _ = Ops.Reshape(e, 2, 6);
        _ = Ops.Flatten(e);
        _ = Ops.Detach(e);
        Assert.Equal(24, t.ValueSlots);
        Assert.Equal(7, t.NodeCount);
        _ = t.Constant(new double[1000]);
        Assert.Equal(24, t.ValueSlots);
        _ = Ops.Sum(e, axis: 0);
        Assert.Equal(28, t.ValueSlots);
        _ = Ops.Sum(e);
        Assert.Equal(29, t.ValueSlots);
        _ = Ops.MatMul(e, Ops.Transpose(e));
        Assert.Equal(29 + 12 + 9, t.ValueSlots);
        Assert.Equal(12, t.NodeCount);
    }

    private static double Step(Tape t, ScalarParameter w, ScalarParameter b, int ops)
    {
        // A scalar workload: ops multiply-adds, a loss, backward.
        t.Clear();
        Scalar x = t.Use(w), acc = t.Use(b);
        for (int i = 0; i < ops; i++) acc = acc * 0.999 + x;
        Scalar loss = Ops.Square(acc);
        loss.Backward();
        return loss.Value;
    }

    [Fact]
    public void Clear_SecondIdenticalStep_ReusesStorageAndAllocatesAlmostNothing()
    {
        const int ops = 5_000;
        var w = new ScalarParameter("w", 0.001);
        var b = new ScalarParameter("b", 0.002);
        var t = new Tape();
        double first = Step(t, w, b, ops); // warm-up: the arenas grow to one step's size
        NodeRecord[] nodes = t.Nodes;
        double[] values = t.Values, grads = t.Grads;

        double second = double.NaN;
        long allocated = Allocations.Least(() =>
        {
            w.ZeroGrad();
            b.ZeroGrad();
            second = Step(t, w, b, ops);
        });

        Assert.Equal(first, second);
        Assert.Same(nodes, t.Nodes);
        Assert.Same(values, t.Values);
        Assert.Same(grads, t.Grads);
        // 10⁴ nodes would need ≥ 10⁴ × 48 bytes of fresh storage; the reused tape needs (almost) none. The bound is
        // loose on purpose (a JIT tier-up or a runtime allocation must not make this flaky).
        Assert.True(allocated < 4096, $"second step allocated {allocated} bytes");
    }

    [Fact]
    public void Clear_FreshTapePerStep_AllocatesTheWholeTape()
    {
        // The contrast to the test above, so that its bound means something: without reuse a step allocates ≥ 48
        // bytes per node.
        const int ops = 5_000;
        var w = new ScalarParameter("w", 0.001);
        var b = new ScalarParameter("b", 0.002);
        Step(new Tape(), w, b, ops);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step(new Tape(), w, b, ops);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated > 2 * ops * 48, $"a fresh tape allocated only {allocated} bytes");
    }

    [Fact]
    public void Clear_AfterBackward_AllowsRecordingAndInvalidatesOldHandles()
    {
        var w = new ScalarParameter("w", 2.0);
        var t = new Tape();
        Scalar old = Ops.Square(t.Use(w));
        old.Backward();
        t.Clear();
        Assert.Equal(0, t.NodeCount);
        Assert.Equal(0, t.ValueSlots);
        Scalar fresh = Ops.Exp(t.Use(w)); // recording works again after a freeing backward
        Assert.Equal(Math.Exp(2.0), fresh.Value);
        Assert.Throws<InvalidOperationException>(() => old.Value);
    }

    [Fact]
    public void IndependentTapes_ParallelThreads_EachGetsItsOwnExactResult()
    {
        // Tapes share nothing: 8 threads, each with its own tape and parameters, 200 steps each, must compute
        // bit for bit what one thread computes alone.
        static double[] Train(int seed)
        {
            var rng = new Random(seed);
            var w = new VectorParameter("w", [.. Enumerable.Range(0, 4).Select(_ => rng.NextDouble() - 0.5)]);
            var b = new ScalarParameter("b", 0);
            double[] x = [.. Enumerable.Range(0, 32).Select(_ => rng.NextDouble() * 4 - 2)];
            double[] y = [.. Enumerable.Range(0, 8).Select(i => (double)(i % 2))];
            var sgd = new Sgd([w, b], 0.1);
            var t = new Tape();
            for (int step = 0; step < 200; step++)
            {
                t.Clear();
                Vector z = Ops.MatVec(t.Constant(x, 8, 4), t.Use(w)) + t.Use(b);
                Loss.BinaryCrossEntropyWithLogits(z, t.Constant(y)).Backward();
                sgd.Step();
                sgd.ZeroGrad();
            }
            return [.. w.Value, b.Value];
        }

        double[][] sequential = [.. Enumerable.Range(0, 8).Select(Train)];
        var parallel = new double[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = Train(i));
        for (int i = 0; i < 8; i++) Assert.Equal(sequential[i], parallel[i]);
        Assert.NotEqual(sequential[0], sequential[1]);
    }

    // ---------------------------------------------------------------- inspection

    [Fact]
    public void Describe_EachNode_ReportsOpInputsShapeAndConstant()
    {
        var w = new VectorParameter("w", 1, 2, 3);
        var t = new Tape();
        Vector x = t.Use(w);                         // 0
        Vector y = x * 2.5;                          // 1
        Scalar e = y[2];                             // 2
        Scalar l = Loss.SoftmaxCrossEntropy(y, 1);   // 3
        Scalar sum = e + l;                          // 4
        NodeInfo leaf = t.Describe(0);
        Assert.Equal(OpKind.Parameter, leaf.Op);
        Assert.Same(w, leaf.Parameter);
        Assert.Empty(leaf.Inputs);
        NodeInfo scaled = t.Describe(1);
        Assert.Equal((OpKind.MultiplyConstant, 2.5, Shape.Vector(3)), (scaled.Op, scaled.Constant, scaled.Shape));
        Assert.Equal([0], scaled.Inputs);
        Assert.Equal((OpKind.Element, 2.0), (t.Describe(2).Op, t.Describe(2).Constant));
        Assert.Equal([1], t.Describe(3).Labels);
        Assert.Equal([2, 3], t.Describe(4).Inputs);
        Assert.True(t.Describe(4).RequiresGrad);
        Assert.Equal(4, ((Node)sum).Id);
    }

    [Fact]
    public void Format_AfterBackward_ListsEveryNodeWithValueAndGradient()
    {
        var w = new ScalarParameter("w", 3.0);
        var t = new Tape();
        Scalar loss = Ops.Square(t.Use(w) - 1);
        string before = t.Format();
        Assert.DoesNotContain("∂L/∂", before);
        loss.Backward();
        string text = t.Format();
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(t.NodeCount, lines.Length);
        Assert.Contains("Parameter w", lines[0]);
        Assert.Contains("∂L/∂ = 4", lines[0]); // 2(w − 1)
        Assert.Contains("AddConstant(-1)", lines[1]);
        Assert.Contains("Square(%1)", lines[2]);
        Assert.Contains("= 4", lines[2]);
    }

    // ---------------------------------------------------------------- errors: handles and passes

    [Fact]
    public void Error_NodesOfTwoTapes_NamesOpAndTapes()
    {
        var t1 = new Tape();
        var t2 = new Tape();
        var e = Assert.Throws<InvalidOperationException>(() => t1.Constant(1.0) + t2.Constant(2.0));
        Assert.StartsWith("Add:", e.Message);
        Assert.Contains("different tape", e.Message);

        var m = Assert.Throws<InvalidOperationException>(() => Ops.MatMul(t1.Constant(new double[,] { { 1 } }), t2.Constant(new double[,] { { 1 } })));
        Assert.StartsWith("MatMul:", m.Message);
        var d = Assert.Throws<InvalidOperationException>(() => Ops.Dot(t1.Constant([1.0]), t2.Constant([1.0])));
        Assert.StartsWith("Dot:", d.Message);
    }

    [Fact]
    public void Error_HandleUsedAfterClear_SaysItNoLongerExists()
    {
        var t = new Tape();
        Scalar x = t.Constant(1.0);
        Vector v = t.Constant([1.0, 2.0]);
        t.Clear();
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Exp(x));
        Assert.StartsWith("Exp:", e.Message);
        Assert.Contains("before the tape was cleared", e.Message);
        var value = Assert.Throws<InvalidOperationException>(() => v.Value);
        Assert.StartsWith("Value:", value.Message);
        var sum = Assert.Throws<InvalidOperationException>(() => Ops.Sum(v));
        Assert.StartsWith("Sum:", sum.Message);
    }

    [Fact]
    public void Error_DefaultHandle_SaysUninitialised()
    {
        var t = new Tape();
        var right = Assert.Throws<InvalidOperationException>(() => t.Constant(1.0) + default(Scalar));
        Assert.StartsWith("Add:", right.Message);
        Assert.Contains("default (uninitialised) handle", right.Message);
        var left = Assert.Throws<InvalidOperationException>(() => default(Scalar) * t.Constant(1.0));
        Assert.Contains("default (uninitialised) handle", left.Message);
        var unary = Assert.Throws<InvalidOperationException>(() => Ops.Exp(default(Vector)));
        Assert.Contains("default (uninitialised) handle", unary.Message);
        Assert.Equal("Scalar (default)", default(Scalar).ToString());
        Assert.Equal("node (default)", default(Node).ToString());
    }

    [Fact]
    public void Error_BackwardFromVectorWithoutSeed_NamesOpAndShape()
    {
        var w = new VectorParameter("w", 1, 2, 3);
        var t = new Tape();
        Node y = Ops.Exp(t.Use(w));
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.StartsWith("Backward:", e.Message);
        Assert.Contains("Exp has shape [3], not a scalar loss", e.Message);
        Assert.Contains("seed gradient of 3 elements", e.Message);
        var cast = Assert.Throws<InvalidCastException>(() => y.AsScalar());
        Assert.Contains("(Exp) has shape [3], not a scalar", cast.Message);
    }

    [Fact]
    public void Error_WrongSeedLength_NamesBothLengths()
    {
        var w = MatrixParameter.Zeros("W", 2, 3);
        var t = new Tape();
        Matrix y = Ops.Tanh(t.Use(w));
        var e = Assert.Throws<ArgumentException>(() => y.Backward([1.0, 2.0]));
        Assert.StartsWith("Backward: the seed gradient has 2 elements but the output Tanh has shape [2×3] (6 elements)", e.Message);
    }

    [Fact]
    public void Error_SecondBackwardWithoutRetainGraph_SaysGraphWasFreed()
    {
        var w = new ScalarParameter("w", 1.0);
        var t = new Tape();
        Scalar loss = Ops.Square(t.Use(w));
        loss.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.StartsWith("Backward: the graph was already freed", e.Message);
        Assert.Contains("retainGraph: true", e.Message);
        Assert.Equal(2.0, w.Grad); // the refused pass added nothing
    }

    [Fact]
    public void Error_RecordingAfterFreedGraph_NamesTheOp()
    {
        var w = new ScalarParameter("w", 1.0);
        var t = new Tape();
        Scalar x = t.Use(w);
        Ops.Square(x).Backward();
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Sigmoid(x));
        Assert.StartsWith("Sigmoid: this tape's graph was freed by Backward", e.Message);
        var c = Assert.Throws<InvalidOperationException>(() => t.Constant(1.0));
        Assert.StartsWith("Constant:", c.Message);
        var view = Assert.Throws<InvalidOperationException>(() => Ops.Detach(x));
        Assert.StartsWith("Detach:", view.Message);
    }

    [Fact]
    public void Error_BackwardFromNodeWithoutGradient_SaysNothingToDifferentiate()
    {
        var t = new Tape();
        Scalar c = Ops.Exp(t.Constant(1.0));
        var e = Assert.Throws<InvalidOperationException>(() => c.Backward());
        Assert.StartsWith("Backward: the output (Exp, node 1) does not depend on any parameter", e.Message);

        var w = new ScalarParameter("w", 1.0);
        Scalar d = Ops.Detach(t.Use(w));
        Assert.Throws<InvalidOperationException>(() => d.Backward());
    }

    [Fact]
    public void Error_GradBeforeAnyBackward_Explains()
    {
        var w = new ScalarParameter("w", 1.0);
        var t = new Tape();
        Scalar x = Ops.Exp(t.Use(w));
        var e = Assert.Throws<InvalidOperationException>(() => x.Grad);
        Assert.StartsWith("Grad: no backward pass has run", e.Message);
        Assert.Contains("Exp", e.Message);
    }

    // ---------------------------------------------------------------- errors: shapes

    [Fact]
    public void Error_AddVectorsOfDifferentLengths_NamesOpAndBothShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => t.Constant([1.0, 2, 3]) + t.Constant([1.0, 2, 3, 4]));
        Assert.StartsWith("Add: shapes [3] and [4] do not broadcast", e.Message);
        var m = Assert.Throws<ArgumentException>(() => t.Constant([1.0, 2, 3]) * t.Constant([1.0, 2]));
        Assert.StartsWith("Multiply: shapes [3] and [2]", m.Message);
    }

    [Fact]
    public void Error_BroadcastVectorOverWrongDimension_NamesBothShapes()
    {
        var t = new Tape();
        Matrix m = t.Constant(new double[2, 3]);
        var rows = Assert.Throws<ArgumentException>(() => m + t.Constant([1.0, 2.0]));
        Assert.StartsWith("Add: shapes [2×3] and [2] do not broadcast", rows.Message);
        Assert.Contains("vector of length c with an r×c matrix", rows.Message);
        var mm = Assert.Throws<ArgumentException>(() => m - t.Constant(new double[3, 2]));
        Assert.StartsWith("Subtract: shapes [2×3] and [3×2] do not broadcast", mm.Message);
        var div = Assert.Throws<ArgumentException>(() => t.Constant([1.0, 2.0]) / m);
        Assert.StartsWith("Divide: shapes [2] and [2×3]", div.Message);
        var pow = Assert.Throws<ArgumentException>(() => Ops.Pow(t.Constant([1.0, 2.0]), t.Constant([1.0, 2.0, 3.0])));
        Assert.StartsWith("Power: shapes [2] and [3]", pow.Message);
        var max = Assert.Throws<ArgumentException>(() => Ops.Max(m, t.Constant(new double[2, 2])));
        Assert.StartsWith("Maximum: shapes [2×3] and [2×2]", max.Message);
    }

    [Fact]
    public void Error_MatMulInnerDimensions_NamesBothShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Ops.MatMul(t.Constant(new double[2, 3]), t.Constant(new double[2, 3])));
        Assert.StartsWith("MatMul: [2×3] times [2×3] needs the left's 3 columns to equal the right's 2 rows", e.Message);
    }

    [Fact]
    public void Error_MatVecLength_NamesBothShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Ops.MatVec(t.Constant(new double[2, 3]), t.Constant([1.0, 2.0])));
        Assert.StartsWith("MatVec: a matrix [2×3] times a vector [2]", e.Message);
        Assert.Contains("3 columns", e.Message);
    }

    [Fact]
    public void Error_DotLengths_NamesBothShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Ops.Dot(t.Constant([1.0, 2, 3]), t.Constant([1.0, 2, 3, 4])));
        Assert.StartsWith("Dot:", e.Message);
        Assert.Contains("[3] and [4]", e.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    public void Error_BadAxis_NamesAxisAndShape(int axis)
    {
        var t = new Tape();
        Matrix m = t.Constant(new double[2, 3]);
        var s = Assert.Throws<ArgumentException>(() => Ops.Sum(m, axis));
        Assert.StartsWith($"SumAxis: axis {axis} of [2×3]", s.Message);
        var mean = Assert.Throws<ArgumentException>(() => Ops.Mean(m, axis));
        Assert.StartsWith($"MeanAxis: axis {axis} of [2×3]", mean.Message);
    }

    [Fact]
    public void Error_IndexOutOfRange_NamesIndexAndShape()
    {
        var t = new Tape();
        Vector v = t.Constant([1.0, 2, 3]);
        Matrix m = t.Constant(new double[2, 3]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => v[3]);
        Assert.StartsWith("Element: index 3 is outside the vector [3] (valid: 0 to 2)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => v[-1]);
        var me = Assert.Throws<ArgumentOutOfRangeException>(() => m[2, 0]);
        Assert.StartsWith("Element: (2, 0) is outside the matrix [2×3]", me.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => m[0, 3]);
        var row = Assert.Throws<ArgumentOutOfRangeException>(() => m.Row(2));
        Assert.StartsWith("Row: row 2 is outside the matrix [2×3] (valid: 0 to 1)", row.Message);
        var describe = Assert.Throws<ArgumentOutOfRangeException>(() => t.Describe(2));
        Assert.StartsWith("Describe: the tape has 2 nodes", describe.Message);
    }

    [Fact]
    public void Error_ReshapeWrongCount_NamesBothShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Ops.Reshape(t.Constant([1.0, 2, 3, 4, 5, 6]), 4, 2));
        Assert.StartsWith("Reshape: [6] has 6 elements and cannot become [4×2]", e.Message);
        var m = Assert.Throws<ArgumentException>(() => Ops.Reshape(t.Constant(new double[2, 3]), 0, 6));
        Assert.StartsWith("Reshape: [2×3]", m.Message);
    }

    [Fact]
    public void Error_ClampLowAboveHigh_NamesBothBounds()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Ops.Clamp(t.Constant(0.5), 2, 1));
        Assert.StartsWith("Clamp: the lower bound 2 is above the upper bound 1", e.Message);
        Assert.Throws<ArgumentException>(() => Ops.Clamp(t.Constant([0.5]), 2, 1));
        Assert.Throws<ArgumentException>(() => Ops.Clamp(t.Constant(new double[1, 1]), 2, 1));
        Assert.Equal(1.0, Ops.Clamp(t.Constant(3.0), 1, 1).Value); // lo = hi is allowed
    }

    // ---------------------------------------------------------------- errors: losses

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Error_BinaryCrossEntropyPredictionOutsideUnitInterval_NamesElementAndValue(double p)
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.BinaryCrossEntropy(t.Constant([0.5, p]), t.Constant([1.0, 0.0])));
        Assert.StartsWith($"BinaryCrossEntropy: prediction element 1 is {p}, not a probability in [0, 1]", e.Message);
        Assert.Contains("BinaryCrossEntropyWithLogits", e.Message);
    }

    [Fact]
    public void Error_BinaryCrossEntropyTargetRequiringGrad_SaysTargetsAreData()
    {
        var w = new VectorParameter("y", 0.5, 0.5);
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(t.Constant([0.5, 0.5]), t.Use(w)));
        Assert.StartsWith("BinaryCrossEntropy: the target requires a gradient", e.Message);
        var logits = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropyWithLogits(t.Constant([0.5, 0.5]), t.Use(w)));
        Assert.StartsWith("BinaryCrossEntropyWithLogits: the target requires a gradient", logits.Message);
        // Detaching the target is the documented way out.
        Assert.Equal(Math.Log(2), Loss.BinaryCrossEntropy(t.Constant([0.5, 0.5]), Ops.Detach(t.Use(w))).Value, 15);
    }

    [Fact]
    public void Error_BinaryCrossEntropyShapes_NamesBothShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(t.Constant([0.5, 0.5, 0.5]), t.Constant([1.0, 0.0])));
        Assert.StartsWith("BinaryCrossEntropy: the prediction has shape [3] but the target [2]", e.Message);
    }

    [Fact]
    public void Error_SoftmaxCrossEntropyLabelOutOfRange_NamesLabelRowAndShape()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.SoftmaxCrossEntropy(t.Constant([1.0, 2, 3]), 3));
        Assert.StartsWith("SoftmaxCrossEntropy: label 3 of row 0 is not a class of logits [3]; labels run from 0 to 2", e.Message);
        var neg = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.SoftmaxCrossEntropy(t.Constant(new double[2, 3]), [0, -1]));
        Assert.StartsWith("SoftmaxCrossEntropy: label -1 of row 1 is not a class of logits [2×3]", neg.Message);
    }

    [Fact]
    public void Error_SoftmaxCrossEntropyLabelCount_NamesCountAndRows()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Loss.SoftmaxCrossEntropy(t.Constant(new double[2, 3]), [0]));
        Assert.StartsWith("SoftmaxCrossEntropy: 1 labels for logits [2×3] (2 rows)", e.Message);
    }

    // ---------------------------------------------------------------- errors: custom ops, anomalies, construction

    [Fact]
    public void Error_CustomOpWithInvalidOutputShape_NamesOpAndShape()
    {
        var t = new Tape();
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Custom(new BadShapeOp(), t.Constant([1.0])));
        Assert.StartsWith("Custom op bad-shape: OutputShape returned [3] (rows 3, cols 2), which is not a valid shape", e.Message);
        Assert.Equal(1, t.NodeCount); // nothing was recorded
    }

    [Fact]
    public void Error_CustomOpRefusingInputs_PropagatesItsMessage()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Ops.Custom(ProductPlusOp.Instance, t.Constant([1.0]), t.Constant([1.0, 2.0])));
        Assert.StartsWith("product-plus:", e.Message);
        var none = Assert.Throws<ArgumentException>(() => Ops.Custom(CubeOp.Instance));
        Assert.StartsWith("Custom op cube: needs at least one input", none.Message);
        var tapes = Assert.Throws<InvalidOperationException>(() => Ops.Custom(ProductPlusOp.Instance, t.Constant([1.0]), new Tape().Constant([1.0])));
        Assert.StartsWith("product-plus: the node belongs to a different tape", tapes.Message);
    }

    [Fact]
    public void DetectAnomalies_LogOfMinusOne_NamesTheOpNodeAndShape()
    {
        var w = new ScalarParameter("w", -1.0);
        var t = new Tape { DetectAnomalies = true };
        Scalar x = t.Use(w);
        var e = Assert.Throws<ArithmeticException>(() => Ops.Log(x));
        Assert.StartsWith("Log: node 1 of shape scalar has a non-finite value (NaN) at element 0", e.Message);
        Assert.Contains("Tape.Describe(1)", e.Message);

        var v = new Tape { DetectAnomalies = true };
        var ve = Assert.Throws<ArithmeticException>(() => Ops.Sqrt(v.Constant([4.0, -1.0])));
        Assert.StartsWith("Sqrt: node 1 of shape [2] has a non-finite value (NaN) at element 1", ve.Message);

        var inf = new Tape { DetectAnomalies = true };
        var ie = Assert.Throws<ArithmeticException>(() => inf.Constant(1.0) / inf.Constant(0.0));
        Assert.StartsWith("Divide: node 2 of shape scalar has a non-finite value", ie.Message);
    }

    [Fact]
    public void DetectAnomalies_Off_LogOfMinusOneIsNaNSilently()
    {
        var t = new Tape();
        Assert.False(t.DetectAnomalies);
        Assert.True(double.IsNaN(Ops.Log(t.Constant(-1.0)).Value));
    }

    [Fact]
    public void DetectAnomalies_InfiniteGradient_ThrowsInBackward()
    {
        // √x at 0 is finite (0) but its derivative 1/(2√x) is ∞: the value check passes, the gradient check throws
        // when the infinite gradient reaches a node.
        var w = new ScalarParameter("w", 0.0);
        var t = new Tape { DetectAnomalies = true };
        Scalar y = Ops.Sqrt(t.Use(w)) * 2;
        var e = Assert.Throws<ArithmeticException>(() => y.Backward());
        // The op whose rule produced the infinity is named, with the input that received it.
        Assert.StartsWith("Sqrt: the derivative rule of node 1 (shape scalar) gave input node 0 (Parameter, scalar) a non-finite gradient (Infinity)", e.Message);
    }

    [Fact]
    public void Error_Construction_NamesTheProblem()
    {
        var t = new Tape();
        var c = Assert.Throws<ArgumentException>(() => t.Constant([1.0, 2, 3], 2, 2));
        Assert.StartsWith("Constant: 3 values cannot form a matrix [2×2]", c.Message);
        var empty = Assert.Throws<ArgumentException>(() => t.Constant(System.Array.Empty<double>()));
        Assert.StartsWith("Constant: a vector needs at least one element", empty.Message);
        var m = Assert.Throws<ArgumentException>(() => t.Constant(new double[0, 3]));
        Assert.StartsWith("Constant: a matrix needs at least one row and one column, got [0×3]", m.Message);
        var p = Assert.Throws<ArgumentException>(() => MatrixParameter.Zeros("W", 0, 3));
        Assert.StartsWith("Parameter W:", p.Message);
        var lr = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([new ScalarParameter("b")], 0));
        Assert.StartsWith("Sgd: the learning rate must be a positive finite number", lr.Message);
        var concat = Assert.Throws<ArgumentException>(() => Ops.Concat());
        Assert.StartsWith("Concat: needs at least one vector", concat.Message);
    }
}
