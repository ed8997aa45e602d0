// The lesson of the second seed: linear regression by gradient descent, two features, the squared loss.
//
//   h(x) = w₁x₁ + w₂x₂ + b                      hypothesis
//   L(y, h) = ½(h − y)²                          loss of one point
//   J(w, b) = (1/m) Σ L(yᵢ, h(xᵢ))               cost
//   ∂J/∂wⱼ = mean((h − y)xⱼ),  ∂J/∂b = mean(h − y)   the seed's chain rule, by hand
//   wⱼ ← wⱼ − α·mean((h − y)xⱼ),  b ← b − α·mean(h − y)
//
// The tape derives the gradient; at every step it is compared with the hand formula. Gradient descent on this convex
// cost converges to the least-squares solution, which the normal equations give in closed form:
//
//   [ Σx₁x₁  Σx₁x₂  Σx₁ ] [w₁]   [ Σx₁y ]
//   [ Σx₂x₁  Σx₂x₂  Σx₂ ] [w₂] = [ Σx₂y ]        (XᵀX)θ = Xᵀy, X with a column of ones for b
//   [ Σx₁    Σx₂    m   ] [b ]   [ Σy   ]
//
// The seed names no data set, so the data are synthetic and deterministic: m = 100 points, x₁ and x₂ uniform in
// [−1, 1), y = 2x₁ − 3x₂ + 0.5 + ε with ε ~ N(0, 0.5²), drawn from SplitMix64 with seed 2020 (Box–Muller for ε).
// The noise is why the least-squares weights differ a little from (2, −3, 0.5).
using GradientDescent.Autodiff.Datasets;

namespace GradientDescent.Autodiff.Examples.LinearRegression;

/// <summary>The second seed's lesson: gradient descent with autodiff gradients against the normal equations.</summary>
public static class Lesson
{
    /// <summary>Learning rate α.</summary>
    public const double LearningRate = 0.1;

    /// <summary>Number of full-batch gradient-descent steps.</summary>
    public const int Steps = 1000;

    /// <summary>Largest allowed |autodiff − hand formula| for any gradient element at any step.</summary>
    public const double GradientTolerance = 1e-12;

    /// <summary>Largest allowed |trained − closed form| for any of w₁, w₂, b after <see cref="Steps"/> steps.</summary>
    public const double SolutionTolerance = 1e-8;

    /// <summary>What the lesson found.</summary>
    /// <param name="Trained">w₁, w₂, b after gradient descent.</param>
    /// <param name="ClosedForm">w₁, w₂, b from the normal equations.</param>
    /// <param name="LargestGradientDifference">max |autodiff − hand| over all steps and all three gradients.</param>
    /// <param name="FinalCost">J at the trained weights.</param>
    public sealed record Result(double[] Trained, double[] ClosedForm, double LargestGradientDifference, double FinalCost)
    {
        /// <summary>max |trained − closed form| over w₁, w₂, b.</summary>
        public double LargestSolutionDifference => Trained.Zip(ClosedForm, (a, c) => Math.Abs(a - c)).Max();

        /// <summary>True when the gradients matched the hand formula and the weights the closed form.</summary>
        public bool Passed => LargestGradientDifference <= GradientTolerance && LargestSolutionDifference <= SolutionTolerance;
    }

    /// <summary>The data: x₁, x₂ uniform in [−1, 1), y = 2x₁ − 3x₂ + 0.5 + N(0, 0.5²); deterministic.</summary>
    public static (double[] X1, double[] X2, double[] Y) Data(int m = 100, ulong seed = 2020)
    {
        var random = new SplitMix64(seed);
        double[] x1 = new double[m], x2 = new double[m], y = new double[m];
        for (int i = 0; i < m; i++)
        {
            x1[i] = 2 * random.NextDouble() - 1;
            x2[i] = 2 * random.NextDouble() - 1;
            // ε = σ·√(−2 ln u₁)·cos(2π u₂), u₁ ∈ (0, 1]
            double noise = 0.5 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            y[i] = 2 * x1[i] - 3 * x2[i] + 0.5 + noise;
        }
        return (x1, x2, y);
    }

