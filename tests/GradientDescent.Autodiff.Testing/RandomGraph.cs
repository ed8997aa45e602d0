// ======================================================================================================================
// ONE RANDOM-GRAPH GENERATOR for every consumer: the core's finite-difference properties
// (tests/GradientDescent.Autodiff.Tests/FiniteDifferenceProperties.cs, GraphOptions.FiniteDifferences) and the
// TorchSharp cross-check (tests/GradientDescent.Autodiff.Torch.Tests/RandomGraphCrossCheckTests.cs, GraphOptions.Torch).
//
// HOW TO ADD A NEW OP (one enum value, one table entry; both consumers then exercise it):
//  1. Add a value to GraphOp below (one per public entry point: an operator, an Ops/Loss function, a custom op).
//  2. Add its entry to RandomGraph.Rules (search "RULES"), keyed by the new GraphOp:
//       [GraphOp.Cosh] = new(
//           (g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A))),   // Generate: pick operands, guard them, emit
//           r => r.Map(Ops.Cosh, Ops.Cosh, Ops.Cosh)),           // Record: call the library on the operands
//     Generate runs once per step at the parameters' initial values. Pick operands with g.Any / g.Pick /
//     g.EnsureVector / g.EnsureMatrix / g.EnsureScalar / g.AnyNonScalar / g.BroadcastPair (a seed from s.A or
//     s.B, so nodes get reused), and put every value-dependent choice into the Instr (C, D, K, Ints, Data):
//       - domain edges: g.Positive(x, choice) (every element ≥ 0.37), g.AwayFromZeroSigned(x, choice),
//         g.InsideUnit(x, limit) (every |element| ≤ limit < 1);
//       - kinks: g.OffZero(x, choice), g.OffLattice(x, offset, choice) (clear of offset + ℤ, the jumps of
//         floor/ceil/round), Builder.OffValues(g.V(x), c, choice), Builder.Shifts + Builder.Clear
//         (every element at least KinkMargin = 0.05 from the kink; see g.MaxMin, g.Clamp for examples);
//       - overflow: g.Bounded(x, limit) (tanh x when some |xₖ| > limit);
//       - saturating inputs (σ, tanh, softplus, …): wrap the input in g.Logits(x, s), softmax-like ones in
//         g.SoftmaxLogits(x, s): the Torch consumer then also sees x ± 10³ / x ± 10⁴ (GraphOptions.ExtremeInputs);
//       - exact ties the finite differences cannot take: only under g.Options.ExactTies.
//     g.EmitMain emits the step's node (rescaled into [−Bound, Bound] when it leaves it; NoGrad steps are handled
//     there). Helper nodes (guards, index views) use g.Emit. Record receives the resolved operands (r.A, r.B,
//     r.Pool for lists) and the Instr's constants (r.I), and must be deterministic: r.Map(fs, fv, fm) for an op on
//     one node of any kind, GraphProgram.Arithmetic for a broadcasting binary op. Shape-only ops (slicing,
//     stacking, …) need no guard: pick operands of fitting shape (g.Pick(seed, shape => …) returns −1 when none
//     fits, so fall back to g.EnsureVector/EnsureMatrix or a view) and put indices into K or Ints.
//     Existing rules are the best templates: Unary(...) for elementwise ops, Reduction(...) for vector/matrix
//     reductions, SumAxis for axis ops, Concat for lists, Softmax for softmax-like inputs.
//  3. A new OpKind needs nothing else: both coverage tests (FiniteDifferenceProperties
//     .RandomGraph_OpCoverage_EveryOpKindIsGeneratedWithGradient and RandomGraphCrossCheckTests
//     .Run_FixedSampleOf300Graphs_CoversEveryNonLeafOpKindAndStaysWithinTolerance) fail until some rule records it,
//     and RandomGraph_GeneratedOps_CoverEveryGraphOp / the Torch single-op check fail if a GraphOp lacks a rule.
//     A new custom op also needs its TorchSharp equivalent in RandomGraphCrossCheckTests.Options.
//  4. Run both: dotnet test tests/GradientDescent.Autodiff.Tests --filter FiniteDifferenceProperties and
//     dotnet test tests/GradientDescent.Autodiff.Torch.Tests --filter RandomGraph.
// A constraint only one consumer can live with goes into GraphOptions (a flag the rule reads through g.Options).
// Steps draw GraphOps uniformly, so each new op makes every other one rarer: if a coverage test then reports an
// OpKind under its threshold, raise that test's sample size, never the threshold down.
// ======================================================================================================================

using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace GradientDescent.Autodiff.Testing;

/// <summary>
/// What a step of a random program does: one value per public entry point of the op set (every operator, every
/// <see cref="Ops"/> function, every <see cref="Loss"/>, and custom ops), plus the two kinds of leaves.
/// </summary>
public enum GraphOp : byte
{
    /// <summary>Leaf: a parameter (never chosen as a step).</summary>
    Parameter,
    /// <summary>Leaf: constant data (never chosen as a step).</summary>
    Constant,

#pragma warning disable CS1591 // the names say what they are: one per public entry point
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
    ConstantPower,
    ConstantMax,
    ConstantMin,

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

    // Trigonometric, hyperbolic, rounding and activations (unary; leaky relu and elu with a constant).
    Sin,
    Cos,
    Tan,
    Sinh,
    Cosh,
    Asin,
    Acos,
    Atan,
    Log10,
    Log2,
    Sign,
    Floor,
    Ceiling,
    Round,
    LeakyRelu,
    Elu,
    Gelu,
    Silu,

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

    // Statistics: K chooses the sample (Variance, StandardDeviation) or the population function, and the axis.
    Variance,
    StandardDeviation,
    VarianceAxis,
    StandardDeviationAxis,

    // Views and assembly.
    Element,
    Row,
    Reshape,
    Flatten,
    Concat,
    Detach,

    // Building and taking apart.
    SliceVector,
    SliceRows,
    Column,
    Columns,
    Block,
    Stack,
    StackScalars,
    Split,
    SplitRows,
    Unstack,
    UnstackVector,

    // Losses.
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    SoftmaxCrossEntropy,
    HalfSquaredError,
    HalfMeanSquaredError,
    MeanSquaredError,
    /// <summary>Loss.LinearRegression(X, w, b, y): the fused ½·mean((Xw + b − y)²).</summary>
    LinearRegression,
    /// <summary>Loss.LogisticRegression(X, w, b, y): the fused mean BCE on the logits Xw + b.</summary>
    LogisticRegression,
    /// <summary>Loss.SoftmaxRegression(X, W, b, labels): the fused mean softmax cross-entropy of XW + b.</summary>
    SoftmaxRegression,

    // Custom ops.
    CustomSwish,
    CustomProductPlus,
    CustomSumOfCubes,
    CustomCube,
#pragma warning restore CS1591
}

/// <summary>
/// What one consumer of <see cref="RandomGraph"/> can check, beyond what every consumer gets (every
/// <see cref="GraphOp"/>, inputs inside each op's domain and clear of its kinks, values rescaled into
/// [−<see cref="RandomGraph.Bound"/>, <see cref="RandomGraph.Bound"/>]).
/// </summary>
public sealed record GraphOptions
{
    /// <summary>
    /// Saturating inputs: in one step of three, the input of σ, tanh, softplus, ln σ and BCE with logits is shifted by
    /// ±10³, that of softmax, log-softmax, log-sum-exp and softmax cross-entropy by ±10⁴, and BCE gets probabilities of
    /// exactly 0 and 1 (σ(x ± 10³), clamp(x, 0, 1)) with labels that agree where p is saturated. Fine for an
    /// autograd oracle; central differences of a saturated node measure rounding, not the derivative.
    /// </summary>
    public bool ExtremeInputs { get; init; }

    /// <summary>
    /// Exact ties at a kink: max/min with a constant and clamp get, in one step of three, a bound equal to an element
    /// of a leaf. Both sides of an oracle compare the same bits, so they must agree on the tie's convention; central
    /// differences straddle the kink and measure the average of the two one-sided slopes instead.
    /// </summary>
    public bool ExactTies { get; init; }

    /// <summary>One step in this many (on average) is recorded under <see cref="Tape.NoGrad"/>; 0 for never.</summary>
    public int NoGradEvery { get; init; }

    /// <summary>The fewest steps of a program.</summary>
    public int MinSteps { get; init; } = 1;

    /// <summary>The most steps of a program (reached at FsCheck size ≥ 80 when <see cref="StepsGrowWithSize"/>).</summary>
    public int MaxSteps { get; init; } = 14;

    /// <summary>Whether the step count's upper end grows with FsCheck's size (4 + size/8), or is always <see cref="MaxSteps"/>.</summary>
    public bool StepsGrowWithSize { get; init; } = true;

    /// <summary>
    /// For central differences (the core's properties): no saturated inputs, no exact ties; one step in 17 under
    /// NoGrad (frozen at its initial value when the checker replays without gradient, like a detached node).
    /// </summary>
    public static GraphOptions FiniteDifferences { get; } = new() { NoGradEvery = 17 };

    /// <summary>For the TorchSharp autograd oracle: also extreme inputs and exact ties; 3 to 14 steps at any size.</summary>
    public static GraphOptions Torch { get; } = new() { ExtremeInputs = true, ExactTies = true, NoGradEvery = 17, MinSteps = 3, StepsGrowWithSize = false };
}

