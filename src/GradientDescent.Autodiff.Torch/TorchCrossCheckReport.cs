using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// The largest disagreement between this library (a) and libtorch (t) over the elements of one array (or, in
/// <see cref="ParameterComparison.VersusHandDerived"/>, between this library and a hand-derived gradient, then in t).
/// </summary>
/// <param name="MaxAbsolute">max |a − t|.</param>
/// <param name="MaxRelative">max |a − t| / max(|a|, |t|) (0 where a = t).</param>
/// <param name="Ratio">
/// max |a − t| / max(absolute tolerance · max(1, s), relative tolerance · max(|a|, |t|)), s the array's largest finite
/// magnitude: each element's error as a fraction of what it is allowed (<see cref="TorchCrossCheckOptions"/>); the
/// array agrees when this is at most 1.
/// </param>
/// <param name="WorstIndex">
/// The element with the largest <paramref name="Ratio"/>, row-major: element (i, j) of an r × c matrix is i·c + j (the
/// report names it "(i, j)").
/// </param>
/// <param name="Autodiff">This library's value at the worst element.</param>
/// <param name="Torch">Libtorch's value at the worst element.</param>
public readonly record struct Discrepancy(double MaxAbsolute, double MaxRelative, double Ratio, int WorstIndex, double Autodiff, double Torch)
{
    /// <summary>Whether every element agrees within tolerance.</summary>
    public bool Passed => Ratio <= 1;

    /// <summary>Compares two arrays of equal length under the options' tolerance.</summary>
    internal static Discrepancy Compare(ReadOnlySpan<double> autodiff, ReadOnlySpan<double> torch, TorchCrossCheckOptions options)
    {
        if (autodiff.Length != torch.Length)
        {
            throw new InvalidOperationException($"Discrepancy: {autodiff.Length} elements against {torch.Length}.");
        }
        // The absolute floor scales with the array's magnitude (its largest finite element, at least 1).
        double size = 1;
        for (int k = 0; k < autodiff.Length; k++)
        {
            double m = Math.Max(Math.Abs(autodiff[k]), Math.Abs(torch[k]));
            if (m > size && double.IsFinite(m)) size = m;
        }
        double floor = options.AbsoluteTolerance * size;
        double maxAbs = 0, maxRel = 0, maxRatio = 0;
        int worst = 0;
        for (int k = 0; k < autodiff.Length; k++)
        {
            double a = autodiff[k], t = torch[k];
            double abs = 0, rel = 0, ratio = 0;
            if (!a.Equals(t))
            {
                abs = Math.Abs(a - t);
                double scale = Math.Max(Math.Abs(a), Math.Abs(t));
                rel = abs / scale;
                ratio = abs / Math.Max(floor, options.RelativeTolerance * scale);
                if (double.IsNaN(abs) || double.IsNaN(rel) || double.IsNaN(ratio)) abs = rel = ratio = double.PositiveInfinity;
            }
            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, rel);
            if (ratio > maxRatio)
            {
                maxRatio = ratio;
                worst = k;
            }
        }
        return new Discrepancy(maxAbs, maxRel, maxRatio, worst, autodiff.IsEmpty ? 0 : autodiff[worst], torch.IsEmpty ? 0 : torch[worst]);
    }
}

/// <summary>One node of the graph compared with its libtorch replay.</summary>
/// <param name="Id">The node's id on the tape.</param>
/// <param name="Op">The operation.</param>
/// <param name="Name">The op as shown in reports ("Sigmoid", "Custom cube", "Parameter w").</param>
/// <param name="Shape">The node's shape.</param>
/// <param name="Value">The node's value against libtorch's; null when not compared (a stand-in).</param>
/// <param name="Gradient">∂L/∂node against libtorch's; null when no gradient flows into the node, node gradients are not compared, or torch's is incomplete.</param>
/// <param name="NotChecked">Why part of the node could not be cross-checked, or null.</param>
public sealed record NodeComparison(int Id, OpKind Op, string Name, Shape Shape, Discrepancy? Value, Discrepancy? Gradient, string? NotChecked)
{
    /// <summary>Whether the node was fully checked and agreed.</summary>
    public bool Passed => NotChecked is null && (Value?.Passed ?? true) && (Gradient?.Passed ?? true);

