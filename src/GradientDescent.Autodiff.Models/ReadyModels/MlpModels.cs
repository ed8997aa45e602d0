using Losses = GradientDescent.Autodiff.Loss;

namespace GradientDescent.Autodiff.Models;

/// <summary>
/// An <see cref="Mlp"/> for regression: H = mlp(X) [B × outputs], fitted by the mean squared error over all
/// elements, L = mean((H − Y)²) (PyTorch's <c>MSELoss</c>); ∂L/∂Hᵢⱼ = 2(Hᵢⱼ − Yᵢⱼ)/(B · outputs).
/// </summary>
/// <remarks>Parameter names are the <see cref="Mlp"/>'s (<c>0.weight</c>, …), so a PyTorch <c>nn.Sequential</c>'s file loads.</remarks>
public sealed class MlpRegressor : Module
{
    /// <summary>See <see cref="Mlp(int, IReadOnlyList{int}, int, RandomSource, Activation?)"/>.</summary>
    public MlpRegressor(int inputs, IReadOnlyList<int> hidden, int outputs, RandomSource random, Activation? activation = null) =>
        Network = new Mlp(inputs, hidden, outputs, random, activation);

    /// <summary>The network.</summary>
    public Mlp Network { get; }

    /// <summary>H = mlp(X).</summary>
    public override Matrix Forward(Matrix input) => Network.Forward(input);

    /// <summary>L = mean((H − Y)²), the targets Y row-major [B × outputs], read in place until the tape is cleared.</summary>
    public Scalar Loss(Matrix x, double[] targets) => Losses.MeanSquaredError(Forward(x), targets);

    /// <summary>The network's parameters, unprefixed.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => Network.NamedParameters();
}

/// <summary>
/// An <see cref="Mlp"/> for classification into K classes: logits Z = mlp(X) [B × K], fitted by the mean softmax
/// cross-entropy with integer labels (PyTorch's <c>CrossEntropyLoss</c>); ∂L/∂Zᵢₖ = (softmax(Zᵢ)ₖ − [k = yᵢ])/B.
/// </summary>
/// <remarks>Parameter names are the <see cref="Mlp"/>'s (<c>0.weight</c>, …).</remarks>
public sealed class MlpClassifier : Module
{
    /// <summary>See <see cref="Mlp(int, IReadOnlyList{int}, int, RandomSource, Activation?)"/>; <paramref name="classes"/> is the output width K.</summary>
    public MlpClassifier(int inputs, IReadOnlyList<int> hidden, int classes, RandomSource random, Activation? activation = null) =>
        Network = new Mlp(inputs, hidden, classes, random, activation);

    /// <summary>The network.</summary>
    public Mlp Network { get; }

    /// <summary>The logits Z = mlp(X) [B × K].</summary>
    public override Matrix Forward(Matrix input) => Network.Forward(input);

    /// <summary>softmax of each row of the logits: the class probabilities.</summary>
    public Matrix Probabilities(Matrix x) => Ops.Softmax(Forward(x));

    /// <summary>L = mean over rows of −ln softmax(Zᵢ)[yᵢ]; the labels are read again by backward until the tape is cleared.</summary>
    public Scalar Loss(Matrix x, int[] labels) => Losses.SoftmaxCrossEntropy(Forward(x), labels);

    /// <summary>The network's parameters, unprefixed.</summary>
    public override IEnumerable<(string Name, Parameter Parameter)> NamedParameters() => Network.NamedParameters();
}
