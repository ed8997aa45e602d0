using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.HigherOrder;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.ForwardMode;

/// <summary>
/// The forward half of the functional API (<see cref="Functional.Jvp(Func{Tape, Vector, Vector}, double[], double[])"/>,
/// <see cref="Functional.JacobianForward(Func{Tape, Vector, Vector}, double[])"/> and their parameter forms): hand-derived
/// Jacobians, agreement with the reverse Jacobian, and forward-over-reverse Hessian-vector products (a tangent sweep
/// over a create-graph gradient) against reverse-over-reverse.
/// </summary>
/// <remarks>
/// Tolerances: forward and reverse compute the same derivatives by independent rules, exact in exact arithmetic, so
/// they differ by rounding only: 10⁻¹¹ relative (10⁻¹³ absolute for entries that are 0 up to rounding), two orders
/// above the largest difference measured (see <see cref="ForwardModeProperties"/> for the same argument). Hand-derived
/// values are checked at 10⁻¹⁴.
/// </remarks>
public class FunctionalForwardTests
{
    private static readonly RandomGraph Graphs = new(GraphOptions.FiniteDifferences);

    [Fact]
    public void Jvp_VectorFunction_IsTheHandJacobianTimesV()
    {
        // f(x) = (x₀x₁, sin x₀, x₀e^x₁), J = [[x₁, x₀], [cos x₀, 0], [e^x₁, x₀e^x₁]].
        double[] x = [0.7, -1.3], v = [2.0, 0.5];
        var (value, tangent) = Functional.Jvp((tape, z) => Ops.Stack(z[0] * z[1], Ops.Sin(z[0]), z[0] * Ops.Exp(z[1])), x, v);
        Approx.Equal([x[0] * x[1], Math.Sin(x[0]), x[0] * Math.Exp(x[1])], value, 1e-15);
        double[] expected =
        [
            x[1] * v[0] + x[0] * v[1],
            Math.Cos(x[0]) * v[0],
            Math.Exp(x[1]) * v[0] + x[0] * Math.Exp(x[1]) * v[1],
        ];
        Approx.Equal(expected, tangent, 1e-14);
    }

    [Fact]
    public void Jvp_ScalarFunctionOfAVector_IsTheGradientDotV()
    {
        // f(x) = Σ xₖ² + x₀x₂, ∇f = (2x₀ + x₂, 2x₁, 2x₂ + x₀), ∇f·v.
        double[] x = [1.0, -2.0, 0.5], v = [0.3, 0.1, -1.0];
        var (value, tangent) = Functional.Jvp((tape, z) => Ops.Sum(Ops.Square(z)) + z[0] * z[2], x, v);
        Assert.Equal(1 + 4 + 0.25 + 0.5, value);
        Approx.Equal((2 * 1.0 + 0.5) * 0.3 + 2 * -2.0 * 0.1 + (2 * 0.5 + 1.0) * -1.0, tangent, 1e-15);
    }

    [Fact]
    public void Jvp_ScalarFunction_IsTheDualNumberDerivative()
    {
        // d/dx sin x = cos x; d/dx x⁵ = 5x⁴ (times v = 2).
        var (value, tangent) = Functional.Jvp((tape, x) => Ops.Sin(x), 0.5);
        Assert.Equal(Math.Sin(0.5), value);
        Assert.Equal(Math.Cos(0.5), tangent);
        Approx.Equal(2 * 5 * Math.Pow(1.5, 4), Functional.Jvp((tape, x) => Ops.Pow(x, 5), 1.5, 2).Tangent, 1e-15);
    }

