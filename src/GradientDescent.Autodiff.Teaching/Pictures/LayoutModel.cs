namespace GradientDescent.Autodiff.Teaching;

/// <summary>What a box stands for; each kind is drawn differently (see <see cref="SvgWriter"/> for the legend).</summary>
public enum NodeKind
{
    /// <summary>An operation on earlier nodes.</summary>
    Op,
    /// <summary>A <see cref="Autodiff.Parameter"/> leaf: what training changes, where gradients end up.</summary>
    Parameter,
    /// <summary>Constant data: no gradient flows into it.</summary>
    Constant,
}

/// <summary>A point of a picture, in pixels from the top-left corner (y grows downwards, as in SVG).</summary>
public readonly record struct LayoutPoint(double X, double Y);

/// <summary>An axis-aligned rectangle of a picture, in pixels from the top-left corner.</summary>
public readonly record struct LayoutRect(double X, double Y, double Width, double Height)
{
    /// <summary>X + Width.</summary>
    public double Right => X + Width;

    /// <summary>Y + Height.</summary>
    public double Bottom => Y + Height;

    /// <summary>Whether the two rectangles share interior points (touching edges do not overlap).</summary>
    public bool Overlaps(LayoutRect other) => X < other.Right && other.X < Right && Y < other.Bottom && other.Y < Bottom;

    /// <summary>Whether <paramref name="other"/> lies inside this rectangle (edges included).</summary>
    public bool Contains(LayoutRect other) => other.X >= X && other.Right <= Right && other.Y >= Y && other.Bottom <= Bottom;
}

/// <summary>One box of a picture: a node of the tape, its text and where it stands.</summary>
public sealed class LayoutNode
{
    internal LayoutNode(int id, NodeKind kind, IReadOnlyList<string> lines)
    {
        Id = id;
        Kind = kind;
        Lines = lines;
    }

    /// <summary>The node's id on the tape.</summary>
    public int Id { get; }

    /// <summary>Operation, parameter or constant.</summary>
    public NodeKind Kind { get; }

    /// <summary>
    /// The box's text, one entry per line: <c>%5 c = Add(%2, %3)</c> (id and <see cref="NodeInfo"/>'s label: name,
    /// op with its constant, inputs), then <c>scalar = -2</c> (shape and value), then, after a backward pass,
    /// <c>∂L/∂c = -27.7668</c> (the node's name, its parameter's name, or <c>%id</c>).
    /// </summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>The column: 0 for the leftmost. Every input stands in an earlier column.</summary>
    public int Rank { get; internal set; }

    /// <summary>The position within the column, from the top (dummy points of long edges counted).</summary>
    public int Order { get; internal set; }

    /// <summary>The box.</summary>
    public LayoutRect Box { get; internal set; }

    /// <summary>Where text line <paramref name="line"/> sits: inside the box, padded, one line height per line.</summary>
    public LayoutRect TextBox(int line) => new(
        Box.X + GraphLayout.Padding,
        Box.Y + GraphLayout.Padding + line * GraphLayout.LineHeight,
        GraphLayout.TextWidth(Lines[line]),
        GraphLayout.LineHeight);

    /// <inheritdoc/>
    public override string ToString() => $"{Lines[0]} at ({Box.X}, {Box.Y})";
}

/// <summary>One arrow of a picture: from an input to the op that reads it.</summary>
public sealed class LayoutEdge
{
    internal LayoutEdge(int from, int to, int position, int inputCount, string? label, string id)
    {
        From = from;
        To = to;
        Position = position;
        InputCount = inputCount;
        Label = label;
        Id = id;
    }

    /// <summary>The input's node id.</summary>
    public int From { get; }

    /// <summary>The op's node id.</summary>
    public int To { get; }

    /// <summary>Which of the op's inputs this is, from 0 (a node used twice, as in x·x, has two edges).</summary>
    public int Position { get; }

    /// <summary>How many inputs the op has.</summary>
    internal int InputCount { get; }

    /// <summary>
    /// "1", "2", …: the input position, where the op is not symmetric in its inputs (a − b, a / b, M v); null for
    /// one-input ops and for +, ·, max, min and the dot product.
    /// </summary>
    public string? Label { get; }

    /// <summary>
    /// "edge-{from}-{to}", the id the SVG gives the arrow; "edge-{from}-{to}-{position}" for a second edge between the
    /// same two nodes (x·x).
    /// </summary>
    public string Id { get; }

    /// <summary>
    /// The route, from the input box's right side to the op box's left side: horizontal runs inside columns (where
    /// they cross no other box) joined by crossings of the gaps between columns. A long edge passes through a
    /// reserved slot of every column in between.
    /// </summary>
    public IReadOnlyList<LayoutPoint> Points { get; internal set; } = [];

    /// <summary>Where <see cref="Label"/> is written: in the gap left of the op's column, above the arrow's end.</summary>
    public LayoutRect? LabelBox { get; internal set; }
}
