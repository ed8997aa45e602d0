using FsCheck;
using FsCheck.Fluent;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>One step of a random graph: an op, two picks (which pool nodes, which index) and a variant (broadcast pattern, constant, extreme scaling, NoGrad).</summary>
public readonly record struct GraphStep(OpKind Op, int A, int B, int Variant)
{
    /// <summary>"Add(12,40,v7)".</summary>
    public override string ToString() => $"{Op}({A},{B},v{Variant})";
}

/// <summary>
/// A random graph: leaf shapes (rows × cols matrices, inner for products) and values from <paramref name="Seed"/>,
/// then one op per step. Every step is total: inputs that do not fit an op are adapted (a guard op), never rejected,
/// so FsCheck may shrink a recipe by dropping steps.
/// </summary>
public sealed record GraphRecipe(int Seed, int Rows, int Cols, int Inner, GraphStep[] Steps)
{
    /// <summary>A line FsCheck prints for a counterexample.</summary>
    public override string ToString() => $"seed {Seed}, {Rows}×{Cols}, inner {Inner}: {string.Join(" ", Steps)}";
}

/// <summary>FsCheck generators of <see cref="GraphRecipe"/>s.</summary>
public static class GraphGen
{
    /// <summary>Every op of the op set except the two leaves: the generator picks among all of them.</summary>
    public static readonly OpKind[] NonLeafOps = Enum.GetValues<OpKind>().Where(k => k is not (OpKind.Constant or OpKind.Parameter)).ToArray();

    /// <summary>A step: any non-leaf op, picks and variant uniform in 0..999.</summary>
    public static Gen<GraphStep> Step =>
        from op in Gen.Elements(NonLeafOps)
        from a in Gen.Choose(0, 999)
        from b in Gen.Choose(0, 999)
        from variant in Gen.Choose(0, 999)
        select new GraphStep(op, a, b, variant);

    /// <summary>A recipe of 3 to 14 steps on 1–4 × 1–4 matrices.</summary>
    public static Gen<GraphRecipe> Recipe =>
        from seed in Gen.Choose(0, int.MaxValue)
        from rows in Gen.Choose(1, 4)
        from cols in Gen.Choose(1, 4)
        from inner in Gen.Choose(1, 3)
        from count in Gen.Choose(3, 14)
        from steps in Gen.ArrayOf(Step, count)
        select new GraphRecipe(seed, rows, cols, inner, steps);

    /// <summary>Shrinks by dropping one step at a time (the decoder is total, so every shrink is a valid graph).</summary>
    public static IEnumerable<GraphRecipe> Shrink(GraphRecipe recipe)
    {
        for (int k = 0; k < recipe.Steps.Length && recipe.Steps.Length > 1; k++)
        {
            yield return recipe with { Steps = [.. recipe.Steps[..k], .. recipe.Steps[(k + 1)..]] };
        }
    }
}

/// <summary>The FsCheck arbitrary for <see cref="GraphRecipe"/> (for <c>[Property(Arbitrary = …)]</c>).</summary>
public static class GraphArbitrary
{
    /// <summary>Random recipes, shrinking by dropping steps.</summary>
    public static Arbitrary<GraphRecipe> Recipes() => Arb.From(GraphGen.Recipe, GraphGen.Shrink);
}


