namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// An operand while recording: a node of the tape, or a number (a constant subtree, already evaluated), so that
/// x·2 records the op x·c and x^2 the op x^c, as a reader would write them with the library.
/// </summary>
internal readonly record struct Operand(Scalar? Node, double Value)
{
    /// <summary>Whether the operand is a number, not a node.</summary>
    public bool IsNumber => Node is null;

    /// <summary>The operand's value: the number, or the node's value.</summary>
    public double Number => Node?.Value ?? Value;

    /// <summary>The node (the caller knows the operand is one).</summary>
    public Scalar Scalar => Node ?? throw new InvalidOperationException("Expression: a number where a tape node was expected (a bug in the recorder).");
}

/// <summary>
/// A function a formula may call: its name, how many arguments it takes, which of them must be numbers (not
/// differentiated: leaky_relu's slope, elu's α, clamp's bounds), and how it records.
/// </summary>
internal sealed class FunctionInfo(string name, int minArguments, int maxArguments, int firstNumberArgument, string math, Func<Operand[], Scalar> record)
{
    /// <summary>The name as typed.</summary>
    public string Name { get; } = name;

    /// <summary>Fewest arguments.</summary>
    public int MinArguments { get; } = minArguments;

    /// <summary>Most arguments.</summary>
    public int MaxArguments { get; } = maxArguments;

    /// <summary>Arguments from this index on must be constants (no variable); int.MaxValue for none.</summary>
    public int FirstNumberArgument { get; } = firstNumberArgument;

    /// <summary>The math, for help texts: "σ(x) = 1/(1 + e^−x)".</summary>
    public string Math { get; } = math;

    /// <summary>Records the call on the operands' tape (every non-number operand is a node of it).</summary>
    public Func<Operand[], Scalar> Record { get; } = record;

    /// <summary>"sin(x)", "max(a, b)", "leaky_relu(x[, slope])".</summary>
    public string Signature => Name switch
    {
        "max" or "min" or "pow" => $"{Name}(a, b)",
        "leaky_relu" => "leaky_relu(x[, slope])",
        "elu" => "elu(x[, alpha])",
        "clamp" => "clamp(x, lo, hi)",
        _ => $"{Name}(x)",
    };
}

/// <summary>
/// Every function a formula may call, each recorded by the <see cref="Ops"/> function of the same name (so its
/// derivative is the library's rule), and the named constants pi and e.
/// </summary>
internal static class Functions
{
    private static FunctionInfo Unary(string name, string math, Func<Scalar, Scalar> op) =>
        new(name, 1, 1, int.MaxValue, math, a => op(a[0].Scalar));

    /// <summary>A two-argument function of nodes or numbers: a node and a node, a node and a number, a number and a node.</summary>
    private static FunctionInfo Binary(string name, string math, Func<Scalar, Scalar, Scalar> both, Func<Scalar, double, Scalar> nodeNumber, Func<double, Scalar, Scalar> numberNode) =>
        new(name, 2, 2, int.MaxValue, math, a =>
            a[0].IsNumber ? numberNode(a[0].Value, a[1].Scalar)
            : a[1].IsNumber ? nodeNumber(a[0].Scalar, a[1].Value)
            : both(a[0].Scalar, a[1].Scalar));