    /// <summary>The larger of the value's and the gradient's <see cref="Discrepancy.Ratio"/> (0 if neither was compared).</summary>
    public double Ratio => Math.Max(Value?.Ratio ?? 0, Gradient?.Ratio ?? 0);
}

/// <summary>One parameter's gradient compared with libtorch's.</summary>
/// <param name="Parameter">The parameter.</param>
/// <param name="Autodiff">∂L/∂p from this library.</param>
/// <param name="Torch">∂L/∂p from libtorch (summed over the parameter's leaves).</param>
/// <param name="Gradient">The comparison.</param>
/// <param name="NotChecked">Why the gradient could not be cross-checked (part of it flows through a stand-in), or null.</param>
/// <param name="HandDerived">The hand-derived gradient (<see cref="TorchCrossCheckOptions.HandDerived"/>), or null.</param>
/// <param name="VersusHandDerived">
/// This library's gradient against <paramref name="HandDerived"/> (its <see cref="Discrepancy.Torch"/> is the hand value),
/// under the same tolerance; null without a hand-derived gradient.
/// </param>
public sealed record ParameterComparison(
    Parameter Parameter, double[] Autodiff, double[] Torch, Discrepancy Gradient, string? NotChecked,
    double[]? HandDerived = null, Discrepancy? VersusHandDerived = null)
{
    /// <summary>Whether the gradient was checked against libtorch and agreed, and agreed with the hand-derived one if given.</summary>
    public bool Passed => NotChecked is null && Gradient.Passed && (VersusHandDerived?.Passed ?? true);
}

/// <summary>
/// The result of <see cref="TorchCrossCheck"/>: every node's value and gradient and every parameter's gradient
/// against libtorch's, the worst node, and a verdict.
/// </summary>
public sealed class TorchCrossCheckReport
{
    internal TorchCrossCheckReport(
        double loss, double torchLoss, IReadOnlyList<NodeComparison> nodes, IReadOnlyList<ParameterComparison> parameters, TorchCrossCheckOptions options)
    {
        Loss = loss;
        TorchLoss = torchLoss;
        Nodes = nodes;
        Parameters = parameters;
        Options = options;
    }

    /// <summary>The loss from this library.</summary>
    public double Loss { get; }

    /// <summary>The loss from libtorch's replay.</summary>
    public double TorchLoss { get; }

    /// <summary>Every node of the tape, in order.</summary>
    public IReadOnlyList<NodeComparison> Nodes { get; }

    /// <summary>One entry per parameter checked, in the order given.</summary>
    public IReadOnlyList<ParameterComparison> Parameters { get; }

    /// <summary>The tolerance and settings used.</summary>
    public TorchCrossCheckOptions Options { get; }

    /// <summary>The node with the largest error relative to its tolerance (<see cref="NodeComparison.Ratio"/>), or null for an empty tape.</summary>
    public NodeComparison? WorstNode => Nodes.Count == 0 ? null : Nodes.MaxBy(n => n.Ratio);

    /// <summary>Nodes that could not be fully cross-checked (custom ops without a TorchSharp equivalent, and what flows into them).</summary>
    public IReadOnlyList<NodeComparison> NotChecked => Nodes.Where(n => n.NotChecked is not null).ToList();

    /// <summary>Whether every node and every parameter was checked and agreed.</summary>
    public bool Passed => Nodes.All(n => n.Passed) && Parameters.All(p => p.Passed);

