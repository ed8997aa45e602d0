using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

// Per-op focused tests, one class per op family. Each op's value is compared with a reference written from its
// formula and its gradient (for a random seed ∂L/∂output) with the derivative stated in the op's documentation,
// computed independently here; random inputs come from FsCheck. Values of single IEEE operations are compared at
// 10⁻¹⁵ relative, values of library functions (e^x, ln x, tanh x, whose vectorised kernels may differ from
// Math.* by an ulp) at 10⁻¹⁴, and gradients, which add a few more roundings, at 10⁻¹². The custom-op family is
// in CustomOpTests.

/// <summary>Unary elementwise ops: value, derivative, the scalar/vector/matrix overloads, and the kinks' conventions.</summary>
public class ElementwiseOpTests
{
    /// <summary>An op under test: its three overloads, f, f′, the domain tested and the kinks to stay away from.</summary>
    internal sealed record UnaryCase(
        string Name, Func<Scalar, Scalar> S, Func<Vector, Vector> V, Func<Matrix, Matrix> M,
        Func<double, double> F, Func<double, double> D, double Lo, double Hi, params double[] Kinks);

    private static double Sigma(double x) => Reference.Sigmoid(x);

    /// <summary>Φ(x) = ½ erfc(−x/√2) from the core's erfc, which ErrorFunctionTests checks against mpmath.</summary>
    private static double Phi(double x) => 0.5 * ErrorFunction.Erfc(-x / Math.Sqrt(2));

    /// <summary>e^x − 1 = tanh(x/2)·(e^x + 1): no cancellation near 0, and independent of the core's expm1.</summary>
    private static double ExpM1(double x) => Math.Tanh(x / 2) * (Math.Exp(x) + 1);