/// <summary>A leaf of a random program: a parameter (a gradient is checked for it) or constant data.</summary>
public sealed record LeafSpec(bool IsParameter, Shape Shape, double[] Values)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{(IsParameter ? "param" : "const")} {Shape} = [{string.Join(", ", Values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)))}]";
}

/// <summary>
/// One step: an op and raw random choices. <see cref="A"/> and <see cref="B"/> pick operands from the pool of
/// nodes built so far (modulo its size, so every choice is valid and nodes get reused), <see cref="K"/> picks
/// shapes, axes, indices, labels and variants, <see cref="C"/> is a constant in [−2, 2].
/// </summary>
public sealed record StepSpec(GraphOp Op, int A, int B, int K, double C)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Op}(a={A}, b={B}, k={K}, c={C:G4})");
}

/// <summary>A random program: leaves, steps, and the seed of the final loss's weights.</summary>
public sealed record GraphSpec(LeafSpec[] Leaves, StepSpec[] Steps, int Seed)
{
    /// <inheritdoc/>
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
/// sensitivity, orders of magnitude below the margin, so no difference quotient straddles a kink; an autograd
/// oracle that differs by an ulp cannot land on the other side either. (Exact ties, which both sides of an
/// oracle see bit for bit, come from <see cref="GraphOptions.ExactTies"/>, and max(a, relu a).)</item>
/// <item>Scale: a result with an element above <see cref="Bound"/> = 3 in magnitude is multiplied by a constant
/// that brings it back to 3, and only the rescaled node is used further (by later steps and by the loss), so
/// exponentials and powers stay moderate and rounding stays far below tolerance.</item>
/// </list>
/// <para>Replaying the frozen instructions is then a smooth function of the parameters near their values, which is
/// what a finite-difference check needs. <see cref="Ops.Detach(Scalar)"/> and NoGrad steps are the nodes whose
/// derivative differs from their function's on purpose: when the program is replayed without gradient (as
/// <see cref="GradientCheck"/> does for its central differences, inside <see cref="Tape.NoGrad"/>) such a node is
/// replaced by a constant holding its value at the initial parameters, so both sides differentiate the same
/// function: the graph with that value frozen.</para>
/// <para>The loss is Σₖ wₖ·⟨node k, Wₖ⟩ over every usable node that depends on a parameter, with random weights
/// of total size ≈ 1, so every node's backward rule contributes to the checked gradient and no upstream gradient
/// is a plain vector of ones (which would hide a transposed rule).</para>
/// </remarks>
public sealed class RandomGraph
{
    /// <summary>The magnitude above which a step's result is rescaled.</summary>
    public const double Bound = 3;

    /// <summary>How far every input of a kink stays from it (unless <see cref="GraphOptions.ExactTies"/> asks for a tie).</summary>
    public const double KinkMargin = 0.05;

    private readonly GraphOp[] _stepOps = [.. Enum.GetValues<GraphOp>().Where(o => o is not (GraphOp.Parameter or GraphOp.Constant))];

    /// <summary>A generator for one consumer's constraints.</summary>
    public RandomGraph(GraphOptions options)
    {
        Options = options;
        Gen<StepSpec> stepGen =
            from op in Gen.Elements(_stepOps)
            from a in Gen.Choose(0, 1 << 20)
            from b in Gen.Choose(0, 1 << 20)
            from k in Gen.Choose(0, 1 << 20)
            from c in Double(-2, 2)
            select new StepSpec(op, a, b, k, c);
        Spec = Gen.Sized(size =>
            from np in Gen.Choose(1, 3)
            from nc in Gen.Choose(1, 2)
            from ps in LeafGen(true).ArrayOf(np)
            from cs in LeafGen(false).ArrayOf(nc)
            from n in Gen.Choose(options.MinSteps, Math.Max(options.MinSteps, options.StepsGrowWithSize ? Math.Clamp(4 + size / 8, 4, options.MaxSteps) : options.MaxSteps))
            from steps in stepGen.ArrayOf(n)
            from seed in Gen.Choose(0, int.MaxValue)
            select new GraphSpec([.. ps, .. cs], steps, seed));
        Arbitrary = Arb.From(Spec, Shrink);
    }

    /// <summary>The consumer's constraints.</summary>
    public GraphOptions Options { get; }

    /// <summary>Every op a step may be (all but the two leaves).</summary>
    public IReadOnlyList<GraphOp> GeneratedOps => _stepOps;

    /// <summary>Whether <paramref name="op"/> has a rule (every step op must).</summary>
    public static bool HasRule(GraphOp op) => Rules.ContainsKey(op);

    /// <summary>1–3 parameters and 1–2 constants of random shapes (scalars, vectors of 1–5, matrices up to 4×4), then the steps.</summary>
    public Gen<GraphSpec> Spec { get; }

    /// <summary><see cref="Spec"/> with <see cref="Shrink"/>.</summary>
    public Arbitrary<GraphSpec> Arbitrary { get; }

    private static Gen<double> Double(double lo, double hi) =>
        Gen.Choose(0, 2_000_000).Select(k => lo + (hi - lo) * (k / 2_000_000.0));

    private static readonly Gen<Shape> ShapeGen = Gen.Frequency(
        (1, Gen.Constant(Shape.Scalar)),
        (2, Gen.Choose(1, 5).Select(Shape.Vector)),
        (2, from r in Gen.Choose(1, 4) from c in Gen.Choose(1, 4) select Shape.Matrix(r, c)));

    private static Gen<LeafSpec> LeafGen(bool isParameter) =>
        from s in ShapeGen
        from v in Double(-2, 2).ArrayOf(s.Length)
        select new LeafSpec(isParameter, s, v);

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

    /// <summary>Resolves <paramref name="spec"/> under this generator's options into a replayable program.</summary>
    public GraphProgram Build(GraphSpec spec) => new Builder(spec, Options).Build();

    // ================================================================================================= RULES
    // One entry per step op: how to generate it (operands, guards, constants) and how to record it on a tape.

    /// <summary>How a step op is generated (at the initial values, once) and recorded (on every replay).</summary>
    private sealed record Rule(Action<Builder, StepSpec> Generate, Func<Args, Node> Record);

    private static Rule Unary(Func<Scalar, Scalar> fs, Func<Vector, Vector> fv, Func<Matrix, Matrix> fm, Func<Builder, StepSpec, int, int>? guard = null) =>
        new((g, s) =>
        {
            int x = g.Any(s.A);
            g.EmitMain(new Instr(s.Op, guard is null ? x : guard(g, s, x)));
        }, r => r.Map(fs, fv, fm));

