namespace GradientDescent.Autodiff;

/// <summary>
/// The operation that produced a node of a <see cref="Tape"/>. Every kind has a forward kernel and a derivative
/// rule, side by side, in the op-family file named in its comment.
/// </summary>
/// <remarks>
/// The TorchSharp bridge maps every kind; a kind without a mapping fails its tests. The order matters: the binary
/// elementwise kinds (<see cref="Add"/> to <see cref="Minimum"/>) and the unary ones (<see cref="Negate"/> to
/// <see cref="MinConstant"/>) are contiguous ranges that the backward dispatch tests with one comparison each.
/// </remarks>
public enum OpKind : byte
{
    // Leaves (Engine/Tape.cs).
    /// <summary>Constant data: no gradient flows into it.</summary>
    Constant,
    /// <summary>A <see cref="Parameter"/> used on this tape; its gradient is added into <see cref="Parameter.Grad"/>.</summary>
    Parameter,

    // Views that share storage with their input (Ops/Views.cs); their derivative rule is the identity on that storage.
    /// <summary>A copy of the input's value through which no gradient flows.</summary>
    Detach,
    /// <summary>One element of a vector or matrix, as a scalar.</summary>
    Element,
    /// <summary>One row of a matrix, as a vector.</summary>
    Row,
    /// <summary>The same values under another shape.</summary>
    Reshape,
    /// <summary>
    /// A range along the first axis: elements [a, b) of a vector, rows [a, b) of a matrix (Aux = a; the shape gives b − a).
    /// Slice is pad-with-zeros in reverse, which the shared gradient slots do for free.
    /// </summary>
    Slice,

    // Binary elementwise with broadcasting (Ops/Arithmetic.cs).
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a − b.</summary>
    Subtract,
    /// <summary>a · b (elementwise).</summary>
    Multiply,
    /// <summary>a / b (elementwise).</summary>
    Divide,
    /// <summary>a ^ b with a variable exponent.</summary>
    Power,
    /// <summary>max(a, b) elementwise.</summary>
    Maximum,
    /// <summary>min(a, b) elementwise.</summary>
    Minimum,

    // Unary elementwise (Ops/Elementwise.cs); constants live in the node's Aux.
    /// <summary>−x.</summary>
    Negate,
    /// <summary>x + c for a constant c.</summary>
    AddConstant,
    /// <summary>c · x for a constant c.</summary>
    MultiplyConstant,
    /// <summary>x ^ c for a constant c.</summary>
    PowerConstant,
    /// <summary>e^x.</summary>
    Exp,
    /// <summary>ln x.</summary>
    Log,
    /// <summary>√x.</summary>
    Sqrt,
    /// <summary>|x|.</summary>
    Abs,
    /// <summary>x².</summary>
    Square,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>σ(x) = 1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>ln(1 + e^x).</summary>
    Softplus,
    /// <summary>ln σ(x).</summary>
    LogSigmoid,
    /// <summary>sin x.</summary>
    Sin,
    /// <summary>cos x.</summary>
    Cos,
    /// <summary>tan x.</summary>
    Tan,
    /// <summary>sinh x.</summary>
    Sinh,
    /// <summary>cosh x.</summary>
    Cosh,
    /// <summary>arcsin x.</summary>
    Asin,
    /// <summary>arccos x.</summary>
    Acos,
    /// <summary>arctan x.</summary>
    Atan,
    /// <summary>log₁₀ x.</summary>
    Log10,
    /// <summary>log₂ x.</summary>
    Log2,
    /// <summary>sign x ∈ {−1, 0, 1} (0 for NaN, as torch.sign); zero derivative.</summary>
    Sign,
    /// <summary>⌊x⌋; zero derivative.</summary>
    Floor,
    /// <summary>⌈x⌉; zero derivative.</summary>
    Ceiling,
    /// <summary>x rounded to the nearest integer, halves to even (torch.round); zero derivative.</summary>
    Round,
    /// <summary>x for x &gt; 0, else c·x, for the negative slope c in Aux.</summary>
    LeakyRelu,
    /// <summary>x for x &gt; 0, else α(e^x − 1), for the α in Aux.</summary>
    Elu,
    /// <summary>x·Φ(x), Φ the standard normal distribution function (the exact, erf form).</summary>
    Gelu,
    /// <summary>x·σ(x) (also called swish).</summary>
    Silu,
    /// <summary>max(x, c) for a constant c (the lower half of a clamp).</summary>
    MaxConstant,
    /// <summary>min(x, c) for a constant c (the upper half of a clamp).</summary>
    MinConstant,

