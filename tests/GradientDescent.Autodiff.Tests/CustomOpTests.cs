using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// User-defined ops (<see cref="CustomOp"/>): they take part in backward like built-in ops, pass the gradient
/// check when their derivative is right, and are caught by it when it is wrong.
/// </summary>
public class CustomOpTests
{
    [Fact]
    public void Cube_InBackward_GradientIsThreeXSquared()
    {
        // L = Σ x³, ∂L/∂xₖ = 3xₖ², composed with built-in ops on both sides: L = Σ cube(2x) + Σ x, so
        // ∂L/∂xₖ = 3(2xₖ)²·2 + 1 = 24xₖ² + 1.
        var p = new VectorParameter("x", 1.0, -2.0, 0.5);
        var t = new Tape();
        Vector x = t.Use(p);
        Vector cube = Ops.CustomVector(CubeOp.Instance, x * 2.0);
        Assert.Equal([8.0, -64.0, 1.0], cube.Value);
        Scalar loss = Ops.Sum(cube) + Ops.Sum(x);
        loss.Backward();
        Assert.Equal([25.0, 97.0, 7.0], p.Grad);
        Assert.Equal([1.0, 1.0, 1.0], cube.Grad); // ∂L/∂cube = 1 per element
    }

    [Fact]
    public void Swish_AnyShape_PassesGradientCheck()
    {
        var s = new ScalarParameter("s", 0.7);
        var v = new VectorParameter("v", -1.5, 0.2, 2.5);
        var m = new MatrixParameter("M", new double[,] { { 0.3, -0.8 }, { 1.1, -2.2 } });
        GradientCheckReport report = GradientCheck.Run(
            t => Ops.CustomScalar(SwishOp.Instance, t.Use(s))
                 + Ops.Sum(Ops.Square(Ops.CustomVector(SwishOp.Instance, t.Use(v))))
                 + Ops.Sum(Ops.CustomMatrix(SwishOp.Instance, Ops.MatMul(t.Use(m), t.Use(m)))),
            [s, v, m]);
        Assert.True(report.Passed, report.ToString());
        Assert.All(report.Parameters, p => Assert.True(p.VersusNumeric.MaxRelative < 1e-8, $"{p.Name}: {p.VersusNumeric}"));
    }

    [Property(MaxTest = 100)]
    public Property CustomOps_RandomInputs_PassGradientCheck() =>
        Prop.ForAll(Gens.Vector(5, -2, 2).ToArbitrary(), Gens.Vector(5, -2, 2).ToArbitrary(), (a0, b0) =>
        {
            // Unary (swish, cube), binary (a ⊙ b + a) and reducing (Σ x³) custom ops mixed with built-ins.
            int n = Math.Min(a0.Length, b0.Length);
            var a = new VectorParameter("a", a0[..n]);
            var b = new VectorParameter("b", b0[..n]);
            GradientCheckReport report = GradientCheck.Run(
                t =>
                {
                    Vector va = t.Use(a), vb = t.Use(b);
                    Vector prod = Ops.CustomVector(ProductPlusOp.Instance, Ops.Custom(SwishOp.Instance, va), Ops.Tanh(vb));
                    Scalar cubes = Ops.CustomScalar(SumOfCubesOp.Instance, prod * 0.5);
                    return cubes + Ops.Dot(Ops.CustomVector(CubeOp.Instance, va), vb);
                },
                [a, b]);
            Assert.True(report.Passed, report.ToString());
        });

    [Fact]
    public void ProductPlus_ConstantInput_GetsNoGradientAndOpSkipsIt()
    {
        // y = a ⊙ b + a with b constant: InputGrad(1) is empty and RequiresGrad(1) false; ∂y/∂a = b + 1.
        var a = new VectorParameter("a", 1.0, 2.0);
        var t = new Tape();
        Vector b = t.Constant([3.0, -4.0]);
        Vector y = Ops.CustomVector(ProductPlusOp.Instance, t.Use(a), b);
        Assert.Equal([4.0, -6.0], y.Value);
        Ops.Sum(y).Backward();
        Assert.Equal([4.0, -3.0], a.Grad);
        Assert.Equal([0.0, 0.0], b.Grad);
    }

