using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff;

/// <summary>
/// Checks the gradient of any scalar function of parameters: autodiff against central finite differences and,
/// optionally, against a gradient derived by hand.
/// </summary>
/// <remarks>
/// <para>Central differences: ∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ, with the step chosen per element as
/// hᵢ = ε^(1/3)·max(1, |xᵢ|) ≈ 6.06·10⁻⁶·max(1, |xᵢ|) (ε = 2⁻⁵², the float64 machine epsilon). That step balances
/// the truncation error, O(h²·f‴), against the rounding error, O(ε·|f|/h): both are about ε^(2/3) ≈ 4·10⁻¹¹
/// relative for a well-scaled f, far below the default tolerance of 10⁻⁶.</para>
/// <para>An element passes when |autodiff − reference| ≤ <see cref="GradientCheckOptions.AbsoluteTolerance"/> or
/// |autodiff − reference| / max(|autodiff|, |reference|) ≤ <see cref="GradientCheckOptions.RelativeTolerance"/>.</para>
/// <para>Parameters' values and accumulated gradients are restored when the check returns or throws.</para>
/// </remarks>
public static class GradientCheck
{
    /// <summary>
    /// Evaluates <paramref name="loss"/> (which must record its computation on the tape it is given and return a
    /// scalar of that tape) and compares its gradient with respect to each of <paramref name="parameters"/>.
    /// </summary>
    public static GradientCheckReport Run(Func<Tape, Scalar> loss, IEnumerable<Parameter> parameters, GradientCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new GradientCheckOptions();
        Parameter[] ps = [.. parameters];
        if (ps.Length == 0) throw new ArgumentException("GradientCheck: no parameters to check.", nameof(parameters));

        var savedGrads = ps.Select(p => (double[])p.Grad.Clone()).ToArray();
        var tape = new Tape();
        try
        {
            foreach (var p in ps) p.ZeroGrad();
            Scalar l = Evaluate(loss, tape);
            double value = l.Value;
            l.Backward();
            var checks = new ParameterCheck[ps.Length];
            for (int k = 0; k < ps.Length; k++)
            {
                Parameter p = ps[k];
                double[] autodiff = (double[])p.Grad.Clone();
                double[] numeric = new double[autodiff.Length];
                for (int e = 0; e < numeric.Length; e++)
                {
                    double x = p.Value[e];
                    double h = options.StepScale * Math.Max(1, Math.Abs(x));
                    try
                    {
                        p.Value[e] = x + h;
                        double up = EvaluateValue(loss, tape);
                        p.Value[e] = x - h;
                        double down = EvaluateValue(loss, tape);
                        // The step actually taken, (x + h) − (x − h), can differ from 2h by rounding.
                        numeric[e] = (up - down) / ((x + h) - (x - h));
                    }
                    finally
                    {
                        p.Value[e] = x;
                    }
                }
                double[]? hand = options.HandDerived?.Invoke(p);
                if (hand is not null && hand.Length != autodiff.Length)
                {
                    throw new ArgumentException(
                        $"GradientCheck: the hand-derived gradient for {p.Name} has {hand.Length} elements; {p.Name} has shape {p.Shape} ({autodiff.Length} elements).");
                }
                checks[k] = new ParameterCheck(
                    p.Name, p.Shape, autodiff, numeric, hand,
                    ErrorSummary.Compare(autodiff, numeric, options),
                    hand is null ? null : ErrorSummary.Compare(autodiff, hand, options));
            }
            return new GradientCheckReport(value, checks, options);
        }
        finally
        {
            for (int k = 0; k < ps.Length; k++) savedGrads[k].CopyTo(ps[k].Grad, 0);
        }
    }

    private static Scalar Evaluate(Func<Tape, Scalar> loss, Tape tape)
    {
        tape.Clear();
        Scalar l = loss(tape);
        if (!ReferenceEquals(l.Tape, tape))
        {
            throw new InvalidOperationException("GradientCheck: the loss function must record on the tape it is given and return a scalar of that tape.");
        }
        return l;
    }

    private static double EvaluateValue(Func<Tape, Scalar> loss, Tape tape)
    {
        using (tape.NoGrad()) return Evaluate(loss, tape).Value;
    }
}

/// <summary>Settings of <see cref="GradientCheck.Run"/>.</summary>
public sealed record GradientCheckOptions
{
    /// <summary>Pass when |a − b| / max(|a|, |b|) is at most this; default 10⁻⁶ (central differences are good to ~10⁻¹⁰).</summary>
    public double RelativeTolerance { get; init; } = 1e-6;

    /// <summary>Pass when |a − b| is at most this (for gradients near zero); default 10⁻⁸.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-8;

    /// <summary>The step hᵢ = StepScale·max(1, |xᵢ|); default ε^(1/3) ≈ 6.06·10⁻⁶.</summary>
    public double StepScale { get; init; } = Math.Cbrt(Math.Pow(2, -52));

    /// <summary>A gradient derived by hand for a parameter, compared with autodiff too; null for none, or a null result to skip that parameter.</summary>
    public Func<Parameter, double[]?>? HandDerived { get; init; }
}

