using System.Globalization;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// A tape laid out as a picture: boxes in columns from the leaves on the left to the output on the right, arrows
/// from inputs to the ops that read them. The model every writer draws (<see cref="SvgWriter"/>, <see cref="HtmlPage"/>;
/// <see cref="DotWriter"/> takes its boxes' text and leaves the placing to Graphviz).
/// </summary>
/// <remarks>
/// <para>
/// The tape is already a topologically ordered DAG, so a layered layout in four named phases (as dagre's
/// <c>lib/layout.ts</c>) is enough for teaching-sized graphs:
/// </para>
/// <list type="number">
/// <item><b>Rank</b>: a node's column is the longest path from a leaf to it (1 + the largest column among its inputs);
/// then each leaf moves right to stand just before its first consumer, so a constant used late sits beside its op.</item>
/// <item><b>Order</b>: an edge spanning several columns gets a dummy point in each column in between; then barycenter
/// sweeps (down and up, a dozen) reorder each column by the mean position of its neighbours in the previous one,
/// keeping the order with the fewest crossings (counted exactly per pair of columns).</item>
/// <item><b>Position</b>: a box is as wide as its longest text line (a monospace character is <see cref="CharWidth"/>
/// px at <see cref="FontSize"/> px) plus padding; a column is as wide as its widest box, columns are
/// <see cref="RankGap"/> apart; boxes stack with <see cref="NodeGap"/> between them (a dummy takes
/// <see cref="DummyHeight"/>), each column centred vertically.</item>
/// <item><b>Route</b>: an arrow leaves the input's right side, crosses each gap to the next column and passes each
/// column at its dummy's height, where no box stands, and enters the op at one port per input, spaced evenly down
/// its left side. No arrow crosses a box.</item>
/// </list>
/// <para>Everything is a pure function of the tape: the same graph gives the same picture, digit for digit.</para>
/// </remarks>
public sealed class GraphLayout
{
    /// <summary>Font size of box text, px.</summary>
    internal const double FontSize = 12;
    /// <summary>Width of one monospace character at <see cref="FontSize"/> (0.625 em; the common monospace fonts are 0.6 em), px.</summary>
    internal const double CharWidth = 7.5;
    /// <summary>Height of one text line, px.</summary>
    internal const double LineHeight = 16;
    /// <summary>Space between a box's border and its text, px.</summary>
    internal const double Padding = 8;
    /// <summary>Horizontal gap between columns, px.</summary>
    internal const double RankGap = 64;
    /// <summary>Vertical gap between the slots of a column, px.</summary>
    internal const double NodeGap = 18;
    /// <summary>Height of the slot a long edge takes in a column it passes, px.</summary>
    internal const double DummyHeight = 6;
    /// <summary>Space around the whole picture, px.</summary>
    internal const double Margin = 16;
    /// <summary>Font size of an edge's input-position label, px.</summary>
    internal const double LabelFontSize = 10;
    /// <summary>Width of one label character, px.</summary>
    internal const double LabelCharWidth = 6.25;
    /// <summary>Height of an edge label, px.</summary>
    internal const double LabelHeight = 12;
    /// <summary>How many barycenter sweeps the order phase runs at most.</summary>
    internal const int Sweeps = 12;

    private readonly Dictionary<int, LayoutNode> _byId;

    private GraphLayout(LayoutNode[] nodes, LayoutEdge[] edges, double width, double height, int ranks, bool hasGradients, int? output)
    {
        Nodes = nodes;
        Edges = edges;
        Width = width;
        Height = height;
        RankCount = ranks;
        HasGradients = hasGradients;
        Output = output;
        _byId = nodes.ToDictionary(n => n.Id);
    }

    /// <summary>The boxes, in tape order.</summary>
    public IReadOnlyList<LayoutNode> Nodes { get; }

    /// <summary>The arrows, grouped by the op they enter (in tape order), each op's inputs in order.</summary>
    public IReadOnlyList<LayoutEdge> Edges { get; }

    /// <summary>The picture's width, px.</summary>
    public double Width { get; }

    /// <summary>The picture's height, px.</summary>
    public double Height { get; }

    /// <summary>How many columns the picture has.</summary>
    public int RankCount { get; }

