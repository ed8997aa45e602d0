using System.Globalization;
using System.Text;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// One self-contained HTML page for a lecture: the graph (the SVG of <see cref="SvgWriter"/>, inline) above the
/// chain rule step by step (the table of a <see cref="BackwardTrace"/>). Choosing a step — a click on its row, or the
/// arrow keys — highlights its node in red, the arrows from its inputs and the inputs themselves in green, and
/// writes the step's chain rule under the graph. No network: styles and script are inside the file.
/// </summary>
/// <remarks>
/// Open <c>page.html#step=3</c> to start at step 3. The script marks <c>&lt;body data-page-ready="yes"&gt;</c> once it
/// has wired everything, and writes any script error into <c>#script-errors</c> (the browser test reads both).
/// </remarks>
public static class HtmlPage
{
    /// <summary>
    /// The page for <paramref name="tape"/> after <see cref="BackwardTrace.Record"/> (or any backward pass): the graph,
    /// and the steps of <paramref name="trace"/> (null for the graph alone).
    /// </summary>
    /// <param name="tape">The tape the trace was recorded on.</param>
    /// <param name="trace">The backward trace to show beside the graph, or null.</param>
    /// <param name="options">What the graph shows (default: all of it).</param>
    /// <param name="title">The page's title (default "Backpropagation, step by step").</param>
    /// <param name="tables">Tables of text to show under the steps (a hand derivation beside backward's numbers), or null.</param>
    /// <exception cref="ArgumentException">
    /// The graph has more nodes than <see cref="PictureOptions.NodeLimit"/>, or a table's row has the wrong number of cells.
    /// </exception>
    public static string Write(Tape tape, BackwardTrace? trace, PictureOptions? options = null, string? title = null, IReadOnlyList<PageTable>? tables = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        foreach (PageTable table in tables ?? []) table.Validate();
        GraphLayout layout = GraphLayout.Create(tape, options);
        title ??= "Backpropagation, step by step";
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html>");
        sb.AppendLine("<html lang=\"en\">");
        sb.AppendLine("<head>");
        sb.AppendLine("<meta charset=\"utf-8\">");
        sb.AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.AppendLine(c, $"<title>{Palette.Xml(title)}</title>");
        sb.AppendLine("<style>");
        sb.Append(Css);
        sb.AppendLine("</style>");
        sb.AppendLine("</head>");
        sb.AppendLine("<body>");
        sb.AppendLine(c, $"<header><h1>{Palette.Xml(title)}</h1>");
        sb.AppendLine(c, $"<p class=\"summary\">{layout.Nodes.Count} nodes, {layout.Edges.Count} edges{(trace is null ? "" : string.Create(c, $"; loss L = {Number(trace.Loss)}, {trace.Steps.Count} backward steps"))}.</p>");
        sb.AppendLine("<ul class=\"legend\">");
        sb.AppendLine("<li><span class=\"swatch op\"></span>operation</li>");
        sb.AppendLine("<li><span class=\"swatch parameter\"></span>parameter</li>");
        sb.AppendLine("<li><span class=\"swatch constant\"></span>constant</li>");
        sb.AppendLine("<li><span class=\"grad\">∂L/∂x</span> gradient after backward</li>");
        if (trace is not null)
        {
            sb.AppendLine("<li><span class=\"swatch selected\"></span>the step's node</li>");
            sb.AppendLine("<li><span class=\"swatch input\"></span>its inputs</li>");
        }
        sb.AppendLine("</ul></header>");
        sb.AppendLine("<main>");
        sb.AppendLine("<section class=\"graph\" id=\"graph\">");
        sb.Append(SvgWriter.Write(layout));
        sb.AppendLine("</section>");
        // A second marker for highlighted arrows (url(#…) references are page-wide).
        sb.AppendLine(c, $"<svg width=\"0\" height=\"0\" aria-hidden=\"true\" style=\"position:absolute\"><defs><marker id=\"arrow-active\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"4\" markerHeight=\"4\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{ActiveColour}\"/></marker></defs></svg>");
        if (trace is not null)
        {
            sb.AppendLine("<p id=\"chain\" class=\"chain\" aria-live=\"polite\"></p>");
            WriteTable(sb, trace, layout);
        }
        foreach (PageTable table in tables ?? []) WriteTable(sb, table);
        sb.AppendLine("<pre id=\"script-errors\" class=\"errors\"></pre>");
        sb.AppendLine("</main>");
        sb.AppendLine("<script>");
        sb.Append(Script);
        sb.AppendLine("</script>");
        sb.AppendLine("</body>");
        sb.AppendLine("</html>");
        return sb.ToString();
    }

