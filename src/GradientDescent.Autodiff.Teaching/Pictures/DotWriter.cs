using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A tape in Graphviz's DOT language, for <c>dot -Tsvg</c>, <c>dot -Tpng</c> or any DOT viewer: one box per node
/// with the text of <see cref="LayoutNode.Lines"/>, one arrow per input, left to right.
/// </summary>
/// <remarks>
/// Legend: ops are blue rounded boxes, parameters orange boxes with a bold border, constants grey dashed boxes.
/// Arrows into an op that is not symmetric in its inputs (a − b, a / b, M v) carry the input position as a head label.
/// The output is deterministic: nodes are <c>n{id}</c> with the tape's ids, in tape order, numbers in invariant
/// culture; Graphviz's SVG keeps the ids <c>node-{id}</c> and <c>edge-{from}-{to}</c> of <see cref="SvgWriter"/>.
/// </remarks>
public static class DotWriter
{
    /// <summary>The DOT of <paramref name="tape"/> (all of it, or what reaches <see cref="PictureOptions.Output"/>).</summary>
    /// <exception cref="ArgumentException">The graph has more nodes than <see cref="PictureOptions.NodeLimit"/>.</exception>
    public static string Write(Tape tape, PictureOptions? options = null) => Write(GraphLayout.Create(tape, options));

    /// <summary>The DOT of an already laid-out picture (its boxes and arrows; Graphviz places them itself).</summary>
    public static string Write(GraphLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("digraph tape {");
        sb.AppendLine("  graph [rankdir=LR, nodesep=0.25, ranksep=0.6];");
        sb.AppendLine(c, $"  node [shape=box, style=filled, fontname={Quote("DejaVu Sans Mono,monospace")}, fontsize=10, margin=\"0.12,0.06\"];");
        sb.AppendLine(c, $"  edge [color={Quote(Palette.EdgeColour)}, fontname={Quote("DejaVu Sans Mono,monospace")}, fontsize=9, arrowsize=0.7];");
        foreach (LayoutNode node in layout.Nodes)
        {
            string style = node.Kind switch
            {
                NodeKind.Parameter => "filled,bold",
                NodeKind.Constant => "filled,dashed",
                _ => "rounded,filled",
            };
            // \l ends a left-justified line in a DOT label.
            string label = string.Concat(node.Lines.Select(line => Escape(line) + "\\l"));
            sb.AppendLine(c,
                $"  n{node.Id} [id=\"node-{node.Id}\", class=\"node {Palette.ClassOf(node.Kind)}\", label=\"{label}\", style=\"{style}\", fillcolor=\"{Palette.Fill(node.Kind)}\", color=\"{Palette.Stroke(node.Kind)}\"];");
        }
        foreach (LayoutEdge edge in layout.Edges)
        {
            string head = edge.Label is null ? "" : $", headlabel={Quote(edge.Label)}";
            sb.AppendLine(c, $"  n{edge.From} -> n{edge.To} [id=\"{edge.Id}\", class=\"edge\"{head}];");
        }
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Quote(string text) => "\"" + Escape(text) + "\"";

    /// <summary>
    /// Text inside a DOT double-quoted string: backslash and quote escaped (so a user's backslash is never read as
    /// one of DOT's label escapes \n, \l, \N), line breaks and other control characters replaced.
    /// </summary>
    internal static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text)
        {
            sb.Append(ch switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                _ when char.IsControl(ch) => "\uFFFD",
                _ => ch.ToString(),
            });
        }
        return sb.ToString();
    }
}