    /// <summary>Trains, compares and prints to <paramref name="output"/>.</summary>
    public static Result Run(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (x1Data, x2Data, yData) = Data();
        int m = yData.Length;

        // The seed starts from zero weights.
        var w1 = new ScalarParameter("w1", 0.0);
        var w2 = new ScalarParameter("w2", 0.0);
        var b = new ScalarParameter("b", 0.0);
        var sgd = new Sgd([w1, w2, b], LearningRate);
        var tape = new Tape();
        var residual = new double[m];
        double largestDifference = 0, cost = 0;

        output.WriteLine($"Linear regression (the second seed): {m} synthetic points, 2 features, α = {LearningRate}, {Steps} full-batch steps");
        output.WriteLine($"{"step",6}  {"J",-14}  {"w1",-12}  {"w2",-12}  {"b",-12}  max |autodiff − hand|");
        for (int step = 0; step <= Steps; step++)
        {
            tape.Clear();
            sgd.ZeroGrad();
            var x1 = tape.Constant(x1Data);
            var x2 = tape.Constant(x2Data);

            // h = w₁x₁ + w₂x₂ + b
            var h = tape.Use(w1) * x1 + tape.Use(w2) * x2 + tape.Use(b);
            // J = (1/m) Σ ½(h − y)²
            var J = Loss.HalfMeanSquaredError(h, yData);
            J.Backward();
            cost = J.Value;

            // The seed's hand formulas: mean((h − y)x₁), mean((h − y)x₂), mean(h − y).
            double[] hValue = h.Value;
            for (int i = 0; i < m; i++) residual[i] = hValue[i] - yData[i];
            double dW1 = Mean(residual, x1Data), dW2 = Mean(residual, x2Data), dB = residual.Average();
            double difference = Math.Max(Math.Abs(w1.Grad - dW1), Math.Max(Math.Abs(w2.Grad - dW2), Math.Abs(b.Grad - dB)));
            largestDifference = Math.Max(largestDifference, difference);

            if (step % (Steps / 10) == 0)
            {
                output.WriteLine($"{step,6}  {cost,-14:F10}  {w1.Value,-12:F8}  {w2.Value,-12:F8}  {b.Value,-12:F8}  {difference:E2}");
            }
            if (step == Steps) break;   // the last pass only measures J at the trained weights

            // w₁ ← w₁ − α ∂J/∂w₁,  w₂ ← w₂ − α ∂J/∂w₂,  b ← b − α ∂J/∂b
            sgd.Step();
        }

        double[] trained = [w1.Value, w2.Value, b.Value];
        double[] closedForm = NormalEquations(x1Data, x2Data, yData);
        var result = new Result(trained, closedForm, largestDifference, cost);

        output.WriteLine();
        output.WriteLine($"{"",-28}  {"w1",-14}  {"w2",-14}  {"b"}");
        output.WriteLine($"{"gradient descent",-28}  {trained[0],-14:F10}  {trained[1],-14:F10}  {trained[2]:F10}");
        output.WriteLine($"{"least squares (closed form)",-28}  {closedForm[0],-14:F10}  {closedForm[1],-14:F10}  {closedForm[2]:F10}");
        output.WriteLine($"largest |trained − closed form| = {result.LargestSolutionDifference:E2} (tolerance {SolutionTolerance:E0})");
        output.WriteLine($"largest |autodiff − hand formula| over {Steps + 1} gradients = {largestDifference:E2} (tolerance {GradientTolerance:E0})");
        output.WriteLine(result.Passed ? "PASSED" : "FAILED");
        return result;
    }

    /// <summary>mean(r·x), the seed's ∂J/∂w for one feature.</summary>
    private static double Mean(double[] r, double[] x)
    {
        double sum = 0;
        for (int i = 0; i < r.Length; i++) sum += r[i] * x[i];
        return sum / r.Length;
    }

    /// <summary>
    /// The least-squares (w₁, w₂, b): the normal equations (XᵀX)θ = Xᵀy for X = [x₁ x₂ 1], a 3×3 system, solved
    /// directly by Gaussian elimination with partial pivoting.
    /// </summary>
    public static double[] NormalEquations(double[] x1, double[] x2, double[] y)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(x2);
        ArgumentNullException.ThrowIfNull(y);
        // a = [XᵀX | Xᵀy], rows and columns in the order w₁, w₂, b
        var a = new double[3, 4];
        for (int i = 0; i < y.Length; i++)
        {
            double[] row = [x1[i], x2[i], 1.0];
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < 3; c++) a[r, c] += row[r] * row[c];
                a[r, 3] += row[r] * y[i];
            }
        }
        for (int k = 0; k < 3; k++)
        {
            int pivot = k;
            for (int r = k + 1; r < 3; r++) if (Math.Abs(a[r, k]) > Math.Abs(a[pivot, k])) pivot = r;
            if (a[pivot, k] == 0) throw new InvalidOperationException("NormalEquations: XᵀX is singular; the features are collinear.");
            for (int c = 0; c < 4; c++) (a[k, c], a[pivot, c]) = (a[pivot, c], a[k, c]);
            for (int r = k + 1; r < 3; r++)
            {
                double f = a[r, k] / a[k, k];
                for (int c = k; c < 4; c++) a[r, c] -= f * a[k, c];
            }
        }
        var theta = new double[3];
        for (int k = 2; k >= 0; k--)
        {
            double s = a[k, 3];
            for (int c = k + 1; c < 3; c++) s -= a[k, c] * theta[c];
            theta[k] = s / a[k, k];
        }
        return theta;
    }
}
