// micrograd's demo (karpathy/micrograd, demo.ipynb): a small MLP learns to separate two interleaved half circles.
//
//   data     100 points of scikit-learn's make_moons, noise σ = 0.1; labels y = −1 (outer moon), +1 (inner moon)
//   model    MLP 2-16-16-1: ReLU hidden layers, linear output score(x); micrograd's init, w ~ uniform(−1, 1), b = 0
//   loss     L = (1/m) Σ relu(1 − yᵢ·score(xᵢ)) + α Σ p²,  α = 10⁻⁴     SVM max-margin loss + L2 on every parameter
//   update   p ← p − η_k ∂L/∂p,  η_k = 1 − 0.9·k/100,  k = 0 … 99      plain SGD on the full batch
//
// The model is built twice on the same parameters: from scalar nodes, neuron by neuron, exactly as micrograd builds
// it (one Scalar per weight, ((b + w₀x₀) + w₁x₁) + …), and from matrix products (the Models library's Mlp,
// H = relu(X Wᵀ + b)). The two must give the same gradient to rounding; the demo checks it at every step and fails
// loudly if they ever differ by more than 10⁻¹² relative (to each parameter's largest gradient element).
//
// Random numbers come from this library's documented xoshiro256** (RandomSource, seed 1337 for the data and for the
// weights, as micrograd seeds numpy and random with 1337), not from numpy's Mersenne Twister, so the points, the
// initial weights and therefore the loss curve differ from micrograd's notebook; micrograd reaches loss ≈ 0.011 and
// 100 % accuracy after 100 steps.
using GradientDescent.Autodiff.Models;

namespace GradientDescent.Autodiff.Examples.Moons;

/// <summary>micrograd's two-moons demo: scalar-node and batched MLPs, SVM loss, SGD, a decision-boundary PNG.</summary>
public static class Demo
{
    /// <summary>α, the L2 weight.</summary>
    public const double Alpha = 1e-4;

    /// <summary>Number of SGD steps.</summary>
    public const int Steps = 100;

    /// <summary>Largest allowed |scalar − batched| of any gradient element, relative to its parameter's largest |∂L/∂p|.</summary>
    public const double GradientTolerance = 1e-12;

    /// <summary>What the demo found.</summary>
    /// <param name="Loss">The loss after the last step.</param>
    /// <param name="Accuracy">The fraction of points on the right side after the last step.</param>
    /// <param name="FirstStepGradientDifference">Largest relative |scalar − batched| of any ∂L/∂p at step 0.</param>
    /// <param name="LargestGradientDifference">The same over all steps.</param>
    /// <param name="PngPath">Where the decision boundary was written.</param>
    public sealed record Result(double Loss, double Accuracy, double FirstStepGradientDifference, double LargestGradientDifference, string PngPath)
    {
        /// <summary>True when the scalar and batched gradients agreed at every step.</summary>
        public bool GradientsAgree => LargestGradientDifference <= GradientTolerance;
    }

    /// <summary>
    /// scikit-learn's make_moons without its shuffle: outer moon (cos t, sin t), inner moon (1 − cos t, 1 − sin t − 0.5),
    /// t = linspace(0, π, n/2) each, then N(0, σ²) noise added to every coordinate (row by row); labels −1 outer, +1 inner.
    /// Returns X row-major [n × 2] and y.
    /// </summary>
    public static (double[] X, double[] Y) MakeMoons(int n, double noise, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int outer = n / 2, inner = n - outer;
        var x = new double[2 * n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            bool isOuter = i < outer;
            int count = isOuter ? outer : inner, j = isOuter ? i : i - outer;
            // t = linspace(0, π, count)[j]
            double t = count == 1 ? 0 : Math.PI * j / (count - 1);
            x[2 * i] = isOuter ? Math.Cos(t) : 1 - Math.Cos(t);
            x[2 * i + 1] = isOuter ? Math.Sin(t) : 1 - Math.Sin(t) - 0.5;
            y[i] = isOuter ? -1 : 1;
        }
        for (int k = 0; k < x.Length; k++) x[k] += noise * random.NextGaussian();
        return (x, y);
    }

