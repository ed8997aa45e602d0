using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace GradientDescent.Autodiff.Tests.Support;

/// <summary>
/// What a step of a random program does: one value per public entry point of the op set (every operator, every
/// <see cref="Ops"/> function, every <see cref="Loss"/>, and custom ops), plus the two kinds of leaves.
/// </summary>
internal enum GraphOp : byte
{
    // Leaves (never chosen as a step).
    Parameter,
    Constant,

    // Binary, with broadcasting.
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
    Maximum,
    Minimum,

    // With a double.
    AddConstant,
    SubtractConstant,
    ConstantMinus,
    MultiplyConstant,
    DivideByConstant,
    ConstantOver,
    PowerConstant,

    // Unary.
    Negate,
    Exp,
    Log,
    Sqrt,
    Abs,
    Square,
    Tanh,
    Sigmoid,
    Relu,
    Softplus,
    LogSigmoid,
    MaxConstant,
    MinConstant,
    Clamp,

    // Linear algebra.
    Dot,
    MatVec,
    MatMul,
    Transpose,

    // Reductions.
    Sum,
    Mean,
    SumAxis,
    MeanAxis,
    LogSumExp,

    // Softmax family.
    Softmax,
    LogSoftmax,

    // Views and assembly.
    Element,
    Row,
    Reshape,
    Flatten,
    Concat,
    Detach,

    // Losses.
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    SoftmaxCrossEntropy,
    HalfSquaredError,
    HalfMeanSquaredError,
    MeanSquaredError,

    // Custom ops.
    CustomSwish,
    CustomProductPlus,
    CustomSumOfCubes,
}

/// <summary>A leaf of a random program: a parameter (a gradient is checked for it) or constant data.</summary>
internal sealed record LeafSpec(bool IsParameter, Shape Shape, double[] Values)
{
    public override string ToString() =>
        $"{(IsParameter ? "param" : "const")} {Shape} = [{string.Join(", ", Values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)))}]";
}

/// <summary>
/// One step: an op and raw random choices. <see cref="A"/> and <see cref="B"/> pick operands from the pool of
/// nodes built so far (modulo its size, so every choice is valid and nodes get reused), <see cref="K"/> picks
/// shapes, axes, indices, labels and variants, <see cref="C"/> is a constant in [−2, 2].
/// </summary>
internal sealed record StepSpec(GraphOp Op, int A, int B, int K, double C)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Op}(a={A}, b={B}, k={K}, c={C:G4})");
}

/// <summary>A random program: leaves, steps, and the seed of the final loss's weights.</summary>
internal sealed record GraphSpec(LeafSpec[] Leaves, StepSpec[] Steps, int Seed)
{
    public override string ToString() =>
        $"GraphSpec(seed {Seed})\n  " + string.Join("\n  ", Leaves.Select(l => l.ToString())) + "\n  " + string.Join("\n  ", Steps.Select(s => s.ToString()));
}

/// <summary>
/// FsCheck generation of random expression graphs, and their translation into programs that record on a tape.
/// </summary>
/// <remarks>
/// <para>A <see cref="GraphSpec"/> is pure random data. <see cref="Build"/> turns it into a
/// <see cref="GraphProgram"/> by executing it once at the parameters' initial values: each step's operands are
/// chosen among the nodes of compatible shape (or made compatible by a view, a reduction or a broadcast), and
/// every decision that depends on values is taken then and frozen into the program's instructions:</para>
/// <list type="bullet">
/// <item>Domains: ln, √, x^c for fractional or negative c, a^b and denominators get inputs ≥ 0.37 through a guard
/// (softplus(x) + ½, x² + ½, e^tanh x or σ(x) + ½, optionally negated for denominators).</item>
/// <item>Kinks: relu, |x|, max/min with a constant, clamp and max/min of two nodes get their input (or their
/// constant) shifted until every element is at least <see cref="KinkMargin"/> = 0.05 away from the kink.
/// Central differences perturb a parameter by h ≈ 6·10⁻⁶·max(1, |p|) and intermediate values by h times their
/// sensitivity, orders of magnitude below the margin, so no difference quotient straddles a kink.</item>
/// <item>Scale: a result with an element above <see cref="Bound"/> = 3 in magnitude is multiplied by a constant
/// that brings it back to 3, and only the rescaled node is used further (by later steps and by the loss), so
/// exponentials and powers stay moderate and rounding stays far below tolerance.</item>
/// </list>
/// <para>Replaying the frozen instructions is then a smooth function of the parameters near their values, which is
/// what a finite-difference check needs. <see cref="Ops.Detach(Scalar)"/> is the one op whose derivative differs
/// from its function's on purpose: when the program is replayed without gradient (as
/// <see cref="GradientCheck"/> does for its central differences, inside <see cref="Tape.NoGrad"/>) a detached
/// node is replaced by a constant holding its value at the initial parameters, so both sides differentiate the
/// same function: the graph with that value frozen.</para>
/// <para>The loss is Σₖ wₖ·⟨node k, Wₖ⟩ over every usable node that depends on a parameter, with random weights
/// of total size ≈ 1, so every node's backward rule contributes to the checked gradient.</para>
/// </remarks>
internal static class RandomGraph
{
    public const double Bound = 3;
    public const double KinkMargin = 0.05;

