using System.Globalization;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// The local derivative of every op as text, one entry per <see cref="OpKind"/>: what a trace prints beside the
/// numbers that backward's own rules computed. The text states the rule of the op's family file (Ops/*.cs, whose XML
/// docs carry the same formulas); the numbers never come from here.
/// </summary>
/// <remarks>
/// <para>Notation. Elementwise ops: the derivative per element, in x (the input) and y (the node's value), or a and b
/// (the first and second input of a binary op), with the op's constant filled in: <c>3·x^2</c> for x^3. Given the
/// nodes' symbols (their names, or %id), the letters become them: for ŷ = σ(z), <c>σ(z)(1 − σ(z)) = ŷ(1 − ŷ)</c>, and
/// for w₁·x₁, ∂/∂w₁ reads <c>x₁</c> where the generic form would say b — a letter a reader may take for a bias. Every other
/// op: the vector-Jacobian product the rule computes from ḡ = ∂L/∂node, in the input's shape: <c>Mᵀ ḡ</c> for
/// ∂(M v)/∂v.</para>
/// <para>The switch has no default arm, so a new <see cref="OpKind"/> without an entry is a compile error (CS8509);
/// a test enumerates the kinds as well.</para>
/// </remarks>
internal static class LocalFormulas
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>
    /// ∂node/∂(input <paramref name="position"/>) of <paramref name="node"/>, whose inputs have the shapes
    /// <paramref name="inputs"/>. For a leaf (no inputs), what its step does.
    /// </summary>
    /// <param name="node">The node whose rule the formula states.</param>
    /// <param name="inputs">The shapes of its inputs, in order.</param>
    /// <param name="position">Which input the derivative is taken with respect to.</param>
    /// <param name="symbols">
    /// What to call the inputs (in order) and the node itself (last) in elementwise formulas, or null for the generic
    /// letters x, y, a, b.
    /// </param>
    internal static string For(NodeInfo node, IReadOnlyList<Shape> inputs, int position, IReadOnlyList<string>? symbols = null)
    {
        string formula = Fill(Core(node, inputs, position), symbols);
        bool elementwise = node.Op is >= OpKind.Add and <= OpKind.MinConstant;
        if (!elementwise || node.Shape.Length == 1) return formula;
        // The same formula at every element; a broadcast input receives the sum over the positions it was copied to.
        bool broadcast = position < inputs.Count && inputs[position].Length < node.Shape.Length;
        return formula + (broadcast ? ", per element, summed over the broadcast" : ", per element");
    }

