using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// How every <see cref="OpKind"/> replays in TorchSharp: the table behind <see cref="TorchReplay"/>. Each op maps to
/// the libtorch operation with the same forward semantics, so libtorch's autograd derives the reference gradient
/// with its own rules, independently of this library's.
/// </summary>
/// <remarks>
/// <para>Shapes: a scalar is a rank-0 tensor, a vector of n a tensor [n], an r × c matrix a tensor [r, c]. This
/// library's broadcasting (a scalar over anything, a vector of length c over the rows of an r × c matrix) is a special
/// case of torch's, so binary ops map directly.</para>
/// <para>Conventions at non-differentiable points agree with PyTorch's: max/min of equal arguments split the gradient
/// g/2 each (<c>torch.maximum</c>); <c>clamp_min</c> passes the gradient where x ≥ c and <c>clamp_max</c> where x ≤ c;
/// |x| and relu have subgradient 0 at 0; a^b gives ∂/∂b = 0 where a = 0 and b ≥ 0.</para>
/// <para>One deliberate choice: <see cref="OpKind.Softplus"/> replays as −logsigmoid(−x), which libtorch computes
/// exactly, instead of <c>F.softplus</c>, which (beta 1, threshold 20) returns x itself for x &gt; 20. That shortcut is
/// off by ln(1 + e^−x) ≤ 2.1·10⁻⁹ in value, and its gradient 1 is off from σ(x) by the same amount relative: an
/// approximation in libtorch, not a disagreement about the math, but 20 times the default tolerance.</para>
/// <para>Where libtorch computes differently, within the default tolerance's floor (measured in the bridge's tests):
/// BCE on logits is (1 − y)·z − ln σ(z) there, which cancels for z ≪ 0 and y = 0 (relative error up to 100 % on losses
/// below e^−36, absolute difference at most 1.2·10⁻¹⁵ on z ∈ [−36, −5]), where this library's
/// max(z, 0) − z·y + log1p(e^−|z|) does not; σ(x) is 1/(1 + e^−x) there, which underflows to 0 for x &lt; −709.8 where
/// this library keeps the subnormal e^x/(1 + e^x) (differences below 10⁻³⁰⁰).</para>
/// <para>GELU: libtorch computes Φ(x) as ½(1 + erf(x/√2)), which cancels in the lower tail (gelu(−8) is 2 % off there,
/// gelu(−10) is 0 instead of −7.6·10⁻²³), where this library takes Φ from an accurate erfc. The two agree to 10⁻¹⁰
/// relative for x ≥ −5 (torch's relative error is about 2.2·10⁻¹⁶/Φ(x)), and below that only through the floor, the
/// differences being below 10⁻¹⁵ absolute. The same holds for its gradient Φ(x) + x·φ(x).</para>
/// <para>sign, floor, ceil and round have the zero gradient everywhere in both (libtorch's rules are zeros_like);
/// sign NaN = 0 in both. leaky_relu and elu use torch's conventions at 0 (slope c, and α). Variance and standard
/// deviation of one element with correction 1 throw here (n − c = 0), where libtorch returns NaN. libtorch's
/// per-dimension var/std lose digits to a large mean (Welford's update, error ∝ |mean|/std·ε: 6·10⁻⁹ relative for
/// a mean of 10⁸ and a spread of 1, where this library's corrected two-pass keeps all digits); for means up to about
/// 10⁴ times the spread the two agree to 10⁻¹⁰.</para>
/// <para>Second derivatives (a double backward through the replay, as the bridge's H v tests take): libtorch's
/// binary cross-entropy on probabilities computes ∂²/∂p² with ε = 10⁻¹² added to p and 1 − p, short of the exact
/// y/p² + (1 − y)/(1 − p)² (this library's) by 2ε/(p(1 − p)); and at an exponent exactly 0 the base's derivative of a^b is
/// masked to 0 (so 0⁰ has gradient 0), so its derivative with respect to b, 1/a there, is lost.</para>
/// <para>Every kind has a mapping; <see cref="IsSupported"/> says so for each value of <see cref="OpKind"/>, and the
/// bridge's tests fail for a kind that lacks one, so a new op cannot escape the cross-check.</para>
/// </remarks>
public static class TorchOpMap
{
    private static readonly Mapping?[] Table = BuildTable();

    /// <summary>Whether <paramref name="op"/> has a TorchSharp mapping (for <see cref="OpKind.Custom"/>: through <see cref="TorchCustomOps"/>).</summary>
    public static bool IsSupported(OpKind op) => (uint)op < (uint)Table.Length && Table[(int)op] is not null;