    private static readonly GraphOp[] StepOps = [.. Enum.GetValues<GraphOp>().Where(o => o is not (GraphOp.Parameter or GraphOp.Constant))];

    public static IReadOnlyList<GraphOp> GeneratedOps => StepOps;

    private static readonly Gen<Shape> ShapeGen = Gen.Frequency(
        (1, Gen.Constant(Shape.Scalar)),
        (2, Gen.Choose(1, 5).Select(Shape.Vector)),
        (2, from r in Gen.Choose(1, 4) from c in Gen.Choose(1, 4) select Shape.Matrix(r, c)));

    private static Gen<LeafSpec> LeafGen(bool isParameter) =>
        from s in ShapeGen
        from v in Gens.Array(s.Length, -2, 2)
        select new LeafSpec(isParameter, s, v);

    private static readonly Gen<StepSpec> StepGen =
        from op in Gen.Elements(StepOps)
        from a in Gen.Choose(0, 1 << 20)
        from b in Gen.Choose(0, 1 << 20)
        from k in Gen.Choose(0, 1 << 20)
        from c in Gens.Double(-2, 2)
        select new StepSpec(op, a, b, k, c);

    /// <summary>1–3 parameters and 1–2 constants of random shapes (scalars, vectors of 1–5, matrices up to 4×4), then 1–14 steps.</summary>
    public static readonly Gen<GraphSpec> Spec = Gen.Sized(size =>
        from np in Gen.Choose(1, 3)
        from nc in Gen.Choose(1, 2)
        from ps in LeafGen(true).ArrayOf(np)
        from cs in LeafGen(false).ArrayOf(nc)
        from n in Gen.Choose(1, Math.Clamp(4 + size / 8, 4, 14))
        from steps in StepGen.ArrayOf(n)
        from seed in Gen.Choose(0, int.MaxValue)
        select new GraphSpec([.. ps, .. cs], steps, seed));

    /// <summary>Shrinks by dropping steps, then leaves (keeping one parameter): the smallest failing program is printed.</summary>
    public static IEnumerable<GraphSpec> Shrink(GraphSpec spec)
    {
        for (int i = 0; i < spec.Steps.Length; i++)
        {
            yield return spec with { Steps = [.. spec.Steps.Take(i), .. spec.Steps.Skip(i + 1)] };
        }
        for (int i = 0; i < spec.Leaves.Length; i++)
        {
            LeafSpec[] rest = [.. spec.Leaves.Take(i), .. spec.Leaves.Skip(i + 1)];
            if (rest.Any(l => l.IsParameter)) yield return spec with { Leaves = rest };
        }
    }

    public static readonly Arbitrary<GraphSpec> Arbitrary = Arb.From(Spec, Shrink);

    public static GraphProgram Build(GraphSpec spec) => new Builder(spec).Build();

    // ---------------------------------------------------------------- building

    private sealed class Builder
    {
        private readonly GraphSpec _spec;
        private readonly Tape _tape = new();
        private readonly List<Node> _pool = [];
        /// <summary>The nodes later steps may use and the loss sums over: all but raw results that were rescaled.</summary>
        private readonly List<int> _visible = [];
        private readonly List<Instr> _code = [];
        private readonly Parameter[] _parameters;
        private readonly Random _rng;

        public Builder(GraphSpec spec)
        {
            _spec = spec;
            _rng = new Random(spec.Seed);
            int n = 0;
            _parameters = [.. spec.Leaves.Where(l => l.IsParameter).Select(l => MakeParameter($"p{n++}", l))];
        }

        private static Parameter MakeParameter(string name, LeafSpec leaf) => leaf.Shape.Kind switch
        {
            ShapeKind.Scalar => new ScalarParameter(name, leaf.Values[0]),
            ShapeKind.Vector => new VectorParameter(name, leaf.Values),
            _ => new MatrixParameter(name, Gens.ToMatrix(leaf.Values, leaf.Shape.Rows, leaf.Shape.Cols)),
        };

        private int Count => _visible.Count;
        private Shape S(int k) => _pool[k].Shape;
        private double[] V(int k) => _pool[k].ToArray();
        private static bool IsVector(Shape s) => s.Kind == ShapeKind.Vector;
        private static bool IsMatrix(Shape s) => s.Kind == ShapeKind.Matrix;

        private int Emit(Instr instr)
        {
            _code.Add(instr);
            _pool.Add(GraphProgram.Exec(_tape, instr, _pool, _parameters, frozen: false));
            int k = _pool.Count - 1;
            if (V(k).Max(Math.Abs) <= LargeValue) _visible.Add(k);
            return k;
        }

        /// <summary>Values above this (before rescaling) are kept out of reach of later steps and of the loss.</summary>
        private const double LargeValue = 10;

        /// <summary>Emits a step's main node, then rescales it if it left [−Bound, Bound].</summary>
        private int EmitMain(Instr instr)
        {
            int k = Emit(instr);
            double max = V(k).Max(Math.Abs);
            if (max <= Bound) return k;
            _visible.Remove(k);
            return Emit(new Instr(GraphOp.MultiplyConstant, k, C: Bound / max));
        }

        private int Const(Shape shape, double[] data) => Emit(new Instr(GraphOp.Constant, Shape: shape, Data: data));

