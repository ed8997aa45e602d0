namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>
/// Gradients through the modules: the seeds' hand formulas for the ready models, and central finite differences
/// (the core's <see cref="GradientCheck"/>) for MLPs of every activation.
/// </summary>
public sealed class GradientTests
{
    private const int B = 7, N = 3;

    private static double[] Draw(int count, RandomSource random, double scale = 1) =>
        [.. Enumerable.Range(0, count).Select(_ => random.NextUniform(-scale, scale))];

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Fact]
    public void ReadyModels_Loss_IsTheFusedOpAndMatchesTheComposedLossOfForward()
    {
        // The regression models record their loss as one fused node (one pass over X); it equals the loss composed
        // from Forward — ½ mean((h − y)²), mean BCE on the logits, mean softmax cross-entropy — in value and in
        // ∂L/∂W, ∂L/∂b, to rounding.
        var random = new RandomSource(24);
        double[] x = Draw(B * N, random, 2);
        double[] y = [.. Enumerable.Range(0, B).Select(i => (double)(i % 2))];
        int[] labels = [.. Enumerable.Range(0, B).Select(i => i % 3)];
        var linear = new LinearRegression(N, random);
        var logistic = new LogisticRegression(N, random);
        var softmax = new SoftmaxRegression(N, 3, random);
        (Module Model, Func<Matrix, Scalar> Fused, Func<Matrix, Scalar> Composed, OpKind Op)[] cases =
        [
            (linear, m => linear.Loss(m, y), m => Loss.HalfMeanSquaredError(linear.Predict(m), y), OpKind.LinearRegressionLoss),
            (logistic, m => logistic.Loss(m, y), m => Loss.BinaryCrossEntropyWithLogits(logistic.Logits(m), y), OpKind.LogisticRegressionLoss),
            (softmax, m => softmax.Loss(m, labels), m => Loss.SoftmaxCrossEntropy(softmax.Forward(m), labels), OpKind.SoftmaxRegressionLoss),
        ];
        foreach (var (model, fused, composed, op) in cases)
        {
            Parameter[] parameters = [.. model.Parameters()];
            var tape = new Tape();
            foreach (var p in parameters) p.ZeroGrad();
            Scalar expected = composed(tape.Constant(x, B, N));
            expected.Backward();
            double[][] expectedGrads = [.. parameters.Select(p => (double[])p.Grad.Clone())];

            var fusedTape = new Tape();
            foreach (var p in parameters) p.ZeroGrad();
            Scalar actual = fused(fusedTape.Constant(x, B, N));
            Assert.Equal(op, ((Node)actual).Op);
            Close(expected.Value, actual.Value, $"{op}: loss");
            actual.Backward();
            for (int k = 0; k < parameters.Length; k++)
            {
                for (int j = 0; j < expectedGrads[k].Length; j++) Close(expectedGrads[k][j], parameters[k].Grad[j], $"{op}: ∂L/∂{parameters[k].Name}[{j}]");
            }
        }
    }

    [Fact]
    public void LogisticRegression_Backward_EqualsSeedFormula()
    {
        // ŷᵢ = σ(xᵢ·w + b), L = mean BCE(ŷ, y); ∂L/∂wⱼ = mean over i of −(yᵢ − ŷᵢ) xᵢⱼ, ∂L/∂b = mean(−(yᵢ − ŷᵢ))
        var random = new RandomSource(21);
        var model = new LogisticRegression(N, random);
        double[] x = Draw(B * N, random, 2);
        double[] y = [.. Enumerable.Range(0, B).Select(i => (double)(i % 2))];
        var tape = new Tape();
        model.Loss(tape.Constant(x, B, N), y).Backward();

        double[] w = model.Linear.Weight.Value;
        double b = model.Linear.Bias!.Value[0];
        var gw = new double[N];
        double gb = 0;
        for (int i = 0; i < B; i++)
        {
            double z = b;
            for (int j = 0; j < N; j++) z += x[i * N + j] * w[j];
            double error = -(y[i] - Sigmoid(z));
            for (int j = 0; j < N; j++) gw[j] += error * x[i * N + j] / B;
            gb += error / B;
        }
        for (int j = 0; j < N; j++) Close(gw[j], model.Linear.Weight.Grad[j], $"∂L/∂w{j}");
        Close(gb, model.Linear.Bias.Grad[0], "∂L/∂b");
    }

    [Fact]
    public void LinearRegression_Backward_EqualsSeedFormula()
    {
        // hᵢ = xᵢ·w + b, L = ½ mean((h − y)²); ∂L/∂wⱼ = mean((hᵢ − yᵢ) xᵢⱼ), ∂L/∂b = mean(hᵢ − yᵢ)
        var random = new RandomSource(22);
        var model = new LinearRegression(N, random);
        double[] x = Draw(B * N, random, 2);
        double[] y = Draw(B, random, 3);
        var tape = new Tape();
        model.Loss(tape.Constant(x, B, N), y).Backward();

        double[] w = model.Linear.Weight.Value;
        double b = model.Linear.Bias!.Value[0];
        var gw = new double[N];
        double gb = 0;
        for (int i = 0; i < B; i++)
        {
            double h = b;
            for (int j = 0; j < N; j++) h += x[i * N + j] * w[j];
            for (int j = 0; j < N; j++) gw[j] += (h - y[i]) * x[i * N + j] / B;
            gb += (h - y[i]) / B;
        }
        for (int j = 0; j < N; j++) Close(gw[j], model.Linear.Weight.Grad[j], $"∂L/∂w{j}");
        Close(gb, model.Linear.Bias.Grad[0], "∂L/∂b");
    }

    [Fact]
    public void SoftmaxRegression_Backward_EqualsOneHotFormula()
    {
        // Zᵢ = W xᵢ + b, Pᵢ = softmax(Zᵢ), L = mean(−ln Pᵢ,yᵢ); ∂L/∂W = (P − Y)ᵀ X / B, ∂L/∂b = mean over i of (Pᵢ − Yᵢ)
        const int K = 4;
        var random = new RandomSource(23);
        var model = new SoftmaxRegression(N, K, random);
        double[] x = Draw(B * N, random, 2);
        int[] labels = [.. Enumerable.Range(0, B).Select(i => i % K)];
        var tape = new Tape();
        model.Loss(tape.Constant(x, B, N), labels).Backward();

        double[] w = model.Linear.Weight.Value, b = model.Linear.Bias!.Value;
        var gw = new double[K * N];
        var gb = new double[K];
        for (int i = 0; i < B; i++)
        {
            var z = new double[K];
            for (int k = 0; k < K; k++)
            {
                z[k] = b[k];
                for (int j = 0; j < N; j++) z[k] += w[k * N + j] * x[i * N + j];
            }
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
            for (int k = 0; k < K; k++)
            {
                double residual = Math.Exp(z[k] - max) / sum - (k == labels[i] ? 1 : 0);
                for (int j = 0; j < N; j++) gw[k * N + j] += residual * x[i * N + j] / B;
                gb[k] += residual / B;
            }
        }
        for (int e = 0; e < K * N; e++) Close(gw[e], model.Linear.Weight.Grad[e], $"∂L/∂W[{e / N},{e % N}]");
        for (int k = 0; k < K; k++) Close(gb[k], model.Linear.Bias.Grad[k], $"∂L/∂b{k}");
    }

    public static TheoryData<string> SmoothActivations => ["Tanh", "Sigmoid", "Softplus", "Gelu", "Silu", "Elu", "Identity"];

    private static Activation Named(string name) => name switch
    {
        "Tanh" => Activation.Tanh,
        "Sigmoid" => Activation.Sigmoid,
        "Softplus" => Activation.Softplus,
        "Gelu" => Activation.Gelu,
        "Silu" => Activation.Silu,
        "Elu" => Activation.Elu(0.7),
        "Relu" => Activation.Relu,
        "LeakyRelu" => Activation.LeakyRelu(0.1),
        _ => Activation.Identity,
    };

    [Theory]
    [MemberData(nameof(SmoothActivations))]
    public void MlpRegressor_GradientCheck_AgreesWithCentralDifferences(string activation)
    {
        // L = mean((mlp(X) − Y)²) over a [7 × 3] batch and 2 outputs; every weight and bias against central differences
        var random = new RandomSource(24);
        var model = new MlpRegressor(N, [5, 4], 2, random, Named(activation));
        double[] x = Draw(B * N, random, 2), y = Draw(B * 2, random);
        var report = GradientCheck.Run(tape => model.Loss(tape.Constant(x, B, N), y), model.Parameters());
        Assert.True(report.Passed, report.ToString());
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    public void MlpClassifier_PiecewiseLinearActivation_AgreesWithCentralDifferences(string activation)
    {
        // Kinks at 0: random inputs keep every hidden pre-activation away from 0 by far more than the step
        // h ≈ 6·10⁻⁶, so the differences see one linear piece (a kink hit would fail loudly, not pass silently).
        var random = new RandomSource(25);
        var model = new MlpClassifier(N, [6], 3, random, Named(activation));
        double[] x = Draw(B * N, random, 2);
        int[] labels = [0, 1, 2, 0, 1, 2, 0];
        var report = GradientCheck.Run(tape => model.Loss(tape.Constant(x, B, N), labels), model.Parameters());
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Linear_Forward_EqualsXWTransposePlusB()
    {
        // Y = X Wᵀ + b: Yᵢₖ = Σⱼ Xᵢⱼ Wₖⱼ + bₖ
        var random = new RandomSource(26);
        var linear = new Linear(N, 2, random);
        double[] x = Draw(B * N, random);
        var tape = new Tape();
        double[] y = linear.Forward(tape.Constant(x, B, N)).Value;
        for (int i = 0; i < B; i++)
        {
            for (int k = 0; k < 2; k++)
            {
                double expected = linear.Bias!.Value[k];
                for (int j = 0; j < N; j++) expected += x[i * N + j] * linear.Weight.Value[k * N + j];
                Close(expected, y[i * 2 + k], $"Y[{i},{k}]");
            }
        }
    }
}
