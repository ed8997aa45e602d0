using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Teaching;
using GradientDescent.Autodiff.Torch;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// <c>gdad check "EXPR" --hand "x=…; y=…"</c>: evaluates partial derivatives derived by hand against autodiff (and
/// central differences, and with <c>--torch</c> libtorch's autograd) at a point or at seeded random points, and reports
/// per variable the largest relative error, where it occurs and a verdict.
/// </summary>
/// <remarks>
/// <para><b>Tolerance.</b> At each point the hand value h and the autodiff value a of ∂f/∂v agree when
/// |h − a| ≤ 10⁻⁸ · max(|h|, |a|, s), s the largest finite |∂f/∂v| autodiff found over all the points (the largest of
/// any variable when that is 0, and 1 when every gradient is 0). Both sides are float64 evaluations of the same
/// derivative by different routes (your formula, backward's rules), so a right formula differs by rounding only: a few
/// ulps (10⁻¹⁶) times the formula's condition number, which leaves eight orders of magnitude for formulas that are
/// algebraically right but badly conditioned. A wrong formula (a wrong sign, factor or term, the seed's σ(x)(1 − x)) is
/// wrong by order 1 at almost every point. The floor s handles points where the derivative is zero or nearly so: there
/// both sides are rounding noise of the size of the terms that cancel, and relative error means nothing (10⁻¹⁷ against
/// 0 is 100 %), so the error is measured against the derivative's size elsewhere instead.</para>
/// <para><b>Points where autodiff is not finite</b> (outside the formula's domain: √x or ln x for x &lt; 0, division by
/// 0) are not compared unless the hand value is the same NaN or infinity; the report says how many there were. Central
/// differences (step ε^(1/3)·max(1, |v|)) are shown for reference, never in the verdict: they are approximate (about
/// 10⁻¹⁰ relative for smooth formulas) and meaningless at kinks (relu, abs, max) and jumps (floor, sign).</para>
/// </remarks>
internal static class CheckCommand
{
    /// <summary>Relative tolerance of hand against autodiff (and against libtorch).</summary>
    internal const double Tolerance = 1e-8;

    /// <summary>Random points when neither --at nor --random is given.</summary>
    internal const int DefaultPoints = 20;

    /// <summary>The default range of random coordinates, [−3, 3).</summary>
    internal const double DefaultLow = -3, DefaultHigh = 3;

    /// <summary>The default seed of the random points.</summary>
    internal const ulong DefaultSeed = 1;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Everything <c>gdad check</c> was asked to do.</summary>
    /// <param name="Formula">f as typed.</param>
    /// <param name="Hand">The hand derivatives, "x=…; y=…".</param>
    /// <param name="At">One point, "x=1,y=2"; null for random points.</param>
    /// <param name="Random">How many random points; null for the default (20) unless <paramref name="At"/> is given.</param>
    /// <param name="Range">"lo,hi" for random coordinates; null for −3,3.</param>
    /// <param name="Seed">The random points' seed; null for 1.</param>
    /// <param name="Torch">Also compare with libtorch's autograd (TorchSharp, float64).</param>
    /// <param name="Json">Write one JSON object.</param>
    internal sealed record CheckOptions(string Formula, string Hand, string? At = null, int? Random = null, string? Range = null,
        ulong? Seed = null, bool Torch = false, bool Json = false);