        private double[] Uniform(int n, double lo, double hi)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * _rng.NextDouble();
            return v;
        }

        /// <summary>The first node from <paramref name="seed"/> on (cyclically) whose shape satisfies <paramref name="ok"/>, or −1.</summary>
        private int Pick(int seed, Func<Shape, bool> ok)
        {
            for (int j = 0; j < Count; j++)
            {
                int k = _visible[(seed + j) % Count];
                if (ok(S(k))) return k;
            }
            return -1;
        }

        private int Any(int seed) => _visible[seed % Count];

        private int ToVector(int k, int seed)
        {
            Shape s = S(k);
            if (IsVector(s)) return k;
            if (IsMatrix(s)) return Emit(new Instr(GraphOp.Flatten, k));
            // A scalar broadcast over a constant vector: s ⊙ c.
            int c = Const(Shape.Vector(1 + seed % 4), Uniform(1 + seed % 4, -1, 1));
            return Emit(new Instr(GraphOp.Multiply, k, c));
        }

        private int EnsureVector(int seed)
        {
            int k = Pick(seed, IsVector);
            return k >= 0 ? k : ToVector(Any(seed), seed);
        }

        private int EnsureMatrix(int seed)
        {
            int k = Pick(seed, IsMatrix);
            if (k >= 0) return k;
            int v = EnsureVector(seed);
            int length = S(v).Length;
            int[] divisors = [.. Enumerable.Range(1, length).Where(d => length % d == 0)];
            int rows = divisors[seed % divisors.Length];
            return Emit(new Instr(GraphOp.Reshape, v, Ints: [rows, length / rows]));
        }

        private int EnsureScalar(int seed)
        {
            int k = Pick(seed, s => s.Kind == ShapeKind.Scalar);
            if (k >= 0) return k;
            int x = Any(seed);
            return Emit(new Instr(GraphOp.Element, x, K: seed % S(x).Length));
        }

        private int AnyNonScalar(int seed)
        {
            int k = Pick(seed, s => s.Kind != ShapeKind.Scalar);
            return k >= 0 ? k : ToVector(Any(seed), seed);
        }

        /// <summary>Whether x ∘ y is defined: equal shapes, a scalar with anything, a one-element node with anything of at least its rank, a vector of length c with an r×c matrix.</summary>
        private static bool Combines(Shape x, Shape y) =>
            x == y
            || (x.Length == 1 && x.Kind <= y.Kind)
            || (y.Length == 1 && y.Kind <= x.Kind)
            || (IsMatrix(x) && IsVector(y) && y.Rows == x.Cols)
            || (IsMatrix(y) && IsVector(x) && x.Rows == y.Cols);

        /// <summary>Two operands that broadcast; K chooses plain, forced-broadcast, and either order.</summary>
        private (int First, int Second) BroadcastPair(StepSpec s)
        {
            int a = Any(s.A);
            Shape sa = S(a);
            int mode = s.K % 4;
            int b;
            if (mode is 0 or 3)
            {
                int[] candidates = [.. _visible.Where(k => Combines(sa, S(k)))];
                b = candidates[s.B % candidates.Length];
            }
            else
            {
                int[] different = [.. _visible.Where(k => S(k) != sa && Combines(sa, S(k)))];
                if (different.Length > 0) b = different[s.B % different.Length];
                else if (IsMatrix(sa)) b = Emit(new Instr(GraphOp.Row, a, K: s.B % sa.Rows)); // M ∘ (row of M): a row broadcast
                else if (sa.Kind == ShapeKind.Vector) b = EnsureScalar(s.B);
                else b = AnyNonScalar(s.B);
            }
            return mode >= 2 ? (b, a) : (a, b);
        }

        private double MinAbs(int k) => V(k).Min(Math.Abs);

        /// <summary>A node with every element ≥ 0.37: the node itself if already ≥ 0.5, else a guard chosen by <paramref name="choice"/>.</summary>
        private int Positive(int k, int choice)
        {
            if (V(k).Min() >= 0.5) return k;
            switch (choice % 4)
            {
                case 0:
                    return Emit(new Instr(GraphOp.AddConstant, Emit(new Instr(GraphOp.Softplus, k)), C: 0.5));
                case 1:
                    return Emit(new Instr(GraphOp.AddConstant, Emit(new Instr(GraphOp.Square, k)), C: 0.5));
                case 2:
                    return Emit(new Instr(GraphOp.Exp, Emit(new Instr(GraphOp.Tanh, k))));
                default:
                    return Emit(new Instr(GraphOp.AddConstant, Emit(new Instr(GraphOp.Sigmoid, k)), C: 0.5));
            }
        }

        /// <summary>A node bounded away from zero, of either sign.</summary>
        private int AwayFromZeroSigned(int k, int choice)
        {
            int p = Positive(k, choice);
            return (choice / 4) % 2 == 1 ? Emit(new Instr(GraphOp.Negate, p)) : p;
        }

        /// <summary>0, then shifts of growing size ±0.07, ±0.14, … ±2.8 (the sign order chosen by <paramref name="start"/>), tried in turn to move values off a kink.</summary>
        private static IEnumerable<double> Shifts(int start)
        {
            yield return 0;
            for (int j = 0; j < 80; j++)
            {
                double d = 0.07 * (1 + j / 2);
                yield return (start + j) % 2 == 0 ? d : -d;
            }
        }

