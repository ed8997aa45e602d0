using System.Runtime.InteropServices;

namespace GradientDescent.Autodiff;

/// <summary>Per-node flags packed into one byte of <see cref="NodeRecord"/>.</summary>
[Flags]
internal enum NodeFlags : byte
{
    None = 0,
    /// <summary>A gradient flows into this node (it depends on a parameter and was not detached).</summary>
    RequiresGrad = 1,
    /// <summary>
    /// The value is not in the arena. With a negative offset it lives in caller-owned storage (<see cref="Tape"/>'s
    /// external table: constants recorded in place); with an offset ≥ 0 it is a vector or matrix parameter read in
    /// place (or a view of one): the value is the parameter's own array, and the offset locates the gradient and
    /// tangent slots, as for any arena node.
    /// </summary>
    External = 2,
    /// <summary>The node shares storage with its input (a view); its derivative rule is the identity on that storage.</summary>
    View = 4,
    /// <summary>
    /// Set during a backward pass on a node that an already-processed node feeds (the output is reached first): the
    /// node lies on a path to the output, so its rule runs even with a zero gradient (0·∞ = NaN, as in libtorch).
    /// Cleared when the node is processed, so every node is unmarked outside a backward pass.
    /// </summary>
    Reached = 8,
    /// <summary>
    /// Set during a backward pass once the node's gradient slot holds a partial sum (its first contribution assigned
    /// it, or it was zeroed for a rule that adds); a slot without it holds whatever an earlier pass left, and is never
    /// read. Kept after the pass (∂L/∂node of the nodes it reached); a new pass on the same recording clears it first.
    /// For a view the flag is about the storage it shares: set on the view once its storage root is initialised.
    /// </summary>
    Initialized = 16,
    /// <summary>
    /// Set during a fast backward pass on a node whose gradient is one number broadcast to every element (a sum's or a
    /// mean's input, and what such a gradient passes through unchanged): only the first slot holds it. Rules that
    /// understand it read that number; before any other rule, a read, or a second contribution, the slot is filled.
    /// </summary>
    Uniform = 32,
    /// <summary>
    /// Set during a fast backward pass on a node whose gradient is one number s times the values of another node
    /// (an exponential's input under a sum: s·eˣ; a factor of a product under a sum: s·b): the first slot holds s, the
    /// second the other node's index. A parameter's rule adds s·values straight into Parameter.Grad; anything else
    /// writes the gradient out first, as for <see cref="Uniform"/>.
    /// </summary>
    Scaled = 64,
    /// <summary>
    /// Set when the node is recorded if it is a scalar (<see cref="ShapeKind.Scalar"/>) whose value is in the arena
    /// (not <see cref="External"/>): what the scalar fast paths of recording need, tested for both operands of a binary
    /// op at once. Their result is then a scalar too, so they need not read the operands' kinds (a vector or matrix of
    /// one element is recorded out of line, see <see cref="Tape.AreOneElementInArena"/>).
    /// </summary>
    ArenaScalar = 128,
}

/// <summary>
/// One recorded operation: 32 bytes. With its value and gradient (8 bytes each for a scalar) a scalar node costs
/// 48 bytes of tape and no heap object.
/// </summary>
/// <remarks>
/// The field order is part of the scalar fast path: <see cref="Tape.AppendScalar"/> writes (A, B), (Offset, Rows) and
/// (Cols, Op, Flags, Kind) as one 64-bit store each, so the fields sit at bytes 0, 4, 8, 12, 16, 20, 21, 22 and Aux at
/// 24 (a test checks it). Reorder them only together with that method.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct NodeRecord
{
    /// <summary>First input node, or a side-table index for leaves and n-ary ops; −1 when unused.</summary>
    public int A;
    /// <summary>Second input node, or a side-table index / count; −1 when unused.</summary>
    public int B;
    /// <summary>Offset of the value (and of the gradient) in the tape's arenas, or the external slot for external values.</summary>
    public int Offset;
    public int Rows;
    public int Cols;
    public OpKind Op;
    public NodeFlags Flags;
    public ShapeKind Kind;
    /// <summary>A per-op constant: an exponent, a clamp bound, an axis, a class label, an element index.</summary>
    public double Aux;

    public readonly int Length => Rows * Cols;
    /// <summary>One element whose value is in the arena (any kind): what the one-element recording paths take.</summary>
    public readonly bool IsOneElementInArena => Rows == 1 && Cols == 1 && (Flags & NodeFlags.External) == 0;
    public readonly bool RequiresGrad => (Flags & NodeFlags.RequiresGrad) != 0;
    public readonly Shape Shape => new(Kind, Rows, Cols);
}