    private static Rule WithConstant(Func<Scalar, double, Scalar> fs, Func<Vector, double, Vector> fv, Func<Matrix, double, Matrix> fm) =>
        new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A), C: s.C, K: s.K % 2)),
            r => { double c = r.I.C; return r.Map(x => fs(x, c), x => fv(x, c), x => fm(x, c)); });

    private static Rule Arith() => new((g, s) =>
    {
        var (x, y) = g.BroadcastPair(s);
        if (s.Op == GraphOp.Divide) y = g.AwayFromZeroSigned(y, s.K / 4);
        g.EmitMain(new Instr(s.Op, x, y));
    }, r => GraphProgram.Arithmetic(r.I.Op, r.A, r.B));

    private static Rule Reduction(Func<Vector, Node> fv, Func<Matrix, Node> fm, bool softmaxInput = false) =>
        new((g, s) =>
        {
            int x = g.AnyNonScalar(s.A);
            g.EmitMain(new Instr(s.Op, softmaxInput ? g.SoftmaxLogits(x, s) : x));
        }, r => r.A.Shape.Kind == ShapeKind.Vector ? fv(r.A.AsVector()) : fm(r.A.AsMatrix()));

    private static int LogitsGuard(Builder g, StepSpec s, int x) => g.Logits(x, s);

    /// <summary>A range a..b of an axis of <paramref name="n"/> from two seeds, as [a, b, n, form] (see <see cref="ToRange"/>).</summary>
    private static int[] RangeInts(int seedA, int seedB, int n)
    {
        int a = seedA % n;
        int b = a + 1 + (seedB % (n - a));
        return [a, b, n, (seedB / 7) % 3];
    }

    /// <summary>[a, b, n, form] as a C# range: a..b, ^(n − a)..^(n − b), or with an open end where a = 0 or b = n.</summary>
    private static Range ToRange(int[] ints)
    {
        int a = ints[0], b = ints[1], n = ints[2];
        return ints[3] switch
        {
            0 => a..b,
            1 => ^(n - a)..^(n - b),
            _ => a == 0 ? ..b : b == n ? a.. : a..^(n - b),
        };
    }

    private static readonly Dictionary<GraphOp, Rule> Rules = new()
    {
        [GraphOp.Add] = Arith(),
        [GraphOp.Subtract] = Arith(),
        [GraphOp.Multiply] = Arith(),
        [GraphOp.Divide] = Arith(),
        [GraphOp.Power] = new((g, s) =>
        {
            // Any two operands that broadcast (every kind mix); base ≥ 0.37, exponent in [−2, 2].
            var (a, e) = g.BroadcastPair(s);
            if (g.V(e).Max(Math.Abs) > 2) e = g.Emit(new Instr(GraphOp.Tanh, e));
            g.EmitMain(new Instr(GraphOp.Power, g.Positive(a, s.K / 2), e));
        }, r => GraphProgram.Arithmetic(r.I.Op, r.A, r.B)),
        [GraphOp.Maximum] = new((g, s) => g.MaxMin(s), r => GraphProgram.Arithmetic(r.I.Op, r.A, r.B)),
        [GraphOp.Minimum] = new((g, s) => g.MaxMin(s), r => GraphProgram.Arithmetic(r.I.Op, r.A, r.B)),

        [GraphOp.AddConstant] = new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A), C: s.C, K: s.K % 2)),
            r => { double c = r.I.C; return r.I.K == 0 ? r.Map(x => x + c, x => x + c, x => x + c) : r.Map(x => c + x, x => c + x, x => c + x); }),
        [GraphOp.SubtractConstant] = WithConstant((x, c) => x - c, (x, c) => x - c, (x, c) => x - c),
        [GraphOp.ConstantMinus] = WithConstant((x, c) => c - x, (x, c) => c - x, (x, c) => c - x),
        [GraphOp.MultiplyConstant] = new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A), C: s.C, K: s.K % 2)),
            r => { double c = r.I.C; return r.I.K == 0 ? r.Map(x => x * c, x => x * c, x => x * c) : r.Map(x => c * x, x => c * x, x => c * x); }),
        [GraphOp.DivideByConstant] = new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A), C: Math.CopySign(0.25 + Math.Abs(s.C), s.C))),
            r => { double c = r.I.C; return r.Map(x => x / c, x => x / c, x => x / c); }),
        [GraphOp.ConstantOver] = new((g, s) => g.EmitMain(new Instr(s.Op, g.AwayFromZeroSigned(g.Any(s.A), s.K), C: s.C)),
            r => { double c = r.I.C; return r.Map(x => c / x, x => c / x, x => c / x); }),
        [GraphOp.PowerConstant] = new((g, s) =>
        {
            double[] exponents = [2, 3, 0.5, -1, 1.5, -0.5, 0, 1, 2.5, -2];
            double c = exponents[s.K % exponents.Length];
            int x = g.Any(s.A);
            if (c < 0 || c != Math.Floor(c)) x = g.Positive(x, s.B);
            g.EmitMain(new Instr(s.Op, x, C: c));
        }, r => { double c = r.I.C; return r.Map(x => Ops.Pow(x, c), x => Ops.Pow(x, c), x => Ops.Pow(x, c)); }),

        [GraphOp.ConstantPower] = new((g, s) =>
        {
            // c^x for a constant base c ∈ [0.5, 2.5] and x ∈ [−2, 2].
            int x = g.Any(s.A);
            if (g.V(x).Max(Math.Abs) > 2) x = g.Emit(new Instr(GraphOp.Tanh, x));
            g.EmitMain(new Instr(s.Op, x, C: 0.5 + Math.Abs(s.C)));
        }, r => { double c = r.I.C; return r.Map(x => Ops.Pow(c, x), x => Ops.Pow(c, x), x => Ops.Pow(c, x)); }),
        [GraphOp.ConstantMax] = new((g, s) => g.BoundConstant(s),
            r => { double c = r.I.C; return r.Map(x => Ops.Max(c, x), x => Ops.Max(c, x), x => Ops.Max(c, x)); }),
        [GraphOp.ConstantMin] = new((g, s) => g.BoundConstant(s),
            r => { double c = r.I.C; return r.Map(x => Ops.Min(c, x), x => Ops.Min(c, x), x => Ops.Min(c, x)); }),

        [GraphOp.Negate] = Unary(x => -x, x => -x, x => -x),
        [GraphOp.Exp] = Unary(Ops.Exp, Ops.Exp, Ops.Exp),
        [GraphOp.Log] = Unary(Ops.Log, Ops.Log, Ops.Log, (g, s, x) => g.Positive(x, s.K)),
        [GraphOp.Sqrt] = Unary(Ops.Sqrt, Ops.Sqrt, Ops.Sqrt, (g, s, x) => g.Positive(x, s.K)),
        [GraphOp.Abs] = Unary(Ops.Abs, Ops.Abs, Ops.Abs, (g, s, x) => g.OffZero(x, s.K)),
        [GraphOp.Square] = Unary(Ops.Square, Ops.Square, Ops.Square),
        [GraphOp.Tanh] = Unary(Ops.Tanh, Ops.Tanh, Ops.Tanh, LogitsGuard),
        [GraphOp.Sigmoid] = Unary(Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid, LogitsGuard),
        [GraphOp.Relu] = Unary(Ops.Relu, Ops.Relu, Ops.Relu, (g, s, x) => g.OffZero(x, s.K)),
        [GraphOp.Softplus] = Unary(Ops.Softplus, Ops.Softplus, Ops.Softplus, LogitsGuard),
        [GraphOp.LogSigmoid] = Unary(Ops.LogSigmoid, Ops.LogSigmoid, Ops.LogSigmoid, LogitsGuard),
        [GraphOp.MaxConstant] = new((g, s) => g.BoundConstant(s),
            r => { double c = r.I.C; return r.Map(x => Ops.Max(x, c), x => Ops.Max(x, c), x => Ops.Max(x, c)); }),
        [GraphOp.MinConstant] = new((g, s) => g.BoundConstant(s),
            r => { double c = r.I.C; return r.Map(x => Ops.Min(x, c), x => Ops.Min(x, c), x => Ops.Min(x, c)); }),
        [GraphOp.Clamp] = new((g, s) => g.Clamp(s),
            r => { double lo = r.I.C, hi = r.I.D; return r.Map(x => Ops.Clamp(x, lo, hi), x => Ops.Clamp(x, lo, hi), x => Ops.Clamp(x, lo, hi)); }),

        [GraphOp.Sin] = Unary(Ops.Sin, Ops.Sin, Ops.Sin),
        [GraphOp.Cos] = Unary(Ops.Cos, Ops.Cos, Ops.Cos),
        // tan on (−1.2, 1.2), clear of its poles at ±π/2.
        [GraphOp.Tan] = Unary(Ops.Tan, Ops.Tan, Ops.Tan, (g, s, x) => g.Bounded(x, 1.2)),
        [GraphOp.Sinh] = Unary(Ops.Sinh, Ops.Sinh, Ops.Sinh),
        [GraphOp.Cosh] = Unary(Ops.Cosh, Ops.Cosh, Ops.Cosh),
        // arcsin, arccos on [−0.8, 0.8], clear of the infinite slopes at ±1.
        [GraphOp.Asin] = Unary(Ops.Asin, Ops.Asin, Ops.Asin, (g, s, x) => g.InsideUnit(x, 0.8)),
        [GraphOp.Acos] = Unary(Ops.Acos, Ops.Acos, Ops.Acos, (g, s, x) => g.InsideUnit(x, 0.8)),
        [GraphOp.Atan] = Unary(Ops.Atan, Ops.Atan, Ops.Atan),
        [GraphOp.Log10] = Unary(Ops.Log10, Ops.Log10, Ops.Log10, (g, s, x) => g.Positive(x, s.K)),
        [GraphOp.Log2] = Unary(Ops.Log2, Ops.Log2, Ops.Log2, (g, s, x) => g.Positive(x, s.K)),
        // Piecewise constant (derivative 0): inputs clear of the jumps, at 0, the integers, the half-integers.
        [GraphOp.Sign] = Unary(Ops.Sign, Ops.Sign, Ops.Sign, (g, s, x) => g.OffZero(x, s.K)),
        [GraphOp.Floor] = Unary(Ops.Floor, Ops.Floor, Ops.Floor, (g, s, x) => g.OffLattice(x, 0, s.K)),
        [GraphOp.Ceiling] = Unary(Ops.Ceiling, Ops.Ceiling, Ops.Ceiling, (g, s, x) => g.OffLattice(x, 0, s.K)),
        [GraphOp.Round] = Unary(Ops.Round, Ops.Round, Ops.Round, (g, s, x) => g.OffLattice(x, 0.5, s.K)),
        // K = 0: the default constant (0.01, 1), else C; the kink at 0 kept clear; the Torch consumer also sees x ± 10³.
        [GraphOp.LeakyRelu] = new((g, s) =>
        {
            double[] slopes = [0.01, 0.2, -0.5, 1.5];
            int x = g.OffZero(g.Logits(g.Any(s.A), s), s.K);
            g.EmitMain(new Instr(s.Op, x, C: slopes[s.K % slopes.Length], K: s.K % slopes.Length == 0 ? 0 : 1));
        }, r => { double c = r.I.C; return r.I.K == 0 ? r.Map(x => Ops.LeakyRelu(x), x => Ops.LeakyRelu(x), x => Ops.LeakyRelu(x)) : r.Map(x => Ops.LeakyRelu(x, c), x => Ops.LeakyRelu(x, c), x => Ops.LeakyRelu(x, c)); }),
        [GraphOp.Elu] = new((g, s) =>
        {
            double[] alphas = [1, 0.5, 1.7];
            int x = g.OffZero(g.Logits(g.Any(s.A), s), s.K);
            g.EmitMain(new Instr(s.Op, x, C: alphas[s.K % alphas.Length], K: s.K % alphas.Length == 0 ? 0 : 1));
        }, r => { double c = r.I.C; return r.I.K == 0 ? r.Map(x => Ops.Elu(x), x => Ops.Elu(x), x => Ops.Elu(x)) : r.Map(x => Ops.Elu(x, c), x => Ops.Elu(x, c), x => Ops.Elu(x, c)); }),
        [GraphOp.Gelu] = Unary(Ops.Gelu, Ops.Gelu, Ops.Gelu, LogitsGuard),
        [GraphOp.Silu] = Unary(Ops.Silu, Ops.Silu, Ops.Silu, LogitsGuard),

        [GraphOp.Dot] = new((g, s) =>
        {
            int a = g.EnsureVector(s.A);
            Shape sa = g.S(a);
            g.EmitMain(new Instr(s.Op, a, g.Pick(s.B, t => t == sa)));
        }, r => Ops.Dot(r.A.AsVector(), r.B.AsVector())),
        [GraphOp.MatVec] = new((g, s) =>
        {
            int m = g.EnsureMatrix(s.A);
            Shape sm = g.S(m);
            int v = g.Pick(s.B, t => t.Kind == ShapeKind.Vector && t.Rows == sm.Cols);
            if (v < 0) v = g.Emit(new Instr(GraphOp.Row, m, K: s.K % sm.Rows));
            g.EmitMain(new Instr(s.Op, m, v));
        }, r => Ops.MatVec(r.A.AsMatrix(), r.B.AsVector())),
        [GraphOp.MatMul] = new((g, s) =>
        {
            int a = g.EnsureMatrix(s.A);
            Shape sa = g.S(a);
            int b = g.Pick(s.B, t => t.Kind == ShapeKind.Matrix && t.Rows == sa.Cols);
            if (b < 0) b = g.Emit(new Instr(GraphOp.Transpose, a));
            g.EmitMain(new Instr(s.Op, a, b));
        }, r => Ops.MatMul(r.A.AsMatrix(), r.B.AsMatrix())),
        [GraphOp.Transpose] = new((g, s) => g.EmitMain(new Instr(s.Op, g.EnsureMatrix(s.A))), r => Ops.Transpose(r.A.AsMatrix())),

        [GraphOp.Sum] = Reduction(v => Ops.Sum(v), m => Ops.Sum(m)),
        [GraphOp.Mean] = Reduction(v => Ops.Mean(v), m => Ops.Mean(m)),
        [GraphOp.SumAxis] = new((g, s) => g.EmitMain(new Instr(s.Op, g.EnsureMatrix(s.A), K: s.K % 2)), r => Ops.Sum(r.A.AsMatrix(), r.I.K)),
        [GraphOp.MeanAxis] = new((g, s) => g.EmitMain(new Instr(s.Op, g.EnsureMatrix(s.A), K: s.K % 2)), r => Ops.Mean(r.A.AsMatrix(), r.I.K)),
        [GraphOp.LogSumExp] = Reduction(v => Ops.LogSumExp(v), m => Ops.LogSumExp(m), softmaxInput: true),
        [GraphOp.Softmax] = Reduction(v => Ops.Softmax(v), m => Ops.Softmax(m), softmaxInput: true),
        [GraphOp.LogSoftmax] = Reduction(v => Ops.LogSoftmax(v), m => Ops.LogSoftmax(m), softmaxInput: true),

        // K % 2 = 1: the population function (also forced where a group has one element); K / 2 % 2: the axis.
        [GraphOp.Variance] = new((g, s) => g.Statistic(s, perAxis: false), r => r.I.K % 2 == 0
            ? (r.A.Shape.Kind == ShapeKind.Vector ? Ops.Variance(r.A.AsVector()) : Ops.Variance(r.A.AsMatrix()))
            : (r.A.Shape.Kind == ShapeKind.Vector ? Ops.PopulationVariance(r.A.AsVector()) : Ops.PopulationVariance(r.A.AsMatrix()))),
        [GraphOp.StandardDeviation] = new((g, s) => g.Statistic(s, perAxis: false), r => r.I.K % 2 == 0
            ? (r.A.Shape.Kind == ShapeKind.Vector ? Ops.StandardDeviation(r.A.AsVector()) : Ops.StandardDeviation(r.A.AsMatrix()))
            : (r.A.Shape.Kind == ShapeKind.Vector ? Ops.PopulationStandardDeviation(r.A.AsVector()) : Ops.PopulationStandardDeviation(r.A.AsMatrix()))),
        [GraphOp.VarianceAxis] = new((g, s) => g.Statistic(s, perAxis: true), r => r.I.K % 2 == 0
            ? Ops.Variance(r.A.AsMatrix(), r.I.K / 2)
            : Ops.PopulationVariance(r.A.AsMatrix(), r.I.K / 2)),
        [GraphOp.StandardDeviationAxis] = new((g, s) => g.Statistic(s, perAxis: true), r => r.I.K % 2 == 0
            ? Ops.StandardDeviation(r.A.AsMatrix(), r.I.K / 2)
            : Ops.PopulationStandardDeviation(r.A.AsMatrix(), r.I.K / 2)),

        [GraphOp.Element] = new((g, s) =>
        {
            int x = g.AnyNonScalar(s.A);
            g.EmitMain(new Instr(s.Op, x, K: s.K % g.S(x).Length));
        }, r => r.A.Shape.Kind == ShapeKind.Vector ? r.A.AsVector()[r.I.K] : r.A.AsMatrix()[r.I.K / r.A.Shape.Cols, r.I.K % r.A.Shape.Cols]),
        [GraphOp.Row] = new((g, s) =>
        {
            int m = g.EnsureMatrix(s.A);
            g.EmitMain(new Instr(s.Op, m, K: s.K % g.S(m).Rows));
        }, r => r.A.AsMatrix().Row(r.I.K)),
        [GraphOp.Reshape] = new((g, s) =>
        {
            int x = g.AnyNonScalar(s.A);
            int length = g.S(x).Length;
            int[] divisors = [.. Enumerable.Range(1, length).Where(d => length % d == 0)];
            int rows = divisors[s.K % divisors.Length];
            g.EmitMain(new Instr(s.Op, x, Ints: [rows, length / rows]));
        }, r => r.A.Shape.Kind == ShapeKind.Vector
            ? Ops.Reshape(r.A.AsVector(), r.I.Ints![0], r.I.Ints[1])
            : Ops.Reshape(r.A.AsMatrix(), r.I.Ints![0], r.I.Ints[1])),
        [GraphOp.Flatten] = new((g, s) => g.EmitMain(new Instr(s.Op, g.EnsureMatrix(s.A))), r => Ops.Flatten(r.A.AsMatrix())),
        [GraphOp.Concat] = new((g, s) =>
        {
            int count = 1 + s.K % 3;
            var parts = new int[count];
            parts[0] = g.EnsureVector(s.A);
            for (int j = 1; j < count; j++) parts[j] = g.Pick(s.B + 7 * j, t => t.Kind == ShapeKind.Vector);
            g.EmitMain(new Instr(s.Op, Ints: parts));
        }, r => Ops.Concat([.. r.I.Ints!.Select(k => r.Pool[k].AsVector())])),
        // Frozen (a constant of its initial value) when replayed without gradient: see the class remarks.
        [GraphOp.Detach] = new((g, s) =>
        {
            int x = g.Any(s.A);
            g.EmitMain(new Instr(s.Op, x, Shape: g.S(x), Frozen: g.V(x)));
        }, r => r.Map(Ops.Detach, Ops.Detach, Ops.Detach)),

        // Slices (views) and columns (copies): a random range a..b, written as a..b, ^(n − a)..^(n − b) or with an open end.
        [GraphOp.SliceVector] = new((g, s) =>
        {
            int v = g.EnsureVector(s.A);
            g.EmitMain(new Instr(s.Op, v, Ints: RangeInts(s.B, s.K, g.S(v).Length)));
        }, r => r.A.AsVector()[ToRange(r.I.Ints!)]),
        [GraphOp.SliceRows] = new((g, s) =>
        {
            int m = g.EnsureMatrix(s.A);
            g.EmitMain(new Instr(s.Op, m, K: s.K % 3, Ints: RangeInts(s.B, s.K, g.S(m).Rows)));
        }, r => r.I.K switch
        {
            0 => r.A.AsMatrix()[ToRange(r.I.Ints!)],
            1 => r.A.AsMatrix()[ToRange(r.I.Ints!), ..],
            _ => r.A.AsMatrix().Slice(ToRange(r.I.Ints!)),
        }),
        [GraphOp.Column] = new((g, s) =>
        {
            int m = g.EnsureMatrix(s.A);
            g.EmitMain(new Instr(s.Op, m, K: s.K % g.S(m).Cols));
        }, r => r.A.AsMatrix().Column(r.I.K)),
        [GraphOp.Columns] = new((g, s) =>
        {
            int m = g.EnsureMatrix(s.A);
            g.EmitMain(new Instr(s.Op, m, K: s.K % 2, Ints: RangeInts(s.B, s.K, g.S(m).Cols)));
        }, r => r.I.K == 0 ? r.A.AsMatrix().Columns(ToRange(r.I.Ints!)) : r.A.AsMatrix()[.., ToRange(r.I.Ints!)]),
        [GraphOp.Block] = new((g, s) =>
        {
            // m[rows, cols] (a row view, then a column copy), m[i, cols] (a view of a row view), m[rows, j] (a view, then a column).
            int m = g.EnsureMatrix(s.A);
            Shape sm = g.S(m);
            g.EmitMain(new Instr(s.Op, m, K: s.K % 3, Ints: [.. RangeInts(s.B, s.K, sm.Rows), .. RangeInts(s.A, s.B, sm.Cols)]));
        }, r =>
        {
            Matrix m = r.A.AsMatrix();
            int[] ints = r.I.Ints!;
            Range rows = ToRange(ints[..4]), cols = ToRange(ints[4..]);
            return r.I.K switch
            {
                0 => m[rows, cols],
                1 => m[ints[0], cols],
                _ => m[rows, ints[4]],
            };
        }),

        // Stack (copies), split and unstack (views): every piece of a split becomes a node of its own.
        [GraphOp.Stack] = new((g, s) =>
        {
            int first = g.EnsureVector(s.A);
            Shape shape = g.S(first);
            int[] parts = [first, .. Enumerable.Range(1, s.K % 3).Select(j => g.Pick(s.B + (7 * j), t => t == shape) is int k and >= 0 ? k : first)];
            g.EmitMain(new Instr(s.Op, Ints: parts));
        }, r => Ops.Stack([.. r.I.Ints!.Select(k => r.Pool[k].AsVector())])),
        [GraphOp.StackScalars] = new((g, s) =>
        {
            int[] parts = [.. Enumerable.Range(0, 1 + (s.K % 4)).Select(j => g.EnsureScalar(s.A + (5 * j)))];
            g.EmitMain(new Instr(s.Op, Ints: parts));
        }, r => Ops.Stack([.. r.I.Ints!.Select(k => r.Pool[k].AsScalar())])),
        [GraphOp.Split] = new((g, s) => g.Split(s, g.EnsureVector(s.A)), r => r.I.Ints![0] == 0
            ? Ops.Split(r.A.AsVector(), r.I.Ints[1])[r.I.K]
            : Ops.Split(r.A.AsVector(), r.I.Ints[1..])[r.I.K]),
        [GraphOp.SplitRows] = new((g, s) => g.Split(s, g.EnsureMatrix(s.A)), r => r.I.Ints![0] == 0
            ? Ops.Split(r.A.AsMatrix(), r.I.Ints[1])[r.I.K]
            : Ops.Split(r.A.AsMatrix(), r.I.Ints[1..])[r.I.K]),
        [GraphOp.Unstack] = new((g, s) =>
        {
            int m = g.EnsureMatrix(s.A);
            for (int k = 0; k < g.S(m).Rows; k++) g.EmitMain(new Instr(s.Op, m, K: k));
        }, r => Ops.Unstack(r.A.AsMatrix())[r.I.K]),
        [GraphOp.UnstackVector] = new((g, s) =>
        {
            int v = g.EnsureVector(s.A);
            for (int k = 0; k < g.S(v).Length; k++) g.EmitMain(new Instr(s.Op, v, K: k));
        }, r => Ops.Unstack(r.A.AsVector())[r.I.K]),

        [GraphOp.BinaryCrossEntropy] = new((g, s) => g.BinaryCrossEntropy(s), r => r.A.Shape.Kind == ShapeKind.Scalar
            ? Loss.BinaryCrossEntropy(r.A.AsScalar(), r.I.C)
            : Loss.BinaryCrossEntropy(r.A.AsVector(), r.B.AsVector())),
        [GraphOp.BinaryCrossEntropyWithLogits] = new((g, s) => g.BinaryCrossEntropy(s), r => r.A.Shape.Kind == ShapeKind.Scalar
            ? Loss.BinaryCrossEntropyWithLogits(r.A.AsScalar(), r.I.C)
            : Loss.BinaryCrossEntropyWithLogits(r.A.AsVector(), r.B.AsVector())),
        [GraphOp.SoftmaxCrossEntropy] = new((g, s) =>
        {
            int x = g.SoftmaxLogits(g.AnyNonScalar(s.A), s);
            Shape sx = g.S(x);
            bool matrix = sx.Kind == ShapeKind.Matrix;
            int rows = matrix ? sx.Rows : 1, classes = matrix ? sx.Cols : sx.Length;
            int[] labels = [.. Enumerable.Range(0, rows).Select(_ => g.Rng.Next(classes))];
            g.EmitMain(new Instr(s.Op, x, Ints: labels));
        }, r => r.A.Shape.Kind == ShapeKind.Vector
            ? Loss.SoftmaxCrossEntropy(r.A.AsVector(), r.I.Ints![0])
            : Loss.SoftmaxCrossEntropy(r.A.AsMatrix(), r.I.Ints!)),
        [GraphOp.HalfSquaredError] = new((g, s) => g.EmitMain(new Instr(s.Op, g.EnsureScalar(s.A), g.EnsureScalar(s.B))),
            r => Loss.HalfSquaredError(r.A.AsScalar(), r.B.AsScalar())),
        [GraphOp.HalfMeanSquaredError] = new((g, s) =>
        {
            int a = g.EnsureVector(s.A);
            Shape sa = g.S(a);
            g.EmitMain(new Instr(s.Op, a, g.Pick(s.B, t => t == sa)));
        }, r => Loss.HalfMeanSquaredError(r.A.AsVector(), r.B.AsVector())),
        [GraphOp.MeanSquaredError] = new((g, s) =>
        {
            int a = g.AnyNonScalar(s.A);
            Shape sa = g.S(a);
            g.EmitMain(new Instr(s.Op, a, g.Pick(s.B, t => t == sa)));
        }, r => r.A.Shape.Kind == ShapeKind.Vector
            ? Loss.MeanSquaredError(r.A.AsVector(), r.B.AsVector())
            : Loss.MeanSquaredError(r.A.AsMatrix(), r.B.AsMatrix())),

        [GraphOp.LinearRegression] = new((g, s) => g.ModelLoss(s),
            r => Loss.LinearRegression(r.Pool[r.I.Ints![0]].AsMatrix(), r.Pool[r.I.Ints[1]].AsVector(), r.Pool[r.I.Ints[2]].AsScalar(), r.Pool[r.I.Ints[3]].AsVector())),
        [GraphOp.LogisticRegression] = new((g, s) => g.ModelLoss(s),
            r => Loss.LogisticRegression(r.Pool[r.I.Ints![0]].AsMatrix(), r.Pool[r.I.Ints[1]].AsVector(), r.Pool[r.I.Ints[2]].AsScalar(), r.Pool[r.I.Ints[3]].AsVector())),
        [GraphOp.SoftmaxRegression] = new((g, s) => g.ModelLoss(s),
            r => Loss.SoftmaxRegression(r.Pool[r.I.Ints![0]].AsMatrix(), r.Pool[r.I.Ints[1]].AsMatrix(), r.Pool[r.I.Ints[2]].AsVector(), r.I.Ints[3..])),

        [GraphOp.CustomSwish] = new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A))), r => Ops.Custom(SwishOp.Instance, r.A)),
        [GraphOp.CustomProductPlus] = new((g, s) =>
        {
            int a = g.Any(s.A);
            Shape sa = g.S(a);
            g.EmitMain(new Instr(s.Op, a, g.Pick(s.B, t => t == sa)));
        }, r => Ops.Custom(ProductPlusOp.Instance, r.A, r.B)),
        [GraphOp.CustomSumOfCubes] = new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A))), r => Ops.Custom(SumOfCubesOp.Instance, r.A)),
        [GraphOp.CustomCube] = new((g, s) => g.EmitMain(new Instr(s.Op, g.Any(s.A))), r => Ops.Custom(CubeOp.Instance, r.A)),
    };

    /// <summary>What a rule's Record sees: the tape, the instruction, its resolved operands and the pool (for lists).</summary>
    private readonly record struct Args(Tape Tape, Instr I, Node A, Node B, List<Node> Pool)
    {
        public Node Map(Func<Scalar, Scalar> fs, Func<Vector, Vector> fv, Func<Matrix, Matrix> fm) => A.Shape.Kind switch
        {
            ShapeKind.Scalar => fs(A.AsScalar()),
            ShapeKind.Vector => fv(A.AsVector()),
            _ => fm(A.AsMatrix()),
        };
    }

    /// <summary>Records one instruction (leaves, frozen nodes, NoGrad steps, then the op's rule).</summary>
    internal static Node Exec(Tape t, Instr i, List<Node> pool, Parameter[] parameters, bool frozen)
    {
        if (i.Op == GraphOp.Parameter)
        {
            return parameters[i.K] switch
            {
                ScalarParameter s => t.Use(s),
                VectorParameter v => t.Use(v),
                MatrixParameter m => t.Use(m),
                _ => throw new InvalidOperationException("RandomGraph: unknown parameter type."),
            };
        }
        if (i.Op == GraphOp.Constant) return GraphProgram.Constant(t, i.Shape, i.Data!);
        if (frozen && i.Frozen is not null) return GraphProgram.Constant(t, i.Shape, i.Frozen);
        if (!Rules.TryGetValue(i.Op, out Rule? rule))
        {
            throw new InvalidOperationException($"RandomGraph: no rule for GraphOp.{i.Op}; add its entry to RandomGraph.Rules.");
        }
        var args = new Args(t, i, i.A >= 0 ? pool[i.A] : default, i.B >= 0 ? pool[i.B] : default, pool);
        if (!i.NoGrad) return rule.Record(args);
        using (t.NoGrad()) return rule.Record(args);
    }

    // ================================================================================================= BUILDING

    /// <summary>Executes a spec once at the initial values, choosing operands and guards, and freezes the result into instructions.</summary>
    private sealed class Builder
    {
        private readonly GraphSpec _spec;
        private readonly Tape _tape = new();
        private readonly List<Node> _pool = [];
        /// <summary>The nodes later steps may use and the loss sums over: all but raw results that were rescaled or large.</summary>
        private readonly List<int> _visible = [];
        private readonly List<Instr> _code = [];
        private readonly Parameter[] _parameters;
        private bool _noGrad;

        public Builder(GraphSpec spec, GraphOptions options)
        {
            _spec = spec;
            Options = options;
            Rng = new Random(spec.Seed);
            int n = 0;
            _parameters = [.. spec.Leaves.Where(l => l.IsParameter).Select(l => MakeParameter($"p{n++}", l))];
        }

        public GraphOptions Options { get; }

        public Random Rng { get; }

        private static Parameter MakeParameter(string name, LeafSpec leaf) => leaf.Shape.Kind switch
        {
            ShapeKind.Scalar => new ScalarParameter(name, leaf.Values[0]),
            ShapeKind.Vector => new VectorParameter(name, leaf.Values),
            _ => new MatrixParameter(name, ToMatrix(leaf.Values, leaf.Shape.Rows, leaf.Shape.Cols)),
        };

        private static double[,] ToMatrix(double[] flat, int rows, int cols)
        {
            var m = new double[rows, cols];
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++) m[i, j] = flat[i * cols + j];
            }
            return m;
        }

        private int Count => _visible.Count;

        /// <summary>The shape of pool node <paramref name="k"/>.</summary>
        public Shape S(int k) => _pool[k].Shape;

        /// <summary>The values of pool node <paramref name="k"/> at the initial parameters.</summary>
        public double[] V(int k) => _pool[k].ToArray();

        private static bool IsVector(Shape s) => s.Kind == ShapeKind.Vector;
        private static bool IsMatrix(Shape s) => s.Kind == ShapeKind.Matrix;
        private bool IsLeaf(int k) => _code[k].Op is GraphOp.Parameter or GraphOp.Constant;

        /// <summary>Appends an instruction, executes it and returns its pool index (visible unless an element exceeds <see cref="LargeValue"/>).</summary>
        public int Emit(Instr instr)
        {
            _code.Add(instr);
            _pool.Add(Exec(_tape, instr, _pool, _parameters, frozen: false));
            int k = _pool.Count - 1;
            if (V(k).Max(Math.Abs) <= LargeValue) _visible.Add(k);
            return k;
        }

        /// <summary>Values above this (before rescaling) are kept out of reach of later steps and of the loss.</summary>
        private const double LargeValue = 10;

        /// <summary>Emits a step's main node (under NoGrad if the step is one, frozen for gradient-free replays), then rescales it if it left [−Bound, Bound].</summary>
        public int EmitMain(Instr instr)
        {
            int k = Emit(_noGrad ? instr with { NoGrad = true } : instr);
            if (_noGrad) _code[k] = _code[k] with { Shape = S(k), Frozen = V(k) };
            double max = V(k).Max(Math.Abs);
            if (max <= Bound) return k;
            _visible.Remove(k);
            return Emit(new Instr(GraphOp.MultiplyConstant, k, C: Bound / max));
        }

        /// <summary>A constant node.</summary>
        public int Const(Shape shape, double[] data) => Emit(new Instr(GraphOp.Constant, Shape: shape, Data: data));

        /// <summary><paramref name="n"/> uniform draws in [lo, hi] from the spec's seed.</summary>
        public double[] Uniform(int n, double lo, double hi)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * Rng.NextDouble();
            return v;
        }

        /// <summary>The first visible node from <paramref name="seed"/> on (cyclically) whose shape satisfies <paramref name="ok"/>, or −1.</summary>
        public int Pick(int seed, Func<Shape, bool> ok) => PickNode(seed, k => ok(S(k)));

        /// <summary>The first visible node from <paramref name="seed"/> on (cyclically) that satisfies <paramref name="ok"/>, or −1.</summary>
        public int PickNode(int seed, Func<int, bool> ok)
        {
            for (int j = 0; j < Count; j++)
            {
                int k = _visible[(seed + j) % Count];
                if (ok(k)) return k;
            }
            return -1;
        }

        /// <summary>Any visible node.</summary>
        public int Any(int seed) => _visible[seed % Count];

        private int ToVector(int k, int seed)
        {
            Shape s = S(k);
            if (IsVector(s)) return k;
            if (IsMatrix(s)) return Emit(new Instr(GraphOp.Flatten, k));
            // A scalar broadcast over a constant vector: s ⊙ c.
            int c = Const(Shape.Vector(1 + seed % 4), Uniform(1 + seed % 4, -1, 1));
            return Emit(new Instr(GraphOp.Multiply, k, c));
        }

        /// <summary>A vector: a visible one, or one made from any node (flattened, or a scalar times a constant vector).</summary>
        public int EnsureVector(int seed)
        {
            int k = Pick(seed, IsVector);
            return k >= 0 ? k : ToVector(Any(seed), seed);
        }

        /// <summary>A matrix: a visible one, or a vector reshaped.</summary>
        public int EnsureMatrix(int seed)
        {
            int k = Pick(seed, IsMatrix);
            if (k >= 0) return k;
            int v = EnsureVector(seed);
            int length = S(v).Length;
            int[] divisors = [.. Enumerable.Range(1, length).Where(d => length % d == 0)];
            int rows = divisors[seed % divisors.Length];
            return Emit(new Instr(GraphOp.Reshape, v, Ints: [rows, length / rows]));
        }

        /// <summary>A scalar: a visible one, or an element of any node.</summary>
        public int EnsureScalar(int seed)
        {
            int k = Pick(seed, s => s.Kind == ShapeKind.Scalar);
            if (k >= 0) return k;
            int x = Any(seed);
            return Emit(new Instr(GraphOp.Element, x, K: seed % S(x).Length));
        }

        /// <summary>A vector or matrix.</summary>
        public int AnyNonScalar(int seed)
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

        /// <summary>Two operands that broadcast (the same node twice included); K chooses plain, forced-broadcast, and either order.</summary>
        public (int First, int Second) BroadcastPair(StepSpec s)
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

        /// <summary>A node with every element ≥ 0.37: the node itself if already in [0.5, 10], else a guard chosen by <paramref name="choice"/>.</summary>
        public int Positive(int k, int choice)
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
        public int AwayFromZeroSigned(int k, int choice)
        {
            int p = Positive(k, choice);
            return (choice / 4) % 2 == 1 ? Emit(new Instr(GraphOp.Negate, p)) : p;
        }

        /// <summary>x, or tanh x if some |xₖ| exceeds <paramref name="limit"/>.</summary>
        public int Bounded(int k, double limit) => V(k).Max(Math.Abs) <= limit ? k : Emit(new Instr(GraphOp.Tanh, k));

        /// <summary>0, then shifts of growing size ±0.07, ±0.14, … ±2.8 (the sign order chosen by <paramref name="start"/>), tried in turn to move values off a kink.</summary>
        public static IEnumerable<double> Shifts(int start)
        {
            yield return 0;
            for (int j = 0; j < 80; j++)
            {
                double d = 0.07 * (1 + j / 2);
                yield return (start + j) % 2 == 0 ? d : -d;
            }
        }

        /// <summary>Whether every value is at least <see cref="KinkMargin"/> away from <paramref name="kink"/>.</summary>
        public static bool Clear(double[] values, double kink) => values.All(v => Math.Abs(v - kink) >= KinkMargin);

        /// <summary>x, or x + shift, with every element at least the margin away from 0.</summary>
        public int OffZero(int k, int choice)
        {
            double[] v = V(k);
            foreach (double d in Shifts(choice))
            {
                if (v.All(x => Math.Abs(x + d) >= KinkMargin)) return d == 0 ? k : Emit(new Instr(GraphOp.AddConstant, k, C: d));
            }
            throw new InvalidOperationException("RandomGraph: no shift moves the values off zero.");
        }

        /// <summary>
        /// x + shift with every element at least the margin away from the lattice <paramref name="offset"/> + ℤ (the
        /// jumps of floor and ceiling: offset 0; of round: ½), or, when no shift clears them all, 0.3·σ(x) + offset +
        /// 0.1, which lies strictly between two lattice points.
        /// </summary>
        public int OffLattice(int k, double offset, int choice)
        {
            static double Distance(double v) => Math.Abs(v - Math.Round(v));
            double[] v = V(k);
            foreach (double d in Shifts(choice))
            {
                if (v.All(x => Distance(x + d - offset) >= KinkMargin)) return d == 0 ? k : Emit(new Instr(GraphOp.AddConstant, k, C: d));
            }
            int squashed = Emit(new Instr(GraphOp.MultiplyConstant, Emit(new Instr(GraphOp.Sigmoid, k)), C: 0.3));
            return Emit(new Instr(GraphOp.AddConstant, squashed, C: offset + 0.1));
        }

        /// <summary>x if every |xₖ| ≤ <paramref name="limit"/> (&lt; 1), else limit·tanh x: inside the domain of arcsin and arccos, clear of ±1.</summary>
        public int InsideUnit(int k, double limit) =>
            V(k).Max(Math.Abs) <= limit ? k : Emit(new Instr(GraphOp.MultiplyConstant, Emit(new Instr(GraphOp.Tanh, k)), C: limit));

        /// <summary>
        /// Variance or standard deviation of all elements (a vector or matrix) or over an axis (a matrix), the K of the
        /// instruction holding the choice (bit 0: population; bit 1: the axis). A sample statistic needs two elements
        /// per group (one-element groups take the population one). The standard deviation's slope 1/s explodes as a
        /// group's spread s → 0 (and has a kink at s = 0): its groups get a spread of at least 0.1 (x plus a constant
        /// of distinct values if needed).
        /// </summary>
        public void Statistic(StepSpec s, bool perAxis)
        {
            int x = perAxis ? EnsureMatrix(s.A) : AnyNonScalar(s.A);
            Shape sx = S(x);
            int axis = perAxis ? (s.K / 2) % 2 : 0;
            int groupLength = !perAxis ? sx.Length : axis == 0 ? sx.Rows : sx.Cols;
            int population = groupLength < 2 ? 1 : s.K % 2;
            if (s.Op is GraphOp.StandardDeviation or GraphOp.StandardDeviationAxis)
            {
                for (int attempt = 0; MinSpread(V(x), sx, perAxis, axis) < 0.1 && attempt < 8; attempt++)
                {
                    x = Emit(new Instr(GraphOp.Add, x, Const(sx, Uniform(sx.Length, -1, 1))));
                }
            }
            EmitMain(new Instr(s.Op, x, K: population + 2 * axis));
        }

        /// <summary>The smallest population standard deviation among the groups (all elements, or each column/row); ∞ for one-element groups, where the population statistic is 0 and flat.</summary>
        private static double MinSpread(double[] v, Shape shape, bool perAxis, int axis)
        {
            int rows = perAxis ? shape.Rows : 1, cols = perAxis ? shape.Cols : shape.Length;
            IEnumerable<double[]> groups = !perAxis ? [v]
                : axis == 0 ? Enumerable.Range(0, cols).Select(j => Enumerable.Range(0, rows).Select(i => v[i * cols + j]).ToArray())
                : Enumerable.Range(0, rows).Select(i => v.Skip(i * cols).Take(cols).ToArray());
            return groups.Min(g =>
            {
                if (g.Length < 2) return double.PositiveInfinity;
                double mean = g.Average();
                return Math.Sqrt(g.Sum(e => (e - mean) * (e - mean)) / g.Length);
            });
        }

        /// <summary>A constant near <paramref name="c"/> at least the margin away from every element.</summary>
        public static double OffValues(double[] v, double c, int choice)
        {
            foreach (double d in Shifts(choice))
            {
                if (Clear(v, c + d)) return c + d;
            }
            throw new InvalidOperationException("RandomGraph: no constant clear of the values.");
        }

        /// <summary>x + c with c of x's shape, elements ±<paramref name="magnitude"/> (signs from <paramref name="signs"/>' bits).</summary>
        public int Extreme(int x, double magnitude, int signs)
        {
            Shape sx = S(x);
            double[] c = [.. Enumerable.Range(0, sx.Length).Select(k => ((signs >> (k % 10)) & 1) == 0 ? magnitude : -magnitude)];
            return Emit(new Instr(GraphOp.Add, x, Const(sx, c)));
        }

        private bool ExtremeStep(StepSpec s) => Options.ExtremeInputs && (s.K / 3) % 3 == 2;

        /// <summary>The input of a saturating op: x, or with <see cref="GraphOptions.ExtremeInputs"/> in one step of three x ± 10³.</summary>
        public int Logits(int x, StepSpec s) => ExtremeStep(s) ? Extreme(x, 1e3, s.B) : x;

        /// <summary>The input of the softmax family: x, or with <see cref="GraphOptions.ExtremeInputs"/> in one step of three x ± 10⁴.</summary>
        public int SoftmaxLogits(int x, StepSpec s) => ExtremeStep(s) ? Extreme(x, 1e4, s.B) : x;

        /// <summary>
        /// max/min of two nodes that broadcast (every kind mix): b moved off a (every |aᵢⱼ − bᵢⱼ| ≥ margin after
        /// broadcasting; the same node twice is a smooth tie, max(x, x) = x), or (one step in four) max(a, relu a), an
        /// exact tie wherever a &gt; 0 whose total derivative is 1 under any tie convention.
        /// </summary>
        public void MaxMin(StepSpec s)
        {
            int a, b;
            if ((s.K / 16) % 4 == 1)
            {
                a = OffZero(Any(s.A), s.B);
                b = Emit(new Instr(GraphOp.Relu, a));
            }
            else
            {
                (a, b) = BroadcastPair(s);
                if (b != a)
                {
                    // a − b at the initial values, broadcast (a scratch node on the build tape, not part of the program).
                    double[] diff = GraphProgram.Arithmetic(GraphOp.Subtract, _pool[a], _pool[b]).ToArray();
                    double shift = Shifts(s.K).First(d => diff.All(x => Math.Abs(x - d) >= KinkMargin));
                    if (shift != 0) b = Emit(new Instr(GraphOp.AddConstant, b, C: shift));
                }
            }
            EmitMain(new Instr(s.Op, a, b));
        }

        /// <summary>
        /// x split along its first axis, by a chunk size (Ints [0, chunk]) or by sizes (Ints [1, sizes…]), one main node per
        /// piece (each replay splits again and takes its piece K: views cost no storage).
        /// </summary>
        public void Split(StepSpec s, int x)
        {
            int n = S(x).Rows;
            int[] ints;
            int pieces;
            if (s.K % 2 == 0)
            {
                int chunk = 1 + (s.B % n);
                ints = [0, chunk];
                pieces = (n + chunk - 1) / chunk;
            }
            else
            {
                var sizes = new List<int>();
                for (int left = n, j = 0; left > 0; j++)
                {
                    int size = 1 + ((s.B >> j) % left);
                    sizes.Add(size);
                    left -= size;
                }
                ints = [1, .. sizes];
                pieces = sizes.Count;
            }
            for (int k = 0; k < pieces; k++) EmitMain(new Instr(s.Op, x, K: k, Ints: ints));
        }

        /// <summary>An element of a visible leaf, for an exact tie with a bound (<see cref="GraphOptions.ExactTies"/>, one step in three), or −1.</summary>
        private (int Leaf, double Value) TieWithLeaf(StepSpec s)
        {
            if (!Options.ExactTies || s.K % 3 != 0) return (-1, 0);
            int x = PickNode(s.A, IsLeaf);
            return x < 0 ? (-1, 0) : (x, V(x)[s.B % S(x).Length]);
        }

        /// <summary>max/min with a constant clear of every element, or equal to one element of a leaf.</summary>
        public void BoundConstant(StepSpec s)
        {
            var (leaf, value) = TieWithLeaf(s);
            if (leaf >= 0)
            {
                EmitMain(new Instr(s.Op, leaf, C: value));
                return;
            }
            int x = Any(s.A);
            EmitMain(new Instr(s.Op, x, C: OffValues(V(x), s.C, s.K)));
        }

        /// <summary>clamp(x, lo, hi) with both bounds clear of every element, or hi equal to one element of a leaf.</summary>
        public void Clamp(StepSpec s)
        {
            var (leaf, value) = TieWithLeaf(s);
            if (leaf >= 0)
            {
                EmitMain(new Instr(s.Op, leaf, C: value - 1, D: value));
                return;
            }
            int x = Any(s.A);
            double[] v = V(x);
            double lo = s.C - 0.5, width = 0.5 + (s.K % 4) * 0.5;
            double d = Shifts(s.K).First(d => Clear(v, lo + d) && Clear(v, lo + width + d));
            EmitMain(new Instr(s.Op, x, C: lo + d, D: lo + width + d));
        }

        /// <summary>
        /// BCE on probabilities or logits of a scalar or vector, with hard or soft labels. Probabilities: σ(x) (or x
        /// itself when it already is one safely inside (0, 1)); with <see cref="GraphOptions.ExtremeInputs"/> also
        /// σ(x ± 10³) and clamp(x, 0, 1), exactly 0 or 1. Where p is saturated (p(1 − p) &lt; 10⁻⁶) the label agrees
        /// with it: BCE's gradient (p − y)/max(p(1 − p), ε) would otherwise multiply the rounding noise reaching this
        /// node by up to 10¹² (disagreeing labels at the extremes have their own tests).
        /// </summary>
        public void BinaryCrossEntropy(StepSpec s)
        {
            int x = Any(s.A);
            if (IsMatrix(S(x))) x = Emit(new Instr(GraphOp.Flatten, x));
            if (s.Op == GraphOp.BinaryCrossEntropy)
            {
                int variant = Options.ExtremeInputs ? (s.K / 3) % 3 : 0;
                if (variant == 1)
                {
                    x = Emit(new Instr(GraphOp.Sigmoid, Extreme(x, 1e3, s.B)));
                }
                else if (variant == 2)
                {
                    double[] v = V(x);
                    double d = Shifts(s.K).First(d => Clear(v, -d) && Clear(v, 1 - d));
                    if (d != 0) x = Emit(new Instr(GraphOp.AddConstant, x, C: d));
                    x = Emit(new Instr(GraphOp.Clamp, x, C: 0, D: 1));
                }
                else
                {
                    bool probability = _pool[x].Op is OpKind.Sigmoid or OpKind.Softmax && V(x).All(p => p is > 1e-3 and < 1 - 1e-3);
                    if (!probability) x = Emit(new Instr(GraphOp.Sigmoid, x));
                }
            }
            else
            {
                x = Logits(x, s);
            }
            Shape sx = S(x);
            bool hard = s.K % 2 == 0;
            double[] labels = hard ? [.. Uniform(sx.Length, 0, 1).Select(v => Math.Round(v))] : Uniform(sx.Length, 0, 1);
            if (s.Op == GraphOp.BinaryCrossEntropy)
            {
                double[] p = V(x);
                for (int k = 0; k < labels.Length; k++)
                {
                    if (p[k] * (1 - p[k]) < 1e-6) labels[k] = Math.Round(p[k]);
                }
            }
            if (sx.Kind == ShapeKind.Scalar) EmitMain(new Instr(s.Op, x, C: labels[0]));
            else EmitMain(new Instr(s.Op, x, Const(sx, labels)));
        }

        /// <summary>
        /// A fused model loss on X (any matrix), w or W (a visible node of fitting shape, else a row or the transpose
        /// of X), b (any scalar or fitting vector, else a row of W; with <see cref="GraphOptions.ExtremeInputs"/> in one
        /// step of three b ± 10³ for the logistic loss, ± 10⁴ for softmax, so the logits are extreme) and targets: any
        /// fitting vector (else a column of X) for the linear loss, constant hard or soft labels for the logistic loss,
        /// random classes for softmax. Ints = [X, w, b, y] (pool indices), or [X, W, b, labels…].
        /// </summary>
        public void ModelLoss(StepSpec s)
        {
            int x = EnsureMatrix(s.A);
            Shape sx = S(x);
            if (s.Op == GraphOp.SoftmaxRegression)
            {
                int w = Pick(s.B, t => IsMatrix(t) && t.Rows == sx.Cols);
                if (w < 0) w = Emit(new Instr(GraphOp.Transpose, x));
                int classes = S(w).Cols;
                int b = Pick(s.A + 5, t => IsVector(t) && t.Length == classes);
                if (b < 0) b = Emit(new Instr(GraphOp.Row, w, K: s.K % S(w).Rows));
                b = SoftmaxLogits(b, s);
                int[] labels = [.. Enumerable.Range(0, sx.Rows).Select(_ => Rng.Next(classes))];
                EmitMain(new Instr(s.Op, Ints: [x, w, b, .. labels]));
                return;
            }
            int v = Pick(s.B, t => IsVector(t) && t.Length == sx.Cols);
            if (v < 0) v = Emit(new Instr(GraphOp.Row, x, K: s.K % sx.Rows));
            int bias = EnsureScalar(s.A + 3);
            int y;
            if (s.Op == GraphOp.LogisticRegression)
            {
                bias = Logits(bias, s);
                bool hard = s.K % 2 == 0;
                double[] labels = hard ? [.. Uniform(sx.Rows, 0, 1).Select(v => Math.Round(v))] : Uniform(sx.Rows, 0, 1);
                y = Const(Shape.Vector(sx.Rows), labels);
            }
            else
            {
                y = Pick(s.B + 7, t => IsVector(t) && t.Length == sx.Rows);
                if (y < 0) y = Emit(new Instr(GraphOp.Column, x, K: s.K % sx.Cols));
            }
            EmitMain(new Instr(s.Op, Ints: [x, v, bias, y]));
        }

        public GraphProgram Build()
        {
            int n = 0;
            foreach (var leaf in _spec.Leaves)
            {
                if (leaf.IsParameter) Emit(new Instr(GraphOp.Parameter, K: n++));
                else Const(leaf.Shape, leaf.Values);
            }
            // Now and then a parameter used twice: two leaves, one gradient (accumulated).
            if (_spec.Seed % 2 == 1 && _parameters.Length > 0) Emit(new Instr(GraphOp.Parameter, K: 0));

            foreach (var step in _spec.Steps)
            {
                _noGrad = Options.NoGradEvery > 0 && (step.K >> 12) % Options.NoGradEvery == Options.NoGradEvery - 1;
                if (!Rules.TryGetValue(step.Op, out Rule? rule))
                {
                    throw new InvalidOperationException($"RandomGraph: no rule for GraphOp.{step.Op}; add its entry to RandomGraph.Rules.");
                }
                rule.Generate(this, step);
                _noGrad = false;
            }

            // The loss: Σ over every (visible) node that depends on a parameter of wₖ·⟨node, random weights⟩.
            int[] terms = [.. _visible.Where(k => _pool[k].RequiresGrad)];
            double scale = 1.0 / terms.Length;
            int? loss = null;
            foreach (int k in terms)
            {
                Shape s = S(k);
                int term = s.Kind switch
                {
                    ShapeKind.Scalar => Emit(new Instr(GraphOp.MultiplyConstant, k, C: scale * (0.5 + Rng.NextDouble()))),
                    ShapeKind.Vector => Emit(new Instr(GraphOp.Dot, k, Const(s, Uniform(s.Length, -scale, scale)))),
                    _ => Emit(new Instr(GraphOp.Sum, Emit(new Instr(GraphOp.Multiply, k, Const(s, Uniform(s.Length, -scale, scale)))))),
                };
                loss = loss is { } acc ? Emit(new Instr(GraphOp.Add, acc, term)) : term;
            }
            return new GraphProgram(_spec, _parameters, [.. _code]);
        }
    }
}