        private static bool Clear(double[] values, double kink) => values.All(v => Math.Abs(v - kink) >= KinkMargin);

        /// <summary>x, or x + shift, with every element at least the margin away from 0.</summary>
        private int OffZero(int k, int choice)
        {
            double[] v = V(k);
            foreach (double d in Shifts(choice))
            {
                if (v.All(x => Math.Abs(x + d) >= KinkMargin)) return d == 0 ? k : Emit(new Instr(GraphOp.AddConstant, k, C: d));
            }
            throw new InvalidOperationException("RandomGraph: no shift moves the values off zero.");
        }

        /// <summary>A constant near <paramref name="c"/> at least the margin away from every element.</summary>
        private static double OffValues(double[] v, double c, int choice)
        {
            foreach (double d in Shifts(choice))
            {
                if (Clear(v, c + d)) return c + d;
            }
            throw new InvalidOperationException("RandomGraph: no constant clear of the values.");
        }

        public GraphProgram Build()
        {
            int n = 0;
            foreach (var leaf in _spec.Leaves)
            {
                if (leaf.IsParameter) Emit(new Instr(GraphOp.Parameter, K: n++));
                else Const(leaf.Shape, leaf.Values);
            }
            foreach (var step in _spec.Steps) Step(step);

            // The loss: Σ over every (visible) node that depends on a parameter of wₖ·⟨node, random weights⟩.
            int[] terms = [.. _visible.Where(k => _pool[k].RequiresGrad)];
            double scale = 1.0 / terms.Length;
            int? loss = null;
            foreach (int k in terms)
            {
                Shape s = S(k);
                int term = s.Kind switch
                {
                    ShapeKind.Scalar => Emit(new Instr(GraphOp.MultiplyConstant, k, C: scale * (0.5 + _rng.NextDouble()))),
                    ShapeKind.Vector => Emit(new Instr(GraphOp.Dot, k, Const(s, Uniform(s.Length, -scale, scale)))),
                    _ => Emit(new Instr(GraphOp.Sum, Emit(new Instr(GraphOp.Multiply, k, Const(s, Uniform(s.Length, -scale, scale)))))),
                };
                loss = loss is { } acc ? Emit(new Instr(GraphOp.Add, acc, term)) : term;
            }
            return new GraphProgram(_spec, _parameters, [.. _code]);
        }

