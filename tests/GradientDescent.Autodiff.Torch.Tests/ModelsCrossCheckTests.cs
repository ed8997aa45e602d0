using GradientDescent.Autodiff.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The models library against torch.nn (float64): an <see cref="Mlp"/>'s parameter names are those of the
/// equivalent <c>nn.Sequential</c>, and with the same weights its logits, loss and every gradient agree to ~1e-12
/// relative; the ready models' losses also pass the bridge's replay check.
/// </summary>
public sealed class ModelsCrossCheckTests
{
    private const int B = 9, In = 3, Classes = 4;

    public static TheoryData<string> Activations => ["Relu", "Tanh", "Sigmoid", "Softplus", "Gelu", "Silu", "Elu", "LeakyRelu"];

    private static (Activation Ours, Func<nn.Module<Tensor, Tensor>> Torch) Pair(string name) => name switch
    {
        "Relu" => (Activation.Relu, () => nn.ReLU()),
        "Tanh" => (Activation.Tanh, () => nn.Tanh()),
        "Sigmoid" => (Activation.Sigmoid, () => nn.Sigmoid()),
        "Softplus" => (Activation.Softplus, () => nn.Softplus()),
        "Gelu" => (Activation.Gelu, () => nn.GELU()),
        "Silu" => (Activation.Silu, () => nn.SiLU()),
        "Elu" => (Activation.Elu(0.7), () => nn.ELU(0.7)),
        "LeakyRelu" => (Activation.LeakyRelu(0.1), () => nn.LeakyReLU(0.1)),
        _ => throw new ArgumentException(name),
    };

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"{what}: torch {expected:R}, ours {actual:R}");

    [Theory]
    [MemberData(nameof(Activations))]
    public void MlpClassifier_SameWeightsAsTorchSequential_SameNamesLossAndGradients(string activation)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var (ours, torchActivation) = Pair(activation);
        var random = new RandomSource(51);
        var model = new MlpClassifier(In, [5, 6], Classes, random, ours);
        double[] x = [.. Enumerable.Range(0, B * In).Select(_ => random.NextUniform(-2, 2))];
        int[] labels = [.. Enumerable.Range(0, B).Select(i => i % Classes)];

        // Ours: L = mean CE(mlp(X), y)
        var tape = new Tape();
        Scalar loss = model.Loss(tape.Constant(x, B, In), labels);
        loss.Backward();

        // torch: nn.Sequential(Linear(3, 5), act, Linear(5, 6), act, Linear(6, 4)) with our weights, by name
        var net = nn.Sequential(nn.Linear(In, 5, dtype: float64), torchActivation(), nn.Linear(5, 6, dtype: float64), torchActivation(),
            nn.Linear(6, Classes, dtype: float64));
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var torchNamed = net.named_parameters().ToList();
        Assert.Equal(named.Keys, torchNamed.Select(p => p.name));
        using (no_grad())
        {
            foreach (var (name, p) in torchNamed) p.copy_(named[name].Value.ToTorch(named[name].Shape));
        }
        Tensor torchLoss = F.cross_entropy(net.call(x.ToTorch(Shape.Matrix(B, In))), tensor(labels.Select(l => (long)l).ToArray()));
        torchLoss.backward();

        Close(torchLoss.item<double>(), loss.Value, "loss");
        foreach (var (name, p) in torchNamed)
        {
            double[] expected = p.grad!.data<double>().ToArray();
            for (int e = 0; e < expected.Length; e++) Close(expected[e], named[name].Grad[e], $"∂L/∂{name}[{e}]");
        }
    }

    [Fact]
    public void ReadyModels_Losses_PassTheReplayCheck()
    {
        TorchRuntime.EnsureLoaded();
        var random = new RandomSource(52);
        double[] x = [.. Enumerable.Range(0, B * In).Select(_ => random.NextUniform(-2, 2))];
        double[] y = [.. Enumerable.Range(0, B).Select(i => (double)(i % 2))];
        int[] labels = [.. Enumerable.Range(0, B).Select(i => i % Classes)];

        var linear = new LinearRegression(In, random);
        var logistic = new LogisticRegression(In, random);
        var softmax = new SoftmaxRegression(In, Classes, random);
        var regressor = new MlpRegressor(In, [4], 1, random, Activation.Tanh);
        var checks = new (string Name, Func<Tape, Scalar> Loss, Module Model)[]
        {
            ("LinearRegression", t => linear.Loss(t.Constant(x, B, In), y), linear),
            ("LogisticRegression", t => logistic.Loss(t.Constant(x, B, In), y), logistic),
            ("SoftmaxRegression", t => softmax.Loss(t.Constant(x, B, In), labels), softmax),
            ("MlpRegressor", t => regressor.Loss(t.Constant(x, B, In), y), regressor),
        };
        foreach (var (name, loss, model) in checks)
        {
            TorchCrossCheckReport report = TorchCrossCheck.Run(loss, model.Parameters());
            Assert.True(report.Passed, $"{name}: {report}");
        }
    }
}