    private static readonly double[] Integers = [-3, -2, -1, 0, 1, 2, 3];
    private static readonly double[] HalfIntegers = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5];

    internal static readonly UnaryCase[] Cases =
    [
        new("Negate", x => -x, x => -x, x => -x, x => -x, _ => -1, -3, 3),
        new("AddConstant", x => x + 0.75, x => x + 0.75, x => x + 0.75, x => x + 0.75, _ => 1, -3, 3),
        new("SubtractConstant", x => x - 0.75, x => x - 0.75, x => x - 0.75, x => x - 0.75, _ => 1, -3, 3),
        new("ConstantMinus", x => 0.75 - x, x => 0.75 - x, x => 0.75 - x, x => 0.75 - x, _ => -1, -3, 3),
        new("MultiplyConstant", x => -1.5 * x, x => -1.5 * x, x => -1.5 * x, x => -1.5 * x, _ => -1.5, -3, 3),
        new("DivideByConstant", x => x / 4.0, x => x / 4.0, x => x / 4.0, x => x / 4.0, _ => 0.25, -3, 3),
        new("ConstantOver", x => 2.0 / x, x => 2.0 / x, x => 2.0 / x, x => 2 / x, x => -2 / (x * x), 0.3, 3),
        new("Pow(x, 2.5)", x => Ops.Pow(x, 2.5), x => Ops.Pow(x, 2.5), x => Ops.Pow(x, 2.5), x => Math.Pow(x, 2.5), x => 2.5 * Math.Pow(x, 1.5), 0.05, 3),
        new("Pow(x, -1)", x => Ops.Pow(x, -1.0), x => Ops.Pow(x, -1.0), x => Ops.Pow(x, -1.0), x => 1 / x, x => -1 / (x * x), 0.3, 3),
        new("Pow(x, 3)", x => Ops.Pow(x, 3.0), x => Ops.Pow(x, 3.0), x => Ops.Pow(x, 3.0), x => x * x * x, x => 3 * x * x, -2, 2),
        new("Pow(x, 0)", x => Ops.Pow(x, 0.0), x => Ops.Pow(x, 0.0), x => Ops.Pow(x, 0.0), _ => 1, _ => 0, -2, 2),
        new("Exp", Ops.Exp, Ops.Exp, Ops.Exp, Math.Exp, Math.Exp, -5, 5),
        new("Log", Ops.Log, Ops.Log, Ops.Log, Math.Log, x => 1 / x, 0.05, 5),
        new("Sqrt", Ops.Sqrt, Ops.Sqrt, Ops.Sqrt, Math.Sqrt, x => 0.5 / Math.Sqrt(x), 0.05, 5),
        new("Abs", Ops.Abs, Ops.Abs, Ops.Abs, Math.Abs, x => Math.Sign(x), -3, 3, 0),
        new("Square", Ops.Square, Ops.Square, Ops.Square, x => x * x, x => 2 * x, -3, 3),
        new("Tanh", Ops.Tanh, Ops.Tanh, Ops.Tanh, Math.Tanh, x => 1 - Math.Tanh(x) * Math.Tanh(x), -4, 4),
        new("Sigmoid", Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid, Sigma, x => Sigma(x) * (1 - Sigma(x)), -8, 8),
        new("Relu", Ops.Relu, Ops.Relu, Ops.Relu, x => Math.Max(x, 0), x => x > 0 ? 1 : 0, -3, 3, 0),
        new("Softplus", Ops.Softplus, Ops.Softplus, Ops.Softplus, Reference.Softplus, Sigma, -8, 8),
        new("LogSigmoid", Ops.LogSigmoid, Ops.LogSigmoid, Ops.LogSigmoid, x => -Reference.Softplus(-x), x => Sigma(-x), -8, 8),
        new("Max(x, 0.3)", x => Ops.Max(x, 0.3), x => Ops.Max(x, 0.3), x => Ops.Max(x, 0.3), x => Math.Max(x, 0.3), x => x > 0.3 ? 1 : 0, -3, 3, 0.3),
        new("Min(x, -0.2)", x => Ops.Min(x, -0.2), x => Ops.Min(x, -0.2), x => Ops.Min(x, -0.2), x => Math.Min(x, -0.2), x => x < -0.2 ? 1 : 0, -3, 3, -0.2),
        new("Sin", Ops.Sin, Ops.Sin, Ops.Sin, Math.Sin, Math.Cos, -4, 4),
        new("Cos", Ops.Cos, Ops.Cos, Ops.Cos, Math.Cos, x => -Math.Sin(x), -4, 4),
        new("Tan", Ops.Tan, Ops.Tan, Ops.Tan, Math.Tan, x => 1 / (Math.Cos(x) * Math.Cos(x)), -1.4, 1.4),
        new("Sinh", Ops.Sinh, Ops.Sinh, Ops.Sinh, Math.Sinh, Math.Cosh, -4, 4),
        new("Cosh", Ops.Cosh, Ops.Cosh, Ops.Cosh, Math.Cosh, Math.Sinh, -4, 4),
        new("Asin", Ops.Asin, Ops.Asin, Ops.Asin, Math.Asin, x => 1 / Math.Sqrt(1 - x * x), -0.95, 0.95),
        new("Acos", Ops.Acos, Ops.Acos, Ops.Acos, Math.Acos, x => -1 / Math.Sqrt(1 - x * x), -0.95, 0.95),
        new("Atan", Ops.Atan, Ops.Atan, Ops.Atan, Math.Atan, x => 1 / (1 + x * x), -5, 5),
        new("Log10", Ops.Log10, Ops.Log10, Ops.Log10, Math.Log10, x => 1 / (x * Math.Log(10)), 0.05, 5),
        new("Log2", Ops.Log2, Ops.Log2, Ops.Log2, Math.Log2, x => 1 / (x * Math.Log(2)), 0.05, 5),
        // Piecewise constant: the derivative is 0 (central differences agree away from the jumps).
        new("Sign", Ops.Sign, Ops.Sign, Ops.Sign, x => Math.Sign(x), _ => 0, -3, 3, 0),
        new("Floor", Ops.Floor, Ops.Floor, Ops.Floor, Math.Floor, _ => 0, -3, 3, Integers),
        new("Ceiling", Ops.Ceiling, Ops.Ceiling, Ops.Ceiling, Math.Ceiling, _ => 0, -3, 3, Integers),
        new("Round", Ops.Round, Ops.Round, Ops.Round, x => Math.Round(x, MidpointRounding.ToEven), _ => 0, -3, 3, HalfIntegers),
        new("LeakyRelu", x => Ops.LeakyRelu(x), x => Ops.LeakyRelu(x), x => Ops.LeakyRelu(x), x => x > 0 ? x : 0.01 * x, x => x > 0 ? 1 : 0.01, -3, 3, 0),
        new("LeakyRelu(x, 0.2)", x => Ops.LeakyRelu(x, 0.2), x => Ops.LeakyRelu(x, 0.2), x => Ops.LeakyRelu(x, 0.2), x => x > 0 ? x : 0.2 * x, x => x > 0 ? 1 : 0.2, -3, 3, 0),
        new("Elu", x => Ops.Elu(x), x => Ops.Elu(x), x => Ops.Elu(x), x => x > 0 ? x : ExpM1(x), x => x > 0 ? 1 : Math.Exp(x), -3, 3, 0),
        new("Elu(x, 1.5)", x => Ops.Elu(x, 1.5), x => Ops.Elu(x, 1.5), x => Ops.Elu(x, 1.5), x => x > 0 ? x : 1.5 * ExpM1(x), x => x > 0 ? 1 : 1.5 * Math.Exp(x), -3, 3, 0),
        // gelu x = x·Φ(x), gelu′ x = Φ(x) + x·φ(x).
        new("Gelu", Ops.Gelu, Ops.Gelu, Ops.Gelu, x => x * Phi(x), x => Phi(x) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI), -6, 6),
        // silu x = x·σ(x), silu′ x = σ(x) + x·σ(x)(1 − σ(x)).
        new("Silu", Ops.Silu, Ops.Silu, Ops.Silu, x => x * Sigma(x), x => Sigma(x) + x * Sigma(x) * (1 - Sigma(x)), -8, 8),
        new("Clamp(x, -0.5, 0.8)", x => Ops.Clamp(x, -0.5, 0.8), x => Ops.Clamp(x, -0.5, 0.8), x => Ops.Clamp(x, -0.5, 0.8),
            x => Math.Clamp(x, -0.5, 0.8), x => x is > -0.5 and < 0.8 ? 1 : 0, -3, 3, -0.5, 0.8),
    ];

    public static TheoryData<string> Names => [.. Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void UnaryOp_RandomInputs_ValueAndGradientMatchStatedDerivative(string name)
    {
        UnaryCase c = Cases.Single(k => k.Name == name);
        Gen<double> element = Gens.DoubleAwayFrom(c.Lo, c.Hi, 1e-3, c.Kinks);
        var gen = from n in Gen.Choose(1, 6)
                  from x in element.ArrayOf(n)
                  from g in Gens.Array(n, -2, 2)
                  select (X: x, G: g);
        Gens.Check(Prop.ForAll(gen.ToArbitrary(), d =>
        {
            int n = d.X.Length;
            // Vector overload, backward with seed g: ∂L/∂xₖ = gₖ·f′(xₖ).
            var p = new VectorParameter("x", d.X);
            var t = new Tape();
            Vector y = c.V(t.Use(p));
            Approx.Equal([.. d.X.Select(c.F)], y.Value, 1e-14, 1e-300, $"{name} value");
            y.Backward(d.G);
            // Absolute slack of a few ulps: f′ computed from a rounded f (1 − tanh², σ(1 − σ)) loses relative
            // digits where f′ is small, and the vector kernels round f differently from Math.* by an ulp.
            Approx.Equal([.. d.X.Select((x, k) => d.G[k] * c.D(x))], p.Grad, 1e-12, 2e-15, $"{name} gradient");

            // Scalar overload (a separate kernel): same value and derivative per element.
            for (int k = 0; k < n; k++)
            {
                var s = new ScalarParameter("s", d.X[k]);
                var ts = new Tape();
                Scalar ys = c.S(ts.Use(s));
                Approx.Equal(y.Value[k], ys.Value, 1e-14, 1e-300, $"{name} scalar value");
                ts.Backward(ys, [d.G[k]]);
                Approx.Equal(p.Grad[k], s.Grad, 1e-13, 2e-15, $"{name} scalar gradient");
            }

            // Matrix overload on the same numbers as a 1×n matrix.
            var m = new MatrixParameter("m", Gens.ToMatrix(d.X, 1, n));
            var tm = new Tape();
            Matrix ym = c.M(tm.Use(m));
            ym.Backward(d.G);
            Approx.Equal(y.Value, ym.Value, 1e-15, 1e-300, $"{name} matrix value");
            Approx.Equal(p.Grad, m.Grad, 1e-15, 1e-300, $"{name} matrix gradient");

            // And central differences agree.
            var q = new VectorParameter("x", d.X);
            GradientCheckReport report = GradientCheck.Run(tc => Ops.Dot(c.V(tc.Use(q)), tc.Constant(d.G)), [q]);
            Assert.True(report.Passed, report.ToString());
        }), maxTest: 60);
    }

    [Fact]
    public void Kinks_AtTheKink_UseTheDocumentedSubgradient()
    {
        // |x|′(0) = 0, relu′(0) = 0, max(x, c)′ = 1 at x = c, min(x, c)′ = 1 at x = c, clamp passes the gradient at
        // both bounds (as PyTorch), x^0 has derivative 0 even at x = 0 (not 0·0^−1 = NaN).
        (Func<Scalar, Scalar> F, double X, double Grad)[] cases =
        [
            (Ops.Abs, 0, 0), (Ops.Relu, 0, 0), (x => Ops.Max(x, 0.5), 0.5, 1), (x => Ops.Min(x, 0.5), 0.5, 1),
            (x => Ops.Clamp(x, -1, 1), -1, 1), (x => Ops.Clamp(x, -1, 1), 1, 1), (x => Ops.Clamp(x, -1, 1), 1.5, 0),
            (x => Ops.Pow(x, 0.0), 0, 0), (x => Ops.Pow(x, 2.0), 0, 0), (Ops.Sqrt, 1e-300, 0.5e150),
            // PyTorch's conventions: sign, floor, ceil and round have derivative 0 at their jumps as everywhere;
            // leaky relu takes the negative slope at 0 (x > 0 ? 1 : c), elu takes α·e⁰ = α (x ≤ 0 ? α·e^x : 1);
            // gelu′(0) = Φ(0) = ½ and silu′(0) = σ(0) = ½ (smooth there).
            (Ops.Sign, 0, 0), (Ops.Floor, 1, 0), (Ops.Floor, 0, 0), (Ops.Ceiling, -2, 0), (Ops.Round, 0.5, 0), (Ops.Round, 1, 0),
            (x => Ops.LeakyRelu(x), 0, 0.01), (x => Ops.LeakyRelu(x, 0.2), 0, 0.2), (x => Ops.Elu(x), 0, 1), (x => Ops.Elu(x, 2), 0, 2),
            (Ops.Gelu, 0, 0.5), (Ops.Silu, 0, 0.5),
        ];
        foreach (var (f, x, grad) in cases)
        {
            var p = new ScalarParameter("x", x);
            var t = new Tape();
            f(t.Use(p)).Backward();
            Approx.Equal(grad, p.Grad, 1e-15, 0, $"at {x}");
        }
    }

    [Fact]
    public void Kinks_VectorPath_SameSubgradientsAsScalarPath()
    {
        var p = new VectorParameter("x", 0.0, 0.5, -1.0, 1.0, 2.0);
        var t = new Tape();
        Vector x = t.Use(p);
        Scalar loss = Ops.Sum(Ops.Abs(x)) + Ops.Sum(Ops.Relu(x)) + Ops.Sum(Ops.Max(x, 0.5)) + Ops.Sum(Ops.Clamp(x, -1, 1));
        loss.Backward();
        // abs′: [0, 1, −1, 1, 1]; relu′: [0, 1, 0, 1, 1]; max(x, .5)′: [0, 1, 0, 1, 1]; clamp′: [1, 1, 1, 1, 0].
        Assert.Equal([1.0, 4.0, 0.0, 4.0, 3.0], p.Grad);
    }

    [Fact]
    public void UnaryKinds_AllInsideTheRangeTheBackwardDispatchTests_EachWithAFormulaAndARule()
    {
        // Tape.Backward sends every kind in [Negate, MinConstant] to Elementwise (and one-element nodes to the scalar
        // fast path) with one comparison each: a unary kind outside the range would miss the fast path, and a kind
        // inside it without a case in Apply or Derivative would throw there. The statistics are not elementwise.
        OpKind[] unary = [.. Enum.GetValues<OpKind>().Where(k => k is >= OpKind.Negate and <= OpKind.MinConstant)];
        OpKind[] added =
        [
            OpKind.Sin, OpKind.Cos, OpKind.Tan, OpKind.Sinh, OpKind.Cosh, OpKind.Asin, OpKind.Acos, OpKind.Atan, OpKind.Log10,
            OpKind.Log2, OpKind.Sign, OpKind.Floor, OpKind.Ceiling, OpKind.Round, OpKind.LeakyRelu, OpKind.Elu, OpKind.Gelu, OpKind.Silu,
        ];
        Assert.Subset(unary.ToHashSet(), added.ToHashSet());
        Assert.DoesNotContain(OpKind.Variance, unary);
        Assert.DoesNotContain(OpKind.StandardDeviationAxis, unary);
        foreach (OpKind k in unary)
        {
            double y = Elementwise.Apply(k, 0.3, 0.5);
            Assert.True(double.IsFinite(Elementwise.Derivative(k, 0.3, y, 0.5)), $"{k}");
        }
    }

    [Fact]
    public void PiecewiseConstantAndReluLikes_VectorPath_SameConventionsAsScalarPath()
    {
        var p = new VectorParameter("x", 0.0, 0.5, -1.0, 1.0, 2.5);
        var t = new Tape();
        Vector x = t.Use(p);
        Scalar loss = Ops.Sum(Ops.Sign(x)) + Ops.Sum(Ops.Floor(x)) + Ops.Sum(Ops.Ceiling(x)) + Ops.Sum(Ops.Round(x))
            + Ops.Sum(Ops.LeakyRelu(x, 0.25)) + Ops.Sum(Ops.Elu(x, 2));
        loss.Backward();
        // sign′, ⌊·⌋′, ⌈·⌉′, round′: 0 everywhere (integers and half-integers included);
        // leaky′(c = ¼): [¼, 1, ¼, 1, 1]; elu′(α = 2): [2, 1, 2e⁻¹, 1, 1].
        Approx.Equal([0.25 + 2, 2.0, 0.25 + 2 * Math.Exp(-1), 2.0, 2.0], p.Grad, 1e-15, 0, "∂L/∂x");
    }

    [Fact]
    public void RoundAndSign_SpecialValues_FollowTorch()
    {
        // torch.round: halves to even, the sign of zero kept (round −0.5 = −0); torch.sign: sign NaN = 0,
        // sign(−0) = +0 (Math.Sign throws on NaN). Floor and ceiling keep −0 and NaN.
        var t = new Tape();
        Vector x = t.Constant([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, double.NaN, -0.0]);
        double[] round = Ops.Round(x).Value, sign = Ops.Sign(x).Value, floor = Ops.Floor(x).Value, ceiling = Ops.Ceiling(x).Value;
        Assert.Equal([-2.0, -2, -0.0, 0, 2, 2], round[..6]);
        Assert.True(double.IsNegative(round[2]) && double.IsPositive(round[3]));
        Assert.Equal([-1.0, -1, -1, 1, 1, 1, 0, 0], sign);
        Assert.True(double.IsPositive(sign[7]));
        Assert.Equal([-3.0, -2, -1, 0, 1, 2], floor[..6]);
        Assert.Equal([-2.0, -1, -0.0, 1, 2, 3], ceiling[..6]);
        Assert.True(double.IsNegative(ceiling[2]) && double.IsNegative(floor[7]) && double.IsNegative(ceiling[7]));
        Assert.True(double.IsNaN(round[6]) && double.IsNaN(floor[6]) && double.IsNaN(ceiling[6]));
        Assert.Equal(0.0, Ops.Sign(t.Constant(double.NaN)).Value);
    }

    [Fact]
    public void LeakyReluAndElu_NonFiniteConstant_ThrowNamingTheParameter()
    {
        var t = new Tape();
        Vector x = t.Constant([1.0, -1.0]);
        var slope = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.LeakyRelu(x, double.NaN));
        Assert.Contains("LeakyRelu", slope.Message, StringComparison.Ordinal);
        Assert.Equal("negativeSlope", slope.ParamName);
        var alpha = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Elu(x, double.PositiveInfinity));
        Assert.Equal("alpha", alpha.ParamName);
        Assert.Equal(1, t.NodeCount); // the constant: the failed calls recorded nothing
    }
}