        private void Step(StepSpec s)
        {
            switch (s.Op)
            {
                case GraphOp.Add:
                case GraphOp.Subtract:
                case GraphOp.Multiply:
                {
                    var (x, y) = BroadcastPair(s);
                    EmitMain(new Instr(s.Op, x, y));
                    return;
                }
                case GraphOp.Divide:
                {
                    var (x, y) = BroadcastPair(s);
                    EmitMain(new Instr(GraphOp.Divide, x, AwayFromZeroSigned(y, s.K / 4)));
                    return;
                }
                case GraphOp.Power:
                {
                    // Overloads: scalar^scalar, vector^vector, vector^scalar, matrix^matrix.
                    int a = Any(s.A);
                    Shape sa = S(a);
                    int e = sa.Kind switch
                    {
                        ShapeKind.Scalar => EnsureScalar(s.B),
                        ShapeKind.Vector => Pick(s.B, t => t == sa || (s.K % 2 == 1 && t.Kind == ShapeKind.Scalar)),
                        _ => Pick(s.B, t => t == sa),
                    };
                    if (V(e).Max(Math.Abs) > 2) e = Emit(new Instr(GraphOp.Tanh, e));
                    EmitMain(new Instr(GraphOp.Power, Positive(a, s.K / 2), e));
                    return;
                }
                case GraphOp.Maximum:
                case GraphOp.Minimum:
                {
                    int a = Any(s.A);
                    Shape sa = S(a);
                    int b = Pick(s.B, t => t == sa);
                    if (b != a)
                    {
                        // Move b off a: every |aₖ − bₖ| ≥ margin (b = a is a smooth tie: max(x, x) = x, gradient g/2 + g/2).
                        double[] va = V(a), vb = V(b);
                        double shift = Shifts(s.K).First(d => va.Zip(vb).All(p => Math.Abs(p.First - p.Second - d) >= KinkMargin));
                        if (shift != 0) b = Emit(new Instr(GraphOp.AddConstant, b, C: shift));
                    }
                    EmitMain(new Instr(s.Op, a, b));
                    return;
                }
                case GraphOp.AddConstant:
                case GraphOp.SubtractConstant:
                case GraphOp.ConstantMinus:
                case GraphOp.MultiplyConstant:
                    EmitMain(new Instr(s.Op, Any(s.A), C: s.C, K: s.K % 2));
                    return;
                case GraphOp.DivideByConstant:
                    EmitMain(new Instr(s.Op, Any(s.A), C: Math.CopySign(0.25 + Math.Abs(s.C), s.C)));
                    return;
                case GraphOp.ConstantOver:
                    EmitMain(new Instr(s.Op, AwayFromZeroSigned(Any(s.A), s.K), C: s.C));
                    return;
                case GraphOp.PowerConstant:
                {
                    double[] exponents = [2, 3, 0.5, -1, 1.5, -0.5, 0, 1, 2.5, -2];
                    double c = exponents[s.K % exponents.Length];
                    int x = Any(s.A);
                    if (c < 0 || c != Math.Floor(c)) x = Positive(x, s.B);
                    EmitMain(new Instr(s.Op, x, C: c));
                    return;
                }
                case GraphOp.Log:
                case GraphOp.Sqrt:
                    EmitMain(new Instr(s.Op, Positive(Any(s.A), s.K)));
                    return;
                case GraphOp.Abs:
                case GraphOp.Relu:
                    EmitMain(new Instr(s.Op, OffZero(Any(s.A), s.K)));
                    return;
                case GraphOp.Negate:
                case GraphOp.Exp:
                case GraphOp.Square:
                case GraphOp.Tanh:
                case GraphOp.Sigmoid:
                case GraphOp.Softplus:
                case GraphOp.LogSigmoid:
                case GraphOp.CustomSwish:
                case GraphOp.CustomSumOfCubes:
                    EmitMain(new Instr(s.Op, Any(s.A)));
                    return;
                case GraphOp.MaxConstant:
                case GraphOp.MinConstant:
                {
                    int x = Any(s.A);
                    EmitMain(new Instr(s.Op, x, C: OffValues(V(x), s.C, s.K)));
                    return;
                }
                case GraphOp.Clamp:
                {
                    int x = Any(s.A);
                    double[] v = V(x);
                    double lo = s.C - 0.5, width = 0.5 + (s.K % 4) * 0.5;
                    double d = Shifts(s.K).First(d => Clear(v, lo + d) && Clear(v, lo + width + d));
                    EmitMain(new Instr(s.Op, x, C: lo + d, D: lo + width + d));
                    return;
                }
                case GraphOp.Dot:
                {
                    int a = EnsureVector(s.A);
                    Shape sa = S(a);
                    EmitMain(new Instr(s.Op, a, Pick(s.B, t => t == sa)));
                    return;
                }
                case GraphOp.MatVec:
                {
                    int m = EnsureMatrix(s.A);
                    Shape sm = S(m);
                    int v = Pick(s.B, t => IsVector(t) && t.Rows == sm.Cols);
                    if (v < 0) v = Emit(new Instr(GraphOp.Row, m, K: s.K % sm.Rows));
                    EmitMain(new Instr(s.Op, m, v));
                    return;
                }
                case GraphOp.MatMul:
                {
                    int a = EnsureMatrix(s.A);
                    Shape sa = S(a);
                    int b = Pick(s.B, t => IsMatrix(t) && t.Rows == sa.Cols);
                    if (b < 0) b = Emit(new Instr(GraphOp.Transpose, a));
                    EmitMain(new Instr(s.Op, a, b));
                    return;
                }
                case GraphOp.Transpose:
                case GraphOp.Flatten:
                    EmitMain(new Instr(s.Op, EnsureMatrix(s.A)));
                    return;
                case GraphOp.SumAxis:
                case GraphOp.MeanAxis:
                    EmitMain(new Instr(s.Op, EnsureMatrix(s.A), K: s.K % 2));
                    return;
                case GraphOp.Sum:
                case GraphOp.Mean:
                case GraphOp.LogSumExp:
                case GraphOp.Softmax:
                case GraphOp.LogSoftmax:
                    EmitMain(new Instr(s.Op, AnyNonScalar(s.A)));
                    return;
                case GraphOp.Element:
                {
                    int x = AnyNonScalar(s.A);
                    EmitMain(new Instr(s.Op, x, K: s.K % S(x).Length));
                    return;
                }
                case GraphOp.Row:
                {
                    int m = EnsureMatrix(s.A);
                    EmitMain(new Instr(s.Op, m, K: s.K % S(m).Rows));
                    return;
                }
                case GraphOp.Reshape:
                {
                    int x = AnyNonScalar(s.A);
                    int length = S(x).Length;
                    int[] divisors = [.. Enumerable.Range(1, length).Where(d => length % d == 0)];
                    int rows = divisors[s.K % divisors.Length];
                    EmitMain(new Instr(s.Op, x, Ints: [rows, length / rows]));
                    return;
                }
                case GraphOp.Concat:
                {
                    int count = 1 + s.K % 3;
                    var parts = new int[count];
                    parts[0] = EnsureVector(s.A);
                    for (int j = 1; j < count; j++) parts[j] = Pick(s.B + 7 * j, IsVector);
                    EmitMain(new Instr(s.Op, Ints: parts));
                    return;
                }
                case GraphOp.Detach:
                {
                    int x = Any(s.A);
                    EmitMain(new Instr(s.Op, x, Shape: S(x), Data: V(x)));
                    return;
                }
                case GraphOp.BinaryCrossEntropy:
                case GraphOp.BinaryCrossEntropyWithLogits:
                {
                    int x = Any(s.A);
                    if (IsMatrix(S(x))) x = Emit(new Instr(GraphOp.Flatten, x));
                    if (s.Op == GraphOp.BinaryCrossEntropy)
                    {
                        // A probability: σ(x), unless x already is one safely inside (0, 1).
                        bool probability = _pool[x].Op is OpKind.Sigmoid or OpKind.Softmax && V(x).All(p => p is > 1e-3 and < 1 - 1e-3);
                        if (!probability) x = Emit(new Instr(GraphOp.Sigmoid, x));
                    }
                    Shape sx = S(x);
                    bool hard = s.K % 2 == 0;
                    double[] labels = hard ? [.. Uniform(sx.Length, 0, 1).Select(v => Math.Round(v))] : Uniform(sx.Length, 0, 1);
                    if (sx.Kind == ShapeKind.Scalar) EmitMain(new Instr(s.Op, x, C: labels[0]));
                    else EmitMain(new Instr(s.Op, x, Const(sx, labels)));
                    return;
                }
                case GraphOp.SoftmaxCrossEntropy:
                {
                    int x = AnyNonScalar(s.A);
                    Shape sx = S(x);
                    int rows = IsMatrix(sx) ? sx.Rows : 1, classes = IsMatrix(sx) ? sx.Cols : sx.Length;
                    int[] labels = [.. Enumerable.Range(0, rows).Select(_ => _rng.Next(classes))];
                    EmitMain(new Instr(s.Op, x, Ints: labels));
                    return;
                }
                case GraphOp.HalfSquaredError:
                    EmitMain(new Instr(s.Op, EnsureScalar(s.A), EnsureScalar(s.B)));
                    return;
                case GraphOp.HalfMeanSquaredError:
                {
                    int a = EnsureVector(s.A);
                    Shape sa = S(a);
                    EmitMain(new Instr(s.Op, a, Pick(s.B, t => t == sa)));
                    return;
                }
                case GraphOp.MeanSquaredError:
                case GraphOp.CustomProductPlus:
                {
                    int a = s.Op == GraphOp.MeanSquaredError ? AnyNonScalar(s.A) : Any(s.A);
                    Shape sa = S(a);
                    EmitMain(new Instr(s.Op, a, Pick(s.B, t => t == sa)));
                    return;
                }
                default:
                    throw new InvalidOperationException($"RandomGraph: no generator for {s.Op}.");
            }
        }
    }
}