    [Fact]
    public void Context_InputWithoutGradient_InputGradIsEmpty()
    {
        // The documented contract: RequiresGrad(k) is false and InputGrad(k) empty for an input no gradient flows
        // into (a constant, a detached node, a caller-owned array), so an op cannot write into a slot that is not there.
        var op = new GradSlotsOp();
        var w = new VectorParameter("w", 1.0, 2.0);
        var t = new Tape();
        Vector x = t.Use(w);
        Node y = Ops.Custom(op, x, t.Constant([3.0, 4.0]), Ops.Detach(x), t.Constant(new double[,] { { 1, 2 } }));
        y.AsScalar().Backward();
        Assert.Equal([true, false, false, false], op.Requires);
        Assert.Equal([2, 0, 0, 0], op.Lengths);
    }

    private sealed class GradSlotsOp : CustomOp
    {
        public bool[] Requires = [];
        public int[] Lengths = [];
        public override string Name => "grad-slots";
        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => Shape.Scalar;
        public override void Forward(CustomOpContext context) => context.Output[0] = context.Input(0)[0];

        public override void Backward(CustomOpContext context)
        {
            Requires = new bool[context.InputCount];
            Lengths = new int[context.InputCount];
            for (int k = 0; k < context.InputCount; k++)
            {
                Requires[k] = context.RequiresGrad(k);
                Lengths[k] = context.InputGrad(k).Length;
            }
        }
    }

    [Fact]
    public void ProductPlus_SameNodeAsBothInputs_BothContributionsAdd()
    {
        // y = x ⊙ x + x: ∂y/∂x = (x + 1) + x = 2x + 1, added through both input slots into one gradient.
        var x = new VectorParameter("x", 1.5, -0.5);
        var t = new Tape();
        Vector v = t.Use(x);
        Ops.Sum(Ops.CustomVector(ProductPlusOp.Instance, v, v)).Backward();
        Assert.Equal([4.0, 0.0], x.Grad);
    }

    [Fact]
    public void WrongDerivative_GradientCheck_FailsAndNamesTheParameter()
    {
        // forward x³, backward 2x² instead of 3x²: autodiff is off by a factor 2/3, the checker must say so.
        var x = new VectorParameter("x", 0.5, -1.2, 2.0);
        var ok = new ScalarParameter("ok", 1.3);
        GradientCheckReport report = GradientCheck.Run(
            t => Ops.Sum(Ops.CustomVector(new WrongCubeOp(), t.Use(x))) + Ops.Square(t.Use(ok)),
            [x, ok]);
        Assert.False(report.Passed);
        ParameterCheck bad = report.Parameters[0];
        Assert.Equal("x", bad.Name);
        Assert.False(bad.Passed);
        Assert.False(bad.VersusNumeric.Passed);
        Approx.Equal(1.0 / 3, bad.VersusNumeric.MaxRelative, 1e-6); // |2x² − 3x²|/3x²
        Assert.Equal([0.5, 2.88, 8.0], bad.Autodiff.Select(v => Math.Round(v, 12)).ToArray());
        Approx.Equal([0.75, 4.32, 12.0], bad.Numeric, 1e-8);
        Assert.True(report.Parameters[1].Passed);
        string text = report.ToString();
        Assert.Contains("x ", text);
        Assert.Contains("FAIL", text);
        Assert.EndsWith("FAILED", text);
    }

    [Fact]
    public void AssigningInsteadOfAdding_GradientCheck_Fails()
    {
        // y = Σ cube(x) + Σ x: the Add's contribution to ∂L/∂x lands first (backward runs in reverse), then the
        // op overwrites it; the lost 1 per element is what the checker sees.
        var x = new VectorParameter("x", 0.5, -1.0);
        GradientCheckReport report = GradientCheck.Run(
            t =>
            {
                Vector v = t.Use(x);
                return Ops.Sum(Ops.CustomVector(new AssigningCubeOp(), v)) + Ops.Sum(v * 3.0);
            },
            [x]);
        Assert.False(report.Passed, report.ToString());
        Assert.Equal("x", report.Parameters[0].Name);

        // With the op used alone (its input has no other consumer) the assignment happens to be harmless.
        var y = new VectorParameter("y", 0.5, -1.0);
        Assert.True(GradientCheck.Run(t => Ops.Sum(Ops.CustomVector(new AssigningCubeOp(), t.Use(y))), [y]).Passed);
    }

