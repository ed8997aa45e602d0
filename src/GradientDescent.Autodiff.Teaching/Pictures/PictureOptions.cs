namespace GradientDescent.Autodiff.Teaching;

/// <summary>What a picture of a tape shows (<see cref="GraphLayout"/>, <see cref="DotWriter"/>, <see cref="SvgWriter"/>, <see cref="HtmlPage"/>).</summary>
public sealed record PictureOptions
{
    /// <summary>The default <see cref="NodeLimit"/>: a few hundred boxes are still a readable picture.</summary>
    public const int DefaultNodeLimit = 300;

    /// <summary>
    /// Show only this node and the nodes it depends on (those that reach it); null (the default) shows every node
    /// of the tape.
    /// </summary>
    public Node? Output { get; init; }

    /// <summary>How many elements of a vector's or matrix's value and gradient a box shows before "…" (default 3).</summary>
    public int MaxElements { get; init; } = 3;

    /// <summary>
    /// The most nodes a picture takes (default <see cref="DefaultNodeLimit"/>). A larger graph is refused at once
    /// with a message naming its size, never laid out slowly.
    /// </summary>
    public int NodeLimit { get; init; } = DefaultNodeLimit;

    /// <summary>Whether boxes show ∂L/∂node after a backward pass (default true; nothing is shown before one).</summary>
    public bool ShowGradients { get; init; } = true;

    /// <summary>The options every writer uses when given none.</summary>
    public static PictureOptions Default { get; } = new();

    internal void Validate()
    {
        if (MaxElements < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxElements), MaxElements, $"PictureOptions: MaxElements is {MaxElements}; show at least 1 element.");
        }
        if (NodeLimit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(NodeLimit), NodeLimit, $"PictureOptions: NodeLimit is {NodeLimit}; allow at least 1 node.");
        }
    }
}
