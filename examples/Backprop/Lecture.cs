// A backpropagation lecture in three expressions: micrograd's two test expressions and the seed's logistic
// regression on one admissions point. Each is built on a tape, differentiated by backward with every chain-rule
// step recorded (BackwardTrace), printed as a step table, drawn as SVG and as one HTML page (the graph above the
// steps), and its gradient checked against published or hand-derived numbers.
//
// micrograd (karpathy/micrograd, MIT):
//   test/test_engine.py, test_sanity_check:  x = −4; z = 2x + 2 + x; q = relu(z) + z·x; h = relu(z·z);
//       y = h + q + q·x. The test compares with PyTorch and prints no numbers; by hand: z = −10, q = 40, h = 100,
//       y = −20; dy/dx = 46 (tests/GradientDescent.Autodiff.Torch.Tests/MicrogradCrossCheckTests.cs agrees with
//       PyTorch's autograd on both).
//   README.md (commit c911406), the example that test_more_ops also runs: a = −4, b = 2, …, g = f/2 + 10/f;
//       "prints 24.7041, the outcome of this forward pass", ∂g/∂a "prints 138.8338", ∂g/∂b "prints 645.5773".
//
// The seed's logistic regression (the first seed; data/admissions.csv, row 1):
//   ŷ = σ(w·x + b)                              prediction
//   E = −y ln ŷ − (1 − y) ln(1 − ŷ)             error of one point
//   ∂E/∂w = −(y − ŷ)x,  ∂E/∂b = −(y − ŷ)        the seed's hand-derived gradient
using System.Globalization;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Examples.Backprop;

/// <summary>The lecture: three expressions, their backward traces and pictures, and their gradients checked.</summary>
public static class Lecture
{
    /// <summary>|autodiff − hand formula| allowed where the reference is exact (rounding only).</summary>
    public const double ExactTolerance = 1e-12;

    /// <summary>|autodiff − published| allowed for a number published to 4 decimals: half its last digit.</summary>
    public const double FourDecimals = 0.5e-4;

    /// <summary>One number the lecture checks.</summary>
    /// <param name="Quantity">What it is, e.g. "∂g/∂a".</param>
    /// <param name="Autodiff">What the tape computed.</param>
    /// <param name="Expected">The reference.</param>
    /// <param name="Tolerance">The largest |autodiff − reference| that passes.</param>
    /// <param name="Source">Where the reference comes from.</param>
    public sealed record Check(string Quantity, double Autodiff, double Expected, double Tolerance, string Source)
    {
        /// <summary>Whether |autodiff − reference| ≤ tolerance.</summary>
        public bool Passed => Math.Abs(Autodiff - Expected) <= Tolerance;
    }

    /// <summary>One expression of the lecture: its checks, its backward pass and the pictures written for it.</summary>
    /// <param name="Title">The expression's title.</param>
    /// <param name="Checks">Its checked numbers.</param>
    /// <param name="Trace">The recorded backward pass.</param>
    /// <param name="Svg">The path of its graph as SVG.</param>
    /// <param name="Html">The path of its HTML page (the graph above the step table).</param>
    public sealed record Part(string Title, IReadOnlyList<Check> Checks, BackwardTrace Trace, string Svg, string Html);

    /// <summary>What the lecture found.</summary>
    /// <param name="Parts">The three expressions, in order.</param>
    public sealed record Result(IReadOnlyList<Part> Parts)
    {
        /// <summary>Whether every checked number passed.</summary>
        public bool Passed => Parts.All(p => p.Checks.All(c => c.Passed));
    }