    internal static Command Build(TextWriter stdout)
    {
        var formula = new Argument<string>("formula") { Description = "The formula f, in quotes (the grammar of 'gdad grad')." };
        var hand = new Option<string>("--hand") { Description = "Your partial derivatives, one per variable: name=formula, separated by ';', such as \"x=2*x*y; y=x^2\".", Required = true, HelpName = "x=…; y=…" };
        var at = new Option<string?>("--at") { Description = "Check at this one point instead of random ones: a value for every variable, such as x=1,y=2.", HelpName = "x=1,y=2" };
        var random = new Option<int?>("--random") { Description = $"Check at N random points (default {DefaultPoints}, unless --at is given).", HelpName = "N" };
        random.Validators.Add(r =>
        {
            try
            {
                if (r.GetValueOrDefault<int?>() is < 1 or > 1_000_000) r.AddError("--random: the number of points must be between 1 and 1000000.");
            }
            catch (InvalidOperationException)
            {
                // not a number: System.CommandLine has already reported it
            }
        });
        var range = new Option<string?>("--range") { Description = "The interval of the random coordinates, lo,hi (default -3,3).", HelpName = "lo,hi" };
        var seed = new Option<ulong?>("--seed") { Description = $"Seeds the random points (default {DefaultSeed}); the same seed gives the same points." };
        var torch = new Option<bool>("--torch") { Description = "Also compare with PyTorch's autograd (TorchSharp, float64), in the verdict too." };
        var json = new Option<bool>("--json") { Description = "Write exactly one JSON object: passed, tolerance, points, (seed, range), variables [{name, hand, verdict, max_relative_error, at, autodiff, hand_value, central_difference, max_relative_error_central, (torch, max_relative_error_torch), not_compared}]." };
        var command = new Command("check",
            "Check partial derivatives you derived by hand against autodiff, at a point or at random points.\n\n" +
            "Examples:\n" +
            "  gdad check \"x^2*y\" --hand \"x=2*x*y; y=x^2\" --at x=1,y=2\n" +
            "  gdad check \"sigmoid(x)\" --hand \"x=sigmoid(x)*(1-sigmoid(x))\" --random 20\n" +
            "  gdad check \"sigmoid(x)\" --hand \"x=sigmoid(x)*(1-x)\" --random 20          fails, and shows where\n" +
            "  gdad check \"log(x)*y\" --hand \"x=y/x; y=log(x)\" --range 0.1,5 --seed 7 --torch --json\n\n" +
            "Agreement: |hand − autodiff| ≤ 1e-8 · max(|hand|, |autodiff|, s) at every point, s the largest |∂f/∂v| autodiff finds over the points " +
            "(rounding leaves right formulas within ~1e-14; wrong ones are off by order 1). Points where autodiff is NaN or infinite are not compared, and counted. " +
            "Central differences are shown for reference, not in the verdict.\n\n" +
            "Exit codes: 0 every hand derivative agrees, 1 one does not (named), 2 a formula that does not parse, a missing or unknown variable, " +
            "a hand derivative for a variable f does not have or none for one it has, 70 a bug.")
        {
            formula, hand, at, random, range, seed, torch, json,
        };
        command.SetAction(parse => (int)Run(new CheckOptions(parse.GetValue(formula)!, parse.GetValue(hand)!, parse.GetValue(at),
            parse.GetValue(random), parse.GetValue(range), parse.GetValue(seed), parse.GetValue(torch), parse.GetValue(json)), stdout));
        return command;
    }

    /// <summary>One variable's comparison over all points.</summary>
    private sealed class Row(string name, Expression hand)
    {
        public string Name { get; } = name;
        public Expression Hand { get; } = hand;
        public double MaxError { get; set; }
        public int WorstPoint { get; set; } = -1;
        public double MaxErrorCentral { get; set; }
        public double MaxErrorTorch { get; set; }
        public int Compared { get; set; }
        public int NotCompared { get; set; }
        public int FirstNotCompared { get; set; } = -1;
        public bool Agrees => Compared > 0 && MaxError <= Tolerance && MaxErrorTorch <= Tolerance;
        public string Verdict => Compared == 0 ? "unchecked" : Agrees ? "agrees" : "differs";
    }