/// <summary>
/// One resolved instruction: an op, its operands (indices into the pool of nodes built so far) and every
/// constant it needs, fixed.
/// </summary>
internal sealed record Instr(
    GraphOp Op, int A = -1, int B = -1, double C = 0, double D = 0, int K = 0,
    int[]? Ints = null, double[]? Data = null, Shape Shape = default)
{
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(Op.ToString());
        if (A >= 0) sb.Append(c, $" %{A}");
        if (B >= 0) sb.Append(c, $" %{B}");
        if (Ints is not null) sb.Append(" [").Append(string.Join(", ", Ints)).Append(']');
        if (C != 0 || D != 0) sb.Append(c, $" c={C:G6}");
        if (D != 0) sb.Append(c, $" d={D:G6}");
        if (K != 0) sb.Append(c, $" k={K}");
        if (Data is not null) sb.Append(c, $" {Shape} data");
        return sb.ToString();
    }
}

/// <summary>A random program, resolved: replays the same graph, with the same constants, on any tape.</summary>
internal sealed class GraphProgram
{
    private readonly Instr[] _code;

    public GraphProgram(GraphSpec spec, Parameter[] parameters, Instr[] code)
    {
        Spec = spec;
        Parameters = parameters;
        _code = code;
    }

    public GraphSpec Spec { get; }

    public Parameter[] Parameters { get; }

    public int InstructionCount => _code.Length;

    /// <summary>Records the program on <paramref name="tape"/> and returns the loss (detached nodes frozen when recording without gradient).</summary>
    public Scalar Run(Tape tape)
    {
        bool frozen = tape.IsNoGrad;
        var pool = new List<Node>(_code.Length);
        foreach (var instr in _code) pool.Add(Exec(tape, instr, pool, Parameters, frozen));
        return pool[^1].AsScalar();
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(Spec.ToString());
        for (int i = 0; i < _code.Length; i++) sb.AppendLine(CultureInfo.InvariantCulture, $"  %{i} = {_code[i]}");
        return sb.ToString();
    }

    /// <summary>The graph as recorded, after a backward pass (values and ∂L/∂node per node).</summary>
    public string Trace()
    {
        var tape = new Tape();
        Scalar loss = Run(tape);
        foreach (var p in Parameters) p.ZeroGrad();
        loss.Backward(retainGraph: true);
        foreach (var p in Parameters) p.ZeroGrad();
        return tape.Format();
    }