    private const string ActiveColour = "#d93025";

    private static readonly string[] Header =
        ["step", "node", "value", "∂L/∂node", "input", "∂node/∂input", "local", "contribution", "∂L/∂input so far", "use"];

    /// <summary>One row per term (the step's node cells span its rows); a step's rows carry what the script highlights.</summary>
    private static void WriteTable(StringBuilder sb, BackwardTrace trace, GraphLayout layout)
    {
        var c = CultureInfo.InvariantCulture;
        var names = trace.Steps.Where(s => s.Name is not null).ToDictionary(s => s.Node, s => s.Name!);
        // The chain-rule line names nodes by their name where it is theirs alone; micrograd's g = …; g += … gives two
        // nodes named g, which the line calls %25 and %28 instead.
        var symbols = trace.Steps.ToDictionary(s => s.Node, s => s.Name ?? (s.Op == OpKind.Parameter ? s.Label.Replace("Parameter ", "", StringComparison.Ordinal) : null));
        var shared = symbols.Values.OfType<string>().GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        string Symbol(int node) => symbols.TryGetValue(node, out string? n) && n is not null && !shared.Contains(n) ? n : $"%{node.ToString(c)}";
        sb.AppendLine("<section class=\"steps\"><table id=\"steps\">");
        sb.Append("<thead><tr>");
        foreach (string h in Header) sb.Append(c, $"<th>{Palette.Xml(h)}</th>");
        sb.AppendLine("</tr></thead>");
        for (int s = 0; s < trace.Steps.Count; s++)
        {
            TraceStep step = trace.Steps[s];
            // The arrows of this step: each term's input into this node, at the term's input position.
            var edges = step.Terms
                .Select(t => layout.Edges.FirstOrDefault(e => e.From == t.Input && e.To == step.Node && e.Position == t.Position)?.Id)
                .OfType<string>();
            string inputs = string.Join(" ", step.Terms.Select(t => t.Input.ToString(c)).Distinct());
            string nodeName = Symbol(step.Node);
            sb.AppendLine(c, $"<tbody class=\"step\" id=\"step-{s + 1}\" data-step=\"{s + 1}\" data-node=\"{step.Node}\" data-name=\"{Palette.Xml(nodeName)}\" data-edges=\"{string.Join(" ", edges)}\" data-inputs=\"{inputs}\" tabindex=\"-1\">");
            int span = Math.Max(1, step.Terms.Count);
            string nodeCells =
                $"<td rowspan=\"{span}\" class=\"num\">{s + 1}</td>" +
                $"<td rowspan=\"{span}\" class=\"node\">%{step.Node.ToString(c)} {Palette.Xml(step.Label)}</td>" +
                $"<td rowspan=\"{span}\" class=\"num\">{Show(step.Value)}</td>" +
                $"<td rowspan=\"{span}\" class=\"num up\">{Show(step.Upstream)}</td>";
            if (step.Terms.Count == 0)
            {
                string what = step.Op == OpKind.Parameter
                    ? $"∂L/∂{Palette.Xml(nodeName)} is added into {Palette.Xml(nodeName)}.Grad"
                    : "(no input takes a gradient)";
                sb.AppendLine(c, $"<tr>{nodeCells}<td colspan=\"6\" class=\"leaf\">{what}</td></tr>");
            }
            for (int k = 0; k < step.Terms.Count; k++)
            {
                TraceTerm t = step.Terms[k];
                string input = names.TryGetValue(t.Input, out string? name) ? $"%{t.Input.ToString(c)} {name}" : $"%{t.Input.ToString(c)}";
                string row =
                    $"<td class=\"input\" data-input=\"{t.Input}\" data-input-name=\"{Palette.Xml(Symbol(t.Input))}\">{Palette.Xml(input)}</td>" +
                    $"<td class=\"formula\">{Palette.Xml(t.Formula)}</td>" +
                    $"<td class=\"num local\">{(t.Local is double l ? Number(l) : "")}</td>" +
                    $"<td class=\"num contribution\">{Show(t.Contribution)}</td>" +
                    $"<td class=\"num sum\">{Show(t.RunningSum)}</td>" +
                    $"<td class=\"num\">{t.Use.ToString(c)}/{t.Uses.ToString(c)}</td>";
                sb.AppendLine(k == 0 ? $"<tr>{nodeCells}{row}</tr>" : $"<tr>{row}</tr>");
            }
            sb.AppendLine("</tbody>");
        }
        sb.AppendLine("</table></section>");
    }

