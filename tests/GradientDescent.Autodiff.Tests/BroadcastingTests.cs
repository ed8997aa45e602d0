using FsCheck;
using FsCheck.Fluent;
using GradientDescent.Autodiff.Testing;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Broadcasting in every mix of operand kinds: every binary op (+ − × ÷ as operators and named twins, Ops.Pow,
/// Ops.Max, Ops.Min) takes any two of double, Scalar, Vector and Matrix that broadcast, in both orders, and returns
/// the broadcast kind (the table is <see cref="BinaryOverloads"/>; the TorchSharp cross-check walks it too).
/// </summary>
public class BroadcastingTests
{
    public static TheoryData<string, OperandKind, OperandKind, string> Overloads()
    {
        var data = new TheoryData<string, OperandKind, OperandKind, string>();
        foreach (BinaryOverload o in BinaryOverloads.All()) data.Add(o.Op, o.Left, o.Right, o.Form);
        return data;
    }

    [Fact]
    public void PublicSurface_EveryBinaryOpAndKindMix_HasAnOverloadReturningTheBroadcastKind()
    {
        // 7 ops × 15 kind pairs (not double with double); + − × ÷ twice (operator and named twin): 165 overloads.
        BinaryOverload[] all = [.. BinaryOverloads.All()];
        string[] missing = [.. all.Where(o => BinaryOverloads.Find(o) is null).Select(o => o.ToString())];

        Assert.Equal(165, all.Length);
        Assert.True(missing.Length == 0, $"missing overloads:\n{string.Join("\n", missing)}");
    }

    [Fact]
    public void PublicSurface_EveryOperator_HasANamedTwinWithTheSameSignature()
    {
        // a + b and Vector.Add(a, b), −a and Negate(a): for languages and readers without operators.
        var names = new Dictionary<string, string>
        {
            ["op_Addition"] = "Add", ["op_Subtraction"] = "Subtract", ["op_Multiply"] = "Multiply",
            ["op_Division"] = "Divide", ["op_UnaryNegation"] = "Negate",
        };
        string[] missing =
        [
            .. new[] { typeof(Scalar), typeof(Vector), typeof(Matrix) }
                .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
                .Where(m => m.Name.StartsWith("op_", StringComparison.Ordinal) && m.Name is not ("op_Implicit" or "op_Explicit"))
                .Where(m =>
                {
                    Type[] parameters = [.. m.GetParameters().Select(p => p.ParameterType)];
                    return !names.TryGetValue(m.Name, out string? twin)
                        || m.DeclaringType!.GetMethod(twin, parameters) is not { } named || named.ReturnType != m.ReturnType;
                })
                .Select(m => $"{m.DeclaringType!.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})"),
        ];

        Assert.True(missing.Length == 0, $"operators without a named twin:\n{string.Join("\n", missing)}");
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public void Overload_RandomOperands_ValueAndGradientsMatchFormulaAndCentralDifferences(string op, OperandKind left, OperandKind right, string form)
    {
        // f(a, b) elementwise after broadcasting: result element (i, j) combines a's and b's elements at (i, j), j or
        // the only one. L = Σ wₖ f(a, b)ₖ; ∂L/∂aₘ = Σ over the k that aₘ reached of wₖ·∂f/∂a(aₘ, bₖ), likewise for b.
        var overload = new BinaryOverload(op, left, right, form);
        Gens.Check(Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var c = new BinaryCase(overload, seed);
            Node y = c.Result(new Tape());
            Assert.Equal(BinaryOverloads.TypeOf(overload.Result).Name, y.Shape.Kind.ToString());
            Approx.Equal(c.ExpectedValue(), y.ToArray(), 1e-15, 0, $"{c} value");

            GradientCheckReport report = GradientCheck.Run(c.Loss, c.Parameters, new GradientCheckOptions { HandDerived = c.ExpectedGradient });
            Assert.True(report.Passed, $"{c}\n{report}");
        }), maxTest: 20);
    }

    [Fact]
    public void PowConstantBase_TwoToTheX_ValueAndGradientAreTwoToTheXLnTwo()
    {
        // d/dx 2^x = 2^x·ln 2.
        var x = new VectorParameter("x", -1.0, 0.0, 3.0);
        var tape = new Tape();
        Vector y = Ops.Pow(2.0, tape.Use(x));
        Ops.Sum(y).Backward();

        Assert.Equal([0.5, 1.0, 8.0], y.Value);
        Approx.Equal([0.5 * Math.Log(2), Math.Log(2), 8 * Math.Log(2)], x.Grad, 1e-15);
    }

    [Fact]
    public void PowConstantBase_ZeroBase_GradientIsZeroForNonNegativeExponents()
    {
        // 0^x: ∂/∂x = 0^x·ln 0 is 0·(−∞) = NaN by the formula; PyTorch's convention (and this library's) is 0 where
        // the base is 0 and the exponent ≥ 0.
        var x = new ScalarParameter("x", 2.0);
        var tape = new Tape();
        Scalar y = Ops.Pow(0.0, tape.Use(x));
        y.Backward();

        Assert.Equal(0.0, y.Value);
        Assert.Equal(0.0, x.Grad);
    }

    [Fact]
    public void MaxWithConstantFirst_Relu_EqualsMaxWithConstantSecond()
    {
        // max(0, x) = max(x, 0) = relu x: the same node, the gradient 1 where x ≥ 0 (PyTorch's clamp_min).
        var x = new VectorParameter("x", -1.0, 0.0, 2.0);
        var tape = new Tape();
        Vector y = Ops.Max(0.0, tape.Use(x));
        Ops.Sum(y).Backward();

        Assert.Equal(OpKind.MaxConstant, ((Node)y).Op);
        Assert.Equal([0.0, 0.0, 2.0], y.Value);
        Assert.Equal([0.0, 1.0, 1.0], x.Grad);
    }

    [Fact]
    public void ConstantMinusMatrix_NamedTwinAndOperator_RecordTheSameGraph()
    {
        // c − A and Matrix.Subtract(c, A): a constant scalar node, then A broadcast-subtracted from it.
        var a = new MatrixParameter("A", new double[,] { { 1, 2 }, { 3, 4 } });
        var tape = new Tape();
        Matrix byOperator = 10.0 - tape.Use(a);
        Matrix byName = Matrix.Subtract(10.0, tape.Use(a));

        Assert.Equal(byOperator.Value, byName.Value);
        Assert.Equal([9.0, 8, 7, 6], byName.Value);
        Assert.Equal(OpKind.Subtract, ((Node)byName).Op);
    }

    [Fact]
    public void VectorOverMatrix_ScalarFirstPowAndVectorFirstMax_BroadcastRowWise()
    {
        // s^A: every element's exponent; max(v, A): v against every row; ∂L/∂vⱼ collects the rows where vⱼ won.
        var s = new ScalarParameter("s", 2.0);
        var v = new VectorParameter("v", 0.5, 3.0);
        var a = new MatrixParameter("A", new double[,] { { 1, 2 }, { 0, 4 } });
        var tape = new Tape();
        Matrix p = Ops.Pow(tape.Use(s), tape.Use(a));
        Matrix m = Ops.Max(tape.Use(v), tape.Use(a));
        (Ops.Sum(p) + Ops.Sum(m)).Backward();

        Assert.Equal([2.0, 4, 1, 16], p.Value);
        Assert.Equal([1.0, 3, 0.5, 4], m.Value);
        // ∂/∂s Σ s^Aᵢⱼ = Σ Aᵢⱼ s^(Aᵢⱼ − 1) = 1 + 2·2 + 0 + 4·8 = 37.
        Assert.Equal(37.0, s.Grad);
        // v₀ = 0.5 wins in row 1 only (0.5 > 0); v₁ = 3 wins in row 0 (3 > 2).
        Assert.Equal([1.0, 1.0], v.Grad);
    }
}