/// <summary>
/// Records a <see cref="GraphRecipe"/> on a tape: parameters and constants of several shapes, then every step on
/// nodes picked from a pool of everything recorded so far (so nodes are reused), then a loss that weighs every
/// unconsumed node with random constants (so no gradient is a plain vector of ones, which would hide a transposed
/// rule).
/// </summary>
/// <remarks>
/// Inputs are kept in each op's domain, and values and gradients at moderate magnitudes (so that rounding noise stays
/// below the tolerance's floor), by guards that are themselves ops: Positive(x) = e^tanh(x) ∈ [1/e, e] for ln, √,
/// fractional and negative powers and bases of a^b; Bounded(x) = tanh(x) where |x| is too large for e^x or a product;
/// a divisor with an element of magnitude below 0.5 is replaced by ±Positive(x); inputs of kinks (relu, |·|, clamp,
/// max/min) are moved clear of them (see AwayFrom). Extreme variants add a constant of ±10³ to the input of σ,
/// softplus, ln σ, tanh and BCE with logits, and of ±10⁴ to the input of softmax, log-softmax, log-sum-exp and softmax
/// cross-entropy; BCE gets probabilities of exactly 0 and 1 from σ(x ± 10³) and clamp(x, 0, 1), with labels that agree
/// where p is saturated (elsewhere BCE's 1/max(p(1 − p), ε) would multiply upstream rounding noise by up to 10¹²).
/// Shifting rather than scaling makes the inputs extreme without multiplying every gradient upstream by the scale.
/// </remarks>
public sealed class RandomGraph
{
    private readonly GraphRecipe _recipe;
    private readonly ScalarParameter _s;
    private readonly VectorParameter _vCols, _vRows;
    private readonly MatrixParameter _m, _k;
    private readonly double[] _constVector, _constMatrix;
    private readonly double _constScalar;

    /// <summary>Creates the recipe's parameters (fixed values from its seed).</summary>
    public RandomGraph(GraphRecipe recipe)
    {
        _recipe = recipe;
        var random = new Random(recipe.Seed);
        _s = new ScalarParameter("s", Uniform(random));
        _vCols = new VectorParameter("vc", Uniforms(random, recipe.Cols));
        _vRows = new VectorParameter("vr", Uniforms(random, recipe.Rows));
        _m = new MatrixParameter("M", To2D(Uniforms(random, recipe.Rows * recipe.Cols), recipe.Rows, recipe.Cols));
        _k = new MatrixParameter("K", To2D(Uniforms(random, recipe.Cols * recipe.Inner), recipe.Cols, recipe.Inner));
        _constVector = Uniforms(random, recipe.Cols);
        _constMatrix = Uniforms(random, recipe.Rows * recipe.Cols);
        _constScalar = Uniform(random);
    }

    /// <summary>The parameters the graph uses.</summary>
    public IReadOnlyList<Parameter> Parameters => [_s, _vCols, _vRows, _m, _k];

    /// <summary>Cross-check options with the TorchSharp equivalent of <see cref="CubeOp"/>.</summary>
    public static TorchCrossCheckOptions Options { get; } = new() { CustomOps = { [CubeOp.Instance] = x => x[0].pow(3) } };

    /// <summary>Records the graph and its loss on <paramref name="tape"/> (deterministic for a recipe).</summary>
    public Scalar Record(Tape tape) => new Recorder(this, tape).Run();

    private static double Uniform(Random random) => (random.NextDouble() * 4) - 2;

    private static double[] Uniforms(Random random, int n) => Enumerable.Range(0, n).Select(_ => Uniform(random)).ToArray();