    internal static ExitCode Run(CheckOptions o, TextWriter stdout)
    {
        Expression f = FormulaInput.Parse(o.Formula, "the formula");
        HandDerivatives hand = FormulaInput.ParseHand(o.Hand);
        if (f.Variables.Count == 0) throw new UsageException("the formula has no variables, so there is nothing to differentiate.");
        Row[] rows = Rows(f, hand);
        bool random = o.At is null;
        if (!random && (o.Random is not null || o.Range is not null || o.Seed is not null))
        {
            throw new UsageException("--at checks one point; --random, --range and --seed choose random points instead: give one or the other.");
        }
        ulong seed = o.Seed ?? DefaultSeed;
        var (low, high) = ParseRange(o.Range);
        List<Dictionary<string, double>> points = random
            ? RandomPoints(f.Variables, o.Random ?? DefaultPoints, low, high, seed)
            : [FormulaInput.Point(o.At, f)];

        // Every derivative at every point: autodiff, hand, central differences, libtorch.
        int n = points.Count, m = rows.Length;
        var auto = new double[n, m];
        var handValue = new double[n, m];
        var central = new double[n, m];
        var torch = new double[n, m];
        for (int i = 0; i < n; i++)
        {
            ExpressionGradient g = f.Differentiate(points[i]);
            double[]? t = o.Torch ? TorchGradient(g) : null;
            for (int k = 0; k < m; k++)
            {
                auto[i, k] = g.Gradient[k].Value;
                handValue[i, k] = rows[k].Hand.Evaluate(points[i]);
                central[i, k] = CentralDifference(f, points[i], rows[k].Name);
                torch[i, k] = t?[k] ?? double.NaN;
            }
        }

        double overall = 0;
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < m; k++)
            {
                if (double.IsFinite(auto[i, k])) overall = Math.Max(overall, Math.Abs(auto[i, k]));
            }
        }
        for (int k = 0; k < m; k++)
        {
            Row r = rows[k];
            double scale = 0;
            for (int i = 0; i < n; i++)
            {
                if (double.IsFinite(auto[i, k])) scale = Math.Max(scale, Math.Abs(auto[i, k]));
            }
            if (scale == 0) scale = overall > 0 ? overall : 1;
            for (int i = 0; i < n; i++)
            {
                double a = auto[i, k], h = handValue[i, k];
                if (!double.IsFinite(a) && !a.Equals(h))
                {
                    r.NotCompared++;
                    if (r.FirstNotCompared < 0) r.FirstNotCompared = i;
                    continue;
                }
                r.Compared++;
                double e = RelativeError(h, a, scale);
                if (r.WorstPoint < 0 || e > r.MaxError)
                {
                    r.MaxError = e;
                    r.WorstPoint = i;
                }
                r.MaxErrorCentral = Math.Max(r.MaxErrorCentral, RelativeError(h, central[i, k], scale));
                if (o.Torch) r.MaxErrorTorch = Math.Max(r.MaxErrorTorch, RelativeError(h, torch[i, k], scale));
            }
        }

        bool passed = rows.All(r => r.Agrees);
        if (o.Json) WriteJson(stdout, o, f, rows, points, auto, handValue, central, torch, random, low, high, seed, passed);
        else WriteText(stdout, o, f, rows, points, auto, handValue, central, torch, random, low, high, seed, passed);
        return passed ? ExitCode.Success : ExitCode.Difference;
    }

    /// <summary>|h − a| / max(|h|, |a|, s); 0 when equal (the same infinity or NaN too), ∞ when one is NaN or infinite and the other not.</summary>
    internal static double RelativeError(double h, double a, double scale)
    {
        if (h.Equals(a)) return 0;
        double e = Math.Abs(h - a) / Math.Max(Math.Max(Math.Abs(h), Math.Abs(a)), scale);
        return double.IsNaN(e) ? double.PositiveInfinity : e;
    }

    /// <summary>(f(v + h) − f(v − h)) / ((v + h) − (v − h)), h = ε^(1/3)·max(1, |v|) (as <see cref="GradientCheck"/>).</summary>
    private static double CentralDifference(Expression f, Dictionary<string, double> point, string name)
    {
        double v = point[name];
        double h = Math.Cbrt(Math.Pow(2, -52)) * Math.Max(1, Math.Abs(v));
        var shifted = new Dictionary<string, double>(point) { [name] = v + h };
        double up = f.Evaluate(shifted);
        shifted[name] = v - h;
        double down = f.Evaluate(shifted);
        return (up - down) / ((v + h) - (v - h));
    }

    /// <summary>libtorch's gradient of the recorded tape (TorchSharp replay, float64), one entry per variable.</summary>
    private static double[] TorchGradient(ExpressionGradient g)
    {
        TorchCrossCheckReport report;
        try
        {
            report = TorchCrossCheck.Compare(g.Recorded.Output, g.Recorded.Parameters);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw new UsageException($"--torch: TorchSharp could not load libtorch on this machine ({e.Message}); run without --torch.");
        }
        return [.. report.Parameters.Select(p => p.Torch[0])];
    }

    /// <summary>One row per variable of f, in f's order; each needs exactly one hand derivative, written in f's variables.</summary>
    private static Row[] Rows(Expression f, HandDerivatives hand)
    {
        string vars = string.Join(", ", f.Variables);
        foreach (var (name, d) in hand.Partials)
        {
            if (!f.Variables.Contains(name, StringComparer.Ordinal))
            {
                throw new UsageException($"--hand: the formula has no variable '{name}'; its variables are {vars}.");
            }
            foreach (string used in d.Variables)
            {
                if (!f.Variables.Contains(used, StringComparer.Ordinal))
                {
                    throw new UsageException($"--hand: the derivative for '{name}' uses '{used}', which is not a variable of the formula ({vars}).");
                }
            }
        }
        var rows = new List<Row>();
        foreach (string v in f.Variables)
        {
            Expression? d = hand.Partials.FirstOrDefault(p => p.Key == v).Value;
            if (d is null) throw new UsageException($"--hand: no derivative for '{v}'; add {v}=… (∂f/∂{v}), separated from the others by ';'.");
            rows.Add(new Row(v, d));
        }
        return [.. rows];
    }

    private static (double Low, double High) ParseRange(string? text)
    {
        if (text is null) return (DefaultLow, DefaultHigh);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, Inv, out double lo)
            && double.TryParse(parts[1], NumberStyles.Float, Inv, out double hi)
            && double.IsFinite(lo) && double.IsFinite(hi) && lo < hi)
        {
            return (lo, hi);
        }
        throw new UsageException($"--range: '{text}' is not lo,hi with finite lo < hi, such as -3,3 or 0.1,5.");
    }

    /// <summary>Point i's coordinate for variable k is lo + (hi − lo)·u, u the next SplitMix64 double in [0, 1), drawn point by point in f's variable order.</summary>
    private static List<Dictionary<string, double>> RandomPoints(IReadOnlyList<string> variables, int count, double low, double high, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var points = new List<Dictionary<string, double>>(count);
        for (int i = 0; i < count; i++)
        {
            var p = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (string v in variables) p[v] = low + (high - low) * rng.NextDouble();
            points.Add(p);
        }
        return points;
    }

    private static string G(double v, int digits = 10) =>
        double.IsFinite(v) ? v.ToString("G" + digits.ToString(Inv), Inv) : double.IsNaN(v) ? "NaN" : v > 0 ? "∞" : "-∞";

    private static string PointText(IReadOnlyList<string> variables, Dictionary<string, double> p) =>
        string.Join(", ", variables.Select(v => $"{v} = {G(p[v])}"));

    private static void WriteText(TextWriter w, CheckOptions o, Expression f, Row[] rows, List<Dictionary<string, double>> points,
        double[,] auto, double[,] hand, double[,] central, double[,] torch, bool random, double low, double high, ulong seed, bool passed)
    {
        string where = random
            ? $"at {points.Count} random point{(points.Count == 1 ? "" : "s")} in [{G(low)}, {G(high)}) (seed {seed})"
            : $"at {PointText(f.Variables, points[0])}";
        w.WriteLine($"gdad check: f({string.Join(", ", f.Variables)}) = {o.Formula.Trim()} {where}");
        w.WriteLine($"agreement: |hand − autodiff| ≤ 1e-8 · max(|hand|, |autodiff|, s), s = the largest |∂f/∂v| over the points{(o.Torch ? "; the same against libtorch" : "")}");
        for (int k = 0; k < rows.Length; k++)
        {
            Row r = rows[k];
            w.WriteLine($"∂f/∂{r.Name} = {r.Hand.Text}: {r.Verdict.ToUpperInvariant()}");
            if (r.Compared > 0)
            {
                int i = r.WorstPoint;
                w.WriteLine($"  largest relative error {G(r.MaxError, 3)} at {PointText(f.Variables, points[i])}");
                w.WriteLine($"    autodiff     {G(auto[i, k])}");
                w.WriteLine($"    hand         {G(hand[i, k])}");
                w.WriteLine($"    central diff {G(central[i, k])}   (largest relative error of hand vs central differences: {G(r.MaxErrorCentral, 3)})");
                if (o.Torch) w.WriteLine($"    libtorch     {G(torch[i, k])}   (largest relative error of hand vs libtorch: {G(r.MaxErrorTorch, 3)})");
            }
            if (r.NotCompared > 0)
            {
                int i = r.FirstNotCompared;
                w.WriteLine($"  not compared at {r.NotCompared} of {points.Count} point{(points.Count == 1 ? "" : "s")}, where autodiff itself is not finite (first: {G(auto[i, k])} at {PointText(f.Variables, points[i])}; hand {G(hand[i, k])}): outside the formula's domain?{(random ? " Try --range." : "")}");
            }
        }
        if (passed)
        {
            w.WriteLine($"PASSED: every hand derivative agrees with autodiff{(o.Torch ? " and libtorch" : "")} at {(points.Count == 1 ? "the point" : $"all {points.Count} points")}");
            return;
        }
        var failed = rows.Where(r => !r.Agrees).Select(r => r.Verdict == "unchecked"
            ? $"∂f/∂{r.Name} could not be checked (autodiff is not finite at any point)"
            : r.MaxError > Tolerance
                ? $"∂f/∂{r.Name} = {r.Hand.Text} differs (largest relative error {G(r.MaxError, 3)} at {PointText(f.Variables, points[r.WorstPoint])})"
                : $"∂f/∂{r.Name} = {r.Hand.Text} differs from libtorch (largest relative error {G(r.MaxErrorTorch, 3)})");
        w.WriteLine($"FAILED: {string.Join("; ", failed)}");
    }

    private static void WriteJson(TextWriter stdout, CheckOptions o, Expression f, Row[] rows, List<Dictionary<string, double>> points,
        double[,] auto, double[,] hand, double[,] central, double[,] torch, bool random, double low, double high, ulong seed, bool passed)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteBoolean("passed", passed);
            w.WriteNumber("tolerance", Tolerance);
            w.WriteNumber("points", points.Count);
            if (random)
            {
                w.WriteNumber("seed", seed);
                w.WriteStartArray("range");
                w.WriteNumberValue(low);
                w.WriteNumberValue(high);
                w.WriteEndArray();
            }
            w.WriteStartArray("variables");
            for (int k = 0; k < rows.Length; k++)
            {
                Row r = rows[k];
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("hand", r.Hand.Text);
                w.WriteString("verdict", r.Verdict);
                int i = r.WorstPoint;
                Number(w, "max_relative_error", r.Compared > 0 ? r.MaxError : null);
                if (i >= 0)
                {
                    w.WriteStartObject("at");
                    foreach (string v in f.Variables) Number(w, v, points[i][v]);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("at");
                }
                Number(w, "autodiff", i >= 0 ? auto[i, k] : null);
                Number(w, "hand_value", i >= 0 ? hand[i, k] : null);
                Number(w, "central_difference", i >= 0 ? central[i, k] : null);
                Number(w, "max_relative_error_central", r.Compared > 0 ? r.MaxErrorCentral : null);
                if (o.Torch)
                {
                    Number(w, "torch", i >= 0 ? torch[i, k] : null);
                    Number(w, "max_relative_error_torch", r.Compared > 0 ? r.MaxErrorTorch : null);
                }
                w.WriteNumber("not_compared", r.NotCompared);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>A number; NaN and ±∞ as the strings "NaN", "Infinity", "-Infinity"; null as null.</summary>
    private static void Number(Utf8JsonWriter w, string name, double? v)
    {
        if (v is not { } x) w.WriteNull(name);
        else if (double.IsFinite(x)) w.WriteNumber(name, x);
        else w.WriteString(name, double.IsNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity");
    }
}