    /// <summary>The torch expression <paramref name="op"/> replays as, for reports and documentation.</summary>
    /// <exception cref="NotSupportedException">The op has no mapping.</exception>
    public static string Describe(OpKind op) => Get(op).Torch;

    /// <summary>Replays one node: its torch tensor from its inputs' tensors.</summary>
    internal static Tensor Apply(in TorchOpArguments arguments) => Get(arguments.Node.Op).Apply(arguments);

    private static Mapping Get(OpKind op) =>
        (uint)op < (uint)Table.Length && Table[(int)op] is { } mapping
            ? mapping
            : throw new NotSupportedException(
                $"TorchOpMap: OpKind.{op} ({(int)op}) has no TorchSharp mapping, so graphs using it cannot be cross-checked. Add a case to TorchOpMap.Find (src/GradientDescent.Autodiff.Torch/TorchOpMap.cs).");

    private static Mapping?[] BuildTable()
    {
        OpKind[] kinds = Enum.GetValues<OpKind>();
        var table = new Mapping?[kinds.Max(k => (int)k) + 1];
        foreach (OpKind k in kinds) table[(int)k] = Find(k);
        return table;
    }

    /// <summary>The mapping of each op: its torch expression and how to build it. A kind missing here is null: loud in <see cref="Get"/>.</summary>
    private static Mapping? Find(OpKind op) => op switch
    {
        // Leaves: one tensor per recorded node, holding the recorded value.
        OpKind.Constant => new("torch.tensor(value), a leaf without grad", a => a.Value.ToTorch(a.Node.Shape)),
        OpKind.Parameter => new("torch.tensor(value, requires_grad=True), a leaf per use", a => a.Value.ToTorch(a.Node.Shape, a.Node.RequiresGrad)),

        // Views.
        OpKind.Detach => new("x.detach()", a => a.X.detach()),
        OpKind.Element => new("x.reshape(-1)[k], k the row-major index", a => a.X.reshape(-1).select(0, (long)a.Node.Constant)),
        OpKind.Row => new("m[i]", a => a.X.select(0, (long)a.Node.Constant)),
        OpKind.Reshape => new("x.reshape(shape)", a => a.X.reshape(a.Node.Shape.ToTorchShape())),
        OpKind.Slice => new("x[a:b] (x.narrow(0, a, b - a))", a => a.X.narrow(0, (long)a.Node.Constant, a.Node.Shape.Rows)),

        // Binary elementwise, broadcasting.
        OpKind.Add => new("a + b", a => TorchScalars.Add(a.X, a.Y)),
        OpKind.Subtract => new("a - b", a => a.X.sub(a.Y)),
        OpKind.Multiply => new("a * b", a => a.X.mul(a.Y)),
        OpKind.Divide => new("a / b", a => a.X.div(a.Y)),
        OpKind.Power => new("torch.pow(a, b)", a => a.X.pow(a.Y)),
        OpKind.Maximum => new("torch.maximum(a, b)", a => a.X.maximum(a.Y)),
        OpKind.Minimum => new("torch.minimum(a, b)", a => a.X.minimum(a.Y)),

        // Unary elementwise.
        OpKind.Negate => new("-x", a => a.X.neg()),
        OpKind.AddConstant => new("x + c", a => TorchScalars.Add(a.X, a.Node.Constant)),
        OpKind.MultiplyConstant => new("x * c", a => TorchScalars.Mul(a.X, a.Node.Constant)),
        OpKind.PowerConstant => new("x.pow(c)", a => TorchScalars.Pow(a.X, a.Node.Constant)),
        OpKind.Exp => new("x.exp()", a => a.X.exp()),
        OpKind.Log => new("x.log()", a => a.X.log()),
        OpKind.Sqrt => new("x.sqrt()", a => a.X.sqrt()),
        OpKind.Abs => new("x.abs()", a => a.X.abs()),
        OpKind.Square => new("x.square()", a => TorchScalars.Square(a.X)),
        OpKind.Tanh => new("x.tanh()", a => a.X.tanh()),
        OpKind.Sigmoid => new("x.sigmoid()", a => a.X.sigmoid()),
        OpKind.Relu => new("x.relu()", a => a.X.relu()),
        OpKind.Softplus => new("-F.logsigmoid(-x) (exact; F.softplus returns x for x > 20)", a => F.logsigmoid(a.X.neg()).neg()),
        OpKind.LogSigmoid => new("F.logsigmoid(x)", a => F.logsigmoid(a.X)),
        OpKind.Sin => new("x.sin()", a => a.X.sin()),
        OpKind.Cos => new("x.cos()", a => a.X.cos()),
        OpKind.Tan => new("x.tan()", a => a.X.tan()),
        OpKind.Sinh => new("x.sinh()", a => a.X.sinh()),
        OpKind.Cosh => new("x.cosh()", a => a.X.cosh()),
        OpKind.Asin => new("x.asin()", a => a.X.asin()),
        OpKind.Acos => new("x.acos()", a => a.X.acos()),
        OpKind.Atan => new("x.atan()", a => a.X.atan()),
        OpKind.Log10 => new("x.log10()", a => a.X.log10()),
        OpKind.Log2 => new("x.log2()", a => a.X.log2()),
        OpKind.Sign => new("x.sign()", a => a.X.sign()),
        OpKind.Floor => new("x.floor()", a => a.X.floor()),
        OpKind.Ceiling => new("x.ceil()", a => a.X.ceil()),
        OpKind.Round => new("x.round()", a => a.X.round()),
        OpKind.LeakyRelu => new("F.leaky_relu(x, c)", a => TorchScalars.LeakyRelu(a.X, a.Node.Constant)),
        OpKind.Elu => new("F.elu(x, alpha)", a => TorchScalars.Elu(a.X, a.Node.Constant)),
        OpKind.Gelu => new("F.gelu(x) (approximate='none')", a => F.gelu(a.X)),
        OpKind.Silu => new("F.silu(x)", a => F.silu(a.X)),
        OpKind.MaxConstant => new("x.clamp_min(c)", a => TorchScalars.With(a.Node.Constant, c => a.X.clamp_min(c))),
        OpKind.MinConstant => new("x.clamp_max(c)", a => TorchScalars.With(a.Node.Constant, c => a.X.clamp_max(c))),

        // Linear algebra.
        OpKind.Dot => new("torch.dot(a, b)", a => a.X.dot(a.Y)),
        OpKind.MatVec => new("torch.mv(m, v)", a => a.X.mv(a.Y)),
        OpKind.MatMul => new("torch.matmul(a, b)", a => a.X.matmul(a.Y)),
        OpKind.Transpose => new("a.t()", a => a.X.t()),

        // Reductions.
        OpKind.Sum => new("x.sum()", a => a.X.sum()),
        OpKind.Mean => new("x.mean()", a => a.X.mean()),
        OpKind.SumAxis => new("x.sum(axis)", a => a.X.sum((long)a.Node.Constant)),
        OpKind.MeanAxis => new("x.mean(axis)", a => a.X.mean([(long)a.Node.Constant])),
        OpKind.LogSumExp => new("x.logsumexp(-1)", a => a.X.logsumexp(-1)),

        // Assembly and column access (copies on the tape; libtorch's own views for the columns, which its autograd handles).
        // torch.cat of a single tensor hands back that tensor itself (same TensorImpl, same .grad): copy it instead.
        OpKind.Concat => new("torch.cat(parts); x.clone() for one part", a => a.Inputs.Length == 1 ? a.X.clone() : cat(a.Inputs, 0)),
        OpKind.Stack => new("torch.stack(parts)", a => stack(a.Inputs, 0)),
        OpKind.Column => new("m[:, j]", a => a.X.select(1, (long)a.Node.Constant)),
        OpKind.Columns => new("m[:, a:b] (m.narrow(1, a, b - a))", a => a.X.narrow(1, (long)a.Node.Constant, a.Node.Shape.Cols)),

        // Softmax family (a vector, or each row of a matrix: the last dimension either way).
        OpKind.Softmax => new("x.softmax(-1)", a => a.X.softmax(-1)),
        OpKind.LogSoftmax => new("x.log_softmax(-1)", a => a.X.log_softmax(-1)),

        // Statistics: correction 1 is torch's unbiased=True, correction 0 unbiased=False. All elements go through
        // x.reshape(-1).var(0): TorchSharp 0.107's Tensor.var(bool unbiased) ignores its argument (always unbiased).
        OpKind.Variance => new("x.reshape(-1).var(0, correction=c)", a => a.X.reshape(-1).var(0L, unbiased: a.Node.Constant == 1, keepdim: false)),
        OpKind.StandardDeviation => new("x.reshape(-1).std(0, correction=c)", a => a.X.reshape(-1).std(0L, unbiased: a.Node.Constant == 1, keepdim: false)),
        OpKind.VarianceAxis => new("x.var(axis, correction=c)", a => a.X.var(StatisticAxis(a), unbiased: StatisticCorrection(a) == 1, keepdim: false)),
        OpKind.StandardDeviationAxis => new("x.std(axis, correction=c)", a => a.X.std(StatisticAxis(a), unbiased: StatisticCorrection(a) == 1, keepdim: false)),

        // Fused losses, mean over the elements / rows.
        OpKind.BinaryCrossEntropy => new("F.binary_cross_entropy(p, y)", a => F.binary_cross_entropy(a.X, a.Y)),
        OpKind.BinaryCrossEntropyWithLogits => new("F.binary_cross_entropy_with_logits(z, y)", a => F.binary_cross_entropy_with_logits(a.X, a.Y)),
        OpKind.SoftmaxCrossEntropy => new("F.cross_entropy(x as [rows, classes], labels)", SoftmaxCrossEntropy),

        // Fused model losses: inputs X, w (W), b[, y].
        OpKind.LinearRegressionLoss => new("0.5 * (X.mv(w) + b - y).square().mean()", a => TorchScalars.Mul(TorchScalars.Square(TorchScalars.Add(a.X.mv(a.Y), a.Inputs[2]) - a.Inputs[3]).mean(), 0.5)),
        OpKind.LogisticRegressionLoss => new("F.binary_cross_entropy_with_logits(X.mv(w) + b, y)", a => F.binary_cross_entropy_with_logits(TorchScalars.Add(a.X.mv(a.Y), a.Inputs[2]), a.Inputs[3])),
        OpKind.SoftmaxRegressionLoss => new("F.cross_entropy(X.mm(W) + b, labels)", SoftmaxRegression),

        // Extension point.
        OpKind.Custom => new("the TorchCustomOps equivalent of the op", Custom),

        // No mapping: IsSupported says false, Get (and so every replay of such a node) throws, TorchOpMapTests fails.
        _ => null,
    };

