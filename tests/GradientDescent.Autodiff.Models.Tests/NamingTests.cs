namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>Dotted parameter names, as PyTorch's <c>state_dict</c>, and the parameter lists optimizers get.</summary>
public sealed class NamingTests
{
    private static string[] Names(Module m) => [.. m.NamedParameters().Select(p => p.Name)];

    private static string[] Shapes(Module m) => [.. m.NamedParameters().Select(p => p.Parameter.Shape.ToString())];

    [Fact]
    public void Linear_NamedParameters_WeightOutByInThenBias()
    {
        var linear = new Linear(3, 5, new RandomSource(1));
        Assert.Equal(["weight", "bias"], Names(linear));
        Assert.Equal(["[5×3]", "[5]"], Shapes(linear));
    }

    [Fact]
    public void Linear_WithoutBias_YieldsWeightOnly()
    {
        var linear = new Linear(3, 5, new RandomSource(1), bias: false);
        Assert.Equal(["weight"], Names(linear));
        Assert.Null(linear.Bias);
    }

    [Fact]
    public void Mlp_NamedParameters_AreThoseOfTorchSequential()
    {
        // nn.Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1)).state_dict() keys and shapes.
        var mlp = new Mlp(2, [16, 16], 1, new RandomSource(1));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], Names(mlp));
        Assert.Equal(["[16×2]", "[16]", "[16×16]", "[16]", "[1×16]", "[1]"], Shapes(mlp));
        // 16·2 + 16 + 16·16 + 16 + 1·16 + 1 = 337
        Assert.Equal(337, mlp.ParameterCount());
    }

    [Fact]
    public void Sequential_Nested_PrefixesEveryLevel()
    {
        var random = new RandomSource(1);
        var inner = new Sequential(new Linear(4, 3, random), Activation.Tanh);
        var outer = new Sequential(new Linear(2, 4, random), Activation.Relu, inner);
        Assert.Equal(["0.weight", "0.bias", "2.0.weight", "2.0.bias"], Names(outer));
    }

    [Fact]
    public void ReadyModels_NamedParameters_LinearPrefix()
    {
        var random = new RandomSource(1);
        Assert.Equal(["linear.weight", "linear.bias"], Names(new LinearRegression(2, random)));
        Assert.Equal(["linear.weight", "linear.bias"], Names(new LogisticRegression(2, random)));
        Assert.Equal(["[3×4]", "[3]"], Shapes(new SoftmaxRegression(4, 3, random)));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], Names(new MlpClassifier(2, [8], 3, random)));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], Names(new MlpRegressor(2, [8], 1, random)));
    }

    [Fact]
    public void Parameters_SameObjectsInNameOrder_AcceptedByOptimizer()
    {
        var mlp = new Mlp(2, [4], 1, new RandomSource(1));
        Parameter[] parameters = [.. mlp.Parameters()];
        Assert.Equal(mlp.NamedParameters().Select(p => p.Parameter), parameters);
        var sgd = new Sgd(mlp.Parameters(), 0.1);
        Assert.Equal(4, sgd.Parameters.Count);
    }

    [Fact]
    public void Mlp_SharedActivation_HasNoParametersAndShowsInToString()
    {
        var mlp = new Mlp(2, [3, 3], 1, new RandomSource(1), Activation.LeakyRelu(0.2));
        Assert.Equal("Mlp(Linear(2 → 3), LeakyRelu(0.2), Linear(3 → 3), LeakyRelu(0.2), Linear(3 → 1))", mlp.ToString());
        Assert.Empty(Activation.Tanh.NamedParameters());
    }

    [Fact]
    public void Linear_WrongInputWidth_ErrorNamesLayerAndShapes()
    {
        var linear = new Linear(3, 2, new RandomSource(1));
        var tape = new Tape();
        var e = Assert.Throws<ArgumentException>(() => linear.Forward(tape.Constant(new double[8], 2, 4)));
        Assert.Contains("Linear(3 → 2)", e.Message);
        Assert.Contains("2×4", e.Message);
    }

    [Fact]
    public void Sequential_Empty_Throws() => Assert.Throws<ArgumentException>(() => new Sequential());

    [Fact]
    public void ZeroGrad_ClearsEveryParameter()
    {
        var mlp = new Mlp(2, [3], 1, new RandomSource(1));
        var tape = new Tape();
        Ops.Sum(mlp.Forward(tape.Constant([1.0, 2.0, 3.0, 4.0], 2, 2))).Backward();
        Assert.Contains(mlp.Parameters(), p => p.Grad.Any(g => g != 0));
        mlp.ZeroGrad();
        Assert.All(mlp.Parameters(), p => Assert.All(p.Grad, g => Assert.Equal(0.0, g)));
    }
}