    /// <summary>
    /// Runs the three expressions, prints to <paramref name="output"/>, writes backprop-*.svg and backprop-*.html
    /// into <paramref name="folder"/> (created if missing).
    /// </summary>
    public static Result Run(TextWriter output, string folder)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Directory.CreateDirectory(folder);
        Part[] parts =
        [
            SanityCheckPart(output, folder),
            MoreOpsPart(output, folder),
            LogisticRegressionPart(output, folder),
        ];
        var result = new Result(parts);
        output.WriteLine();
        output.WriteLine(result.Passed ? "PASSED" : "FAILED");
        return result;
    }

    /// <summary>micrograd's test_sanity_check: y(x) on <paramref name="tape"/>.</summary>
    public static Scalar SanityCheck(Tape tape, ScalarParameter x)
    {
        Scalar xs = tape.Use(x).Named("x");
        // z = 2x + 2 + x
        Scalar z = (2 * xs + 2 + xs).Named("z");
        // q = relu(z) + z·x
        Scalar q = (Ops.Relu(z) + z * xs).Named("q");
        // h = relu(z·z)
        Scalar h = Ops.Relu(z * z).Named("h");
        // y = h + q + q·x
        return (h + q + q * xs).Named("y");
    }

    /// <summary>micrograd's README example (and test_more_ops): g(a, b) on <paramref name="tape"/>.</summary>
    /// <remarks>Python's <c>c += c + 1</c> on micrograd values is <c>c = c + (c + 1)</c>, as C#'s <c>+=</c> is here.</remarks>
    public static Scalar MoreOps(Tape tape, ScalarParameter a, ScalarParameter b)
    {
        Scalar av = tape.Use(a).Named("a"), bv = tape.Use(b).Named("b");
        // c = a + b
        Scalar c = av + bv;
        // d = a·b + b³
        Scalar d = av * bv + Ops.Pow(bv, 3);
        // c += c + 1
        c += c + 1;
        // c += 1 + c + (−a)
        c += 1 + c + (-av);
        // d += d·2 + relu(b + a)
        d += d * 2 + Ops.Relu(bv + av);
        // d += 3·d + relu(b − a)
        d += 3 * d + Ops.Relu(bv - av);
        // e = c − d
        Scalar e = (c.Named("c") - d.Named("d")).Named("e");
        // f = e²
        Scalar f = Ops.Pow(e, 2).Named("f");
        // g = f/2
        Scalar g = f / 2.0;
        // g += 10/f
        g += 10.0 / f;
        return g.Named("g");
    }

    /// <summary>The seed's error of one point, E(w, b) = −y ln ŷ − (1 − y) ln(1 − ŷ) with ŷ = σ(w·x + b).</summary>
    public static (Scalar Error, Scalar Prediction) LogisticError(Tape tape, VectorParameter w, ScalarParameter b, double[] x, double y)
    {
        Vector xs = tape.Constant(x).Named("x");
        // ŷ = σ(w·x + b)
        Scalar yHat = Ops.Sigmoid(Ops.Dot(tape.Use(w), xs) + tape.Use(b)).Named("ŷ");
        // E = −y ln ŷ − (1 − y) ln(1 − ŷ)
        Scalar error = (-y * Ops.Log(yHat) - (1 - y) * Ops.Log(1 - yHat)).Named("E");
        return (error, yHat);
    }

    private static Part SanityCheckPart(TextWriter output, string folder)
    {
        var x = new ScalarParameter("x", -4.0);
        var tape = new Tape();
        Scalar y = SanityCheck(tape, x);
        BackwardTrace trace = BackwardTrace.Record(y);
        const string Source = "micrograd test_sanity_check (= PyTorch), by hand";
        Check[] checks =
        [
            // z = −10, q = relu(−10) + (−10)(−4) = 40, h = relu(100) = 100, y = 100 + 40 + 40·(−4) = −20
            new("y", y.Value, -20, ExactTolerance, Source),
            // dy/dx = ∂h/∂x + ∂q/∂x·(1 + x) + q = −60 + (−22)(−3) + 40 = 46  (relu′(z) = 0 at z = −10)
            new("∂y/∂x", x.Grad, 46, ExactTolerance, Source),
        ];
        return Present(output, folder, "sanity-check", "micrograd's test_sanity_check: y = h + q + q·x at x = −4", tape, trace, checks);
    }

    private static Part MoreOpsPart(TextWriter output, string folder)
    {
        var a = new ScalarParameter("a", -4.0);
        var b = new ScalarParameter("b", 2.0);
        var tape = new Tape();
        Scalar g = MoreOps(tape, a, b);
        BackwardTrace trace = BackwardTrace.Record(g);
        const string Source = "micrograd README, 4 decimals";
        Check[] checks =
        [
            // g = 49/2 + 10/49 = 24.70408163265306…
            new("g", g.Value, 24.7041, FourDecimals, Source),
            new("∂g/∂a", a.Grad, 138.8338, FourDecimals, Source),
            new("∂g/∂b", b.Grad, 645.5773, FourDecimals, Source),
        ];
        return Present(output, folder, "more-ops", "micrograd's README example (test_more_ops): g = f/2 + 10/f at a = −4, b = 2", tape, trace, checks);
    }

    private static Part LogisticRegressionPart(TextWriter output, string folder)
    {
        // The first admissions point (data/admissions.csv, row 1: 0.78051, −0.063669, admitted) and the lecture's
        // weights: the hand formula holds for any weights, these make ŷ neither 0.5 nor near 0 or 1.
        LabeledData data = LabeledData.Admissions();
        double[] x = [.. data.Features[0]];
        double y = data.Labels[0];
        var w = new VectorParameter("w", 0.5, -0.3);
        var b = new ScalarParameter("b", 0.1);
        var tape = new Tape();
        var (error, yHat) = LogisticError(tape, w, b, x, y);
        BackwardTrace trace = BackwardTrace.Record(error);

        // The seed's formula: ∂E/∂wⱼ = −(y − ŷ)xⱼ, ∂E/∂b = −(y − ŷ).
        double p = yHat.Value;
        const string Source = "the seed's −(y − ŷ)(x, 1)";
        Check[] checks =
        [
            new("∂E/∂w₁", w.Grad[0], -(y - p) * x[0], ExactTolerance, Source),
            new("∂E/∂w₂", w.Grad[1], -(y - p) * x[1], ExactTolerance, Source),
            new("∂E/∂b", b.Grad, -(y - p), ExactTolerance, Source),
        ];
        string title = string.Create(
            CultureInfo.InvariantCulture,
            $"the seed's logistic regression on one admissions point: x = ({x[0]}, {x[1]}), y = {y}, w = ({w.Value[0]}, {w.Value[1]}), b = {b.Value}");
        return Present(output, folder, "logistic-regression", title, tape, trace, checks);
    }

    /// <summary>Writes the SVG and the HTML page, prints the trace and the checks.</summary>
    private static Part Present(TextWriter output, string folder, string slug, string title, Tape tape, BackwardTrace trace, Check[] checks)
    {
        var c = CultureInfo.InvariantCulture;
        string svg = Path.Combine(folder, $"backprop-{slug}.svg");
        string html = Path.Combine(folder, $"backprop-{slug}.html");
        File.WriteAllText(svg, SvgWriter.Write(tape));
        File.WriteAllText(html, HtmlPage.Write(tape, trace, title: title));

        output.WriteLine();
        output.WriteLine(string.Create(c, $"== {title}"));
        output.WriteLine();
        output.Write(trace.ToText());
        output.WriteLine();
        foreach (Check check in checks)
        {
            output.WriteLine(string.Create(c, $"{check.Quantity,-8} autodiff {check.Autodiff,-20:R} expected {check.Expected,-20:R} ({check.Source})  {(check.Passed ? "ok" : "FAIL")}"));
        }
        output.WriteLine(string.Create(c, $"wrote {svg} and {html}"));
        return new Part(title, checks, trace, svg, html);
    }
}