    // Linear algebra (Ops/LinearAlgebra.cs).
    /// <summary>a · b of two vectors.</summary>
    Dot,
    /// <summary>M v.</summary>
    MatVec,
    /// <summary>A B.</summary>
    MatMul,
    /// <summary>Aᵀ.</summary>
    Transpose,

    // Reductions (Ops/Reductions.cs).
    /// <summary>Σ of all elements.</summary>
    Sum,
    /// <summary>Mean of all elements.</summary>
    Mean,
    /// <summary>Σ over one axis of a matrix (Aux = axis).</summary>
    SumAxis,
    /// <summary>Mean over one axis of a matrix (Aux = axis).</summary>
    MeanAxis,
    /// <summary>ln Σ e^x of a vector, or of each row of a matrix.</summary>
    LogSumExp,

    // Shape assembly and column access, which copy (Ops/Views.cs).
    /// <summary>Vectors joined end to end.</summary>
    Concat,
    /// <summary>Scalars into a vector, or vectors of one length into the rows of a matrix; stack is unstack in reverse.</summary>
    Stack,
    /// <summary>Column j of a matrix, as a vector (Aux = j): a copy, since columns are strided; its rule scatter-adds.</summary>
    Column,
    /// <summary>Columns [a, b) of a matrix (Aux = a; the shape gives b − a): a copy, its rule scatter-adds.</summary>
    Columns,

    // Softmax family (Ops/Softmax.cs).
    /// <summary>e^x / Σ e^x, of a vector or of each row of a matrix.</summary>
    Softmax,
    /// <summary>x − ln Σ e^x, of a vector or of each row of a matrix.</summary>
    LogSoftmax,

    // Statistics (Ops/Statistics.cs).
    /// <summary>Σ(x − x̄)²/(n − c) of all n elements, for the correction c in Aux (1: sample, 0: population).</summary>
    Variance,
    /// <summary>√(Σ(x − x̄)²/(n − c)) of all n elements, for the correction c in Aux.</summary>
    StandardDeviation,
    /// <summary>The variance over one axis of a matrix (Aux = axis + 2·correction: 0 to 3).</summary>
    VarianceAxis,
    /// <summary>The standard deviation over one axis of a matrix (Aux = axis + 2·correction: 0 to 3).</summary>
    StandardDeviationAxis,

    // Fused losses (Losses/*.cs).
    /// <summary>Mean binary cross-entropy on probabilities (PyTorch's clamping of ln at −100).</summary>
    BinaryCrossEntropy,
    /// <summary>Mean binary cross-entropy on logits, computed stably.</summary>
    BinaryCrossEntropyWithLogits,
    /// <summary>Mean softmax cross-entropy with integer class labels, computed stably.</summary>
    SoftmaxCrossEntropy,

    // Fused model losses, one pass over X (Ops/ModelLosses.cs); inputs are an operand list (X, w, b[, y]).
    /// <summary>The linear regression loss ½·mean((X w + b − y)²), the seed's J.</summary>
    LinearRegressionLoss,
    /// <summary>The logistic regression loss: mean binary cross-entropy on the logits X w + b.</summary>
    LogisticRegressionLoss,
    /// <summary>The softmax regression loss: mean softmax cross-entropy of X W + b with integer class labels.</summary>
    SoftmaxRegressionLoss,

    // Extension point (Ops/CustomOp.cs).
    /// <summary>A user-defined <see cref="CustomOp"/>.</summary>
    Custom,
}