/// <summary>
/// One resolved instruction: an op, its operands (indices into the pool of nodes built so far), every constant it
/// needs, fixed, whether it records under NoGrad, and the value it is frozen to when replayed without gradient.
/// </summary>
public sealed record Instr(
    GraphOp Op, int A = -1, int B = -1, double C = 0, double D = 0, int K = 0,
    int[]? Ints = null, double[]? Data = null, Shape Shape = default, bool NoGrad = false, double[]? Frozen = null)
{
    /// <inheritdoc/>
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
        if (NoGrad) sb.Append(" (no grad)");
        return sb.ToString();
    }
}

/// <summary>A random program, resolved: replays the same graph, with the same constants, on any tape.</summary>
public sealed class GraphProgram
{
    private readonly Instr[] _code;

    internal GraphProgram(GraphSpec spec, Parameter[] parameters, Instr[] code)
    {
        Spec = spec;
        Parameters = parameters;
        _code = code;
    }

    /// <summary>The spec the program was built from.</summary>
    public GraphSpec Spec { get; }

    /// <summary>The parameters (the program's gradients land in them).</summary>
    public Parameter[] Parameters { get; }

    /// <summary>How many nodes a replay records.</summary>
    public int InstructionCount => _code.Length;

    /// <summary>Records the program on <paramref name="tape"/> and returns the loss (detached and NoGrad nodes frozen when recording without gradient).</summary>
    public Scalar Run(Tape tape) => Run(tape, frozen: tape.IsNoGrad);