/// <summary>The largest disagreement between autodiff and a reference over one parameter's elements.</summary>
/// <param name="MaxAbsolute">max |autodiff − reference|.</param>
/// <param name="MaxRelative">max |autodiff − reference| / max(|autodiff|, |reference|) (0 where both are 0).</param>
/// <param name="WorstIndex">
/// The element with the largest relative error (row-major: element (i, j) of an r × c matrix is i·c + j; the report
/// names it "(i, j)") among those outside the tolerance, or among all
/// elements when every one passes: a failed check always points at a failing element, never at a near-zero one
/// whose large relative error the absolute tolerance admits.
/// </param>
/// <param name="Autodiff">Autodiff's value at the worst element.</param>
/// <param name="Reference">The reference value at the worst element.</param>
/// <param name="Passed">Whether every element is within tolerance.</param>
public readonly record struct ErrorSummary(double MaxAbsolute, double MaxRelative, int WorstIndex, double Autodiff, double Reference, bool Passed)
{
    internal static ErrorSummary Compare(double[] autodiff, double[] reference, GradientCheckOptions options)
    {
        double maxAbs = 0, maxRel = 0, worstRel = -1;
        int worst = 0;
        bool passed = true;
        for (int k = 0; k < autodiff.Length; k++)
        {
            double a = autodiff[k], r = reference[k];
            double abs = Math.Abs(a - r);
            double scale = Math.Max(Math.Abs(a), Math.Abs(r));
            double rel = abs == 0 ? 0 : abs / scale;
            if (double.IsNaN(abs)) rel = abs = double.PositiveInfinity;
            if (abs > maxAbs) maxAbs = abs;
            if (rel > maxRel) maxRel = rel;
            bool fails = !(abs <= options.AbsoluteTolerance || rel <= options.RelativeTolerance);
            // The first failing element outranks every passing one; then the larger relative error wins.
            if ((fails && passed) || (fails == !passed && rel > worstRel))
            {
                worstRel = rel;
                worst = k;
            }
            if (fails) passed = false;
        }
        return new ErrorSummary(maxAbs, maxRel, worst, autodiff[worst], reference[worst], passed);
    }
}

/// <summary>The check of one parameter.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Shape">The parameter's shape.</param>
/// <param name="Autodiff">∂f/∂p from backward.</param>
/// <param name="Numeric">∂f/∂p from central differences.</param>
/// <param name="HandDerived">The hand-derived gradient, if one was given.</param>
/// <param name="VersusNumeric">Autodiff against central differences.</param>
/// <param name="VersusHandDerived">Autodiff against the hand-derived gradient, if one was given.</param>
public sealed record ParameterCheck(
    string Name, Shape Shape, double[] Autodiff, double[] Numeric, double[]? HandDerived,
    ErrorSummary VersusNumeric, ErrorSummary? VersusHandDerived)
{
    /// <summary>Whether both comparisons passed.</summary>
    public bool Passed => VersusNumeric.Passed && (VersusHandDerived?.Passed ?? true);
}

/// <summary>The result of <see cref="GradientCheck.Run"/>: per parameter, the worst errors and a verdict.</summary>
public sealed class GradientCheckReport
{
    internal GradientCheckReport(double loss, IReadOnlyList<ParameterCheck> parameters, GradientCheckOptions options)
    {
        Loss = loss;
        Parameters = parameters;
        Options = options;
    }

    /// <summary>f at the parameters' current values.</summary>
    public double Loss { get; }

    /// <summary>One entry per parameter, in the order given.</summary>
    public IReadOnlyList<ParameterCheck> Parameters { get; }

    /// <summary>The tolerances used.</summary>
    public GradientCheckOptions Options { get; }

    /// <summary>Whether every parameter passed.</summary>
    public bool Passed => Parameters.All(p => p.Passed);

    /// <summary>
    /// A table: parameter, max abs/rel error against each reference, worst element ("[k]" of a vector, "(row, col)" of
    /// a matrix), verdict.
    /// </summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Gradient check of f = {Loss:G10} (pass: abs ≤ {Options.AbsoluteTolerance:G3} or rel ≤ {Options.RelativeTolerance:G3})");
        sb.AppendLine("parameter        reference     max abs err   max rel err   worst     autodiff          reference         verdict");
        foreach (var p in Parameters)
        {
            Row(sb, c, p.Name, p.Shape, "finite diff", p.VersusNumeric);
            if (p.VersusHandDerived is { } hand) Row(sb, c, p.Name, p.Shape, "hand-derived", hand);
        }
        sb.Append(Passed ? "PASSED" : "FAILED");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, CultureInfo c, string name, Shape shape, string reference, ErrorSummary e) =>
        sb.AppendLine(c, $"{name,-16} {reference,-13} {e.MaxAbsolute,-13:E3} {e.MaxRelative,-13:E3} {Element(shape, e.WorstIndex),-9} {e.Autodiff,-17:G10} {e.Reference,-17:G10} {(e.Passed ? "ok" : "FAIL")}");

    /// <summary>Row-major element <paramref name="k"/> as a reader names it: "-" (a scalar), "[k]", or "(row, col)".</summary>
    private static string Element(Shape shape, int k) => shape.Kind switch
    {
        ShapeKind.Scalar => "-",
        ShapeKind.Vector => $"[{k}]",
        _ => $"({k / shape.Cols}, {k % shape.Cols})",
    };
}