/// <summary>a ∘ b for + − × ÷ in all nine kind combinations (the broadcasting rules), and a^b, max, min.</summary>
public class ArithmeticOpTests
{
    internal sealed record BinaryCase(GraphOp Op, ShapeKind KA, ShapeKind KB, int Rows, int Cols, double[] A, double[] B, double[] G)
    {
        public override string ToString() =>
            $"{Op} {KA}×{KB} [{Rows}×{Cols}] a=[{string.Join(", ", A)}] b=[{string.Join(", ", B)}] g=[{string.Join(", ", G)}]";
    }

    private static int Length(ShapeKind k, int rows, int cols) => k switch
    {
        ShapeKind.Scalar => 1,
        ShapeKind.Vector => cols,
        _ => rows * cols,
    };

    private static ShapeKind ResultKind(ShapeKind a, ShapeKind b) => (ShapeKind)Math.Max((int)a, (int)b);

    /// <summary>Which element of an operand of kind <paramref name="k"/> lines up with output element (i, j): a scalar is broadcast, a vector is a row.</summary>
    private static int Index(ShapeKind k, int i, int j, int cols) => k switch
    {
        ShapeKind.Scalar => 0,
        ShapeKind.Vector => j,
        _ => i * cols + j,
    };

    private static Node Use(Tape t, string name, ShapeKind k, int rows, int cols, double[] v, out Parameter p)
    {
        switch (k)
        {
            case ShapeKind.Scalar:
                var s = new ScalarParameter(name, v[0]);
                p = s;
                return t.Use(s);
            case ShapeKind.Vector:
                var vp = new VectorParameter(name, v);
                p = vp;
                return t.Use(vp);
            default:
                var m = new MatrixParameter(name, Gens.ToMatrix(v, rows, cols));
                p = m;
                return t.Use(m);
        }
    }

    private static Gen<BinaryCase> CaseGen(GraphOp[] ops, Func<ShapeKind, ShapeKind, bool> allowed, double loA, double hiA, Gen<double> bElement) =>
        from op in Gen.Elements(ops)
        from ka in Gen.Elements(ShapeKind.Scalar, ShapeKind.Vector, ShapeKind.Matrix)
        from kb in Gen.Elements(ShapeKind.Scalar, ShapeKind.Vector, ShapeKind.Matrix)
        where allowed(ka, kb)
        from r in Gen.Choose(1, 4)
        from c in Gen.Choose(1, 4)
        from a in Gens.Array(Length(ka, r, c), loA, hiA)
        from b in bElement.ArrayOf(Length(kb, r, c))
        from g in Gens.Array(Length(ResultKind(ka, kb), r, c), -2, 2)
        select new BinaryCase(op, ka, kb, r, c, a, b, g);

    private static void Check(BinaryCase d, Func<Node, Node, Node> apply, Func<double, double, double> f,
        Func<double, double, double> da, Func<double, double, double> db, double valueRel)
    {
        ShapeKind kr = ResultKind(d.KA, d.KB);
        int rows = kr == ShapeKind.Matrix ? d.Rows : 1, cols = kr == ShapeKind.Scalar ? 1 : d.Cols;
        var t = new Tape();
        Node a = Use(t, "a", d.KA, d.Rows, d.Cols, d.A, out Parameter pa);
        Node b = Use(t, "b", d.KB, d.Rows, d.Cols, d.B, out Parameter pb);
        Node y = apply(a, b);
        Assert.Equal(kr, y.Shape.Kind);
        Assert.Equal(rows * cols, y.Shape.Length);

        // Forward: y(i, j) = a(ia) ∘ b(ib). Backward: the dual of broadcasting is summation, so
        // ∂L/∂a(ia) = Σ over the (i, j) that read a(ia) of g(i, j)·∂∘/∂a, and the same for b.
        var value = new double[rows * cols];
        var ga = new double[d.A.Length];
        var gb = new double[d.B.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                int k = i * cols + j, ia = Index(d.KA, i, j, d.Cols), ib = Index(d.KB, i, j, d.Cols);
                value[k] = f(d.A[ia], d.B[ib]);
                ga[ia] += d.G[k] * da(d.A[ia], d.B[ib]);
                gb[ib] += d.G[k] * db(d.A[ia], d.B[ib]);
            }
        }
        Approx.Equal(value, y.ToArray(), valueRel, 1e-300, $"{d} value");
        t.Backward(y, d.G);
        Approx.Equal(ga, pa.Grad, 1e-12, 1e-14, $"{d} ∂L/∂a");
        Approx.Equal(gb, pb.Grad, 1e-12, 1e-14, $"{d} ∂L/∂b");
    }

    /// <summary>Denominators: magnitude in [0.5, 2], either sign.</summary>
    private static readonly Gen<double> Denominator =
        from m in Gens.Double(0.5, 2) from s in Gen.Elements(-1.0, 1.0) select m * s;

    [Property(MaxTest = 400)]
    public Property ArithmeticOperators_AllKindCombinations_BroadcastValuesAndSumGradients() =>
        Prop.ForAll(CaseGen([GraphOp.Add, GraphOp.Subtract, GraphOp.Multiply, GraphOp.Divide], (_, _) => true, -2, 2, Denominator).ToArbitrary(), d =>
        {
            // a + b: (1, 1); a − b: (1, −1); a·b: (b, a); a/b: (1/b, −a/b²).
            (Func<double, double, double> f, Func<double, double, double> da, Func<double, double, double> db) = d.Op switch
            {
                GraphOp.Add => ((Func<double, double, double>)((x, y) => x + y), (Func<double, double, double>)((_, _) => 1), (Func<double, double, double>)((_, _) => 1)),
                GraphOp.Subtract => ((x, y) => x - y, (_, _) => 1, (_, _) => -1),
                GraphOp.Multiply => ((x, y) => x * y, (_, y) => y, (x, _) => x),
                _ => ((x, y) => x / y, (_, y) => 1 / y, (x, y) => -x / (y * y)),
            };
            Check(d, (a, b) => GraphProgram.Arithmetic(d.Op, a, b), f, da, db, 1e-15);
        });

    [Property(MaxTest = 200)]
    public Property PowerMaxMin_Overloads_MatchStatedDerivatives() =>
        Prop.ForAll(
            CaseGen([GraphOp.Power, GraphOp.Maximum, GraphOp.Minimum],
                (ka, kb) => ka == kb || (ka == ShapeKind.Vector && kb == ShapeKind.Scalar), 0.5, 2, Gens.Double(-2, 2)).ToArbitrary(),
            d =>
            {
                if (d.Op == GraphOp.Power)
                {
                    // a^b: ∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a (a > 0 here).
                    Check(d, (a, b) => (a.Shape.Kind, b.Shape.Kind) switch
                    {
                        (ShapeKind.Scalar, _) => Ops.Pow(a.AsScalar(), b.AsScalar()),
                        (ShapeKind.Vector, ShapeKind.Scalar) => Ops.Pow(a.AsVector(), b.AsScalar()),
                        (ShapeKind.Vector, _) => Ops.Pow(a.AsVector(), b.AsVector()),
                        _ => Ops.Pow(a.AsMatrix(), b.AsMatrix()),
                    }, Math.Pow, (x, y) => y * Math.Pow(x, y - 1), (x, y) => Math.Pow(x, y) * Math.Log(x), 1e-15);
                    return;
                }
                if (d.KA != d.KB) return; // max/min have same-shape overloads only
                // Away from ties: the gradient goes to the larger (max) or the smaller (min) operand.
                if (d.A.Zip(d.B).Any(p => Math.Abs(p.First - p.Second) < 1e-9)) return;
                bool max = d.Op == GraphOp.Maximum;
                Check(d, (a, b) => a.Shape.Kind switch
                {
                    ShapeKind.Scalar => max ? Ops.Max(a.AsScalar(), b.AsScalar()) : Ops.Min(a.AsScalar(), b.AsScalar()),
                    ShapeKind.Vector => max ? Ops.Max(a.AsVector(), b.AsVector()) : Ops.Min(a.AsVector(), b.AsVector()),
                    _ => max ? Ops.Max(a.AsMatrix(), b.AsMatrix()) : Ops.Min(a.AsMatrix(), b.AsMatrix()),
                },
                max ? Math.Max : Math.Min,
                (x, y) => (x > y) == max ? 1 : 0,
                (x, y) => (y > x) == max ? 1 : 0, 0);
            });

    [Fact]
    public void MaxMin_TiedOperands_SplitTheGradientInHalves()
    {
        // max(a, b) at a = b (two different nodes): each operand gets g/2 (PyTorch's convention); so does min.
        var a = new VectorParameter("a", 1.0, 2.0);
        var b = new VectorParameter("b", 1.0, 3.0);
        var t = new Tape();
        Vector va = t.Use(a), vb = t.Use(b);
        (Ops.Max(va, vb) * 2.0 + Ops.Min(va, vb) * 4.0).Backward([1.0, 1.0]);
        Assert.Equal([1.0 + 2.0, 4.0], a.Grad); // element 0 tied: (2 + 4)/2; element 1: min → a
        Assert.Equal([1.0 + 2.0, 2.0], b.Grad); // element 0 tied; element 1: max → b
    }

    [Fact]
    public void Power_ZeroBase_GradientsAreZeroNotNaN()
    {
        // ∂(a^b)/∂b = a^b·ln a is 0·(−∞) at a = 0; the rule defines it as 0 for b ≥ 0 (PyTorch's convention).
        var a = new ScalarParameter("a", 0.0);
        var b = new ScalarParameter("b", 2.0);
        var t = new Tape();
        Scalar y = Ops.Pow(t.Use(a), t.Use(b));
        y.Backward();
        Assert.Equal(0.0, y.Value);
        Assert.Equal(0.0, a.Grad); // 2·0¹
        Assert.Equal(0.0, b.Grad);

        // 0⁰ = 1, and ∂/∂a = b·a^(b−1) is 0·0⁻¹ = 0·∞ there: the rule defines it as 0 for b = 0, not NaN.
        var a0 = new VectorParameter("a", 0.0, 0.0);
        var b0 = new VectorParameter("b", 0.0, 0.0);
        var t0 = new Tape();
        Vector y0 = Ops.Pow(t0.Use(a0), t0.Use(b0));
        Assert.Equal([1.0, 1.0], y0.Value);
        Ops.Sum(y0).Backward();
        Assert.Equal([0.0, 0.0], a0.Grad);
        Assert.Equal([0.0, 0.0], b0.Grad);
    }

    [Fact]
    public void ScalarOperators_WithDoubles_AllEightForms()
    {
        // c ∘ x and x ∘ c for + − × ÷ at x = 2, c = 3: values and ∂/∂x.
        (Func<Scalar, Scalar> F, double Value, double Grad)[] cases =
        [
            (x => x + 3, 5, 1), (x => 3 + x, 5, 1), (x => x - 3, -1, 1), (x => 3 - x, 1, -1),
            (x => x * 3, 6, 3), (x => 3 * x, 6, 3), (x => x / 3, 2.0 / 3, 1.0 / 3), (x => 3 / x, 1.5, -0.75),
        ];
        foreach (var (f, value, grad) in cases)
        {
            var p = new ScalarParameter("x", 2.0);
            var t = new Tape();
            Scalar y = f(t.Use(p));
            y.Backward();
            Approx.Equal(value, y.Value, 1e-15);
            Approx.Equal(grad, p.Grad, 1e-15);
        }
    }

    [Fact]
    public void OneElementOperands_BroadcastLikeScalars()
    {
        // A [1] vector with a [2×3] matrix, and a [1×1] matrix with a [2×2] matrix: broadcast as scalars, and the
        // one element receives the sum of the gradient.
        var v = new VectorParameter("v", 2.0);
        var m = new MatrixParameter("m", new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var t = new Tape();
        Matrix y = t.Use(m) * t.Use(v);
        Assert.Equal([2.0, 4, 6, 8, 10, 12], y.Value);
        Ops.Sum(y).Backward();
        Assert.Equal([21.0], v.Grad);
        Assert.Equal([2.0, 2, 2, 2, 2, 2], m.Grad);

        var one = new MatrixParameter("one", new double[,] { { 3 } });
        var sq = new MatrixParameter("sq", new double[,] { { 1, 2 }, { 3, 4 } });
        var t2 = new Tape();
        Matrix z = t2.Use(sq) - t2.Use(one);
        Assert.Equal([-2.0, -1, 0, 1], z.Value);
        Ops.Sum(z).Backward();
        Assert.Equal([-4.0], one.Grad);
    }
}

