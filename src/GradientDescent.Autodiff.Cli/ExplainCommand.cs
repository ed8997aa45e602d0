using System.CommandLine;
using System.Globalization;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// <c>gdad explain</c>: the first seed's lesson — logistic regression — on one admissions point, backpropagated step by
/// step: prints the forward values, the backward trace and the seed's hand formula −(y − ŷ)(x₁, x₂, 1) beside what
/// backward derived, and writes the same as one HTML page (the graph, the steps, the comparison).
/// </summary>
/// <remarks>
/// The graph is written out in scalars, so that every weight has its own chain and every local derivative is a
/// number on the page:
/// <code>
///   z = w₁x₁ + w₂x₂ + b
///   ŷ = σ(z)
///   E = −(y ln ŷ + (1 − y) ln(1 − ŷ))
///   ∂E/∂wⱼ = ∂E/∂ŷ · ∂ŷ/∂z · ∂z/∂wⱼ = −(y/ŷ − (1 − y)/(1 − ŷ)) · ŷ(1 − ŷ) · xⱼ = −(y − ŷ)xⱼ
/// </code>
/// </remarks>
internal static class ExplainCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The lesson's weights: any would do (the hand formula holds for all), these keep ŷ away from ½, 0 and 1.</summary>
    internal static readonly double[] Weights = [0.5, -0.3];

    /// <summary>The lesson's bias.</summary>
    internal const double Bias = 0.1;

    /// <summary>
    /// How far the hand formula and backward may differ, relative to the larger magnitude: both compute the same
    /// products in a different order (backward multiplies −(y/ŷ)·ŷ(1 − ŷ)·x, the formula −(y − ŷ)·x), a few ulps apart.
    /// </summary>
    internal const double Tolerance = 1e-12;

    internal sealed record ExplainOptions(string Out, int Row, string? Svg = null);

    internal static Command Build(TextWriter stdout)
    {
        var output = new Option<string>("--out") { Description = "The HTML page to write.", DefaultValueFactory = _ => "explain.html", HelpName = "FILE" };
        var row = new Option<int>("--row") { Description = "Which admissions point (1 to 100, the file's row).", DefaultValueFactory = _ => 1, HelpName = "N" };
        var svg = new Option<string?>("--svg") { Description = "Also write the graph alone as an SVG picture (after backward: values and gradients).", HelpName = "FILE" };
        var command = new Command("explain",
            "Backpropagation step by step on the seed's lesson: logistic regression on one admissions point.\n" +
            "Prints the forward values, every chain-rule step of the backward pass, and the seed's hand formula\n" +
            "∂E/∂(w, b) = −(y − ŷ)(x, 1) beside what backward derived; writes the same as one HTML page with the graph.\n\n" +
            "Examples:\n" +
            "  gdad explain                                 writes explain.html\n" +
            "  gdad explain --row 7 --out lesson.html\n" +
            "  gdad explain --svg seed-graph.svg            ... and the graph alone as a picture\n\n" +
            "Exit codes: 0 success (the hand formula and backward agree), 1 they differ (a bug), 2 bad arguments.")
        {
            output, row, svg,
        };
        command.SetAction(parse => (int)Run(new ExplainOptions(parse.GetValue(output)!, parse.GetValue(row), parse.GetValue(svg)), stdout));
        return command;
    }

    internal static ExitCode Run(ExplainOptions o, TextWriter stdout)
    {
        LabeledData data = LabeledData.Admissions();
        if (o.Row < 1 || o.Row > data.Count)
        {
            throw new UsageException($"explain: --row {o.Row} is outside the admissions data's rows 1 to {data.Count}.");
        }
        double[] x = data.Features[o.Row - 1];
        double y = data.Labels[o.Row - 1];

        var w1 = new ScalarParameter("w₁", Weights[0]);
        var w2 = new ScalarParameter("w₂", Weights[1]);
        var b = new ScalarParameter("b", Bias);
        var tape = new Tape();
        Scalar x1 = tape.Constant(x[0]).Named("x₁");
        Scalar x2 = tape.Constant(x[1]).Named("x₂");
        Scalar label = tape.Constant(y).Named("y");
        // z = w₁x₁ + w₂x₂ + b
        Scalar z = (tape.Use(w1) * x1 + tape.Use(w2) * x2 + tape.Use(b)).Named("z");
        // ŷ = σ(z)
        Scalar yHat = Ops.Sigmoid(z).Named("ŷ");
        // E = −(y ln ŷ + (1 − y) ln(1 − ŷ))
        Scalar error = (-(label * Ops.Log(yHat) + (1 - label) * Ops.Log(1 - yHat))).Named("E");
        BackwardTrace trace = BackwardTrace.Record(error, retainGraph: true);

        // The seed's formula: ∂E/∂wⱼ = −(y − ŷ)xⱼ, ∂E/∂b = −(y − ŷ).
        double p = yHat.Value;
        Comparison[] rows =
        [
            new("∂E/∂w₁", "−(y − ŷ)·x₁", -(y - p) * x[0], w1.Grad),
            new("∂E/∂w₂", "−(y − ŷ)·x₂", -(y - p) * x[1], w2.Grad),
            new("∂E/∂b", "−(y − ŷ)", -(y - p), b.Grad),
        ];
        bool agree = rows.All(r => r.Agrees);

        string title = string.Create(Inv, $"The seed's logistic regression on admissions row {o.Row}: x = ({x[0]}, {x[1]}), y = {y}");
        stdout.WriteLine(title);
        stdout.WriteLine(string.Create(Inv, $"  weights  w = ({w1.Value}, {w2.Value}), b = {b.Value}"));
        stdout.WriteLine(string.Create(Inv, $"  z = w₁x₁ + w₂x₂ + b                 = {z.Value:G10}"));
        stdout.WriteLine(string.Create(Inv, $"  ŷ = σ(z)                             = {p:G10}"));
        stdout.WriteLine(string.Create(Inv, $"  E = −(y ln ŷ + (1 − y) ln(1 − ŷ))    = {error.Value:G10}"));
        stdout.WriteLine();
        stdout.Write(trace.ToText());
        stdout.WriteLine();
        stdout.WriteLine("The seed's hand formula against backward:");
        foreach (Comparison r in rows)
        {
            stdout.WriteLine(string.Create(Inv, $"  {r.Name,-7} hand {r.Formula,-12} = {r.Hand,-22:R} backward = {r.Backward,-22:R} {(r.Agrees ? "agree" : "DIFFER")}"));
        }

        string html = HtmlPage.Write(tape, trace, title: title, tables: [ToTable(rows)]);
        string path = Path.GetFullPath(o.Out);
        File.WriteAllText(path, html);
        stdout.WriteLine();
        stdout.WriteLine($"Wrote {path}: the graph, the steps and this comparison; open it in a browser and choose a step.");
        if (o.Svg is not null)
        {
            string picture = Path.GetFullPath(o.Svg);
            File.WriteAllText(picture, SvgWriter.Write(tape));
            stdout.WriteLine($"Wrote {picture}: the graph.");
        }
        return agree ? ExitCode.Success : ExitCode.Difference;
    }

    private static PageTable ToTable(Comparison[] rows) => new(
        "The seed's hand formula against backward",
        ["gradient", "hand formula", "hand", "backward", "verdict"],
        [.. rows.Select(r => (IReadOnlyList<string>)
            [r.Name, r.Formula, r.Hand.ToString("R", Inv), r.Backward.ToString("R", Inv), r.Agrees ? "agree" : "differ"])]);

    /// <summary>One gradient by the seed's hand formula and by backward.</summary>
    private sealed record Comparison(string Name, string Formula, double Hand, double Backward)
    {
        public bool Agrees => Math.Abs(Hand - Backward) <= Tolerance * Math.Max(Math.Abs(Hand), Math.Abs(Backward));
    }
}
