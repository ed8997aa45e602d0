using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Teaching.Tests.Trace;

/// <summary>The formula table: an entry for every op, with the op's constants filled in.</summary>
public class LocalFormulasTests
{
    [Fact]
    public void For_EveryOpKind_HasAFormulaForEveryInput()
    {
        // A node of every kind with two vector inputs (the table reads only the kind, the constant, the shapes and
        // the custom op's name): a kind without an entry would throw here, and fails to compile (CS8509) first.
        Shape v = Shape.Vector(3);
        foreach (OpKind op in Enum.GetValues<OpKind>())
        {
            var node = new NodeInfo(7, op, v, [1, 2], 2, true, null, null, op == OpKind.Custom ? CubeOp.Instance : null);
            for (int position = 0; position < 2; position++)
            {
                string formula = LocalFormulas.For(node, [v, v], position);
                Assert.False(string.IsNullOrWhiteSpace(formula), $"{op}, input {position}");
            }
        }
    }

    [Theory]
    // d/dx x^c = c·x^(c−1), constants filled in and simplified where that reads better.
    [InlineData(3.0, "3·x^2")]
    [InlineData(2.0, "2·x")]
    [InlineData(1.0, "1")]
    [InlineData(0.0, "0")]
    [InlineData(0.5, "0.5·x^(−0.5)")]
    [InlineData(-1.0, "−1·x^(−2)")]
    public void For_PowerConstant_FillsInTheExponent(double c, string expected)
    {
        var node = new NodeInfo(1, OpKind.PowerConstant, Shape.Scalar, [0], c, true, null, null, null);
        Assert.Equal(expected, LocalFormulas.For(node, [Shape.Scalar], 0));
    }

    [Fact]
    public void For_ElementwiseOnVectors_SaysPerElementAndBroadcast()
    {
        // σ on a vector: the same derivative at every element. a + b with b a scalar broadcast over a vector:
        // b's gradient is the sum over the positions it was copied to.
        var sigmoid = new NodeInfo(1, OpKind.Sigmoid, Shape.Vector(3), [0], 0, true, null, null, null);
        Assert.Equal("σ(x)(1 − σ(x)) = y(1 − y), per element", LocalFormulas.For(sigmoid, [Shape.Vector(3)], 0));
        var add = new NodeInfo(2, OpKind.Add, Shape.Vector(3), [0, 1], 0, true, null, null, null);
        Assert.Equal("1, per element, summed over the broadcast", LocalFormulas.For(add, [Shape.Vector(3), Shape.Scalar], 1));
    }

    [Fact]
    public void For_ConstantsAndShapes_AreFilledIn()
    {
        var leaky = new NodeInfo(1, OpKind.LeakyRelu, Shape.Scalar, [0], 0.01, true, null, null, null);
        Assert.Equal("1 if x > 0, else 0.01", LocalFormulas.For(leaky, [Shape.Scalar], 0));
        var mean = new NodeInfo(1, OpKind.Mean, Shape.Scalar, [0], 0, true, null, null, null);
        Assert.Equal("ḡ/6 at every element", LocalFormulas.For(mean, [Shape.Matrix(2, 3)], 0));
        var variance = new NodeInfo(1, OpKind.Variance, Shape.Scalar, [0], 1, true, null, null, null);
        Assert.Equal("ḡ·2(x − x̄)/4", LocalFormulas.For(variance, [Shape.Vector(5)], 0));
        var concat = new NodeInfo(3, OpKind.Concat, Shape.Vector(5), [0, 1], 0, true, null, null, null);
        Assert.Equal("ḡ[2..5]", LocalFormulas.For(concat, [Shape.Vector(2), Shape.Vector(3)], 1));
        var matmul = new NodeInfo(2, OpKind.MatMul, Shape.Matrix(2, 2), [0, 1], 0, true, null, null, null);
        Assert.Equal(["ḡ Bᵀ", "Aᵀ ḡ"], [LocalFormulas.For(matmul, [Shape.Matrix(2, 3), Shape.Matrix(3, 2)], 0), LocalFormulas.For(matmul, [Shape.Matrix(2, 3), Shape.Matrix(3, 2)], 1)]);
    }
}