    /// <summary>A <see cref="PageTable"/> as a section of its own.</summary>
    private static void WriteTable(StringBuilder sb, PageTable table)
    {
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"<section class=\"notes\"><h2>{Palette.Xml(table.Heading)}</h2><table>");
        sb.Append("<thead><tr>");
        foreach (string h in table.Columns) sb.Append(c, $"<th>{Palette.Xml(h)}</th>");
        sb.AppendLine("</tr></thead><tbody>");
        foreach (IReadOnlyList<string> row in table.Rows)
        {
            sb.Append("<tr>");
            foreach (string cell in row) sb.Append(c, $"<td>{Palette.Xml(cell)}</td>");
            sb.AppendLine("</tr>");
        }
        sb.AppendLine("</tbody></table></section>");
    }

    private static string Number(double v) => Tape.Number(v);

    private static string Show(IReadOnlyList<double> v) => Palette.Xml(Tape.Show([.. v], 4));

    private const string Css = """
        :root { --active: #d93025; --input: #188038; --ink: #1f1f1f; --muted: #5f6368; }
        * { box-sizing: border-box; }
        body { margin: 0; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; color: var(--ink); background: #fafafa; }
        header { padding: 14px 22px 8px; background: #fff; border-bottom: 1px solid #e0e0e0; }
        h1 { font-size: 20px; margin: 0 0 4px; }
        .summary { margin: 0 0 8px; color: var(--muted); font-size: 14px; }
        .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 18px; margin: 0; padding: 0; font-size: 13px; color: var(--muted); }
        .legend li { display: flex; align-items: center; gap: 6px; }
        .swatch { display: inline-block; width: 22px; height: 14px; border: 1.5px solid; border-radius: 3px; }
        .swatch.op { background: #dbe8fb; border-color: #3d6eb4; border-radius: 5px; }
        .swatch.parameter { background: #fde7c4; border-color: #c07a12; border-width: 2.5px; border-radius: 0; }
        .swatch.constant { background: #eeeeee; border-color: #8a8a8a; border-style: dashed; border-radius: 0; }
        .swatch.selected { background: #fff; border-color: var(--active); border-width: 3px; }
        .swatch.input { background: #fff; border-color: var(--input); border-width: 3px; }
        .legend .grad { color: #a50e0e; font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
        main { padding: 12px 22px 24px; }
        .graph { overflow: auto; max-height: 62vh; background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; }
        .graph svg { display: block; }
        svg.has-selection .node { opacity: 0.5; transition: opacity 0.15s; }
        svg.has-selection .edge { opacity: 0.35; }
        svg.has-selection .node.selected, svg.has-selection .node.input { opacity: 1; }
        svg.has-selection .edge.active { opacity: 1; }
        .node.selected rect { stroke: var(--active) !important; stroke-width: 3.5 !important; }
        .node.input rect { stroke: var(--input) !important; stroke-width: 3 !important; }
        .edge.active path { stroke: var(--active) !important; stroke-width: 2.6 !important; }
        .edge.active text { fill: var(--active); font-weight: bold; }
        .chain { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 14px; background: #fff; border: 1px solid #e0e0e0; border-left: 4px solid var(--active); border-radius: 4px; padding: 8px 12px; margin: 12px 0; white-space: pre-wrap; min-height: 1.5em; }
        .steps { overflow: auto; max-height: 40vh; background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; }
        table { border-collapse: collapse; font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12.5px; width: 100%; }
        th { position: sticky; top: 0; background: #f1f3f4; text-align: left; padding: 6px 10px; border-bottom: 1px solid #dadce0; font-weight: 600; white-space: nowrap; }
        td { padding: 4px 10px; border-bottom: 1px solid #f1f3f4; white-space: nowrap; vertical-align: top; }
        td.num { text-align: right; }
        td.up, td.sum { color: #a50e0e; }
        td.leaf { color: var(--muted); font-style: italic; }
        tbody.step { cursor: pointer; }
        tbody.step:hover td { background: #f8f9fa; }
        tbody.step.selected td { background: #fce8e6; }
        tbody.step.selected td.input { color: var(--input); font-weight: bold; }
        tbody.step:focus { outline: none; }
        .errors:empty { display: none; }
        .errors { color: #fff; background: #b3261e; padding: 8px 12px; border-radius: 4px; }
        .hint { color: var(--muted); font-size: 13px; }
        .notes { margin-top: 14px; background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; overflow: auto; }
        .notes h2 { font-size: 15px; margin: 10px 12px 6px; }

        """;

    private const string Script = """
        (function () {
          'use strict';
          var errors = document.getElementById('script-errors');
          window.onerror = function (message, source, line, column) {
            errors.textContent += 'script error: ' + message + ' (line ' + line + ':' + column + ')\n';
            document.body.setAttribute('data-script-errors', 'yes');
          };
          var svg = document.querySelector('#graph svg');
          var steps = Array.prototype.slice.call(document.querySelectorAll('tbody.step'));
          var chain = document.getElementById('chain');
          var graph = document.getElementById('graph');
          var table = document.querySelector('section.steps');
          var current = -1;

          function reveal(panel, element, centre) {
            if (!panel || !element) return;
            var p = panel.getBoundingClientRect(), e = element.getBoundingClientRect();
            if (centre) {
              panel.scrollLeft += (e.left + e.width / 2) - (p.left + p.width / 2);
              panel.scrollTop += (e.top + e.height / 2) - (p.top + p.height / 2);
              return;
            }
            if (e.top < p.top + 30) panel.scrollTop -= (p.top + 30) - e.top;
            else if (e.bottom > p.bottom) panel.scrollTop += e.bottom - p.bottom;
          }

          function clear() {
            svg.querySelectorAll('.selected, .input, .active').forEach(function (e) {
              e.classList.remove('selected', 'input', 'active');
              var path = e.querySelector('path');
              if (path) path.setAttribute('marker-end', 'url(#arrow)');
            });
            steps.forEach(function (s) { s.classList.remove('selected'); });
          }

          function text(cell) { return cell ? cell.textContent : ''; }

          function describe(step) {
            var name = step.getAttribute('data-name');
            var rows = step.querySelectorAll('tr');
            var upstream = text(step.querySelector('td.up'));
            var lines = [];
            rows.forEach(function (row) {
              var input = row.querySelector('td.input');
              if (!input) return;
              var x = input.getAttribute('data-input-name');
              var formula = text(row.querySelector('td.formula'));
              var local = text(row.querySelector('td.local'));
              if (local) formula += ' = ' + local;
              lines.push('∂L/∂' + x + ' += ∂L/∂' + name + ' · ∂' + name + '/∂' + x + ' = ' + upstream + ' · (' + formula + ') = ' +
                text(row.querySelector('td.contribution')) + '   → ∂L/∂' + x + ' so far = ' + text(row.querySelector('td.sum')));
            });
            if (lines.length === 0) lines.push(text(step.querySelector('td.leaf')) + '   (∂L/∂' + name + ' = ' + upstream + ')');
            return 'step ' + step.getAttribute('data-step') + ' of ' + steps.length + ': ' + lines.join('\n');
          }

          function select(index, scroll) {
            if (steps.length === 0) return;
            index = Math.max(0, Math.min(steps.length - 1, index));
            clear();
            current = index;
            var step = steps[index];
            step.classList.add('selected');
            svg.classList.add('has-selection');
            var node = document.getElementById('node-' + step.getAttribute('data-node'));
            if (node) node.classList.add('selected');
            step.getAttribute('data-inputs').split(' ').forEach(function (id) {
              var input = id && document.getElementById('node-' + id);
              if (input) input.classList.add('input');
            });
            step.getAttribute('data-edges').split(' ').forEach(function (id) {
              var edge = id && document.getElementById(id);
              if (!edge) return;
              edge.classList.add('active');
              edge.querySelector('path').setAttribute('marker-end', 'url(#arrow-active)');
            });
            chain.textContent = describe(step);
            // Scroll the two panels (not the page) so that the step's row and its node are in view.
            if (scroll) reveal(table, step, false);
            if (node) reveal(graph, node, true);
            if (history.replaceState) history.replaceState(null, '', '#step=' + (index + 1));
          }

          steps.forEach(function (step, i) {
            step.addEventListener('click', function () { select(i, true); });
          });
          document.addEventListener('keydown', function (e) {
            if (steps.length === 0) return;
            var next = { ArrowDown: current + 1, ArrowRight: current + 1, j: current + 1, ArrowUp: current - 1, ArrowLeft: current - 1, k: current - 1, Home: 0, End: steps.length - 1 }[e.key];
            if (next === undefined) return;
            e.preventDefault();
            select(next, true);
          });

          var match = /step=(\d+)/.exec(location.hash);
          if (steps.length > 0) select(match ? parseInt(match[1], 10) - 1 : 0, false);
          if (chain && steps.length > 0) chain.title = 'Click a row, or use the arrow keys (or j/k), to step through backward.';
          document.body.setAttribute('data-page-ready', 'yes');
        })();

        """;
}