/// <summary>Dot, MatVec, MatMul and Transpose against naive loops, values and both operands' gradients.</summary>
public class LinearAlgebraOpTests
{
    internal sealed record Dims(int M, int K, int N, double[] A, double[] B, double[] U, double[] V, double[] G, double[] Gv, double Gs);

    private static readonly Gen<Dims> DimsGen =
        from m in Gen.Choose(1, 4)
        from k in Gen.Choose(1, 4)
        from n in Gen.Choose(1, 4)
        from a in Gens.Array(m * k, -2, 2)
        from b in Gens.Array(k * n, -2, 2)
        from u in Gens.Array(k, -2, 2)
        from v in Gens.Array(k, -2, 2)
        from g in Gens.Array(m * n, -2, 2)
        from gv in Gens.Array(m, -2, 2)
        from gs in Gens.Double(-2, 2)
        select new Dims(m, k, n, a, b, u, v, g, gv, gs);

    [Property(MaxTest = 200)]
    public Property MatMul_RandomShapes_ValueIsProductAndGradientsAreGBTransposeAndATransposeG() =>
        Prop.ForAll(DimsGen.ToArbitrary(), d =>
        {
            var pa = new MatrixParameter("A", Gens.ToMatrix(d.A, d.M, d.K));
            var pb = new MatrixParameter("B", Gens.ToMatrix(d.B, d.K, d.N));
            var t = new Tape();
            Matrix c = Ops.MatMul(t.Use(pa), t.Use(pb));
            c.Backward(d.G);
            var value = new double[d.M * d.N];
            var ga = new double[d.M * d.K];
            var gb = new double[d.K * d.N];
            for (int i = 0; i < d.M; i++)
            {
                for (int j = 0; j < d.N; j++)
                {
                    for (int p = 0; p < d.K; p++)
                    {
                        value[i * d.N + j] += d.A[i * d.K + p] * d.B[p * d.N + j];
                        ga[i * d.K + p] += d.G[i * d.N + j] * d.B[p * d.N + j]; // (G Bᵀ)ᵢₚ
                        gb[p * d.N + j] += d.A[i * d.K + p] * d.G[i * d.N + j]; // (Aᵀ G)ₚⱼ
                    }
                }
            }
            Approx.Equal(value, c.Value, 1e-13, 1e-14, "AB");
            Approx.Equal(ga, pa.Grad, 1e-13, 1e-14, "∂L/∂A = G Bᵀ");
            Approx.Equal(gb, pb.Grad, 1e-13, 1e-14, "∂L/∂B = Aᵀ G");
        });

    [Property(MaxTest = 200)]
    public Property MatVec_RandomShapes_ValueIsProductAndGradientsAreGVTransposeAndATransposeG() =>
        Prop.ForAll(DimsGen.ToArbitrary(), d =>
        {
            var pa = new MatrixParameter("A", Gens.ToMatrix(d.A, d.M, d.K));
            var pv = new VectorParameter("v", d.V);
            var t = new Tape();
            Vector y = Ops.MatVec(t.Use(pa), t.Use(pv));
            y.Backward(d.Gv);
            var value = new double[d.M];
            var ga = new double[d.M * d.K];
            var gv = new double[d.K];
            for (int i = 0; i < d.M; i++)
            {
                for (int p = 0; p < d.K; p++)
                {
                    value[i] += d.A[i * d.K + p] * d.V[p];
                    ga[i * d.K + p] = d.Gv[i] * d.V[p]; // g vᵀ
                    gv[p] += d.A[i * d.K + p] * d.Gv[i]; // Aᵀ g
                }
            }
            Approx.Equal(value, y.Value, 1e-13, 1e-14, "Av");
            Approx.Equal(ga, pa.Grad, 1e-13, 1e-14, "∂L/∂A = g vᵀ");
            Approx.Equal(gv, pv.Grad, 1e-13, 1e-14, "∂L/∂v = Aᵀ g");
        });

    [Property(MaxTest = 200)]
    public Property DotAndTranspose_RandomShapes_MatchTheirRules() =>
        Prop.ForAll(DimsGen.ToArbitrary(), d =>
        {
            // s = u·v: ∂L/∂u = g·v, ∂L/∂v = g·u.
            var pu = new VectorParameter("u", d.U);
            var pv = new VectorParameter("v", d.V);
            var t = new Tape();
            Scalar s = Ops.Dot(t.Use(pu), t.Use(pv));
            Approx.Equal(d.U.Zip(d.V).Sum(p => p.First * p.Second), s.Value, 1e-13, 1e-14, "u·v");
            t.Backward(s, [d.Gs]);
            Approx.Equal([.. d.V.Select(x => d.Gs * x)], pu.Grad, 1e-15, 0, "∂L/∂u");
            Approx.Equal([.. d.U.Select(x => d.Gs * x)], pv.Grad, 1e-15, 0, "∂L/∂v");

            // Y = Aᵀ (k×m): Yⱼᵢ = Aᵢⱼ, ∂L/∂A = Gᵀ; seed G read as k×m.
            var pa = new MatrixParameter("A", Gens.ToMatrix(d.A, d.M, d.K));
            var ta = new Tape();
            Matrix y = Ops.Transpose(ta.Use(pa));
            Assert.Equal((d.K, d.M), (y.Rows, y.Cols));
            double[] seed = d.A.Select((_, k) => k + 0.5).ToArray();
            y.Backward(seed);
            for (int i = 0; i < d.M; i++)
            {
                for (int j = 0; j < d.K; j++)
                {
                    Assert.Equal(d.A[i * d.K + j], y.Value[j * d.M + i]);
                    Assert.Equal(seed[j * d.M + i], pa.Grad[i * d.K + j]);
                }
            }
        });