    internal static Node Exec(Tape t, Instr i, List<Node> pool, Parameter[] parameters, bool frozen)
    {
        Node a = i.A >= 0 ? pool[i.A] : default;
        Node b = i.B >= 0 ? pool[i.B] : default;
        double c = i.C;
        switch (i.Op)
        {
            case GraphOp.Parameter:
                return parameters[i.K] switch
                {
                    ScalarParameter s => t.Use(s),
                    VectorParameter v => t.Use(v),
                    MatrixParameter m => t.Use(m),
                    _ => throw new InvalidOperationException("unknown parameter type"),
                };
            case GraphOp.Constant:
                return Constant(t, i.Shape, i.Data!);
            case GraphOp.Add:
            case GraphOp.Subtract:
            case GraphOp.Multiply:
            case GraphOp.Divide:
                return Arithmetic(i.Op, a, b);
            case GraphOp.Power:
                return (a.Shape.Kind, b.Shape.Kind) switch
                {
                    (ShapeKind.Scalar, ShapeKind.Scalar) => Ops.Pow(a.AsScalar(), b.AsScalar()),
                    (ShapeKind.Vector, ShapeKind.Vector) => Ops.Pow(a.AsVector(), b.AsVector()),
                    (ShapeKind.Vector, ShapeKind.Scalar) => Ops.Pow(a.AsVector(), b.AsScalar()),
                    _ => Ops.Pow(a.AsMatrix(), b.AsMatrix()),
                };
            case GraphOp.Maximum:
                return Map2(a, b, Ops.Max, Ops.Max, Ops.Max);
            case GraphOp.Minimum:
                return Map2(a, b, Ops.Min, Ops.Min, Ops.Min);
            case GraphOp.AddConstant:
                return i.K == 0 ? Map(a, x => x + c, x => x + c, x => x + c) : Map(a, x => c + x, x => c + x, x => c + x);
            case GraphOp.SubtractConstant:
                return Map(a, x => x - c, x => x - c, x => x - c);
            case GraphOp.ConstantMinus:
                return Map(a, x => c - x, x => c - x, x => c - x);
            case GraphOp.MultiplyConstant:
                return i.K == 0 ? Map(a, x => x * c, x => x * c, x => x * c) : Map(a, x => c * x, x => c * x, x => c * x);
            case GraphOp.DivideByConstant:
                return Map(a, x => x / c, x => x / c, x => x / c);
            case GraphOp.ConstantOver:
                return Map(a, x => c / x, x => c / x, x => c / x);
            case GraphOp.PowerConstant:
                return Map(a, x => Ops.Pow(x, c), x => Ops.Pow(x, c), x => Ops.Pow(x, c));
            case GraphOp.Negate:
                return Map(a, x => -x, x => -x, x => -x);
            case GraphOp.Exp: return Map(a, Ops.Exp, Ops.Exp, Ops.Exp);
            case GraphOp.Log: return Map(a, Ops.Log, Ops.Log, Ops.Log);
            case GraphOp.Sqrt: return Map(a, Ops.Sqrt, Ops.Sqrt, Ops.Sqrt);
            case GraphOp.Abs: return Map(a, Ops.Abs, Ops.Abs, Ops.Abs);
            case GraphOp.Square: return Map(a, Ops.Square, Ops.Square, Ops.Square);
            case GraphOp.Tanh: return Map(a, Ops.Tanh, Ops.Tanh, Ops.Tanh);
            case GraphOp.Sigmoid: return Map(a, Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid);
            case GraphOp.Relu: return Map(a, Ops.Relu, Ops.Relu, Ops.Relu);
            case GraphOp.Softplus: return Map(a, Ops.Softplus, Ops.Softplus, Ops.Softplus);
            case GraphOp.LogSigmoid: return Map(a, Ops.LogSigmoid, Ops.LogSigmoid, Ops.LogSigmoid);
            case GraphOp.MaxConstant:
                return Map(a, x => Ops.Max(x, c), x => Ops.Max(x, c), x => Ops.Max(x, c));
            case GraphOp.MinConstant:
                return Map(a, x => Ops.Min(x, c), x => Ops.Min(x, c), x => Ops.Min(x, c));
            case GraphOp.Clamp:
            {
                double hi = i.D;
                return Map(a, x => Ops.Clamp(x, c, hi), x => Ops.Clamp(x, c, hi), x => Ops.Clamp(x, c, hi));
            }
            case GraphOp.Dot:
                return Ops.Dot(a.AsVector(), b.AsVector());
            case GraphOp.MatVec:
                return Ops.MatVec(a.AsMatrix(), b.AsVector());
            case GraphOp.MatMul:
                return Ops.MatMul(a.AsMatrix(), b.AsMatrix());
            case GraphOp.Transpose:
                return Ops.Transpose(a.AsMatrix());
            case GraphOp.Sum:
                return a.Shape.Kind == ShapeKind.Vector ? Ops.Sum(a.AsVector()) : Ops.Sum(a.AsMatrix());
            case GraphOp.Mean:
                return a.Shape.Kind == ShapeKind.Vector ? Ops.Mean(a.AsVector()) : Ops.Mean(a.AsMatrix());
            case GraphOp.SumAxis:
                return Ops.Sum(a.AsMatrix(), i.K);
            case GraphOp.MeanAxis:
                return Ops.Mean(a.AsMatrix(), i.K);
            case GraphOp.LogSumExp:
                return a.Shape.Kind == ShapeKind.Vector ? Ops.LogSumExp(a.AsVector()) : Ops.LogSumExp(a.AsMatrix());
            case GraphOp.Softmax:
                return a.Shape.Kind == ShapeKind.Vector ? Ops.Softmax(a.AsVector()) : Ops.Softmax(a.AsMatrix());
            case GraphOp.LogSoftmax:
                return a.Shape.Kind == ShapeKind.Vector ? Ops.LogSoftmax(a.AsVector()) : Ops.LogSoftmax(a.AsMatrix());
            case GraphOp.Element:
                return a.Shape.Kind == ShapeKind.Vector ? a.AsVector()[i.K] : a.AsMatrix()[i.K / a.Shape.Cols, i.K % a.Shape.Cols];
            case GraphOp.Row:
                return a.AsMatrix().Row(i.K);
            case GraphOp.Reshape:
                return a.Shape.Kind == ShapeKind.Vector
                    ? Ops.Reshape(a.AsVector(), i.Ints![0], i.Ints[1])
                    : Ops.Reshape(a.AsMatrix(), i.Ints![0], i.Ints[1]);
            case GraphOp.Flatten:
                return Ops.Flatten(a.AsMatrix());
            case GraphOp.Concat:
                return Ops.Concat([.. i.Ints!.Select(k => pool[k].AsVector())]);
            case GraphOp.Detach:
                return frozen ? Constant(t, i.Shape, i.Data!) : Map(a, Ops.Detach, Ops.Detach, Ops.Detach);
            case GraphOp.BinaryCrossEntropy:
                return a.Shape.Kind == ShapeKind.Scalar
                    ? Loss.BinaryCrossEntropy(a.AsScalar(), c)
                    : Loss.BinaryCrossEntropy(a.AsVector(), b.AsVector());
            case GraphOp.BinaryCrossEntropyWithLogits:
                return a.Shape.Kind == ShapeKind.Scalar
                    ? Loss.BinaryCrossEntropyWithLogits(a.AsScalar(), c)
                    : Loss.BinaryCrossEntropyWithLogits(a.AsVector(), b.AsVector());
            case GraphOp.SoftmaxCrossEntropy:
                return a.Shape.Kind == ShapeKind.Vector
                    ? Loss.SoftmaxCrossEntropy(a.AsVector(), i.Ints![0])
                    : Loss.SoftmaxCrossEntropy(a.AsMatrix(), i.Ints!);
            case GraphOp.HalfSquaredError:
                return Loss.HalfSquaredError(a.AsScalar(), b.AsScalar());
            case GraphOp.HalfMeanSquaredError:
                return Loss.HalfMeanSquaredError(a.AsVector(), b.AsVector());
            case GraphOp.MeanSquaredError:
                return a.Shape.Kind == ShapeKind.Vector
                    ? Loss.MeanSquaredError(a.AsVector(), b.AsVector())
                    : Loss.MeanSquaredError(a.AsMatrix(), b.AsMatrix());
            case GraphOp.CustomSwish:
                return Ops.Custom(SwishOp.Instance, a);
            case GraphOp.CustomProductPlus:
                return Ops.Custom(ProductPlusOp.Instance, a, b);
            case GraphOp.CustomSumOfCubes:
                return Ops.Custom(SumOfCubesOp.Instance, a);
            default:
                throw new InvalidOperationException($"GraphProgram: cannot execute {i.Op}.");
        }
    }