    /// <summary>Trains, checks, prints to <paramref name="output"/> and writes the decision boundary to <paramref name="pngPath"/>.</summary>
    public static Result Run(TextWriter output, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        var (xData, yData) = MakeMoons(100, noise: 0.1, new RandomSource(1337));
        int m = yData.Length;

        // The batched model: Linear(2 → 16), ReLU, Linear(16 → 16), ReLU, Linear(16 → 1), weights W [out × in].
        var mlp = new Mlp(2, [16, 16], 1, new RandomSource(0));
        Linear[] layers = [.. mlp.Layers.Modules.OfType<Linear>()];
        MicrogradInit(layers, new RandomSource(1337));
        Parameter[] parameters = [.. mlp.Parameters()];
        var sgd = new Sgd(parameters, learningRate: 1.0);
        var tape = new Tape();
        double[][] batchedGrad = [.. parameters.Select(p => new double[p.Value.Length])];

        output.WriteLine($"micrograd's moons demo: {m} points, {mlp}, {mlp.ParameterCount()} parameters, SVM loss + {Alpha:0e0}·Σp², {Steps} SGD steps");
        double firstDifference = 0, largestDifference = 0, loss = 0, accuracy = 0;
        for (int k = 0; k < Steps; k++)
        {
            // ---- batched: the same loss from matrix products; its gradient is kept for the comparison.
            sgd.ZeroGrad();
            tape.Clear();
            BatchedLoss(tape, mlp, xData, yData).Backward();
            for (int p = 0; p < parameters.Length; p++) parameters[p].Grad.CopyTo(batchedGrad[p], 0);

            // ---- scalar nodes, micrograd's way; SGD steps on this gradient, as micrograd does.
            sgd.ZeroGrad();
            tape.Clear();
            var (total, correct) = ScalarLoss(tape, layers, xData, yData);
            total.Backward();
            loss = total.Value;
            accuracy = (double)correct / m;

            double difference = LargestRelativeDifference(parameters, batchedGrad);
            if (k == 0) firstDifference = difference;
            largestDifference = Math.Max(largestDifference, difference);
            if (difference > GradientTolerance)
            {
                output.WriteLine($"FAILED at step {k}: scalar and batched gradients differ by {difference:E2} relative (tolerance {GradientTolerance:E0})");
                return new Result(loss, accuracy, firstDifference, largestDifference, pngPath);
            }
            if (k == 0) output.WriteLine($"step 0: scalar-node and batched gradients of all {mlp.ParameterCount()} parameters agree to {difference:E2} relative");
            if (k % 10 == 0 || k == Steps - 1) output.WriteLine($"step {k,3}  loss {loss:F6}  accuracy {accuracy * 100:F0}%");

            // η_k = 1 − 0.9·k/100;  p ← p − η_k ∂L/∂p
            sgd.LearningRate = 1.0 - 0.9 * k / Steps;
            sgd.Step();
        }

        // The loss and accuracy after the last step (micrograd prints them before each step's update).
        tape.Clear();
        (Scalar final, int finalCorrect) = ScalarLoss(tape, layers, xData, yData);
        loss = final.Value;
        accuracy = (double)finalCorrect / m;
        output.WriteLine($"after {Steps} steps: loss {loss:F6}, accuracy {accuracy * 100:F0}% (micrograd's notebook: ≈ 0.011 and 100 %, with numpy's random numbers)");
        output.WriteLine($"largest relative |scalar − batched| of any ∂L/∂p over {Steps} steps: {largestDifference:E2}");

        DecisionBoundary.WritePng(pngPath, mlp, xData, yData);
        output.WriteLine($"decision boundary written to {pngPath}");
        return new Result(loss, accuracy, firstDifference, largestDifference, pngPath);
    }

    /// <summary>micrograd's Neuron: w ~ uniform(−1, 1) drawn neuron by neuron, b = 0.</summary>
    private static void MicrogradInit(Linear[] layers, RandomSource random)
    {
        foreach (Linear layer in layers)
        {
            // Row j of W is neuron j's weights, drawn in that order.
            double[] w = layer.Weight.Value;
            for (int k = 0; k < w.Length; k++) w[k] = random.NextUniform(-1, 1);
            Array.Clear(layer.Bias!.Value);
        }
    }