    /// <summary>C = AB and both rules against naive triple loops, for shapes of any size.</summary>
    /// <remarks>
    /// The product runs through a blocked kernel (panels of 4 rows × 8 columns, blocks of 256 along k, the row
    /// panels split over threads for large products) with a naive loop for tiny ones; these shapes cross every
    /// boundary: edges of partial panels, k beyond one block, and a product large enough to go parallel. The
    /// kernels sum in another order than the reference, so elements agree to ≈ k·ε·Σ|aᵢₚbₚⱼ|, bounded here by
    /// 10⁻¹³·Σ|aᵢₚbₚⱼ| + 10⁻¹⁴ per element.
    /// </remarks>
    private static void CheckProduct(int m, int k, int n, int seed)
    {
        var rng = new Random(seed);
        double[] a = [.. Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() * 2 - 1)];
        double[] b = [.. Enumerable.Range(0, k * n).Select(_ => rng.NextDouble() * 2 - 1)];
        double[] g = [.. Enumerable.Range(0, m * n).Select(_ => rng.NextDouble() * 2 - 1)];
        var pa = new MatrixParameter("A", Gens.ToMatrix(a, m, k));
        var pb = new MatrixParameter("B", Gens.ToMatrix(b, k, n));
        var t = new Tape();
        Matrix c = Ops.MatMul(t.Use(pa), t.Use(pb));
        c.Backward(g);
        double[] value = c.Value;

        static void Near(double expected, double actual, double scale, string what)
        {
            Assert.True(Math.Abs(expected - actual) <= 1e-13 * scale + 1e-14, $"{what}: expected {expected:R}, got {actual:R}");
        }
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    s += a[i * k + p] * b[p * n + j];
                    scale += Math.Abs(a[i * k + p] * b[p * n + j]);
                }
                Near(s, value[i * n + j], scale, $"C[{i},{j}] of [{m}×{k}]·[{k}×{n}]");
            }
        }
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
            {
                double s = 0, scale = 0;
                for (int j = 0; j < n; j++)
                {
                    s += g[i * n + j] * b[p * n + j];
                    scale += Math.Abs(g[i * n + j] * b[p * n + j]);
                }
                Near(s, pa.Grad[i * k + p], scale, $"(G Bᵀ)[{i},{p}]");
            }
        }
        for (int p = 0; p < k; p++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, scale = 0;
                for (int i = 0; i < m; i++)
                {
                    s += a[i * k + p] * g[i * n + j];
                    scale += Math.Abs(a[i * k + p] * g[i * n + j]);
                }
                Near(s, pb.Grad[p * n + j], scale, $"(Aᵀ G)[{p},{j}]");
            }
        }
    }

    [Property(MaxTest = 60)]
    public Property MatMul_ShapesUpTo40_MatchesNaiveLoops() =>
        Prop.ForAll(Gen.Choose(1, 40).Three().ToArbitrary(), Gen.Choose(0, 1 << 20).ToArbitrary(), (mkn, seed) =>
            CheckProduct(mkn.Item1, mkn.Item2, mkn.Item3, seed));

    [Theory]
    [InlineData(5, 300, 9)]     // k crosses the 256 block, partial row and column panels
    [InlineData(1, 513, 17)]    // one row, three k blocks
    [InlineData(300, 6, 5)]     // ∂L/∂B = Aᵀ G has inner dimension m = 300: transposed A across blocks
    [InlineData(4, 6, 300)]     // ∂L/∂A = G Bᵀ has inner dimension n = 300: transposed B across blocks
    [InlineData(33, 7, 1)]      // one column
    [InlineData(320, 256, 256)] // 2.1·10⁷ multiply-adds in one k block: row panels split over threads
    public void MatMul_BlockAndThreadBoundaries_MatchesNaiveLoops(int m, int k, int n) => CheckProduct(m, k, n, m * 1000 + k * 10 + n);

    [Fact]
    public void MatMul_SameMatrixBothSides_GradientOfSumOfAATransposeIsTwiceRowSumsBroadcast()
    {
        // L = Σ (A Aᵀ)ᵢⱼ = Σₚ (Σᵢ Aᵢₚ)²  ⇒  ∂L/∂Aᵢₚ = 2 Σₖ Aₖₚ (twice the column sum).
        var a = new MatrixParameter("A", new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var t = new Tape();
        Matrix am = t.Use(a);
        Scalar l = Ops.Sum(Ops.MatMul(am, Ops.Transpose(am)));
        Assert.Equal(9.0 * 9 + 12 * 12, l.Value);
        l.Backward();
        Assert.Equal([18.0, 24, 18, 24, 18, 24], a.Grad);
    }
}

/// <summary>Sum, Mean (all and per axis) and LogSumExp (vector and per row).</summary>
public class ReductionOpTests
{
    internal sealed record Data(int Rows, int Cols, double[] X, double[] G, double Gs);

    private static readonly Gen<Data> DataGen =
        from r in Gen.Choose(1, 4)
        from c in Gen.Choose(1, 5)
        from x in Gens.Array(r * c, -4, 4)
        from g in Gens.Array(Math.Max(r, c), -2, 2)
        from gs in Gens.Double(-2, 2)
        select new Data(r, c, x, g, gs);

    private static (MatrixParameter P, Matrix M, Tape T) Matrix(Data d)
    {
        var p = new MatrixParameter("X", Gens.ToMatrix(d.X, d.Rows, d.Cols));
        var t = new Tape();
        return (p, t.Use(p), t);
    }

    [Property(MaxTest = 200)]
    public Property SumAndMean_All_GradientIsGOrGOverN() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            int n = d.X.Length;
            var (p, m, t) = Matrix(d);
            Scalar s = Ops.Sum(m);
            Approx.Equal(d.X.Sum(), s.Value, 1e-13, 1e-14);
            t.Backward(s, [d.Gs]);
            Assert.All(p.Grad, g => Assert.Equal(d.Gs, g));

            var pv = new VectorParameter("x", d.X);
            var tv = new Tape();
            Scalar mean = Ops.Mean(tv.Use(pv));
            Approx.Equal(d.X.Sum() / n, mean.Value, 1e-13, 1e-14);
            tv.Backward(mean, [d.Gs]);
            Assert.All(pv.Grad, g => Approx.Equal(d.Gs / n, g, 1e-15, 0));

            var (pm, mm, tm) = Matrix(d);
            Scalar meanM = Ops.Mean(mm);
            tm.Backward(meanM, [d.Gs]);
            Assert.All(pm.Grad, g => Approx.Equal(d.Gs / n, g, 1e-15, 0));
        });

    [Property(MaxTest = 200)]
    public Property SumAndMean_PerAxis_GradientBroadcastsBackAlongTheAxis() =>
        Prop.ForAll(DataGen.ToArbitrary(), Gen.Elements(0, 1).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), (d, axis, mean) =>
        {
            // axis 0: yⱼ = Σᵢ Xᵢⱼ (one per column), ∂L/∂Xᵢⱼ = gⱼ; axis 1: yᵢ = Σⱼ Xᵢⱼ, ∂L/∂Xᵢⱼ = gᵢ; mean divides by the axis length.
            var (p, m, t) = Matrix(d);
            Vector y = mean ? Ops.Mean(m, axis) : Ops.Sum(m, axis);
            int outLength = axis == 0 ? d.Cols : d.Rows, along = axis == 0 ? d.Rows : d.Cols;
            Assert.Equal(outLength, y.Length);
            double[] seed = d.G[..outLength];
            y.Backward(seed);
            var value = new double[outLength];
            for (int i = 0; i < d.Rows; i++)
            {
                for (int j = 0; j < d.Cols; j++)
                {
                    int o = axis == 0 ? j : i;
                    value[o] += d.X[i * d.Cols + j] / (mean ? along : 1);
                    Approx.Equal(seed[o] / (mean ? along : 1), p.Grad[i * d.Cols + j], 1e-15, 0, $"∂L/∂X[{i},{j}]");
                }
            }
            Approx.Equal(value, y.Value, 1e-13, 1e-14, "value");
        });

    [Property(MaxTest = 200)]
    public Property LogSumExp_VectorAndRows_GradientIsSoftmax() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            // lse(x) = ln Σ e^x; ∂/∂xₖ = softmax(x)ₖ (times g).
            var pv = new VectorParameter("x", d.X);
            var tv = new Tape();
            Scalar l = Ops.LogSumExp(tv.Use(pv));
            Approx.Equal(Reference.LogSumExp(d.X), l.Value, 1e-14, 1e-15);
            tv.Backward(l, [d.Gs]);
            Approx.Equal([.. Reference.Softmax(d.X).Select(s => d.Gs * s)], pv.Grad, 1e-13, 1e-16, "vector");

            var (p, m, t) = Matrix(d);
            Vector rows = Ops.LogSumExp(m);
            double[] seed = d.G[..d.Rows];
            rows.Backward(seed);
            for (int i = 0; i < d.Rows; i++)
            {
                ReadOnlySpan<double> row = d.X.AsSpan(i * d.Cols, d.Cols);
                Approx.Equal(Reference.LogSumExp(row), rows.Value[i], 1e-14, 1e-15, $"row {i}");
                double[] sm = Reference.Softmax(row);
                for (int j = 0; j < d.Cols; j++) Approx.Equal(seed[i] * sm[j], p.Grad[i * d.Cols + j], 1e-13, 1e-16, $"[{i},{j}]");
            }
        });
}