    /// <summary>The axis of a per-axis statistic, whose constant is axis + 2·correction.</summary>
    private static long StatisticAxis(TorchOpArguments a) => (long)a.Node.Constant % 2;

    /// <summary>The correction of a per-axis statistic, whose constant is axis + 2·correction.</summary>
    private static long StatisticCorrection(TorchOpArguments a) => (long)a.Node.Constant / 2;

    private static Tensor SoftmaxCrossEntropy(TorchOpArguments a)
    {
        IReadOnlyList<int> labels = a.Node.Labels
            ?? throw new InvalidOperationException($"TorchOpMap: SoftmaxCrossEntropy node {a.Node.Id} carries no labels.");
        Tensor logits = a.Node.Inputs.Count == 1 && a.X.shape.Length == 1 ? a.X.unsqueeze(0) : a.X;
        using Tensor targets = tensor(labels.Select(l => (long)l).ToArray(), int64);
        return F.cross_entropy(logits, targets);
    }

    private static Tensor SoftmaxRegression(TorchOpArguments a)
    {
        IReadOnlyList<int> labels = a.Node.Labels
            ?? throw new InvalidOperationException($"TorchOpMap: SoftmaxRegressionLoss node {a.Node.Id} carries no labels.");
        using Tensor targets = tensor(labels.Select(l => (long)l).ToArray(), int64);
        return F.cross_entropy(TorchScalars.Add(a.X.mm(a.Y), a.Inputs[2]), targets);
    }