    /// <summary>The table, in the order help texts list it.</summary>
    internal static readonly FunctionInfo[] All =
    [
        Unary("exp", "e^x", Ops.Exp),
        Unary("log", "ln x (natural logarithm)", Ops.Log),
        Unary("log2", "log₂ x", Ops.Log2),
        Unary("log10", "log₁₀ x", Ops.Log10),
        Unary("sqrt", "√x", Ops.Sqrt),
        Unary("square", "x²", Ops.Square),
        Unary("abs", "|x|", Ops.Abs),
        Unary("sign", "sign x (−1, 0, 1; derivative 0)", Ops.Sign),
        Unary("floor", "⌊x⌋ (derivative 0)", Ops.Floor),
        Unary("ceil", "⌈x⌉ (derivative 0)", Ops.Ceiling),
        Unary("round", "x rounded, halves to even (derivative 0)", Ops.Round),
        Unary("sin", "sin x", Ops.Sin),
        Unary("cos", "cos x", Ops.Cos),
        Unary("tan", "tan x", Ops.Tan),
        Unary("asin", "arcsin x", Ops.Asin),
        Unary("acos", "arccos x", Ops.Acos),
        Unary("atan", "arctan x", Ops.Atan),
        Unary("sinh", "sinh x", Ops.Sinh),
        Unary("cosh", "cosh x", Ops.Cosh),
        Unary("tanh", "tanh x", Ops.Tanh),
        Unary("sigmoid", "σ(x) = 1/(1 + e^−x)", Ops.Sigmoid),
        Unary("logsigmoid", "ln σ(x)", Ops.LogSigmoid),
        Unary("softplus", "ln(1 + e^x)", Ops.Softplus),
        Unary("relu", "max(x, 0)", Ops.Relu),
        new("leaky_relu", 1, 2, 1, "x for x > 0, else slope·x (slope a number, default 0.01)",
            a => Ops.LeakyRelu(a[0].Scalar, a.Length > 1 ? a[1].Number : 0.01)),
        new("elu", 1, 2, 1, "x for x > 0, else α(e^x − 1) (α a number, default 1)",
            a => Ops.Elu(a[0].Scalar, a.Length > 1 ? a[1].Number : 1)),
        Unary("gelu", "x·Φ(x), Φ the standard normal distribution function", Ops.Gelu),
        Unary("silu", "x·σ(x)", Ops.Silu),
        new("clamp", 3, 3, 1, "min(max(x, lo), hi) (lo ≤ hi, numbers)", a => Ops.Clamp(a[0].Scalar, a[1].Number, a[2].Number)),
        Binary("max", "the larger of a and b", Ops.Max, Ops.Max, Ops.Max),
        Binary("min", "the smaller of a and b", Ops.Min, Ops.Min, Ops.Min),
        Binary("pow", "a^b (as a^b)", Ops.Pow, Ops.Pow, Ops.Pow),
    ];

    private static readonly Dictionary<string, FunctionInfo> ByName = All.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>The function called <paramref name="name"/>, or null.</summary>
    internal static FunctionInfo? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The named constants: pi = π and e = Euler's number, the nearest doubles.</summary>
    internal static double? Constant(string name) => name switch
    {
        "pi" => Math.PI,
        "e" => Math.E,
        _ => null,
    };

    /// <summary>The names nearest <paramref name="name"/> (edit distance, case ignored), for "did you mean …?"; empty when none is close.</summary>
    internal static IReadOnlyList<string> Nearest(string name)
    {
        string lower = name.ToLowerInvariant();
        if (Synonyms.TryGetValue(lower, out string? synonym)) return [synonym];
        if (lower.Length > 40) return [];
        var scored = All.Select(f => (f.Name, Distance: EditDistance(lower, f.Name))).ToList();
        int best = scored.Min(s => s.Distance);
        // Close means at most a third of the name's letters changed (and at least one edit allowed): "sigmod", "Tanh", "ln" → log.
        if (best > Math.Max(1, Math.Max(lower.Length, 3) / 3)) return [];
        return [.. scored.Where(s => s.Distance == best).Select(s => s.Name)];
    }

    /// <summary>Other names for the functions, as other languages and papers spell them.</summary>
    private static readonly Dictionary<string, string> Synonyms = new(StringComparer.Ordinal)
    {
        ["ln"] = "log",
        ["arcsin"] = "asin",
        ["arccos"] = "acos",
        ["arctan"] = "atan",
        ["ceiling"] = "ceil",
        ["sgn"] = "sign",
        ["sigma"] = "sigmoid",
        ["logistic"] = "sigmoid",
        ["expit"] = "sigmoid",
        ["swish"] = "silu",
        ["log_sigmoid"] = "logsigmoid",
        ["leakyrelu"] = "leaky_relu",
        ["power"] = "pow",
        ["maximum"] = "max",
        ["minimum"] = "min",
        ["clip"] = "clamp",
    };

    /// <summary>Levenshtein distance with adjacent transpositions (optimal string alignment).</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