/// <summary>Element, Row, Reshape, Flatten, Concat and Detach: values shared or copied, gradients routed exactly.</summary>
public class ViewOpTests
{
    [Fact]
    public void Element_OfVectorAndMatrix_RoutesGradientToThatElement()
    {
        var v = new VectorParameter("v", 1, 2, 3, 4, 5, 6);
        var m = new MatrixParameter("m", new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var t = new Tape();
        Vector vv = t.Use(v);
        Matrix mm = t.Use(m);
        Scalar loss = 2 * vv[1] + 3 * vv[4] + vv[1] + 5 * mm[0, 2] - mm[1, 0];
        Assert.Equal(2 * 2 + 3 * 5 + 2 + 5 * 3 - 4, loss.Value);
        loss.Backward();
        Assert.Equal([0.0, 3, 0, 0, 3, 0], v.Grad);
        Assert.Equal([0.0, 0, 5, -1, 0, 0], m.Grad);
    }

    [Fact]
    public void Row_DotWithConstant_GradientLandsInThatRow()
    {
        var m = new MatrixParameter("m", new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var t = new Tape();
        Vector row = t.Use(m).Row(1);
        Assert.Equal([4.0, 5, 6], row.Value);
        Ops.Dot(row, t.Constant([1.0, 2, 3])).Backward();
        Assert.Equal([0.0, 0, 0, 1, 2, 3], m.Grad);
    }

    [Fact]
    public void ReshapeAndFlatten_KeepRowMajorOrder_GradientReshapedBack()
    {
        var v = new VectorParameter("v", 1, 2, 3, 4, 5, 6);
        var t = new Tape();
        Matrix m = Ops.Reshape(t.Use(v), 2, 3);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], m.Value);
        Matrix m2 = Ops.Reshape(m, 3, 2);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], m2.Value);
        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }, m2.Value2D);
        Vector flat = Ops.Flatten(m2);
        Scalar loss = Ops.Dot(flat, t.Constant([10.0, 20, 30, 40, 50, 60])) + Ops.Sum(m * t.Constant(new double[,] { { 1, 0, 0 }, { 0, 0, 1 } }));
        loss.Backward();
        Assert.Equal([11.0, 20, 30, 40, 50, 61], v.Grad);
    }

    [Fact]
    public void ViewChain_ElementOfRowOfReshape_RoutesToOneElement()
    {
        var v = new VectorParameter("v", 1, 2, 3, 4, 5, 6);
        var t = new Tape();
        Scalar e = Ops.Reshape(t.Use(v), 3, 2).Row(2)[0]; // element (2, 0) of the 3×2 reshape = v[4]
        Assert.Equal(5.0, e.Value);
        (e * e).Backward();
        Assert.Equal([0.0, 0, 0, 0, 10, 0], v.Grad);
    }

    [Fact]
    public void Backward_FromAView_SeedsTheSourceElement()
    {
        var v = new VectorParameter("v", 1, 2, 3);
        var t = new Tape();
        Vector sq = Ops.Square(t.Use(v));
        sq[2].Backward();
        Assert.Equal([0.0, 0, 6], v.Grad);
    }

    [Property(MaxTest = 100)]
    public Property Concat_RandomParts_EachPartGetsItsSliceOfTheGradient() =>
        Prop.ForAll(Gens.Vector(4, -2, 2).ArrayOf().Where(a => a.Length is > 0 and <= 4).ToArbitrary(), parts =>
        {
            var ps = parts.Select((p, k) => new VectorParameter($"p{k}", p)).ToArray();
            var t = new Tape();
            Vector[] used = [.. ps.Select(p => t.Use(p))];
            // The first part twice, to check that both of its slices are added.
            Vector y = Ops.Concat([.. used, used[0]]);
            double[] all = [.. parts.SelectMany(p => p), .. parts[0]];
            Assert.Equal(all, y.Value);
            double[] seed = [.. all.Select((_, k) => k + 1.0)];
            y.Backward(seed);
            int at = 0;
            for (int k = 0; k < parts.Length; k++)
            {
                double[] expected = seed[at..(at + parts[k].Length)];
                if (k == 0)
                {
                    double[] second = seed[^parts[0].Length..];
                    expected = [.. expected.Zip(second, (a, b) => a + b)];
                }
                Assert.Equal(expected, ps[k].Grad);
                at += parts[k].Length;
            }
        });

    [Fact]
    public void Detach_SharesValueAndBlocksGradient()
    {
        var v = new VectorParameter("v", 1, 2);
        var t = new Tape();
        Vector x = t.Use(v);
        Vector d = Ops.Detach(x);
        Assert.Equal(x.Value, d.Value);
        Ops.Dot(x, d).Backward(); // d is a constant copy: ∂/∂x = d
        Assert.Equal([1.0, 2.0], v.Grad);
        Assert.Equal([0.0, 0.0], d.Grad);
    }
}

/// <summary>Softmax and log-softmax, of vectors and of matrix rows.</summary>
public class SoftmaxOpTests
{
    internal sealed record Data(int Rows, int Cols, double[] X, double[] G);

    private static readonly Gen<Data> DataGen =
        from r in Gen.Choose(1, 4)
        from c in Gen.Choose(1, 6)
        from x in Gens.Array(r * c, -6, 6)
        from g in Gens.Array(r * c, -2, 2)
        select new Data(r, c, x, g);

    [Property(MaxTest = 200)]
    public Property Softmax_Rows_ValuesSumToOneAndGradientIsYTimesGMinusGDotY() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            var p = new MatrixParameter("X", Gens.ToMatrix(d.X, d.Rows, d.Cols));
            var t = new Tape();
            Matrix y = Ops.Softmax(t.Use(p));
            y.Backward(d.G);
            double[] values = y.Value;
            for (int i = 0; i < d.Rows; i++)
            {
                double[] sm = Reference.Softmax(d.X.AsSpan(i * d.Cols, d.Cols));
                Approx.Equal(1.0, values.AsSpan(i * d.Cols, d.Cols).ToArray().Sum(), 1e-15, 0, "Σ softmax");
                double gy = 0;
                for (int k = 0; k < d.Cols; k++) gy += d.G[i * d.Cols + k] * sm[k];
                for (int k = 0; k < d.Cols; k++)
                {
                    Approx.Equal(sm[k], values[i * d.Cols + k], 1e-14, 1e-16, "softmax");
                    Approx.Equal(sm[k] * (d.G[i * d.Cols + k] - gy), p.Grad[i * d.Cols + k], 1e-12, 1e-15, "∂L/∂x = y(g − g·y)");
                }
            }

            // The vector overload on row 0 agrees with the matrix row.
            var v = new VectorParameter("x", d.X[..d.Cols]);
            var tv = new Tape();
            Vector yv = Ops.Softmax(tv.Use(v));
            yv.Backward(d.G[..d.Cols]);
            Approx.Equal(values[..d.Cols], yv.Value, 1e-15, 0);
            Approx.Equal(p.Grad[..d.Cols], v.Grad, 1e-15, 1e-300);
        });

    [Property(MaxTest = 200)]
    public Property LogSoftmax_Rows_ValueIsXMinusLseAndGradientIsGMinusSoftmaxSumG() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            var p = new MatrixParameter("X", Gens.ToMatrix(d.X, d.Rows, d.Cols));
            var t = new Tape();
            Matrix y = Ops.LogSoftmax(t.Use(p));
            y.Backward(d.G);
            double[] values = y.Value;
            for (int i = 0; i < d.Rows; i++)
            {
                ReadOnlySpan<double> row = d.X.AsSpan(i * d.Cols, d.Cols);
                double lse = Reference.LogSumExp(row);
                double[] sm = Reference.Softmax(row);
                double sumG = 0;
                for (int k = 0; k < d.Cols; k++) sumG += d.G[i * d.Cols + k];
                for (int k = 0; k < d.Cols; k++)
                {
                    Approx.Equal(row[k] - lse, values[i * d.Cols + k], 1e-14, 1e-14, "x − lse");
                    Approx.Equal(d.G[i * d.Cols + k] - sm[k] * sumG, p.Grad[i * d.Cols + k], 1e-12, 1e-14, "g − softmax·Σg");
                }
            }

            var v = new VectorParameter("x", d.X[..d.Cols]);
            var tv = new Tape();
            Vector yv = Ops.LogSoftmax(tv.Use(v));
            yv.Backward(d.G[..d.Cols]);
            Approx.Equal(values[..d.Cols], yv.Value, 1e-15, 0);
            Approx.Equal(p.Grad[..d.Cols], v.Grad, 1e-15, 1e-300);
        });
}

/// <summary>The losses: value against the formula, gradient against the documented derivative.</summary>
public class LossOpTests
{
    internal sealed record Data(double[] P, double[] Y, double[] Z, int Rows, int Cols, double[] X, int[] Labels);

