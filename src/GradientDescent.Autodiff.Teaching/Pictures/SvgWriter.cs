using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A tape as an SVG picture, laid out by <see cref="GraphLayout"/>: nothing to install (no Graphviz), one
/// self-contained file (styles inside, fonts from a monospace family stack), deterministic digit for digit.
/// </summary>
/// <remarks>
/// <para>Legend: an <b>op</b> is a blue box with rounded corners; a <b>parameter</b> (what training changes) an orange
/// box with a thick border; <b>constant</b> data a grey box with a dashed border. A box's first line (bold) is the
/// node's id, name and op with its inputs; then its shape and value (the first elements of a vector or matrix); after
/// a backward pass its gradient ∂L/∂node in dark red. An arrow runs from each input to the op that reads it; where the
/// op is not symmetric (a − b, a / b, M v) a small number by the arrow's head gives the input's position.</para>
/// <para>Structure, for styling and scripts: each node is <c>&lt;g id="node-{id}" class="node op|parameter|constant"&gt;</c>
/// holding a <c>rect</c> and one <c>text</c> per line; each arrow is <c>&lt;g id="edge-{from}-{to}" class="edge"&gt;</c>
/// holding a <c>path</c> (and a <c>text</c> for the position).</para>
/// </remarks>
public static class SvgWriter
{
    /// <summary>The SVG of <paramref name="tape"/> (all of it, or what reaches <see cref="PictureOptions.Output"/>).</summary>
    /// <exception cref="ArgumentException">The graph has more nodes than <see cref="PictureOptions.NodeLimit"/>.</exception>
    public static string Write(Tape tape, PictureOptions? options = null) => Write(GraphLayout.Create(tape, options));

    /// <summary>The SVG of a laid-out picture.</summary>
    public static string Write(GraphLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        string w = Palette.Num(layout.Width), h = Palette.Num(layout.Height);
        sb.AppendLine(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"autodiff-graph\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{Palette.Xml(Palette.FontFamily)}\" font-size=\"{Palette.Num(GraphLayout.FontSize)}\">");
        sb.AppendLine(c, $"<title>Autodiff graph: {layout.Nodes.Count} nodes, {layout.Edges.Count} edges</title>");
        sb.AppendLine("<style>");
        foreach (NodeKind kind in Enum.GetValues<NodeKind>())
        {
            sb.AppendLine(c, $".node.{Palette.ClassOf(kind)} rect {{ fill: {Palette.Fill(kind)}; stroke: {Palette.Stroke(kind)}; }}");
        }
        sb.AppendLine(".node rect { stroke-width: 1.2; }");
        sb.AppendLine(".node.parameter rect { stroke-width: 2.4; }");
        sb.AppendLine(".node.constant rect { stroke-dasharray: 4 3; }");
        sb.AppendLine(".node text { fill: #1f1f1f; white-space: pre; }");
        sb.AppendLine(".node text.head { font-weight: bold; }");
        sb.AppendLine(c, $".node text.grad {{ fill: {Palette.GradientColour}; }}");
        sb.AppendLine(c, $".edge path {{ fill: none; stroke: {Palette.EdgeColour}; stroke-width: 1.2; }}");
        sb.AppendLine(c, $".edge text {{ fill: {Palette.EdgeColour}; font-size: {Palette.Num(GraphLayout.LabelFontSize)}px; }}");
        sb.AppendLine("</style>");
        sb.AppendLine("<defs>");
        sb.AppendLine(c, $"<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{Palette.EdgeColour}\"/></marker>");
        sb.AppendLine("</defs>");

        sb.AppendLine("<g class=\"edges\">");
        foreach (LayoutEdge edge in layout.Edges) WriteEdge(sb, edge);
        sb.AppendLine("</g>");
        sb.AppendLine("<g class=\"nodes\">");
        foreach (LayoutNode node in layout.Nodes) WriteNode(sb, node);
        sb.AppendLine("</g>");
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static void WriteNode(StringBuilder sb, LayoutNode node)
    {
        var c = CultureInfo.InvariantCulture;
        LayoutRect box = node.Box;
        double radius = node.Kind == NodeKind.Op ? 6 : 0;
        sb.AppendLine(c, $"<g id=\"node-{node.Id}\" class=\"node {Palette.ClassOf(node.Kind)}\">");
        sb.AppendLine(c, $"<title>{Palette.Xml(string.Join("\n", node.Lines))}</title>");
        sb.AppendLine(c, $"<rect x=\"{Palette.Num(box.X)}\" y=\"{Palette.Num(box.Y)}\" width=\"{Palette.Num(box.Width)}\" height=\"{Palette.Num(box.Height)}\" rx=\"{Palette.Num(radius)}\"/>");
        for (int k = 0; k < node.Lines.Count; k++)
        {
            string line = node.Lines[k];
            LayoutRect t = node.TextBox(k);
            string cls = k switch { 0 => "head", 1 => "value", _ => "grad" };
            // textLength pins the drawn width to the measured one, so a fallback font can never overflow the box.
            double baseline = t.Y + GraphLayout.LineHeight * 0.75;
            sb.AppendLine(c, $"<text class=\"{cls}\" x=\"{Palette.Num(t.X)}\" y=\"{Palette.Num(baseline)}\" textLength=\"{Palette.Num(t.Width)}\" lengthAdjust=\"spacingAndGlyphs\">{Palette.Xml(line)}</text>");
        }
        sb.AppendLine("</g>");
    }

    private static void WriteEdge(StringBuilder sb, LayoutEdge edge)
    {
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"<g id=\"{edge.Id}\" class=\"edge\">");
        sb.AppendLine(c, $"<path d=\"{PathData(edge.Points)}\" marker-end=\"url(#arrow)\"/>");
        if (edge.Label is not null && edge.LabelBox is LayoutRect label)
        {
            sb.AppendLine(c, $"<text x=\"{Palette.Num(label.X)}\" y=\"{Palette.Num(label.Bottom - 2)}\">{Palette.Xml(edge.Label)}</text>");
        }
        sb.AppendLine("</g>");
    }

    /// <summary>
    /// Straight lines for the horizontal runs inside columns; across a gap between columns a cubic with horizontal
    /// tangents at both ends, whose x stays between the two columns (so the curve, like the line, meets no box).
    /// </summary>
    internal static string PathData(IReadOnlyList<LayoutPoint> points)
    {
        var sb = new StringBuilder();
        sb.Append('M').Append(Palette.Num(points[0].X)).Append(' ').Append(Palette.Num(points[0].Y));
        for (int k = 1; k < points.Count; k++)
        {
            LayoutPoint a = points[k - 1], b = points[k];
            if (a.Y == b.Y)
            {
                sb.Append(" L").Append(Palette.Num(b.X)).Append(' ').Append(Palette.Num(b.Y));
                continue;
            }
            double mid = (a.X + b.X) / 2;
            sb.Append(" C").Append(Palette.Num(mid)).Append(' ').Append(Palette.Num(a.Y))
              .Append(' ').Append(Palette.Num(mid)).Append(' ').Append(Palette.Num(b.Y))
              .Append(' ').Append(Palette.Num(b.X)).Append(' ').Append(Palette.Num(b.Y));
        }
        return sb.ToString();
    }
}