#pragma warning disable CS8524 // unnamed enum values: not an OpKind; CS8509 still reports a named kind left out
    private static string Core(NodeInfo node, IReadOnlyList<Shape> inputs, int position)
    {
        double c = node.Constant;
        bool first = position == 0;
        Shape input = position < inputs.Count ? inputs[position] : node.Shape;
        return node.Op switch
        {
            // Leaves: no inputs, the formula says what the step does.
            OpKind.Constant => "none: a constant takes no gradient",
            OpKind.Parameter => node.Parameter is { } p ? $"∂L/∂{p.Name} is added into {p.Name}.Grad" : "∂L/∂p is added into Parameter.Grad",

            // Views: the rule is the identity on the input's storage.
            OpKind.Detach => "0: no gradient flows through Detach",
            OpKind.Element => $"ḡ placed at {ElementIndex((int)c, input)}, 0 elsewhere",
            OpKind.Row => $"ḡ placed in row {(int)c}, 0 elsewhere",
            OpKind.Reshape => $"ḡ reshaped to {input}",
            OpKind.Slice => input.Kind == ShapeKind.Matrix
                ? $"ḡ placed in rows {Range(c, node.Shape.Rows)}, 0 elsewhere"
                : $"ḡ placed in elements {Range(c, node.Shape.Rows)}, 0 elsewhere",

            // Binary elementwise (Ops/Arithmetic.cs).
            OpKind.Add => "1",
            OpKind.Subtract => first ? "1" : "−1",
            OpKind.Multiply => first ? "{b}" : "{a}",
            OpKind.Divide => first ? "1/{b}" : "−{a}/{b}²",
            OpKind.Power => first ? "{b}·{a}^({b} − 1)" : "{a}^{b}·ln {a} = {y}·ln {a}",
            OpKind.Maximum => first ? "1 if {a} > {b}, ½ if {a} = {b}, else 0" : "1 if {b} > {a}, ½ if {a} = {b}, else 0",
            OpKind.Minimum => first ? "1 if {a} < {b}, ½ if {a} = {b}, else 0" : "1 if {b} < {a}, ½ if {a} = {b}, else 0",

            // Unary elementwise (Ops/Elementwise.cs).
            OpKind.Negate => "−1",
            OpKind.AddConstant => "1",
            OpKind.MultiplyConstant => Number(c),
            OpKind.PowerConstant => PowerRule(c),
            OpKind.Exp => "e^{x} = {y}",
            OpKind.Log => "1/{x}",
            OpKind.Sqrt => "1/(2√{x}) = 1/(2·{y})",
            OpKind.Abs => "sign {x} (0 at {x} = 0)",
            OpKind.Square => "2·{x}",
            OpKind.Tanh => "1 − tanh² {x} = 1 − {y}²",
            OpKind.Sigmoid => "σ({x})(1 − σ({x})) = {y}(1 − {y})",
            OpKind.Relu => "1 if {x} > 0, else 0",
            OpKind.Softplus => "σ({x})",
            OpKind.LogSigmoid => "1 − σ({x}) = σ(−{x})",
            OpKind.Sin => "cos {x}",
            OpKind.Cos => "−sin {x}",
            OpKind.Tan => "1 + tan² {x} = 1 + {y}²",
            OpKind.Sinh => "cosh {x}",
            OpKind.Cosh => "sinh {x}",
            OpKind.Asin => "1/√(1 − {x}²)",
            OpKind.Acos => "−1/√(1 − {x}²)",
            OpKind.Atan => "1/(1 + {x}²)",
            OpKind.Log10 => "1/({x}·ln 10)",
            OpKind.Log2 => "1/({x}·ln 2)",
            OpKind.Sign or OpKind.Floor or OpKind.Ceiling or OpKind.Round => "0 (piecewise constant)",
            OpKind.LeakyRelu => $"1 if {{x}} > 0, else {Number(c)}",
            OpKind.Elu => $"1 if {{x}} > 0, else {Number(c)}·e^{{x}}",
            OpKind.Gelu => "Φ({x}) + {x}·φ({x})",
            OpKind.Silu => "σ({x})(1 + {x}·σ(−{x}))",
            OpKind.MaxConstant => $"1 if {{x}} ≥ {Number(c)}, else 0",
            OpKind.MinConstant => $"1 if {{x}} ≤ {Number(c)}, else 0",

            // Linear algebra (Ops/LinearAlgebra.cs): vector-Jacobian products.
            OpKind.Dot => first ? "ḡ·{b}" : "ḡ·{a}",
            OpKind.MatVec => first ? "ḡ vᵀ" : "Mᵀ ḡ",
            OpKind.MatMul => first ? "ḡ Bᵀ" : "Aᵀ ḡ",
            OpKind.Transpose => "ḡᵀ",

            // Reductions (Ops/Reductions.cs).
            OpKind.Sum => "ḡ at every element (∂Σx/∂xₖ = 1)",
            OpKind.Mean => $"ḡ/{input.Length} at every element",
            OpKind.SumAxis => (int)c == 0 ? "ḡ copied into every row" : "ḡᵢ at every element of row i",
            OpKind.MeanAxis => (int)c == 0
                ? $"ḡ/{input.Rows} copied into every row"
                : $"ḡᵢ/{input.Cols} at every element of row i",
            OpKind.LogSumExp => input.Kind == ShapeKind.Matrix ? "ḡᵢ·e^(x − yᵢ) = ḡᵢ·softmax(x), per row" : "ḡ·e^(x − y) = ḡ·softmax(x)",

            // Assembly and columns (Ops/Views.cs).
            OpKind.Concat => $"ḡ[{ConcatRange(inputs, position)}]",
            OpKind.Stack => node.Shape.Kind == ShapeKind.Matrix ? $"row {position} of ḡ" : $"ḡ[{position}]",
            OpKind.Column => $"ḡ placed in column {(int)c}, 0 elsewhere",
            OpKind.Columns => $"ḡ placed in columns {Range(c, node.Shape.Cols)}, 0 elsewhere",

            // Softmax family (Ops/Softmax.cs).
            OpKind.Softmax => node.Shape.Kind == ShapeKind.Matrix ? "y ⊙ (ḡ − ⟨ḡ, y⟩), per row" : "y ⊙ (ḡ − ⟨ḡ, y⟩)",
            OpKind.LogSoftmax => node.Shape.Kind == ShapeKind.Matrix ? "ḡ − e^y·Σḡ, per row" : "ḡ − e^y·Σḡ",

            // Statistics (Ops/Statistics.cs): x̄ the mean, y the result, n − c the divisor.
            OpKind.Variance => $"ḡ·2(x − x̄)/{Number(input.Length - c)}",
            OpKind.StandardDeviation => $"ḡ·(x − x̄)/({Number(input.Length - c)}·y) (0 where y = 0)",
            OpKind.VarianceAxis => AxisStatistic(input, (int)c, sqrt: false),
            OpKind.StandardDeviationAxis => AxisStatistic(input, (int)c, sqrt: true),

            // Fused losses (Losses/*.cs): p probabilities, z logits, t targets, n their count.
            OpKind.BinaryCrossEntropy => first
                ? $"ḡ·(p − t)/({input.Length}·p(1 − p))"
                : "none: the target takes no gradient",
            OpKind.BinaryCrossEntropyWithLogits => first
                ? $"ḡ·(σ(z) − t)/{input.Length}"
                : "none: the target takes no gradient",
            OpKind.SoftmaxCrossEntropy => $"ḡ·(softmax(x) − onehot(labels))/{(input.Kind == ShapeKind.Matrix ? input.Rows : 1)}, per row",

            // Fused model losses (Ops/ModelLosses.cs): inputs X, w (W), b[, y]; r the row residuals, n the rows of X.
            OpKind.LinearRegressionLoss => ModelLoss(position, inputs, "r = Xw + b − y", targetTakesGradient: true),
            OpKind.LogisticRegressionLoss => ModelLoss(position, inputs, "r = σ(Xw + b) − y", targetTakesGradient: false),
            OpKind.SoftmaxRegressionLoss => ModelLoss(position, inputs, "R = softmax(XW + b) − onehot(labels)", targetTakesGradient: false),

            // Extension point (Ops/CustomOp.cs).
            OpKind.Custom => $"{node.CustomOp?.Name ?? "custom"}.Backward: the custom op's own rule",
        };
    }