    /// <summary>Whether the boxes show gradients (a backward pass had run and <see cref="PictureOptions.ShowGradients"/> was set).</summary>
    public bool HasGradients { get; }

    /// <summary>The id of <see cref="PictureOptions.Output"/>, when the picture was restricted to it.</summary>
    public int? Output { get; }

    /// <summary>The box of tape node <paramref name="id"/>.</summary>
    public LayoutNode Node(int id) => _byId.TryGetValue(id, out var node)
        ? node
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"GraphLayout: node {id} is not in this picture ({Nodes.Count} nodes).");

    /// <summary>Whether tape node <paramref name="id"/> is in this picture.</summary>
    public bool Contains(int id) => _byId.ContainsKey(id);

    /// <summary>Lays out <paramref name="tape"/> (all of it, or what reaches <see cref="PictureOptions.Output"/>).</summary>
    /// <exception cref="ArgumentException">The graph has more nodes than <see cref="PictureOptions.NodeLimit"/>.</exception>
    public static GraphLayout Create(Tape tape, PictureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        options ??= PictureOptions.Default;
        options.Validate();
        int[] ids = Select(tape, options, out int? output);
        bool grads = options.ShowGradients && tape.HasGradients;
        LayoutNode[] nodes = Describe(tape, ids, options.MaxElements, grads, out LayoutEdge[] edges, out int[][] inputs);
        var position = new Dictionary<int, int>(ids.Length);
        for (int p = 0; p < ids.Length; p++) position[ids[p]] = p;

        int[] rank = Rank(inputs, position, edges);
        var slots = new Slots(nodes.Length, rank, edges, position);
        List<int>[] layers = slots.Order();
        Columns columns = Position(nodes, slots, layers);
        Route(nodes, edges, position, slots, columns);
        return new GraphLayout(nodes, edges, columns.Width, columns.Height, layers.Length, grads, output);
    }

    // ------------------------------------------------------------------------------------------- select

    /// <summary>The ids to show, in tape order; refuses a graph over the limit before doing any work per node.</summary>
    private static int[] Select(Tape tape, PictureOptions options, out int? output)
    {
        output = null;
        if (options.Output is not Node o)
        {
            Refuse(tape.NodeCount, options.NodeLimit, restricted: false);
            return Enumerable.Range(0, tape.NodeCount).ToArray();
        }
        int last = o.Resolve(tape, "GraphLayout");
        output = last;
        // The tape is in execution order, so one backward loop marks everything the output depends on.
        var keep = new bool[last + 1];
        keep[last] = true;
        int count = 0;
        for (int i = last; i >= 0; i--)
        {
            if (!keep[i]) continue;
            count++;
            foreach (int k in tape.Describe(i).Inputs) keep[k] = true;
        }
        Refuse(count, options.NodeLimit, restricted: true);
        var ids = new int[count];
        for (int i = 0, j = 0; i <= last; i++) if (keep[i]) ids[j++] = i;
        return ids;
    }

    private static void Refuse(int count, int limit, bool restricted)
    {
        if (count <= limit) return;
        var c = CultureInfo.InvariantCulture;
        string scope = restricted ? " reaching the output" : "";
        string output = restricted ? "" : "show only what reaches one output (PictureOptions.Output), ";
        throw new ArgumentException(string.Create(c,
            $"GraphLayout: the graph has {count:N0} nodes{scope}, more than the limit of {limit:N0} (PictureOptions.NodeLimit) up to which a picture stays readable. Pass a smaller graph (one example or one neuron instead of the whole batch or network), {output}or raise NodeLimit knowing the picture will be large; tape.Format() lists every node as text."));
    }

    // ------------------------------------------------------------------------------------------- describe

    /// <summary>Each node's box text and kind, and one edge per input (in each op's input order).</summary>
    private static LayoutNode[] Describe(Tape tape, int[] ids, int maxElements, bool grads, out LayoutEdge[] edges, out int[][] inputs)
    {
        var nodes = new LayoutNode[ids.Length];
        inputs = new int[ids.Length][];
        var edgeList = new List<LayoutEdge>();
        var seen = new HashSet<(int, int)>();
        for (int p = 0; p < ids.Length; p++)
        {
            int id = ids[p];
            NodeInfo info = tape.Describe(id);
            var lines = new List<string>(3)
            {
                string.Create(CultureInfo.InvariantCulture, $"%{id} {Tape.Label(info)}"),
                $"{info.Shape} = {Tape.Show(tape.ValueSpan(id), maxElements)}",
            };
            if (grads && info.RequiresGrad)
            {
                // ∂L/∂a for a named node or parameter, ∂L/∂%13 otherwise: the box's own name for it.
                string name = info.Name ?? info.Parameter?.Name ?? string.Create(CultureInfo.InvariantCulture, $"%{id}");
                lines.Add($"∂L/∂{name} = {Tape.Show(tape.NodeAt(id).GradToArray(), maxElements)}");
            }
            NodeKind kind = info.Op switch
            {
                OpKind.Parameter => NodeKind.Parameter,
                OpKind.Constant => NodeKind.Constant,
                _ => NodeKind.Op,
            };
            nodes[p] = new LayoutNode(id, kind, lines);
            inputs[p] = [.. info.Inputs];
            bool labelled = info.Inputs.Count > 1 && !IsSymmetric(info.Op);
            for (int k = 0; k < info.Inputs.Count; k++)
            {
                int from = info.Inputs[k];
                string edgeId = seen.Add((from, id))
                    ? string.Create(CultureInfo.InvariantCulture, $"edge-{from}-{id}")
                    : string.Create(CultureInfo.InvariantCulture, $"edge-{from}-{id}-{k}");
                edgeList.Add(new LayoutEdge(from, id, k, info.Inputs.Count, labelled ? (k + 1).ToString(CultureInfo.InvariantCulture) : null, edgeId));
            }
        }
        edges = [.. edgeList];
        return nodes;
    }

    /// <summary>Ops whose inputs can be swapped without changing the result: their arrows need no position label.</summary>
    private static bool IsSymmetric(OpKind op) => op is OpKind.Add or OpKind.Multiply or OpKind.Maximum or OpKind.Minimum or OpKind.Dot;

    /// <summary>Width of a line of box text: characters (text elements) × <see cref="CharWidth"/>.</summary>
    internal static double TextWidth(string line) => new StringInfo(line).LengthInTextElements * CharWidth;

    // ------------------------------------------------------------------------------------------- rank

    /// <summary>Longest path from the leaves; then every leaf just left of its first consumer.</summary>
    private static int[] Rank(int[][] inputs, Dictionary<int, int> position, LayoutEdge[] edges)
    {
        int n = inputs.Length;
        var rank = new int[n];
        for (int p = 0; p < n; p++)
        {
            foreach (int id in inputs[p]) rank[p] = Math.Max(rank[p], rank[position[id]] + 1);
        }
        var firstUse = new int[n];
        Array.Fill(firstUse, int.MaxValue);
        foreach (var e in edges)
        {
            int from = position[e.From];
            firstUse[from] = Math.Min(firstUse[from], rank[position[e.To]]);
        }
        for (int p = 0; p < n; p++)
        {
            if (inputs[p].Length == 0 && firstUse[p] != int.MaxValue) rank[p] = firstUse[p] - 1;
        }
        return rank;
    }

    // ------------------------------------------------------------------------------------------- order

    /// <summary>
    /// The slots of every column: slot s &lt; node count is node position s; a larger s is a dummy point of a long
    /// edge. Holds each slot's neighbours in the previous and next column.
    /// </summary>
    private sealed class Slots
    {
        public readonly int NodeCount;
        public readonly List<int> Rank = [];
        /// <summary>For a dummy, the edge it belongs to; −1 for a node.</summary>
        public readonly List<int> Edge = [];
        public readonly List<List<int>> Up = [];
        public readonly List<List<int>> Down = [];
        /// <summary>Per edge, its dummy slots from left to right.</summary>
        public readonly List<int>[] Dummies;
        public int[] OrderOf = [];

        public Slots(int nodeCount, int[] rank, LayoutEdge[] edges, Dictionary<int, int> position)
        {
            NodeCount = nodeCount;
            for (int p = 0; p < nodeCount; p++) Add(rank[p], -1);
            Dummies = new List<int>[edges.Length];
            for (int e = 0; e < edges.Length; e++)
            {
                Dummies[e] = [];
                int from = position[edges[e].From], to = position[edges[e].To];
                int previous = from;
                for (int r = rank[from] + 1; r < rank[to]; r++)
                {
                    int d = Add(r, e);
                    Dummies[e].Add(d);
                    Link(previous, d);
                    previous = d;
                }
                Link(previous, to);
            }
        }

        public int Count => Rank.Count;

        private int Add(int rank, int edge)
        {
            Rank.Add(rank);
            Edge.Add(edge);
            Up.Add([]);
            Down.Add([]);
            return Rank.Count - 1;
        }

        private void Link(int left, int right)
        {
            Down[left].Add(right);
            Up[right].Add(left);
        }

        /// <summary>The columns, each ordered top to bottom, after the barycenter sweeps; sets <see cref="OrderOf"/>.</summary>
        public List<int>[] Order()
        {
            int ranks = Count == 0 ? 0 : Rank.Max() + 1;
            var layers = new List<int>[ranks];
            for (int r = 0; r < ranks; r++) layers[r] = [];
            // Initial order: by tape id; a dummy right after the node its edge starts from (slots are created in that order).
            var key = new double[Count];
            for (int s = 0; s < Count; s++) key[s] = s < NodeCount ? s : Source(s) + 0.5;
            for (int s = 0; s < Count; s++) layers[Rank[s]].Add(s);
            foreach (var layer in layers) layer.Sort((a, b) => key[a] != key[b] ? key[a].CompareTo(key[b]) : a.CompareTo(b));
            var position = new int[Count];
            Renumber(layers, position);

            List<int>[] best = Copy(layers);
            long bestCrossings = Crossings(layers, position);
            for (int sweep = 0; sweep < Sweeps && bestCrossings > 0; sweep++)
            {
                if (sweep % 2 == 0) for (int r = 1; r < ranks; r++) Sort(layers[r], Up, position);
                else for (int r = ranks - 2; r >= 0; r--) Sort(layers[r], Down, position);
                long crossings = Crossings(layers, position);
                if (crossings < bestCrossings)
                {
                    bestCrossings = crossings;
                    best = Copy(layers);
                }
            }
            OrderOf = new int[Count];
            Renumber(best, OrderOf);
            return best;
        }

        /// <summary>The node position a dummy's edge starts from (slots before it were created first).</summary>
        private int Source(int s)
        {
            while (s >= NodeCount) s = Up[s][0];
            return s;
        }

        private static void Renumber(List<int>[] layers, int[] position)
        {
            foreach (var layer in layers) for (int k = 0; k < layer.Count; k++) position[layer[k]] = k;
        }

        private static List<int>[] Copy(List<int>[] layers) => [.. layers.Select(l => new List<int>(l))];

        /// <summary>Reorders one column by the barycenter of each slot's neighbours; a slot without neighbours keeps its place.</summary>
        private static void Sort(List<int> layer, List<List<int>> neighbours, int[] position)
        {
            var bary = new Dictionary<int, double>(layer.Count);
            foreach (int s in layer)
            {
                var ns = neighbours[s];
                bary[s] = ns.Count == 0 ? position[s] : ns.Average(x => (double)position[x]);
            }
            layer.Sort((a, b) => bary[a] != bary[b] ? bary[a].CompareTo(bary[b]) : position[a].CompareTo(position[b]));
            for (int k = 0; k < layer.Count; k++) position[layer[k]] = k;
        }

        /// <summary>
        /// Edge crossings between every pair of neighbouring columns: the edges sorted by their upper end, the
        /// inversions among their lower ends counted with a Fenwick tree (O(e log e) per pair).
        /// </summary>
        private long Crossings(List<int>[] layers, int[] position)
        {
            long total = 0;
            var pairs = new List<(int Top, int Bottom)>();
            for (int r = 0; r + 1 < layers.Length; r++)
            {
                pairs.Clear();
                foreach (int s in layers[r]) foreach (int t in Down[s]) pairs.Add((position[s], position[t]));
                pairs.Sort();
                int size = layers[r + 1].Count;
                var tree = new int[size + 1];
                int inserted = 0;
                foreach (var (_, bottom) in pairs)
                {
                    // Edges inserted so far with a lower end strictly below this one cross it.
                    int atOrAbove = 0;
                    for (int i = bottom + 1; i > 0; i -= i & -i) atOrAbove += tree[i];
                    total += inserted - atOrAbove;
                    for (int i = bottom + 1; i <= size; i += i & -i) tree[i]++;
                    inserted++;
                }
            }
            return total;
        }
    }

    // ------------------------------------------------------------------------------------------- position

    /// <summary>Where the columns stand (left side, width) and each slot's top: what routing needs after positioning.</summary>
    private sealed record Columns(double[] Left, double[] ColumnWidth, double[] SlotTop, double Width, double Height);

    /// <summary>Box sizes from the text; columns left to right, slots stacked top to bottom, each column centred.</summary>
    private static Columns Position(LayoutNode[] nodes, Slots slots, List<int>[] layers)
    {
        int ranks = layers.Length;
        var sizes = new (double W, double H)[nodes.Length];
        for (int p = 0; p < nodes.Length; p++)
        {
            sizes[p] = (2 * Padding + nodes[p].Lines.Max(TextWidth), 2 * Padding + nodes[p].Lines.Count * LineHeight);
        }
        var columnWidth = new double[ranks];
        var columnHeight = new double[ranks];
        for (int r = 0; r < ranks; r++)
        {
            foreach (int s in layers[r])
            {
                if (s < nodes.Length) columnWidth[r] = Math.Max(columnWidth[r], sizes[s].W);
                columnHeight[r] += s < nodes.Length ? sizes[s].H : DummyHeight;
            }
            columnHeight[r] += NodeGap * (layers[r].Count - 1);
        }
        double height = ranks == 0 ? 0 : columnHeight.Max();
        var columnLeft = new double[ranks];
        var slotTop = new double[slots.Count];
        double x = Margin;
        for (int r = 0; r < ranks; r++)
        {
            columnLeft[r] = x;
            double y = Margin + (height - columnHeight[r]) / 2;
            foreach (int s in layers[r])
            {
                slotTop[s] = y;
                if (s < nodes.Length)
                {
                    nodes[s].Rank = r;
                    nodes[s].Order = slots.OrderOf[s];
                    nodes[s].Box = new LayoutRect(x + (columnWidth[r] - sizes[s].W) / 2, y, sizes[s].W, sizes[s].H);
                    y += sizes[s].H + NodeGap;
                }
                else
                {
                    y += DummyHeight + NodeGap;
                }
            }
            x += columnWidth[r] + RankGap;
        }
        double width = ranks == 0 ? 2 * Margin : x - RankGap + Margin;
        return new Columns(columnLeft, columnWidth, slotTop, width, height + 2 * Margin);
    }

    // ------------------------------------------------------------------------------------------- route

    /// <summary>Each edge's points: out of the input's right side, through its dummies' slots, into its port on the op.</summary>
    private static void Route(LayoutNode[] nodes, LayoutEdge[] edges, Dictionary<int, int> position, Slots slots, Columns columns)
    {
        double[] left = columns.Left, width = columns.ColumnWidth, top = columns.SlotTop;
        for (int e = 0; e < edges.Length; e++)
        {
            LayoutEdge edge = edges[e];
            LayoutNode from = nodes[position[edge.From]], to = nodes[position[edge.To]];
            var points = new List<LayoutPoint>();
            double y = from.Box.Y + from.Box.Height / 2;
            double columnRight = left[from.Rank] + width[from.Rank];
            points.Add(new(from.Box.Right, y));
            if (from.Box.Right < columnRight) points.Add(new(columnRight, y));
            foreach (int d in slots.Dummies[e])
            {
                int r = slots.Rank[d];
                y = top[d] + DummyHeight / 2;
                points.Add(new(left[r], y));
                points.Add(new(left[r] + width[r], y));
            }
            double port = to.Box.Y + to.Box.Height * (edge.Position + 1) / (edge.InputCount + 1);
            double columnLeft = left[to.Rank];
            points.Add(new(columnLeft, port));
            if (to.Box.X > columnLeft) points.Add(new(to.Box.X, port));
            edge.Points = points;
            if (edge.Label is not null)
            {
                double w = new StringInfo(edge.Label).LengthInTextElements * LabelCharWidth;
                edge.LabelBox = new LayoutRect(columnLeft - 3 - w, port - 1 - LabelHeight, w, LabelHeight);
            }
        }
    }
}