    [Fact]
    public void CustomNode_Inspection_ShowsOpNameInputsAndShape()
    {
        var x = new VectorParameter("x", 1.0, 2.0);
        var t = new Tape();
        Vector v = t.Use(x);
        Node c = Ops.Custom(ProductPlusOp.Instance, v, t.Constant([1.0, 1.0]));
        NodeInfo info = t.Describe(c.Id);
        Assert.Equal(OpKind.Custom, info.Op);
        Assert.Same(ProductPlusOp.Instance, info.CustomOp);
        Assert.Equal([0, 1], info.Inputs);
        Assert.Equal(Shape.Vector(2), info.Shape);
        Assert.True(info.RequiresGrad);
        Assert.Contains("Custom product-plus(%0, %1)", t.Format());
        Assert.Equal("product-plus", ProductPlusOp.Instance.ToString());
    }

    [Fact]
    public void OneInstance_ManyTapesAndThreads_IsReusable()
    {
        // Ops are stateless: one instance applied on many tapes in parallel gives each its own result.
        var results = new double[16];
        Parallel.For(0, 16, i =>
        {
            var p = new ScalarParameter("x", i * 0.25);
            var t = new Tape();
            Ops.CustomScalar(CubeOp.Instance, t.Use(p)).Backward();
            results[i] = p.Grad;
        });
        for (int i = 0; i < 16; i++) Assert.Equal(3 * (i * 0.25) * (i * 0.25), results[i]);
    }

    [Fact]
    public void Context_InputOutOfRange_NamesTheCount()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Custom(new ReadsMissingInputOp(), t.Constant(1.0)));
        Assert.StartsWith("CustomOpContext: input 1 does not exist; the op has 1 inputs.", e.Message);
    }

    private sealed class ReadsMissingInputOp : CustomOp
    {
        public override string Name => "reads-missing-input";
        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => Shape.Scalar;
        public override void Forward(CustomOpContext context) => context.Output[0] = context.Input(1)[0];
        public override void Backward(CustomOpContext context) { }
    }

    [Fact]
    public void Context_ShapesAndCount_AreWhatTheOpWasGiven()
    {
        var op = new RecordingOp();
        var t = new Tape();
        Ops.Custom(op, t.Constant(1.0), t.Constant([1.0, 2.0]), t.Constant(new double[2, 3]));
        Assert.Equal(3, op.Count);
        Assert.Equal([Shape.Scalar, Shape.Vector(2), Shape.Matrix(2, 3)], op.Shapes);
    }

    private sealed class RecordingOp : CustomOp
    {
        public int Count;
        public Shape[] Shapes = [];
        public override string Name => "recording";
        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => Shape.Scalar;

        public override void Forward(CustomOpContext context)
        {
            Count = context.InputCount;
            Shapes = new Shape[Count];
            for (int k = 0; k < Count; k++) Shapes[k] = context.InputShape(k);
        }

        public override void Backward(CustomOpContext context) { }
    }

    [Fact]
    public void ForwardThrows_Tape_IsLeftAsItWas()
    {
        // A custom op whose forward fails must not leave a half-recorded node behind.
        var t = new Tape();
        var x = t.Use(new VectorParameter("x", 1.0, 2.0));
        int nodes = t.NodeCount, slots = t.ValueSlots;
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Custom(new ThrowingOp(), x));
        Assert.Equal("ThrowingOp refuses", e.Message);
        Assert.Equal(nodes, t.NodeCount);
        Assert.Equal(slots, t.ValueSlots);
        // The tape goes on recording normally: the next node takes the failed one's place.
        Scalar s = Ops.Sum(x);
        Assert.Equal(nodes, s.Tape.Describe(nodes).Id);
        s.Backward();
        Assert.Equal([1.0, 1.0], x.Grad);
    }

    private sealed class ThrowingOp : CustomOp
    {
        public override string Name => "ThrowingOp";
        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];
        public override void Forward(CustomOpContext context) => throw new InvalidOperationException("ThrowingOp refuses");
        public override void Backward(CustomOpContext context) { }
    }
}