    /// <summary>
    /// The loss from scalar nodes, as micrograd records it: each neuron ((b + w₀x₀) + w₁x₁) + …, relu unless it is
    /// the output; relu(1 + (−yᵢ)·scoreᵢ) per point, summed left to right and times 1/m; α·Σp². Also counts the points
    /// with sign(score) = y.
    /// </summary>
    private static (Scalar Total, int Correct) ScalarLoss(Tape tape, Linear[] layers, double[] x, double[] y)
    {
        // Each weight and bias as its own scalar node: a view into the parameter, so gradients land in its Grad.
        Scalar[][][] w = [.. layers.Select(layer => Elements(tape.Use(layer.Weight)))];
        Scalar[][] b = [.. layers.Select(layer => Elements(tape.Use(layer.Bias!)))];
        int m = y.Length, correct = 0;
        Scalar dataLoss = default;
        for (int i = 0; i < m; i++)
        {
            Scalar[] activations = [tape.Constant(x[2 * i]), tape.Constant(x[2 * i + 1])];
            for (int l = 0; l < layers.Length; l++)
            {
                var next = new Scalar[b[l].Length];
                for (int j = 0; j < next.Length; j++)
                {
                    // act = b + Σ wⱼ xⱼ, summed left to right from b
                    Scalar act = b[l][j];
                    for (int k = 0; k < activations.Length; k++) act += w[l][j][k] * activations[k];
                    // relu on the hidden layers, linear output
                    next[j] = l < layers.Length - 1 ? Ops.Relu(act) : act;
                }
                activations = next;
            }
            Scalar score = activations[0];
            if (score.Value > 0 == y[i] > 0) correct++;
            // Lᵢ = relu(1 − yᵢ·scoreᵢ)
            Scalar pointLoss = Ops.Relu(score * -y[i] + 1.0);
            dataLoss = i == 0 ? pointLoss : dataLoss + pointLoss;
        }
        // (1/m) Σ Lᵢ
        dataLoss *= 1.0 / m;
        // α Σ p²
        Scalar squares = default;
        bool first = true;
        for (int l = 0; l < layers.Length; l++)
        {
            foreach (Scalar p in w[l].SelectMany(row => row).Concat(b[l]))
            {
                squares = first ? p * p : squares + p * p;
                first = false;
            }
        }
        return (dataLoss + squares * Alpha, correct);
    }

    /// <summary>
    /// The same loss from matrices: score = MLP(X) [m × 1], (1/m) Σ relu(1 − y ⊙ score) + α Σ over parameters of Σ p².
    /// </summary>
    private static Scalar BatchedLoss(Tape tape, Mlp mlp, double[] x, double[] y)
    {
        var X = tape.Constant(x, y.Length, 2);
        // score = W₃ relu(W₂ relu(W₁x + b₁) + b₂) + b₃, one row per point
        Vector score = Ops.Flatten(mlp.Forward(X));
        // (1/m) Σ relu(1 − yᵢ scoreᵢ)
        Scalar dataLoss = Ops.Mean(Ops.Relu(1.0 - tape.Constant(y) * score));
        // α Σ p²
        Scalar squares = default;
        bool first = true;
        foreach (Parameter p in mlp.Parameters())
        {
            Scalar sum = p switch
            {
                MatrixParameter matrix => Ops.Sum(Ops.Square(tape.Use(matrix))),
                VectorParameter vector => Ops.Sum(Ops.Square(tape.Use(vector))),
                _ => throw new InvalidOperationException($"BatchedLoss: unexpected parameter {p.Name}."),
            };
            squares = first ? sum : squares + sum;
            first = false;
        }
        return dataLoss + squares * Alpha;
    }

    /// <summary>A matrix's elements as scalar nodes, [row][col].</summary>
    private static Scalar[][] Elements(Matrix matrix) =>
        [.. Enumerable.Range(0, matrix.Rows).Select(r => Enumerable.Range(0, matrix.Cols).Select(c => matrix[r, c]).ToArray())];

    /// <summary>A vector's elements as scalar nodes.</summary>
    private static Scalar[] Elements(Vector vector) => [.. Enumerable.Range(0, vector.Length).Select(i => vector[i])];

    /// <summary>
    /// max over the parameters of max |a − b| / max(|a|, |b|), both maxima over the parameter's elements. Relative
    /// to the parameter's largest gradient, not to each element: an element that comes out of cancellation (a bias
    /// whose contributions sum to 6·10⁻¹⁸ one way and −6·10⁻¹⁸ the other) carries rounding noise the size of the
    /// terms that cancelled, which says nothing about agreement.
    /// </summary>
    private static double LargestRelativeDifference(Parameter[] parameters, double[][] other)
    {
        double largest = 0;
        for (int p = 0; p < parameters.Length; p++)
        {
            double[] a = parameters[p].Grad, b = other[p];
            double difference = 0, scale = 0;
            for (int k = 0; k < a.Length; k++)
            {
                difference = Math.Max(difference, Math.Abs(a[k] - b[k]));
                scale = Math.Max(scale, Math.Max(Math.Abs(a[k]), Math.Abs(b[k])));
            }
            if (scale > 0) largest = Math.Max(largest, difference / scale);
        }
        return largest;
    }
}