    /// <summary>
    /// Records the program with the detached and NoGrad nodes replaced by constants holding their values at the initial
    /// parameters when <paramref name="frozen"/>, also with gradient: the function whose gradient's central differences
    /// a second derivative is checked against (a detached value is a constant to every order of differentiation).
    /// </summary>
    public Scalar Run(Tape tape, bool frozen)
    {
        var pool = new List<Node>(_code.Length);
        foreach (var instr in _code) pool.Add(RandomGraph.Exec(tape, instr, pool, Parameters, frozen));
        return pool[^1].AsScalar();
    }

    /// <inheritdoc/>
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

    internal static Node Constant(Tape t, Shape shape, double[] data) => shape.Kind switch
    {
        ShapeKind.Scalar => t.Constant(data[0]),
        ShapeKind.Vector => t.Constant(data),
        _ => t.Constant(data, shape.Rows, shape.Cols),
    };

    /// <summary>a ∘ b (∘ one of + − × ÷, a^b, max, min) through the typed operators, for each of the nine kind combinations (broadcasting).</summary>
    public static Node Arithmetic(GraphOp op, Node a, Node b)
    {
        const ShapeKind S = ShapeKind.Scalar, V = ShapeKind.Vector, M = ShapeKind.Matrix;
        return (a.Shape.Kind, b.Shape.Kind) switch
        {
            (S, S) => Apply(op, a.AsScalar(), b.AsScalar(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (S, V) => Apply(op, a.AsScalar(), b.AsVector(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (S, M) => Apply(op, a.AsScalar(), b.AsMatrix(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (V, S) => Apply(op, a.AsVector(), b.AsScalar(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (V, V) => Apply(op, a.AsVector(), b.AsVector(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (V, M) => Apply(op, a.AsVector(), b.AsMatrix(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (M, S) => Apply(op, a.AsMatrix(), b.AsScalar(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (M, V) => Apply(op, a.AsMatrix(), b.AsVector(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            (M, M) => Apply(op, a.AsMatrix(), b.AsMatrix(),
                (x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y, (x, y) => Ops.Pow(x, y), (x, y) => Ops.Max(x, y), (x, y) => Ops.Min(x, y)),
            _ => throw new InvalidOperationException("unreachable"),
        };
    }

    private static Node Apply<TA, TB>(
        GraphOp op, TA a, TB b, Func<TA, TB, Node> add, Func<TA, TB, Node> subtract, Func<TA, TB, Node> multiply, Func<TA, TB, Node> divide,
        Func<TA, TB, Node> power, Func<TA, TB, Node> maximum, Func<TA, TB, Node> minimum) => op switch
    {
        GraphOp.Add => add(a, b),
        GraphOp.Subtract => subtract(a, b),
        GraphOp.Multiply => multiply(a, b),
        GraphOp.Divide => divide(a, b),
        GraphOp.Power => power(a, b),
        GraphOp.Maximum => maximum(a, b),
        GraphOp.Minimum => minimum(a, b),
        _ => throw new InvalidOperationException($"GraphProgram.Arithmetic: {op} is not a binary broadcasting op."),
    };
}