    private static readonly Gen<Data> DataGen =
        from n in Gen.Choose(1, 6)
        from p in Gens.Array(n, 0.01, 0.99)
        from soft in Gen.Elements(false, true)
        from y in soft ? Gens.Array(n, 0, 1) : Gens.Labels01(n)
        from z in Gens.Array(n, -6, 6)
        from r in Gen.Choose(1, 4)
        from c in Gen.Choose(1, 5)
        from x in Gens.Array(r * c, -5, 5)
        from labels in Gen.Choose(0, c - 1).ArrayOf(r)
        select new Data(p, y, z, r, c, x, labels);

    [Property(MaxTest = 200)]
    public Property BinaryCrossEntropy_Probabilities_MeanLossAndGradientPMinusYOverPOneMinusP() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            // ℓ = −(1/N) Σ [y ln p + (1 − y) ln(1 − p)], ∂ℓ/∂p = (1/N)(p − y)/(p(1 − p)).
            int n = d.P.Length;
            var p = new VectorParameter("p", d.P);
            var t = new Tape();
            Scalar l = Loss.BinaryCrossEntropy(t.Use(p), t.Constant(d.Y));
            l.Backward();
            double expected = -d.P.Select((q, k) => d.Y[k] * Math.Log(q) + (1 - d.Y[k]) * Math.Log(1 - q)).Sum() / n;
            Approx.Equal(expected, l.Value, 1e-13, 1e-15, "ℓ");
            Approx.Equal([.. d.P.Select((q, k) => (q - d.Y[k]) / (q * (1 - q)) / n)], p.Grad, 1e-13, 1e-15, "∂ℓ/∂p");

            // The scalar overload is the one-element case.
            var s = new ScalarParameter("p", d.P[0]);
            var ts = new Tape();
            Scalar ls = Loss.BinaryCrossEntropy(ts.Use(s), d.Y[0]);
            ls.Backward();
            Approx.Equal(-(d.Y[0] * Math.Log(d.P[0]) + (1 - d.Y[0]) * Math.Log(1 - d.P[0])), ls.Value, 1e-13, 1e-15);
            Approx.Equal((d.P[0] - d.Y[0]) / (d.P[0] * (1 - d.P[0])), s.Grad, 1e-13, 1e-15);
        });

    [Property(MaxTest = 200)]
    public Property BinaryCrossEntropyWithLogits_MeanLossAndGradientSigmaMinusY() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            // ℓ = (1/N) Σ [softplus(z) − z·y] (= BCE of σ(z)), ∂ℓ/∂z = (1/N)(σ(z) − y).
            int n = d.Z.Length;
            var z = new VectorParameter("z", d.Z);
            var t = new Tape();
            Scalar l = Loss.BinaryCrossEntropyWithLogits(t.Use(z), t.Constant(d.Y));
            l.Backward();
            double expected = d.Z.Select((v, k) => Reference.Softplus(v) - v * d.Y[k]).Sum() / n;
            Approx.Equal(expected, l.Value, 1e-13, 1e-15, "ℓ");
            Approx.Equal([.. d.Z.Select((v, k) => (Reference.Sigmoid(v) - d.Y[k]) / n)], z.Grad, 1e-13, 1e-16, "∂ℓ/∂z");

            var s = new ScalarParameter("z", d.Z[0]);
            var ts = new Tape();
            Loss.BinaryCrossEntropyWithLogits(ts.Use(s), d.Y[0]).Backward();
            Approx.Equal(Reference.Sigmoid(d.Z[0]) - d.Y[0], s.Grad, 1e-13, 1e-16);
        });

    [Property(MaxTest = 200)]
    public Property SoftmaxCrossEntropy_Batch_MeanOfLseMinusLabelLogitAndGradientSoftmaxMinusOneHotOverB() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            var x = new MatrixParameter("X", Gens.ToMatrix(d.X, d.Rows, d.Cols));
            var t = new Tape();
            Scalar l = Loss.SoftmaxCrossEntropy(t.Use(x), d.Labels);
            l.Backward();
            double expected = 0;
            for (int i = 0; i < d.Rows; i++)
            {
                ReadOnlySpan<double> row = d.X.AsSpan(i * d.Cols, d.Cols);
                expected += (Reference.LogSumExp(row) - row[d.Labels[i]]) / d.Rows;
                double[] sm = Reference.Softmax(row);
                for (int k = 0; k < d.Cols; k++)
                {
                    double oneHot = k == d.Labels[i] ? 1 : 0;
                    Approx.Equal((sm[k] - oneHot) / d.Rows, x.Grad[i * d.Cols + k], 1e-12, 1e-15, $"∂ℓ/∂X[{i},{k}]");
                }
            }
            Approx.Equal(expected, l.Value, 1e-13, 1e-15, "ℓ");

            // The vector overload: one example, ℓ = lse(x) − x[label] = −log-softmax(x)[label].
            var v = new VectorParameter("x", d.X[..d.Cols]);
            var tv = new Tape();
            Scalar lv = Loss.SoftmaxCrossEntropy(tv.Use(v), d.Labels[0]);
            Approx.Equal(-Ops.LogSoftmax(tv.Constant(d.X[..d.Cols])).Value[d.Labels[0]], lv.Value, 1e-13, 1e-15);
        });

    [Property(MaxTest = 200)]
    public Property SquaredErrors_AllFourForms_MatchTheirDerivatives() =>
        Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            int n = d.Z.Length;
            double[] target = d.P;
            double[] r = [.. d.Z.Select((v, k) => v - target[k])];

            // MSE = (1/n) Σ (p − y)², ∂/∂p = 2(p − y)/n.
            var a = new VectorParameter("a", d.Z);
            var t = new Tape();
            Scalar mse = Loss.MeanSquaredError(t.Use(a), t.Constant(target));
            mse.Backward();
            Approx.Equal(r.Sum(e => e * e) / n, mse.Value, 1e-13, 1e-15);
            Approx.Equal([.. r.Select(e => 2 * e / n)], a.Grad, 1e-14, 1e-16);

            // ½·MSE, ∂/∂p = (p − y)/n.
            var b = new VectorParameter("b", d.Z);
            var tb = new Tape();
            Scalar half = Loss.HalfMeanSquaredError(tb.Use(b), tb.Constant(target));
            half.Backward();
            Approx.Equal(0.5 * r.Sum(e => e * e) / n, half.Value, 1e-13, 1e-15);
            Approx.Equal([.. r.Select(e => e / n)], b.Grad, 1e-14, 1e-16);

            // Matrix MSE over all elements.
            var m = new MatrixParameter("m", Gens.ToMatrix(d.Z, 1, n));
            var tm = new Tape();
            Loss.MeanSquaredError(tm.Use(m), tm.Constant(target, 1, n)).Backward();
            Approx.Equal(a.Grad, m.Grad, 1e-15, 1e-300);

            // ½(h − y)² for one point, ∂/∂h = h − y; the target may itself depend on parameters.
            var h = new ScalarParameter("h", d.Z[0]);
            var y = new ScalarParameter("y", target[0]);
            var ts = new Tape();
            Loss.HalfSquaredError(ts.Use(h), ts.Use(y)).Backward();
            Approx.Equal(r[0], h.Grad, 1e-15, 0);
            Approx.Equal(-r[0], y.Grad, 1e-15, 0);
        });
}

/// <summary>Variance and standard deviation: all elements and per axis, sample and population.</summary>
public class StatisticsOpTests
{
    internal sealed record Data(int Rows, int Cols, double[] X, double[] G, double Offset);

    // At least two rows and columns, so the sample statistics are defined over either axis; an offset of up to 10⁶
    // on the data (the mean) must not cost digits.
    private static readonly Gen<Data> DataGen =
        from r in Gen.Choose(2, 5)
        from c in Gen.Choose(2, 5)
        from x in Gens.Array(r * c, -3, 3)
        from g in Gens.Array(Math.Max(r, c), -2, 2)
        from offset in Gen.Elements(0.0, 0.0, 7.5, -1e3, 1e6)
        select new Data(r, c, x.Select(v => v + offset).ToArray(), g, offset);

