namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// One term of the chain rule ∂L/∂x = Σ ∂L/∂y · ∂y/∂x: what the rule of one node y (a <see cref="TraceStep"/>) added
/// into the gradient of one of its inputs x.
/// </summary>
public sealed class TraceTerm
{
    internal TraceTerm(int input, int position, string inputLabel, Shape inputShape, string formula, double? local,
        double[] contribution, double[] runningSum, int use, int uses)
    {
        Input = input;
        Position = position;
        InputLabel = inputLabel;
        InputShape = inputShape;
        Formula = formula;
        Local = local;
        Contribution = contribution;
        RunningSum = runningSum;
        Use = use;
        Uses = uses;
    }

    /// <summary>The input node's id.</summary>
    public int Input { get; }

    /// <summary>Which input of the node this is (0 for the first): x·x has two terms for the same input, positions 0 and 1.</summary>
    public int Position { get; }

    /// <summary>The input node as <see cref="Tape.Format"/> labels it.</summary>
    public string InputLabel { get; }

    /// <summary>The input node's shape (the shape of <see cref="Contribution"/> and <see cref="RunningSum"/>).</summary>
    public Shape InputShape { get; }

    /// <summary>
    /// The local derivative ∂node/∂input as a formula, with the op's constants filled in: for an elementwise op the
    /// derivative per element, in x (the input) and y (the node's value), or a and b for the two inputs of a binary op
    /// (<c>σ(x)(1 − σ(x)) = y(1 − y)</c>, <c>3·x^2</c>, <c>−a/b²</c>); for every other op the vector-Jacobian product
    /// it computes from ḡ = ∂L/∂node (<c>Mᵀ ḡ</c>). See <c>LocalFormulas</c>.
    /// </summary>
    public string Formula { get; }

    /// <summary>
    /// ∂node/∂input as a number, for a one-element elementwise node (where it is one number): computed by the local
    /// derivative backward itself uses, at g = 1. Null for the other nodes, whose local derivative is a Jacobian.
    /// </summary>
    public double? Local { get; }

    /// <summary>
    /// What the node's rule added into the input's gradient: ∂L/∂node · ∂node/∂input (the vector-Jacobian product, in
    /// the input's shape, summed over broadcast positions). For a view, ∂L/∂view placed into its region of the input.
    /// </summary>
    public IReadOnlyList<double> Contribution { get; }

    /// <summary>
    /// The input's gradient after this contribution: the sum of the contributions of uses 1 to <see cref="Use"/>.
    /// After the last use it is ∂L/∂input.
    /// </summary>
    public IReadOnlyList<double> RunningSum { get; }

    /// <summary>This is the input's k-th contribution in backward order (from 1).</summary>
    public int Use { get; }

    /// <summary>How many contributions the input receives in the whole trace (how many times nodes on the path use it).</summary>
    public int Uses { get; }
}