    private static double[,] To2D(double[] flat, int rows, int cols)
    {
        var m = new double[rows, cols];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(double));
        return m;
    }

    private sealed class Recorder(RandomGraph graph, Tape tape)
    {
        private readonly List<Node> _pool = [];
        private readonly HashSet<int> _consumed = [];
        private readonly Random _random = new(graph._recipe.Seed ^ 0x5EED);

        public Scalar Run()
        {
            GraphRecipe r = graph._recipe;
            _pool.Add(tape.Use(graph._s));
            _pool.Add(tape.Use(graph._vCols));
            _pool.Add(tape.Use(graph._vRows));
            _pool.Add(tape.Use(graph._m));
            _pool.Add(tape.Use(graph._k));
            _pool.Add(tape.Constant(graph._constVector));
            _pool.Add(tape.Constant(graph._constMatrix, r.Rows, r.Cols));
            _pool.Add(tape.Constant(graph._constScalar));
            if (r.Seed % 2 == 1) _pool.Add(tape.Use(graph._vCols)); // a parameter used twice: two leaves, one gradient

            foreach (GraphStep step in r.Steps)
            {
                // Now and then record a step without gradient: the replay must detach it as the tape did.
                if (step.Variant % 17 == 16)
                {
                    using (tape.NoGrad()) _pool.Add(Apply(step));
                }
                else
                {
                    _pool.Add(Apply(step));
                }
            }

            Scalar loss = tape.Constant(0.0);
            foreach (Node n in _pool.Where(n => !_consumed.Contains(n.Id)).ToList()) loss += Weigh(n);
            if (!((Node)loss).RequiresGrad) loss += Ops.Sum(tape.Use(graph._vCols));
            return loss;
        }

        /// <summary>Σ wₖ·nₖ with random constant weights wₖ ∈ ±[0.5, 1.5].</summary>
        private Scalar Weigh(Node n)
        {
            double W() => (_random.Next(2) == 0 ? -1 : 1) * (0.5 + _random.NextDouble());
            return n.Shape.Kind switch
            {
                ShapeKind.Scalar => n.AsScalar() * W(),
                ShapeKind.Vector => Ops.Dot(n.AsVector(), tape.Constant(Enumerable.Range(0, n.Shape.Length).Select(_ => W()).ToArray())),
                _ => Ops.Sum(n.AsMatrix() * tape.Constant(Enumerable.Range(0, n.Shape.Length).Select(_ => W()).ToArray(), n.Shape.Rows, n.Shape.Cols)),
            };
        }

        private Node Apply(GraphStep s)
        {
            int v = s.Variant;
            switch (s.Op)
            {
                case OpKind.Detach: return Unary(Pick(Any, s.A), Ops.Detach, Ops.Detach, Ops.Detach);
                case OpKind.Element:
                {
                    Node x = Pick(NotScalar, s.A);
                    return x.Shape.Kind == ShapeKind.Vector
                        ? x.AsVector()[s.B % x.Shape.Length]
                        : x.AsMatrix()[s.B % x.Shape.Rows, v % x.Shape.Cols];
                }
                case OpKind.Row:
                {
                    Matrix m = Pick(IsMatrix, s.A).AsMatrix();
                    return m.Row(s.B % m.Rows);
                }
                case OpKind.Reshape:
                {
                    Node x = Pick(NotScalar, s.A);
                    int n = x.Shape.Length;
                    int[] divisors = Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();
                    int rows = divisors[s.B % divisors.Length];
                    if (x.Shape.Kind == ShapeKind.Vector) return Ops.Reshape(x.AsVector(), rows, n / rows);
                    return v % 2 == 0 ? Ops.Flatten(x.AsMatrix()) : Ops.Reshape(x.AsMatrix(), rows, n / rows);
                }
                case OpKind.Add or OpKind.Subtract or OpKind.Multiply or OpKind.Divide:
                {
                    (Node a, Node b) = Operands(s, allowBroadcast: true);
                    if (s.Op == OpKind.Multiply) (a, b) = (Bounded(a, 10), Bounded(b, 10));
                    if (s.Op == OpKind.Divide) b = NonZero(b, negate: v % 3 == 0);
                    return Arithmetic(s.Op, a, b);
                }
                case OpKind.Power:
                {
                    // Same shapes, or a vector to a scalar power; base in [1/e, e], exponent in [−3, 3].
                    (Node a, Node b) = Operands(s, allowBroadcast: false);
                    if (a.Shape.Kind == ShapeKind.Vector && v % 5 == 0) b = Pick(IsScalar, s.B);
                    return Arithmetic(OpKind.Power, Positive(a), Bounded(b, 2));
                }
                case OpKind.Maximum or OpKind.Minimum:
                {
                    (Node a, Node b) = Operands(s, allowBroadcast: false);
                    if (v % 4 == 1)
                    {
                        a = AwayFrom(a, 0);
                        b = Unary(a, Ops.Relu, Ops.Relu, Ops.Relu); // exact ties wherever a > 0
                    }
                    else
                    {
                        b = ApartFrom(b, a);
                    }
                    return Arithmetic(s.Op, a, b);
                }
                case OpKind.Negate: return Unary(Pick(Any, s.A), x => -x, x => -x, x => -x);
                case OpKind.AddConstant:
                {
                    double c = ((v % 9) - 4) * 0.5;
                    Node x = Pick(Any, s.A);
                    return v % 2 == 0 ? Unary(x, y => y + c, y => y + c, y => y + c) : Unary(x, y => y - c, y => y - c, y => y - c);
                }
                case OpKind.MultiplyConstant:
                {
                    double c = ((v % 9) - 4) * 0.75;
                    return Unary(Pick(Any, s.A), y => y * c, y => c * y, y => y * c);
                }
                case OpKind.PowerConstant:
                {
                    double[] exponents = [2, 3, 0.5, -1, 1.5, 0, -0.5, 1];
                    double c = exponents[v % exponents.Length];
                    Node x = Pick(Any, s.A);
                    x = c >= 0 && Math.Floor(c) == c ? Bounded(x, 3) : Positive(x);
                    return Unary(x, y => Ops.Pow(y, c), y => Ops.Pow(y, c), y => Ops.Pow(y, c));
                }
                case OpKind.Exp: return Unary(Bounded(Pick(Any, s.A), 5), Ops.Exp, Ops.Exp, Ops.Exp);
                case OpKind.Log: return Unary(Positive(Pick(Any, s.A)), Ops.Log, Ops.Log, Ops.Log);
                case OpKind.Sqrt: return Unary(Positive(Pick(Any, s.A)), Ops.Sqrt, Ops.Sqrt, Ops.Sqrt);
                case OpKind.Abs: return Unary(AwayFrom(Pick(Any, s.A), 0), Ops.Abs, Ops.Abs, Ops.Abs);
                case OpKind.Square: return Unary(Bounded(Pick(Any, s.A), 10), Ops.Square, Ops.Square, Ops.Square);
                case OpKind.Tanh: return Unary(Logits(Pick(Any, s.A), v), Ops.Tanh, Ops.Tanh, Ops.Tanh);
                case OpKind.Sigmoid: return Unary(Logits(Pick(Any, s.A), v), Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid);
                case OpKind.Relu: return Unary(AwayFrom(Pick(Any, s.A), 0), Ops.Relu, Ops.Relu, Ops.Relu);
                case OpKind.Softplus: return Unary(Logits(Pick(Any, s.A), v), Ops.Softplus, Ops.Softplus, Ops.Softplus);
                case OpKind.LogSigmoid: return Unary(Logits(Pick(Any, s.A), v), Ops.LogSigmoid, Ops.LogSigmoid, Ops.LogSigmoid);
                case OpKind.MaxConstant or OpKind.MinConstant:
                {
                    // A bound equal to an element of a leaf makes an exact tie (the gradient passes, as in PyTorch's
                    // clamp); elsewhere the input keeps away from the bounds.
                    bool tie = v % 3 == 0;
                    Node x = Pick(tie ? IsLeaf : Any, s.A);
                    double c = tie ? x.ToArray()[s.B % x.Shape.Length] : ((v % 7) - 3) * 0.5;
                    if (!tie) x = AwayFrom(x, c - 1, c);
                    if (v % 5 == 0) return Unary(x, y => Ops.Clamp(y, c - 1, c), y => Ops.Clamp(y, c - 1, c), y => Ops.Clamp(y, c - 1, c));
                    return s.Op == OpKind.MaxConstant
                        ? Unary(x, y => Ops.Max(y, c), y => Ops.Max(y, c), y => Ops.Max(y, c))
                        : Unary(x, y => Ops.Min(y, c), y => Ops.Min(y, c), y => Ops.Min(y, c));
                }
                case OpKind.Dot:
                {
                    Vector a = Bounded(Pick(IsVector, s.A), 10).AsVector();
                    Vector b = Bounded(Pick(n => n.Shape == Shape.Vector(a.Length), s.B), 10).AsVector();
                    return Ops.Dot(a, b);
                }
                case OpKind.MatVec:
                {
                    Matrix m = Bounded(Pick(IsMatrix, s.A), 10).AsMatrix();
                    Node? vector = TryPick(n => n.Shape == Shape.Vector(m.Cols), s.B);
                    Vector x = vector is { } found ? Bounded(found, 10).AsVector() : m.Row(s.B % m.Rows);
                    return Ops.MatVec(m, x);
                }
                case OpKind.MatMul:
                {
                    Matrix a = Bounded(Pick(IsMatrix, s.A), 10).AsMatrix();
                    Node? right = TryPick(n => n.Shape.Kind == ShapeKind.Matrix && n.Shape.Rows == a.Cols, s.B);
                    Matrix b = right is { } found ? Bounded(found, 10).AsMatrix() : Ops.Transpose(a);
                    return Ops.MatMul(a, b);
                }
                case OpKind.Transpose: return Ops.Transpose(Pick(IsMatrix, s.A).AsMatrix());
                case OpKind.Sum or OpKind.Mean:
                {
                    Node x = Pick(NotScalar, s.A);
                    bool mean = s.Op == OpKind.Mean;
                    return x.Shape.Kind == ShapeKind.Vector
                        ? (mean ? Ops.Mean(x.AsVector()) : Ops.Sum(x.AsVector()))
                        : (mean ? Ops.Mean(x.AsMatrix()) : Ops.Sum(x.AsMatrix()));
                }
                case OpKind.SumAxis or OpKind.MeanAxis:
                {
                    Matrix m = Pick(IsMatrix, s.A).AsMatrix();
                    return s.Op == OpKind.SumAxis ? Ops.Sum(m, v % 2) : Ops.Mean(m, v % 2);
                }
                case OpKind.LogSumExp:
                {
                    Node x = SoftmaxLogits(Pick(NotScalar, s.A), v);
                    return x.Shape.Kind == ShapeKind.Vector ? Ops.LogSumExp(x.AsVector()) : Ops.LogSumExp(x.AsMatrix());
                }
                case OpKind.Concat:
                {
                    int parts = 1 + (v % 3);
                    var vectors = new Vector[parts];
                    for (int k = 0; k < parts; k++) vectors[k] = Pick(IsVector, s.A + (k * s.B)).AsVector();
                    return Ops.Concat(vectors);
                }
                case OpKind.Softmax or OpKind.LogSoftmax:
                {
                    Node x = SoftmaxLogits(Pick(NotScalar, s.A), v);
                    bool log = s.Op == OpKind.LogSoftmax;
                    return x.Shape.Kind == ShapeKind.Vector
                        ? (log ? Ops.LogSoftmax(x.AsVector()) : Ops.Softmax(x.AsVector()))
                        : (log ? Ops.LogSoftmax(x.AsMatrix()) : Ops.Softmax(x.AsMatrix()));
                }
                case OpKind.BinaryCrossEntropy:
                {
                    Node x = Pick(n => n.Shape.Kind != ShapeKind.Matrix, s.A);
                    // Probabilities: σ(x); σ(x ± 1000), exactly 0 or 1; clamp(x, 0, 1), exactly 0 or 1 outside [0, 1].
                    Node p = (v % 3) switch
                    {
                        0 => Unary(x, Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid),
                        1 => Unary(Extreme(x, 1e3, v), Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid),
                        _ => Unary(AwayFrom(x, 0, 1), y => Ops.Clamp(y, 0, 1), y => Ops.Clamp(y, 0, 1), y => Ops.Clamp(y, 0, 1)),
                    };
                    // Where p is saturated (p(1 − p) < 10⁻⁶, exactly 0 or 1 included) the label agrees with it: the
                    // gradient (p − y)/max(p(1 − p), ε) would otherwise multiply the rounding noise that reaches this
                    // node by up to 10¹² (BCE's extremes with disagreeing labels have their own fact in ExtremeInputTests).
                    double[] probabilities = p.ToArray();
                    double[] labels = Labels(p.Shape.Length, soft: v % 4 == 3)
                        .Select((y, k) => probabilities[k] * (1 - probabilities[k]) < 1e-6 ? Math.Round(probabilities[k]) : y)
                        .ToArray();
                    return p.Shape.Kind == ShapeKind.Scalar
                        ? Loss.BinaryCrossEntropy(p.AsScalar(), labels[0])
                        : Loss.BinaryCrossEntropy(p.AsVector(), tape.Constant(labels));
                }
                case OpKind.BinaryCrossEntropyWithLogits:
                {
                    Node z = Logits(Pick(n => n.Shape.Kind != ShapeKind.Matrix, s.A), v);
                    double[] labels = Labels(z.Shape.Length, soft: v % 4 == 3);
                    return z.Shape.Kind == ShapeKind.Scalar
                        ? Loss.BinaryCrossEntropyWithLogits(z.AsScalar(), labels[0])
                        : Loss.BinaryCrossEntropyWithLogits(z.AsVector(), tape.Constant(labels));
                }
                case OpKind.SoftmaxCrossEntropy:
                {
                    Node x = SoftmaxLogits(Pick(NotScalar, s.A), v);
                    if (x.Shape.Kind == ShapeKind.Vector) return Loss.SoftmaxCrossEntropy(x.AsVector(), s.B % x.Shape.Length);
                    int[] labels = Enumerable.Range(0, x.Shape.Rows).Select(row => (s.B + (row * v)) % x.Shape.Cols).ToArray();
                    return Loss.SoftmaxCrossEntropy(x.AsMatrix(), labels);
                }
                case OpKind.Custom: return Ops.Custom(CubeOp.Instance, Bounded(Pick(Any, s.A), 3));
                default:
                    throw new InvalidOperationException($"RandomGraph: no recipe for OpKind.{s.Op}; teach the random graph builder the new op so the cross-check covers it.");
            }
        }

        // ---------------------------------------------------------------- operands and guards

        /// <summary>
        /// Two operands under a broadcast pattern: equal shapes (another node or the same node again), a scalar with
        /// anything, or a vector with a matrix of as many columns, in either order.
        /// </summary>
        private (Node A, Node B) Operands(GraphStep s, bool allowBroadcast)
        {
            int pattern = allowBroadcast ? s.Variant % 4 : (s.Variant % 2) * 3;
            bool swap = (s.Variant / 4) % 2 == 1;
            Node a = Pick(Any, s.A);
            Node b;
            switch (pattern)
            {
                case 1: // scalar broadcast
                    b = Pick(IsScalar, s.B);
                    break;
                case 2: // a vector over the rows of a matrix
                {
                    a = Pick(IsMatrix, s.A);
                    int cols = a.Shape.Cols;
                    b = TryPick(n => n.Shape == Shape.Vector(cols), s.B) ?? a.AsMatrix().Row(s.B % a.Shape.Rows);
                    break;
                }
                case 3: // the same node twice
                    b = a;
                    break;
                default: // equal shapes
                    Shape shape = a.Shape;
                    b = Pick(n => n.Shape == shape, s.B);
                    break;
            }
            return swap ? (b, a) : (a, b);
        }

        private static bool Any(Node n) => true;
        private static bool IsLeaf(Node n) => n.Op is OpKind.Parameter or OpKind.Constant;
        private static bool IsScalar(Node n) => n.Shape.Kind == ShapeKind.Scalar;
        private static bool IsVector(Node n) => n.Shape.Kind == ShapeKind.Vector;
        private static bool IsMatrix(Node n) => n.Shape.Kind == ShapeKind.Matrix;
        private static bool NotScalar(Node n) => n.Shape.Kind != ShapeKind.Scalar;

        private Node? TryPick(Func<Node, bool> fits, int pick)
        {
            var candidates = _pool.Where(fits).ToList();
            if (candidates.Count == 0) return null;
            Node chosen = candidates[pick % candidates.Count];
            _consumed.Add(chosen.Id);
            return chosen;
        }

        private Node Pick(Func<Node, bool> fits, int pick) =>
            TryPick(fits, pick) ?? throw new InvalidOperationException("RandomGraph: the pool lacks a node of the needed kind (the initial leaves cover every kind).");

        private static double MaxAbs(Node n) => n.ToArray().Max(Math.Abs);

        private static readonly double[] Offsets = [0.375, 0.6875, 1.1875, 2.4375, 4.8125];

        /// <summary>Whether u and v are far enough apart that an ulp of difference between the two sides cannot swap them.</summary>
        private static bool Apart(double u, double v) => Math.Abs(u - v) >= 1e-6 * Math.Max(1, Math.Max(Math.Abs(u), Math.Abs(v)));

        /// <summary>
        /// x, or x + an offset, so that no element sits within a rounding error of a kink (relu and |·| at 0, clamp
        /// bounds). Both sides agree on which side of a kink each value lies only if it is clear of it: libtorch's values
        /// differ from this library's by an ulp here and there, and at a kink an ulp decides the gradient. A leaf is
        /// left as it is: its values are the same bits on both sides, so even an exact hit is a shared tie.
        /// </summary>
        private static Node AwayFrom(Node x, params double[] kinks)
        {
            if (IsLeaf(x)) return x;
            double[] values = x.ToArray();
            if (values.All(e => kinks.All(k => Apart(e, k)))) return x;
            double offset = Offsets.FirstOrDefault(o => values.All(e => kinks.All(k => Apart(e + o, k))), Offsets[^1]);
            return Unary(x, y => y + offset, y => y + offset, y => y + offset);
        }

        /// <summary>b, or b + an offset, so that max/min(a, b) has no near-ties (exact ties of the same node or of two leaves stay).</summary>
        private static Node ApartFrom(Node b, Node a)
        {
            if (a == b || (IsLeaf(a) && IsLeaf(b))) return b;
            double[] va = a.ToArray(), vb = b.ToArray();
            bool Clear(double o) => va.Zip(vb).All(p => Apart(p.First, p.Second + o));
            if (Clear(0)) return b;
            double offset = Offsets.FirstOrDefault(Clear, Offsets[^1]);
            return Unary(b, y => y + offset, y => y + offset, y => y + offset);
        }

        /// <summary>x, or tanh x if some |xₖ| exceeds <paramref name="limit"/> (or is not finite).</summary>
        private static Node Bounded(Node x, double limit) =>
            MaxAbs(x) <= limit ? x : Unary(x, Ops.Tanh, Ops.Tanh, Ops.Tanh);

        /// <summary>x if every element is in [0.2, 10], else e^tanh(x) ∈ [1/e, e].</summary>
        private static Node Positive(Node x)
        {
            double[] values = x.ToArray();
            if (values.All(e => e >= 0.2 && e <= 10)) return x;
            return Unary(Unary(x, Ops.Tanh, Ops.Tanh, Ops.Tanh), Ops.Exp, Ops.Exp, Ops.Exp);
        }

        /// <summary>x if every |xₖ| is in [0.5, 100], else ±e^tanh(x).</summary>
        private static Node NonZero(Node x, bool negate)
        {
            double[] values = x.ToArray();
            if (values.All(e => Math.Abs(e) >= 0.5 && Math.Abs(e) <= 100)) return x;
            Node p = Positive(x);
            return negate ? Unary(p, y => -y, y => -y, y => -y) : p;
        }

        /// <summary>Logits for the stable ops: x, or in one variant of three x ± 10³.</summary>
        private Node Logits(Node x, int variant) => variant % 3 == 2 ? Extreme(x, 1e3, variant) : x;

        /// <summary>Inputs of the softmax family: x, or in one variant of three x ± 10⁴.</summary>
        private Node SoftmaxLogits(Node x, int variant) => variant % 3 == 2 ? Extreme(x, 1e4, variant) : x;

        /// <summary>x + c, c a constant of x's shape whose elements are ±<paramref name="magnitude"/> (signs from the variant's bits).</summary>
        private Node Extreme(Node x, double magnitude, int variant)
        {
            double[] c = Enumerable.Range(0, x.Shape.Length).Select(k => ((variant >> (k % 10)) & 1) == 0 ? magnitude : -magnitude).ToArray();
            return x.Shape.Kind switch
            {
                ShapeKind.Scalar => x.AsScalar() + tape.Constant(c[0]),
                ShapeKind.Vector => x.AsVector() + tape.Constant(c),
                _ => x.AsMatrix() + tape.Constant(c, x.Shape.Rows, x.Shape.Cols),
            };
        }

        private double[] Labels(int n, bool soft) =>
            Enumerable.Range(0, n).Select(_ => soft ? _random.NextDouble() : _random.Next(2)).ToArray();

        private static Node Unary(Node x, Func<Scalar, Scalar> scalar, Func<Vector, Vector> vector, Func<Matrix, Matrix> matrix) =>
            x.Shape.Kind switch
            {
                ShapeKind.Scalar => scalar(x.AsScalar()),
                ShapeKind.Vector => vector(x.AsVector()),
                _ => matrix(x.AsMatrix()),
            };

        /// <summary>a ∘ b through the typed API for every pair of kinds the op set allows.</summary>
        private static Node Arithmetic(OpKind op, Node a, Node b)
        {
            const ShapeKind S = ShapeKind.Scalar, V = ShapeKind.Vector, M = ShapeKind.Matrix;
            return (a.Shape.Kind, b.Shape.Kind, op) switch
            {
                (S, S, _) => Basic(op, a.AsScalar(), b.AsScalar(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, Ops.Pow, Ops.Max, Ops.Min),
                (V, V, _) => Basic(op, a.AsVector(), b.AsVector(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, Ops.Pow, Ops.Max, Ops.Min),
                (M, M, _) => Basic(op, a.AsMatrix(), b.AsMatrix(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, Ops.Pow, Ops.Max, Ops.Min),
                (V, S, OpKind.Power) => Ops.Pow(a.AsVector(), b.AsScalar()),
                (V, S, _) => Basic<Vector, Scalar, Vector>(op, a.AsVector(), b.AsScalar(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
                (S, V, _) => Basic<Scalar, Vector, Vector>(op, a.AsScalar(), b.AsVector(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
                (M, S, _) => Basic<Matrix, Scalar, Matrix>(op, a.AsMatrix(), b.AsScalar(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
                (S, M, _) => Basic<Scalar, Matrix, Matrix>(op, a.AsScalar(), b.AsMatrix(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
                (M, V, _) => Basic<Matrix, Vector, Matrix>(op, a.AsMatrix(), b.AsVector(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
                (V, M, _) => Basic<Vector, Matrix, Matrix>(op, a.AsVector(), b.AsMatrix(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
                _ => throw new InvalidOperationException($"RandomGraph: {op} of {a.Shape} and {b.Shape} is not in the op set."),
            };
        }

        private static Node Basic<T>(
            OpKind op, T a, T b, Func<T, T, T> add, Func<T, T, T> sub, Func<T, T, T> mul, Func<T, T, T> div,
            Func<T, T, T> pow, Func<T, T, T> max, Func<T, T, T> min)
            where T : struct => ToNode(op switch
            {
                OpKind.Add => add(a, b),
                OpKind.Subtract => sub(a, b),
                OpKind.Multiply => mul(a, b),
                OpKind.Divide => div(a, b),
                OpKind.Power => pow(a, b),
                OpKind.Maximum => max(a, b),
                OpKind.Minimum => min(a, b),
                _ => throw new InvalidOperationException($"RandomGraph: {op} is not binary arithmetic."),
            });

        private static Node Basic<TA, TB, TR>(OpKind op, TA a, TB b, Func<TA, TB, TR> add, Func<TA, TB, TR> sub, Func<TA, TB, TR> mul, Func<TA, TB, TR> div)
            where TR : struct => ToNode(op switch
            {
                OpKind.Add => add(a, b),
                OpKind.Subtract => sub(a, b),
                OpKind.Multiply => mul(a, b),
                OpKind.Divide => div(a, b),
                _ => throw new InvalidOperationException($"RandomGraph: {op} does not broadcast here."),
            });

        private static Node ToNode<T>(T value) where T : struct => value switch
        {
            Scalar s => s,
            Vector v => v,
            Matrix m => m,
            _ => throw new InvalidOperationException($"RandomGraph: {typeof(T).Name} is not a node handle."),
        };
    }
}