    /// <summary>The groups of a rows × cols matrix: all elements (axis null), each column (axis 0) or each row (axis 1).</summary>
    private static int[][] Groups(int rows, int cols, int? axis) => axis switch
    {
        null => [Enumerable.Range(0, rows * cols).ToArray()],
        0 => [.. Enumerable.Range(0, cols).Select(j => Enumerable.Range(0, rows).Select(i => i * cols + j).ToArray())],
        _ => [.. Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, cols).Select(j => i * cols + j).ToArray())],
    };

    /// <summary>
    /// The deviations xⱼ − x̄ of a group, straight from the definition after an exact shift: xⱼ − x₀ is exact
    /// (Sterbenz: the data lie within a factor 2 of each other, or are small), and x̄ − x₀ is the mean of those.
    /// </summary>
    private static double[] Deviations(double[] x, int[] group)
    {
        double x0 = x[group[0]];
        double[] shifted = [.. group.Select(k => x[k] - x0)];
        double mean = shifted.Average();
        return [.. shifted.Select(v => v - mean)];
    }

    /// <summary>Σ(x − x̄)²/(n − c).</summary>
    private static double ReferenceVariance(double[] x, int[] group, int correction) =>
        Deviations(x, group).Sum(e => e * e) / (group.Length - correction);

    [Fact]
    public void VarianceAndStandardDeviation_RandomMatrices_ValueAndGradientMatchStatedDerivative()
    {
        Gens.Check(Prop.ForAll(DataGen.ToArbitrary(), d =>
        {
            foreach (int? axis in new int?[] { null, 0, 1 })
            {
                foreach (int correction in new[] { 0, 1 })
                {
                    foreach (bool sqrt in new[] { false, true })
                    {
                        Check(d, axis, correction, sqrt);
                    }
                }
            }
        }), maxTest: 40);
    }

    private static void Check(Data d, int? axis, int correction, bool sqrt)
    {
        string name = $"{(correction == 1 ? "sample" : "population")} {(sqrt ? "std" : "var")} axis {axis?.ToString() ?? "all"}";
        int[][] groups = Groups(d.Rows, d.Cols, axis);
        var p = new MatrixParameter("X", Gens.ToMatrix(d.X, d.Rows, d.Cols));
        var t = new Tape();
        Matrix x = t.Use(p);
        double[] value;
        if (axis is int a)
        {
            Vector y = (sqrt, correction) switch
            {
                (false, 1) => Ops.Variance(x, a),
                (false, _) => Ops.PopulationVariance(x, a),
                (true, 1) => Ops.StandardDeviation(x, a),
                _ => Ops.PopulationStandardDeviation(x, a),
            };
            value = y.Value;
            y.Backward(d.G[..groups.Length]);
        }
        else
        {
            Scalar y = (sqrt, correction) switch
            {
                (false, 1) => Ops.Variance(x),
                (false, _) => Ops.PopulationVariance(x),
                (true, 1) => Ops.StandardDeviation(x),
                _ => Ops.PopulationStandardDeviation(x),
            };
            value = [y.Value];
            t.Backward(y, [d.G[0]]);
        }

        var expectedGrad = new double[d.X.Length];
        var slack = new double[d.X.Length];
        // x̄ of data near the offset is a double, within half an ulp of the offset of the exact mean, so the rule's
        // xⱼ − x̄ carries that absolute error (the reference's deviations are exact): unavoidable, and amplified by
        // the rule's factor 2/(n − c) or 1/((n − c)·s), large for a small spread s.
        double ulp = Math.BitIncrement(Math.Abs(d.Offset)) - Math.Abs(d.Offset);
        for (int k = 0; k < groups.Length; k++)
        {
            int[] group = groups[k];
            int n = group.Length;
            double v = ReferenceVariance(d.X, group, correction);
            // The data are x + offset; the statistics are shift-invariant, and the two-pass forward keeps them to
            // a few ulps whatever the offset.
            Approx.Equal(sqrt ? Math.Sqrt(v) : v, value[k], 1e-13, 0, $"{name} value[{k}]");
            double[] e = Deviations(d.X, group);
            for (int m = 0; m < n; m++)
            {
                // ∂v/∂xⱼ = 2(xⱼ − x̄)/(n − c); ∂s/∂xⱼ = (xⱼ − x̄)/((n − c)·s).
                double factor = sqrt ? 1 / ((n - correction) * Math.Sqrt(v)) : 2.0 / (n - correction);
                expectedGrad[group[m]] = d.G[k] * e[m] * factor;
                slack[group[m]] = 1e-15 + Math.Abs(d.G[k]) * factor * ulp;
            }
        }
        for (int j = 0; j < d.X.Length; j++) Approx.Equal(expectedGrad[j], p.Grad[j], 1e-13, slack[j], $"{name} gradient[{j}]");

        if (d.Offset == 0)
        {
            var q = new MatrixParameter("X", Gens.ToMatrix(d.X, d.Rows, d.Cols));
            GradientCheckReport report = GradientCheck.Run(tc =>
            {
                Matrix xc = tc.Use(q);
                return axis is int ax
                    ? Ops.Dot(sqrt ? (correction == 1 ? Ops.StandardDeviation(xc, ax) : Ops.PopulationStandardDeviation(xc, ax))
                                   : (correction == 1 ? Ops.Variance(xc, ax) : Ops.PopulationVariance(xc, ax)), tc.Constant(d.G[..groups.Length]))
                    : (sqrt ? (correction == 1 ? Ops.StandardDeviation(xc) : Ops.PopulationStandardDeviation(xc))
                            : (correction == 1 ? Ops.Variance(xc) : Ops.PopulationVariance(xc))) * d.G[0];
            }, [q]);
            Assert.True(report.Passed, $"{name}: {report}");
        }
    }

    [Fact]
    public void Variance_LargeMean_NoDigitsLost()
    {
        // 10⁸ + {1, 2, 3}: sample variance 1, population 2/3. The one-pass Σx²/n − x̄² works on numbers near 10¹⁶,
        // where an ulp is 2: its result is off by whole units.
        var t = new Tape();
        Vector x = t.Constant([1e8 + 1, 1e8 + 2, 1e8 + 3]);
        Assert.Equal(1.0, Ops.Variance(x).Value);
        Assert.Equal(1.0, Ops.StandardDeviation(x).Value);
        Approx.Equal(2.0 / 3, Ops.PopulationVariance(x).Value, 1e-15, 0, "population variance");
        // 10⁹ + {0, 1, 3, 7}/8 (exact doubles): the variance of {0, 1, 3, 7}/8 = 28.75/(3·64).
        Matrix m = t.Constant(new double[,] { { 1e9, 1e9 + 0.125 }, { 1e9 + 0.375, 1e9 + 0.875 } });
        Approx.Equal(28.75 / 192, Ops.Variance(m).Value, 1e-15, 0, "variance at 10⁹");
        // Per axis 0 (columns {10⁹, 10⁹ + ⅜} and {10⁹ + ⅛, 10⁹ + ⅞}): sample variances (⅜)²/2 and (¾)²/2.
        Approx.Equal([0.140625 / 2, 0.5625 / 2], Ops.Variance(m, 0).Value, 1e-15, 0, "variance per column at 10⁹");
        Approx.Equal([0.125 * 0.125 / 2, 0.5 * 0.5 / 2], Ops.Variance(m, 1).Value, 1e-15, 0, "variance per row at 10⁹");
    }

    [Fact]
    public void StandardDeviation_AllElementsEqual_ZeroWithZeroGradientNotNaN()
    {
        // s = 0: ∂s/∂xₖ = (xₖ − x̄)/((n − c)·s) is 0/0; PyTorch's std_backward masks it to 0, and so does this rule.
        // (The values 0.1 are not exactly representable: the mean's rounding must not leave a tiny negative Σ(x − x̄)².)
        var v = new VectorParameter("v", 0.1, 0.1, 0.1);
        var m = new MatrixParameter("M", new double[,] { { 0.1, 0.1, 0.1 }, { 1, 2, 3 } });
        var t = new Tape();
        Vector x = t.Use(v);
        Matrix mm = t.Use(m);
        Scalar loss = Ops.StandardDeviation(x) + Ops.PopulationStandardDeviation(x) + Ops.Variance(x)
            + Ops.Sum(Ops.StandardDeviation(mm, 1)) + Ops.Sum(Ops.StandardDeviation(mm, 0));
        Assert.Equal(0.0, Ops.StandardDeviation(x).Value);
        Assert.Equal([0.0, 1.0], Ops.StandardDeviation(mm, 1).Value);
        loss.Backward();
        Assert.Equal([0.0, 0.0, 0.0], v.Grad);
        // Row 0 is constant (its std has gradient 0); row 1 = (1, 2, 3), s = 1: (xₖ − 2)/(2·1) = (−½, 0, ½).
        // Axis 0: columns (0.1, 1), (0.1, 2), (0.1, 3), each of sample std |Δ|/√2, gradient ±1/√2.
        double r = 1 / Math.Sqrt(2);
        Approx.Equal([-r, -r, -r, -0.5 + r, r, 0.5 + r], m.Grad, 1e-15, 0, "∂L/∂M");
    }

    [Fact]
    public void SampleStatistic_OneElementPerGroup_ThrowsNamingOpShapeAndFix()
    {
        // n − 1 = 0 degrees of freedom: PyTorch returns NaN with a warning; this library refuses to build the node.
        var t = new Tape();
        Vector one = t.Constant([3.0]);
        Matrix row = t.Constant(new double[,] { { 1, 2, 3 } });
        int before = t.NodeCount;
        var e = Assert.Throws<ArgumentException>(() => Ops.Variance(one));
        Assert.Contains("Variance", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("population", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Ops.StandardDeviation(one));
        var axis = Assert.Throws<ArgumentException>(() => Ops.StandardDeviation(row, 0));
        Assert.Contains("[1×3]", axis.Message, StringComparison.Ordinal);
        Assert.Contains("axis 0", axis.Message, StringComparison.Ordinal);
        Assert.Equal(before, t.NodeCount);
        // Over axis 1 the rows have 3 elements; the population statistics of one element are 0.
        Assert.Equal([1.0], Ops.Variance(row, 1).Value);
        Assert.Equal(0.0, Ops.PopulationVariance(one).Value);
        Assert.Equal([0.0, 0.0, 0.0], Ops.PopulationStandardDeviation(row, 0).Value);
    }

    [Fact]
    public void Axis_OutOfRange_ThrowsNamingTheAxis()
    {
        var t = new Tape();
        Matrix m = t.Constant(new double[,] { { 1, 2 }, { 3, 4 } });
        var e = Assert.Throws<ArgumentException>(() => Ops.Variance(m, 2));
        Assert.Contains("VarianceAxis: axis 2 of [2×2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_StatisticNodes_ShowAxisAndCorrection()
    {
        var t = new Tape();
        Matrix m = t.Constant(new double[,] { { 1, 2 }, { 3, 5 } });
        Ops.PopulationStandardDeviation(m, 1);
        Ops.Variance(m);
        Ops.LeakyRelu(m, 0.25);
        string text = t.Format();
        Assert.Contains("StandardDeviationAxis(axis 1, correction 0)", text, StringComparison.Ordinal);
        Assert.Contains("Variance(correction 1)", text, StringComparison.Ordinal);
        Assert.Contains("LeakyRelu(0.25)", text, StringComparison.Ordinal);
    }
}