    private static Node Constant(Tape t, Shape shape, double[] data) => shape.Kind switch
    {
        ShapeKind.Scalar => t.Constant(data[0]),
        ShapeKind.Vector => t.Constant(data),
        _ => t.Constant(data, shape.Rows, shape.Cols),
    };

    private static Node Map(Node x, Func<Scalar, Scalar> fs, Func<Vector, Vector> fv, Func<Matrix, Matrix> fm) => x.Shape.Kind switch
    {
        ShapeKind.Scalar => fs(x.AsScalar()),
        ShapeKind.Vector => fv(x.AsVector()),
        _ => fm(x.AsMatrix()),
    };

    private static Node Map2(Node a, Node b, Func<Scalar, Scalar, Scalar> fs, Func<Vector, Vector, Vector> fv, Func<Matrix, Matrix, Matrix> fm) =>
        a.Shape.Kind switch
        {
            ShapeKind.Scalar => fs(a.AsScalar(), b.AsScalar()),
            ShapeKind.Vector => fv(a.AsVector(), b.AsVector()),
            _ => fm(a.AsMatrix(), b.AsMatrix()),
        };

    /// <summary>a ∘ b through the typed operators, for each of the nine kind combinations.</summary>
    internal static Node Arithmetic(GraphOp op, Node a, Node b)
    {
        const ShapeKind S = ShapeKind.Scalar, V = ShapeKind.Vector, M = ShapeKind.Matrix;
        return (a.Shape.Kind, b.Shape.Kind) switch
        {
            (S, S) => Apply(op, a.AsScalar(), b.AsScalar(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (S, V) => Apply(op, a.AsScalar(), b.AsVector(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (S, M) => Apply(op, a.AsScalar(), b.AsMatrix(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (V, S) => Apply(op, a.AsVector(), b.AsScalar(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (V, V) => Apply(op, a.AsVector(), b.AsVector(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (V, M) => Apply(op, a.AsVector(), b.AsMatrix(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (M, S) => Apply(op, a.AsMatrix(), b.AsScalar(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (M, V) => Apply(op, a.AsMatrix(), b.AsVector(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            (M, M) => Apply(op, a.AsMatrix(), b.AsMatrix(), (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y),
            _ => throw new InvalidOperationException("unreachable"),
        };
    }

    private static Node Apply<TA, TB>(GraphOp op, TA a, TB b, Func<TA, TB, Node> add, Func<TA, TB, Node> subtract, Func<TA, TB, Node> multiply, Func<TA, TB, Node> divide) => op switch
    {
        GraphOp.Add => add(a, b),
        GraphOp.Subtract => subtract(a, b),
        GraphOp.Multiply => multiply(a, b),
        _ => divide(a, b),
    };
}