#pragma warning restore CS8524

    /// <summary>The vector-Jacobian products of a fused model loss with respect to X, w (W), b and y, by position.</summary>
    private static string ModelLoss(int position, IReadOnlyList<Shape> inputs, string residual, bool targetTakesGradient)
    {
        int n = inputs.Count > 0 ? inputs[0].Rows : 1;
        string rule = position switch
        {
            0 => $"ḡ·r wᵀ/{n} (row i: ḡ·rᵢ w/{n})",
            1 => $"ḡ·Xᵀ r/{n}",
            2 => $"ḡ·Σᵢ rᵢ/{n}",
            _ => targetTakesGradient ? $"−ḡ·r/{n}" : "none: the labels take no gradient",
        };
        return $"{rule}, {residual}";
    }

    /// <summary>
    /// The template's letters {x} and {a} (the first input), {b} (the second) and {y} (the node) replaced by
    /// <paramref name="symbols"/> (inputs in order, the node last), or by the generic letters. A symbol longer than
    /// one letter that holds an operator or a space is put in parentheses.
    /// </summary>
    private static string Fill(string template, IReadOnlyList<string>? symbols)
    {
        if (!template.Contains('{', StringComparison.Ordinal)) return template;
        string Symbol(int k, string generic) =>
            symbols is null || k >= symbols.Count ? generic : Wrap(symbols[k]);
        return template
            .Replace("{x}", Symbol(0, "x"), StringComparison.Ordinal)
            .Replace("{a}", Symbol(0, "a"), StringComparison.Ordinal)
            .Replace("{b}", Symbol(1, "b"), StringComparison.Ordinal)
            .Replace("{y}", symbols is null ? "y" : Wrap(symbols[^1]), StringComparison.Ordinal);

        static string Wrap(string symbol) =>
            symbol.Length > 1 && symbol.AsSpan().IndexOfAny(" +−-*/·^()") >= 0 ? $"({symbol})" : symbol;
    }

    /// <summary>c·x^(c − 1), simplified where that reads better: 0, 1, 2x.</summary>
    private static string PowerRule(double c) => c switch
    {
        0 => "0",
        1 => "1",
        2 => "2·{x}",
        _ => $"{Number(c)}·{{x}}^{Exponent(c - 1)}",
    };

    private static string Exponent(double e) =>
        e >= 0 && e == Math.Floor(e) ? Number(e) : $"({Number(e)})";

    /// <summary>A constant as the formulas write it: six significant digits, invariant culture, a true minus sign.</summary>
    internal static string Number(double c)
    {
        string s = c.ToString("G6", C);
        return s.StartsWith('-') ? "−" + s[1..] : s;
    }

    private static string Range(double start, int length) => string.Create(C, $"{(int)start}..{(int)start + length}");

    private static string ElementIndex(int index, Shape input) => input.Kind == ShapeKind.Matrix
        ? string.Create(C, $"[{index / input.Cols}, {index % input.Cols}]")
        : string.Create(C, $"[{index}]");

    private static string ConcatRange(IReadOnlyList<Shape> inputs, int position)
    {
        int start = 0;
        for (int k = 0; k < position && k < inputs.Count; k++) start += inputs[k].Length;
        int length = position < inputs.Count ? inputs[position].Length : 0;
        return Range(start, length);
    }

    /// <summary>The variance or standard deviation over one axis: Aux = axis + 2·correction.</summary>
    private static string AxisStatistic(Shape input, int aux, bool sqrt)
    {
        int axis = aux % 2, correction = aux / 2;
        int count = axis == 1 ? input.Cols : input.Rows;
        string group = axis == 1 ? "per row" : "per column";
        string divisor = Number(count - correction);
        return sqrt
            ? $"ḡ·(x − x̄)/({divisor}·y), {group} (0 where y = 0)"
            : $"ḡ·2(x − x̄)/{divisor}, {group}";
    }
}