    private static Tensor Custom(TorchOpArguments a)
    {
        CustomOp op = a.Node.CustomOp ?? throw new InvalidOperationException($"TorchOpMap: custom node {a.Node.Id} carries no op.");
        Func<Tensor[], Tensor> equivalent = a.Custom
            ?? throw new InvalidOperationException($"TorchOpMap: custom op '{op.Name}' (node {a.Node.Id}) has no TorchSharp equivalent.");
        Tensor result = equivalent(a.Inputs)
            ?? throw new InvalidOperationException($"TorchOpMap: the TorchSharp equivalent of custom op '{op.Name}' returned null.");
        // An equivalent that hands back one of its inputs would make two nodes share one tensor (and one .grad).
        return a.Inputs.Any(input => ReferenceEquals(input, result)) ? result.clone() : result;
    }

    private sealed record Mapping(string Torch, Func<TorchOpArguments, Tensor> Apply);
}

/// <summary>What replaying one node needs: its structure, its inputs' tensors, its recorded value (for leaves) and, for a custom op, the user's equivalent.</summary>
internal readonly record struct TorchOpArguments(NodeInfo Node, Tensor[] Inputs, double[] Value, Func<Tensor[], Tensor>? Custom)
{
    /// <summary>The first input.</summary>
    public Tensor X => Inputs[0];

    /// <summary>The second input.</summary>
    public Tensor Y => Inputs[1];
}