    [Fact]
    public void JacobianForward_VectorFunction_EqualsHandJacobianAndReverse()
    {
        // f(x) = softmax(x) ⊙ x: a full Jacobian; forward fills it by columns, reverse by rows.
        double[] x = [0.2, -0.4, 1.1];
        Func<Tape, Vector, Vector> f = (tape, z) => Ops.Softmax(z) * z;
        double[,] forward = Functional.JacobianForward(f, x);
        double[,] reverse = Functional.Jacobian(f, x);
        Approx.Equal(reverse, forward, 1e-14, 1e-16, "J");
        // ∂(sᵢxᵢ)/∂xⱼ = sᵢ(δᵢⱼ − sⱼ)xᵢ + sᵢδᵢⱼ
        double[] s = Reference.Softmax(x);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Approx.Equal(s[i] * ((i == j ? 1 : 0) - s[j]) * x[i] + (i == j ? s[i] : 0), forward[i, j], 1e-14, 1e-16, $"J[{i},{j}]");
            }
        }
    }

    [Fact]
    public void JvpOverParameters_LinearModel_LeavesValuesAndGradUnchanged()
    {
        // ŷ = Xw + b: ŷ̇ = Xẇ + ḃ; w's Grad (set beforehand) and value are left as they were.
        var w = new VectorParameter("w", 0.5, -1.0);
        var b = new ScalarParameter("b", 0.25);
        w.Grad[0] = 7;
        double[] data = [1, 2, 3, 4];
        var (value, tangent) = Functional.Jvp(tape => Ops.MatVec(tape.Constant(data, 2, 2), tape.Use(w)) + tape.Use(b), [w, b], [[1.0, 1.0], [-1.0]]);
        Assert.Equal([-1.25, -2.25], value);
        Assert.Equal([2.0, 6.0], tangent);
        Assert.Equal([7.0, 0.0], w.Grad);
        Assert.Equal([0.5, -1.0], w.Value);
        double[,] j = Functional.JacobianForward(tape => Ops.MatVec(tape.Constant(data, 2, 2), tape.Use(w)) + tape.Use(b), [w, b]);
        Approx.Equal(new double[,] { { 1, 2, 1 }, { 3, 4, 1 } }, j, 0, 0, "J");
    }

    [Fact]
    public void Jvp_DirectionOfTheWrongLength_ThrowsNamingBothLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.Jvp((tape, z) => Ops.Exp(z), [1.0, 2.0], [1.0]));
        Assert.StartsWith("Jvp: the direction has 1 elements but the point has 2", e.Message);
    }

    [Fact]
    public void ForwardOverReverse_LogisticRegression_EqualsTheHessianTimesV()
    {
        // H v two ways: a tangent sweep over the create-graph gradient ∇J (forward-over-reverse, one sweep) and the
        // Hessian XᵀSX/m from reverse-over-reverse, times v.
        double[] data = [0.5, 1.2, -0.3, 2.0, 1.5, -0.7, -1.1, 0.4];
        double[] labels = [1, 0, 1, 0];
        var w = new VectorParameter("w", 0.3, -0.2);
        Func<Tape, Scalar> loss = tape => Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(tape.Constant(data, 4, 2), tape.Use(w)), labels);
        double[] v = [0.6, -1.4];
        double[,] h = Functional.Hessian(loss, [w]);
        double[] expected = [h[0, 0] * v[0] + h[0, 1] * v[1], h[1, 0] * v[0] + h[1, 1] * v[1]];
        Approx.Equal(expected, ForwardOverReverse(loss, [w], [v]), 1e-13, 1e-16, "H v");
    }

    [Property(MaxTest = 100)]
    public Property RandomGraph_ForwardOverReverse_EqualsReverseOverReverse() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            // Forward mode through every node the create-graph backward records (its masks, pads and transposes
            // included) against Functional.HessianVectorProduct's reverse-over-reverse.
            GraphProgram program = Graphs.Build(spec);
            Parameter[] ps = program.Parameters;
            var rng = new Random(spec.Seed);
            double[][] v = [.. ps.Select(p => p.Value.Select(_ => rng.NextDouble() * 2 - 1).ToArray())];
            double[] reverse = [.. Functional.HessianVectorProduct(tape => program.Run(tape, frozen: false), ps, v).SelectMany(a => a)];
            double[] forward = ForwardOverReverse(tape => program.Run(tape, frozen: false), ps, v);
            Approx.Equal(reverse, forward, 1e-10, 1e-12, $"H v\n{program}");
        });

    /// <summary>H v = d/dt ∇f(p + t v) at 0: the create-graph gradient's nodes, then one tangent sweep along v.</summary>
    private static double[] ForwardOverReverse(Func<Tape, Scalar> f, Parameter[] ps, double[][] v)
    {
        var tape = new Tape();
        Scalar loss = f(tape);
        Node[][] leaves = [.. ps.Select(p => SecondOrder.Leaves(tape, p))];
        Node[] grads = loss.Handle.RequiresGrad ? tape.Grad(loss, [.. leaves.SelectMany(l => l)], createGraph: true) : [];
        var result = new List<double>();
        int at = 0;
        for (int k = 0; k < ps.Length; k++)
        {
            var hv = new double[ps[k].Value.Length];
            foreach (var _ in leaves[k])
            {
                Node g = grads[at++];
                var part = new double[hv.Length];
                tape.Jvp(g, ps, v, part);
                for (int e = 0; e < hv.Length; e++) hv[e] += part[e];
            }
            result.AddRange(hv);
        }
        return [.. result];
    }

    [Property(MaxTest = 60)]
    public Property RandomGraph_JacobianForward_EqualsReverseJacobianRowByRow() =>
        Prop.ForAll(Graphs.Arbitrary, spec =>
        {
            // A vector function of all parameters: every node a gradient flows through, flattened and joined, so J has
            // a row per element of every intermediate node. Forward fills J a column per parameter element; reverse a
            // row per output element (backward seeded with eᵢ).
            GraphProgram program = Graphs.Build(spec);
            Parameter[] ps = program.Parameters;
            double[,] forward = Functional.JacobianForward(tape => AllNodes(program, tape), ps);

            var t = new Tape();
            Vector all = AllNodes(program, t);
            int m = all.Length, n = ps.Sum(p => p.Value.Length);
            Assert.Equal(m, forward.GetLength(0));
            Assert.Equal(n, forward.GetLength(1));
            var seed = new double[m];
            var reverse = new double[m, n];
            for (int i = 0; i < m; i++)
            {
                foreach (var p in ps) p.ZeroGrad();
                seed[i] = 1;
                all.Backward(seed, retainGraph: true);
                seed[i] = 0;
                int j = 0;
                foreach (var p in ps) foreach (double g in p.Grad) reverse[i, j++] = g;
            }
            foreach (var p in ps) p.ZeroGrad();
            Approx.Equal(reverse, forward, 1e-11, 1e-13, $"Jacobian\n{program}");
        });


    /// <summary>Every node of the program a gradient flows through, flattened and concatenated into one vector.</summary>
    private static Vector AllNodes(GraphProgram program, Tape tape)
    {
        program.Run(tape);
        var parts = new List<Vector>();
        int count = tape.NodeCount;
        for (int k = 0; k < count; k++)
        {
            NodeInfo info = tape.Describe(k);
            if (!info.RequiresGrad) continue;
            var node = new Node(tape, k);
            parts.Add(info.Shape.Kind switch
            {
                ShapeKind.Scalar => Ops.Stack(node.AsScalar()),
                ShapeKind.Vector => node.AsVector(),
                _ => Ops.Flatten(node.AsMatrix()),
            });
        }
        return Ops.Concat([.. parts]);
    }
}
