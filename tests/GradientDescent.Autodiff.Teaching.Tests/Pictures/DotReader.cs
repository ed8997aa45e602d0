using System.Text;
using System.Text.RegularExpressions;

namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

/// <summary>
/// A small reader for the DOT that <see cref="DotWriter"/> writes (node and edge statements, one per line, quoted or
/// bare attribute values), so tests can check what a DOT file says without Graphviz. Label escapes: \" and \\ give
/// the character, \l ends a line (returned as '\n').
/// </summary>
internal static partial class DotReader
{
    public sealed record DotNode(string Name, IReadOnlyDictionary<string, string> Attributes);

    public sealed record DotEdge(string From, string To, IReadOnlyDictionary<string, string> Attributes);

    public sealed record DotGraph(IReadOnlyList<DotNode> Nodes, IReadOnlyList<DotEdge> Edges);

    public static DotGraph Read(string dot)
    {
        var lines = dot.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines[0] != "digraph tape {" || lines[^1] != "}") throw new FormatException("not a 'digraph tape { … }'");
        var nodes = new List<DotNode>();
        var edges = new List<DotEdge>();
        foreach (string line in lines[1..^1])
        {
            if (line.StartsWith("graph [") || line.StartsWith("node [") || line.StartsWith("edge [")) continue;
            Match m = EdgeStatement().Match(line);
            if (m.Success)
            {
                edges.Add(new DotEdge(m.Groups[1].Value, m.Groups[2].Value, Attributes(m.Groups[3].Value)));
                continue;
            }
            m = NodeStatement().Match(line);
            if (!m.Success) throw new FormatException($"unexpected DOT line: {line}");
            nodes.Add(new DotNode(m.Groups[1].Value, Attributes(m.Groups[2].Value)));
        }
        return new DotGraph(nodes, edges);
    }

    /// <summary>key=value, key="quoted \" value", … into a dictionary (quoted values unescaped).</summary>
    private static Dictionary<string, string> Attributes(string list)
    {
        var result = new Dictionary<string, string>();
        int i = 0;
        while (i < list.Length)
        {
            int eq = list.IndexOf('=', i);
            string key = list[i..eq].Trim();
            i = eq + 1;
            var value = new StringBuilder();
            if (list[i] == '"')
            {
                for (i++; list[i] != '"'; i++)
                {
                    if (list[i] == '\\')
                    {
                        char next = list[++i];
                        value.Append(next switch { 'l' => "\n", '"' => "\"", '\\' => "\\", _ => "\\" + next });
                    }
                    else
                    {
                        value.Append(list[i]);
                    }
                }
                i++;
            }
            else
            {
                while (i < list.Length && list[i] != ',') value.Append(list[i++]);
                value = new StringBuilder(value.ToString().Trim());
            }
            result.Add(key, value.ToString());
            while (i < list.Length && (list[i] == ',' || list[i] == ' ')) i++;
        }
        return result;
    }

    [GeneratedRegex(@"^(n\d+) -> (n\d+) \[(.*)\];$")]
    private static partial Regex EdgeStatement();

    [GeneratedRegex(@"^(n\d+) \[(.*)\];$")]
    private static partial Regex NodeStatement();
}
