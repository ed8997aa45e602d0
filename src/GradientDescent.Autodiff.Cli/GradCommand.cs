using System.CommandLine;
using System.Text;
using GradientDescent.Autodiff.Teaching;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// <c>gdad grad "EXPR" --at x=1,y=2</c>: parses the formula, records it on a tape with one parameter per variable,
/// runs backward and prints the value and every partial derivative (or one JSON object).
/// </summary>
internal static class GradCommand
{
    /// <summary>Everything <c>gdad grad</c> was asked to do.</summary>
    /// <param name="Formula">The formula as typed.</param>
    /// <param name="At">The point, "x=1,y=2"; null for a formula without variables.</param>
    /// <param name="Json">Write exactly <c>{"value": v, "gradient": {"x": …, "y": …}}</c> and nothing else.</param>
    /// <param name="Trace">Also print the backward pass step by step (<see cref="BackwardTrace.ToText"/>).</param>
    /// <param name="Dot">Also write the differentiated graph as Graphviz DOT to this file.</param>
    /// <param name="Svg">Also draw the differentiated graph as SVG (laid out here, no Graphviz needed) to this file.</param>
    /// <param name="Html">Also write one self-contained HTML page (the SVG graph and the step table; choosing a step highlights its node) to this file.</param>
    /// <param name="Hessian">Also print the matrix of second partials ∂²f/∂u∂v (create-graph backward, reverse over reverse); with --json, a "hessian" array of rows.</param>
    internal sealed record GradOptions(string Formula, string? At = null, bool Json = false, bool Trace = false, string? Dot = null, string? Svg = null, string? Html = null, bool Hessian = false);

    internal static Command Build(TextWriter stdout)
    {
        var formula = new Argument<string>("formula") { Description = "The formula, in quotes: numbers, variables, + - * / ^ (or **), parentheses, pi, e and the functions (exp, log, sqrt, sigmoid, tanh, relu, sin, max(a, b), …)." };
        var at = new Option<string?>("--at") { Description = "The point: a value for every variable, comma-separated, such as x=1,y=2.", HelpName = "x=1,y=2" };
        var json = new Option<bool>("--json") { Description = "Write exactly one JSON object: {\"value\": v, \"gradient\": {\"x\": ∂f/∂x, …}} (variables in the order they first appear; doubles in round-trip form; NaN and ±∞ as the strings \"NaN\", \"Infinity\", \"-Infinity\")." };
        var trace = new Option<bool>("--trace") { Description = "Also print the chain rule step by step: for each node in backward order, ∂f/∂node, each input's local derivative (formula and number), their product and the running sum." };
        var dot = new Option<string?>("--dot") { Description = "Also write the graph in Graphviz's DOT language to FILE: one box per node with its op, name, value and ∂f/∂node.", HelpName = "FILE" };
        var svg = new Option<string?>("--svg") { Description = "Also draw the graph as an SVG picture in FILE (laid out by gdad; Graphviz is not needed).", HelpName = "FILE" };
        var html = new Option<string?>("--html") { Description = "Also write one self-contained HTML page to FILE: the graph and the step table, where choosing a step highlights its node and edges (no network needed).", HelpName = "FILE" };
        var hessian = new Option<bool>("--hessian") { Description = "Also print the Hessian, the matrix of second partials ∂²f/∂u∂v (rows and columns in the variables' order); with --json, a \"hessian\" array of rows after \"gradient\"." };
        var command = new Command("grad",
            "Differentiate a formula typed as text: its value and every partial derivative at a point, by reverse-mode autodiff.\n\n" +
            "Examples:\n" +
            "  gdad grad \"x^2*y + sin(x)\" --at x=1,y=2\n" +
            "  gdad grad \"sigmoid(w*x + b)\" --at w=0.5,x=2,b=-1 --json\n" +
            "  gdad grad \"a*b + a\" --at a=2,b=-3 --trace           the chain rule, step by step\n" +
            "  gdad grad \"x^3*y\" --at x=1,y=2 --hessian             the second partials too\n" +
            "  gdad grad \"tanh(w*x + b)\" --at w=0.5,x=2,b=-1 --svg graph.svg --dot graph.dot\n" +
            "  gdad grad \"tanh(w*x + b)\" --at w=0.5,x=2,b=-1 --html lesson.html      graph and steps in one page\n\n" +
            "Grammar: + - * / ^ (right-associative; ** too), unary minus binding below ^ (-x^2 = -(x^2)), parentheses, numbers (2, 0.5, 1e-3), " +
            "the constants pi and e, and the functions " + string.Join(", ", Expression.FunctionNames) + " (max, min, pow take two arguments; " +
            "leaky_relu(x, slope), elu(x, alpha), clamp(x, lo, hi) take numbers as settings).\n\n" +
            "Exit codes: 0 success, 2 a formula that does not parse (the message, then the formula with a caret under the problem) or a missing or unknown variable, 70 a bug.")
        {
            formula, at, json, trace, dot, svg, html, hessian,
        };
        command.SetAction(parse => (int)Run(new GradOptions(parse.GetValue(formula)!, parse.GetValue(at), parse.GetValue(json), parse.GetValue(trace),
            parse.GetValue(dot), parse.GetValue(svg), parse.GetValue(html), parse.GetValue(hessian)), stdout));
        return command;
    }