    /// <summary>
    /// A table: the parameters' gradient errors against libtorch (and the hand-derived gradient, if given), the worst
    /// node, every failing or unchecked node, and the verdict. A worst element is "[k]" of a vector, "(row, col)" of a
    /// matrix.
    /// </summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"TorchSharp cross-check of L = {Loss:G10} (libtorch {TorchLoss:G10}); {Nodes.Count} nodes, {Parameters.Count} parameters");
        sb.AppendLine(c, $"agreement: |a − t|/max(|a|, |t|) ≤ {Options.RelativeTolerance:G3} or |a − t| ≤ {Options.AbsoluteTolerance:G3}·max(1, largest |element| of the node)");
        sb.AppendLine("parameter        shape       reference     max abs err  max rel err  worst     autodiff            reference           verdict");
        foreach (var p in Parameters)
        {
            Discrepancy e = p.Gradient;
            Shape shape = p.Parameter.Shape;
            if (p.NotChecked is not null)
            {
                // Torch's gradient is incomplete here, so the difference means nothing: show none.
                sb.AppendLine(c, $"{p.Parameter.Name,-16} {shape,-11} {"libtorch",-13} {"-",-12} {"-",-12} {"-",-9} {e.Autodiff,-19:G12} {"-",-19} NOT CHECKED");
            }
            else
            {
                Row(sb, p.Parameter.Name, shape, "libtorch", e);
            }
            if (p.VersusHandDerived is { } hand) Row(sb, p.Parameter.Name, shape, "hand-derived", hand);
        }
        if (WorstNode is { } worst)
        {
            sb.AppendLine(worst.Ratio == 0 ? "worst node: none, every value and gradient compared agrees to the last bit" : $"worst node: {Describe(worst)}");
        }
        var failing = Nodes.Where(n => n.NotChecked is null && !n.Passed).ToList();
        foreach (var n in failing.Take(20)) sb.AppendLine(c, $"FAIL {Describe(n)}");
        if (failing.Count > 20) sb.AppendLine(c, $"… and {failing.Count - 20} more failing nodes");
        var standIns = Nodes.Where(n => n.NotChecked is not null && n.Value is null).ToList();
        foreach (var n in standIns) sb.AppendLine(c, $"NOT CHECKED %{n.Id} {n.Name} {n.Shape}: {n.NotChecked}");
        int incomplete = Nodes.Count(n => n.NotChecked is not null && n.Value is not null);
        if (incomplete > 0) sb.AppendLine(c, $"NOT CHECKED: the gradients of {incomplete} node(s) flow through the node(s) above, so torch cannot give them");
        sb.Append(Passed ? "PASSED" : standIns.Count > 0 ? "FAILED (not everything could be cross-checked)" : "FAILED");
        return sb.ToString();
    }

    /// <summary>Every node: id, op, shape, value and gradient errors (max relative, and as a fraction of the tolerance).</summary>
    public string FormatNodes()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("node   op                           shape       value rel err  grad rel err   of tolerance  verdict");
        foreach (var n in Nodes)
        {
            string value = n.Value is { } v ? v.MaxRelative.ToString("E2", c) : "-";
            string grad = n.Gradient is { } g ? g.MaxRelative.ToString("E2", c) : "-";
            string verdict = n.NotChecked is not null ? "NOT CHECKED" : n.Passed ? "ok" : "FAIL";
            sb.AppendLine(c, $"%{n.Id,-5} {n.Name,-28} {n.Shape,-11} {value,-14} {grad,-14} {n.Ratio,-13:G3} {verdict}");
        }
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string name, Shape shape, string reference, Discrepancy e) =>
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"{name,-16} {shape,-11} {reference,-13} {e.MaxAbsolute,-12:E2} {e.MaxRelative,-12:E2} {Element(shape, e.WorstIndex),-9} {e.Autodiff,-19:G12} {e.Torch,-19:G12} {(e.Passed ? "ok" : "FAIL")}");

    /// <summary>
    /// Row-major element <paramref name="k"/> as a reader names it: "-" (a scalar), "[k]", or "(row, col)". (The core's
    /// gradient check report has the same rule.)
    /// </summary>
    internal static string Element(Shape shape, int k) => shape.Kind switch
    {
        ShapeKind.Scalar => "-",
        ShapeKind.Vector => $"[{k}]",
        _ => $"({k / shape.Cols}, {k % shape.Cols})",
    };

    /// <summary>" (row, col)" or " [k]" after "worst"; nothing for a scalar.</summary>
    private static string At(Shape shape, int k) => shape.Kind == ShapeKind.Scalar ? string.Empty : " " + Element(shape, k);

    private static string Describe(NodeComparison n)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"%{n.Id} {n.Name} {n.Shape}");
        if (n.Value is { } v)
        {
            sb.Append(c, $"; value max abs {v.MaxAbsolute:E2}, max rel {v.MaxRelative:E2}, worst{At(n.Shape, v.WorstIndex)} {v.Autodiff:G17} vs {v.Torch:G17}");
        }
        if (n.Gradient is { } g)
        {
            sb.Append(c, $"; gradient max abs {g.MaxAbsolute:E2}, max rel {g.MaxRelative:E2}, worst{At(n.Shape, g.WorstIndex)} {g.Autodiff:G17} vs {g.Torch:G17}");
        }
        sb.Append(c, $"; {n.Ratio:G3} of tolerance");
        return sb.ToString();
    }
}