    internal static ExitCode Run(GradOptions o, TextWriter stdout)
    {
        if (o.Json && o.Trace)
        {
            throw new UsageException("--json writes only {\"value\": …, \"gradient\": {…}}; leave out --trace (a table for people) or --json.");
        }
        Expression f = FormulaInput.Parse(o.Formula, "the formula");
        Dictionary<string, double> point = FormulaInput.Point(o.At, f);
        RecordedExpression recorded = f.RecordAt(point);
        // The trace runs the backward pass itself (it is backward, observed); without it, backward runs plainly.
        BackwardTrace? trace = null;
        if (recorded.Parameters.Count > 0)
        {
            if (o.Trace || o.Html is not null) trace = BackwardTrace.Record(recorded.Output);
            else recorded.Output.Backward();
        }
        var g = new ExpressionGradient(recorded.Output.Value, [.. recorded.Parameters.Select(p => new KeyValuePair<string, double>(p.Name, p.Grad))], recorded);
        var pictures = new List<string>();
        if (o.Dot is { } dotFile) pictures.Add(Picture(dotFile, "DOT", () => DotWriter.Write(recorded.Tape, new PictureOptions { Output = recorded.Output })));
        if (o.Svg is { } svgFile) pictures.Add(Picture(svgFile, "SVG", () => SvgWriter.Write(recorded.Tape, new PictureOptions { Output = recorded.Output })));
        if (o.Html is { } htmlFile)
        {
            string title = $"f({string.Join(", ", f.Variables)}) = {o.Formula.Trim()}" + (f.Variables.Count > 0 ? $" at {FormulaInput.Text(f.Variables, point)}" : "");
            pictures.Add(Picture(htmlFile, "HTML", () => HtmlPage.Write(recorded.Tape, trace, new PictureOptions { Output = recorded.Output }, title)));
        }
        double[,]? h = o.Hessian ? SecondPartials(f, point) : null;
        if (o.Json)
        {
            var sb = new StringBuilder("{\"value\": ").Append(FormulaInput.Json(g.Value)).Append(", \"gradient\": {");
            for (int k = 0; k < g.Gradient.Count; k++)
            {
                if (k > 0) sb.Append(", ");
                sb.Append(FormulaInput.Json(g.Gradient[k].Key)).Append(": ").Append(FormulaInput.Json(g.Gradient[k].Value));
            }
            sb.Append('}');
            if (h is not null)
            {
                sb.Append(", \"hessian\": [");
                for (int r = 0; r < h.GetLength(0); r++)
                {
                    sb.Append(r > 0 ? ", [" : "[");
                    for (int c = 0; c < h.GetLength(1); c++) sb.Append(c > 0 ? ", " : "").Append(FormulaInput.Json(h[r, c]));
                    sb.Append(']');
                }
                sb.Append(']');
            }
            stdout.WriteLine(sb.Append('}').ToString());
            return ExitCode.Success;
        }
        string args = string.Join(", ", f.Variables);
        stdout.WriteLine($"f({args}) = {o.Formula.Trim()}");
        if (f.Variables.Count > 0) stdout.WriteLine($"at {FormulaInput.Text(f.Variables, point)}");
        int width = Math.Max(1, f.Variables.Count == 0 ? 0 : f.Variables.Max(v => v.Length)) + 5;
        stdout.WriteLine($"{"f".PadRight(width)} = {FormulaInput.Text(g.Value)}");
        foreach (var (name, value) in g.Gradient) stdout.WriteLine($"{("∂f/∂" + name).PadRight(width)} = {FormulaInput.Text(value)}");
        if (h is not null)
        {
            stdout.WriteLine("Hessian ∂²f/∂u∂v (rows u, columns v):");
            string[] cells = [.. Enumerable.Range(0, h.Length).Select(k => FormulaInput.Text(h[k / h.GetLength(1), k % h.GetLength(1)]))];
            int cell = Math.Max(1, cells.Length == 0 ? 1 : cells.Max(c => c.Length));
            int label = Math.Max(1, f.Variables.Count == 0 ? 1 : f.Variables.Max(v => v.Length));
            stdout.WriteLine($"  {"".PadRight(label)}  {string.Join("  ", f.Variables.Select(v => v.PadLeft(cell)))}");
            for (int r = 0; r < f.Variables.Count; r++)
            {
                stdout.WriteLine($"  {f.Variables[r].PadRight(label)}  {string.Join("  ", Enumerable.Range(0, f.Variables.Count).Select(c => cells[r * f.Variables.Count + c].PadLeft(cell)))}");
            }
        }
        foreach (string line in pictures) stdout.WriteLine(line);
        if (o.Trace)
        {
            stdout.WriteLine();
            if (trace is null)
            {
                stdout.WriteLine("backward, step by step: nothing to trace (the formula has no variables, so no gradient flows).");
            }
            else
            {
                stdout.Write(trace.ToText());
            }
        }
        return ExitCode.Success;
    }

    /// <summary>
    /// ∂²f/∂u∂v at the point, variables in first-appearance order: <see cref="Functional.Hessian(Func{Tape, Vector, Scalar}, double[])"/>
    /// on the formula recorded over the elements of one vector (create-graph backward, then one backward per row).
    /// </summary>
    private static double[,] SecondPartials(Expression f, IReadOnlyDictionary<string, double> point)
    {
        double[] x = [.. f.Variables.Select(v => point[v])];
        if (x.Length == 0) return new double[0, 0];
        return Functional.Hessian(
            (tape, v) => f.Record(tape, f.Variables.Select((name, k) => (name, v[k])).ToDictionary(p => p.name, p => p.Item2)),
            x);
    }

    /// <summary>Writes one picture (UTF-8, no byte order mark) and returns the line that says so; a graph too large to draw is a usage error.</summary>
    private static string Picture(string path, string kind, Func<string> draw)
    {
        string text;
        try
        {
            text = draw();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--{kind.ToLowerInvariant()}: {e.Message}");
        }
        File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));
        return kind == "HTML" ? $"HTML page (graph and steps) written to {path}" : $"{kind} picture of the graph written to {path}";
    }
}
