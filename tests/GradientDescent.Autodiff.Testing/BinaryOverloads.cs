using System.Reflection;

namespace GradientDescent.Autodiff.Testing;

/// <summary>What an operand of a binary op can be: a plain number, or a node of one of the three kinds.</summary>
/// <remarks>Ordered by broadcast rank: the result of a binary op has the larger kind of its two operands.</remarks>
public enum OperandKind
{
    /// <summary>A <see cref="double"/> constant.</summary>
    Double,
    /// <summary>A <see cref="Autodiff.Scalar"/> node.</summary>
    Scalar,
    /// <summary>A <see cref="Autodiff.Vector"/> node.</summary>
    Vector,
    /// <summary>A <see cref="Autodiff.Matrix"/> node.</summary>
    Matrix,
}

/// <summary>
/// One public binary overload the op set promises: an op (<c>Add</c>, …, <c>Min</c>), the kinds of its two operands,
/// and its form — the operator, its named twin on the result's type, or the <see cref="Ops"/> function.
/// </summary>
public sealed record BinaryOverload(string Op, OperandKind Left, OperandKind Right, string Form)
{
    /// <summary>The broadcast result: the larger of the two kinds.</summary>
    public OperandKind Result => (OperandKind)Math.Max((int)Left, (int)Right);

    /// <summary>"operator +(Vector, Matrix)" or "Ops.Pow(Double, Scalar)".</summary>
    public override string ToString() => Form == BinaryOverloads.Operator
        ? $"operator {BinaryOverloads.Symbol(Op)}({Left}, {Right})"
        : $"{(Form == BinaryOverloads.OpsFunction ? "Ops" : Result.ToString())}.{Op}({Left}, {Right})";
}

/// <summary>
/// The table of every binary op × every mix of operand kinds that broadcasts (a scalar or a number with anything, a
/// vector with a matrix, equal kinds; both orders; not two numbers), found by reflection over the public surface, so a
/// missing overload fails the test that walks the table; and a random case per overload for value and gradient checks.
/// </summary>
public static class BinaryOverloads
{
    /// <summary>Form of an operator (<c>a + b</c>).</summary>
    public const string Operator = "operator";
    /// <summary>Form of a named twin (<c>Vector.Add(a, b)</c>), declared on the result's type.</summary>
    public const string NamedTwin = "named";
    /// <summary>Form of an <see cref="Ops"/> function (<c>Ops.Pow(a, b)</c>).</summary>
    public const string OpsFunction = "Ops";

    /// <summary>The ops with an operator and a named twin.</summary>
    public static readonly string[] ArithmeticOps = ["Add", "Subtract", "Multiply", "Divide"];

    /// <summary>The binary ops that are <see cref="Ops"/> functions.</summary>
    public static readonly string[] FunctionOps = ["Pow", "Max", "Min"];

    private static readonly Dictionary<string, (string Method, string Symbol)> Operators = new()
    {
        ["Add"] = ("op_Addition", "+"),
        ["Subtract"] = ("op_Subtraction", "-"),
        ["Multiply"] = ("op_Multiply", "*"),
        ["Divide"] = ("op_Division", "/"),
    };

    internal static string Symbol(string op) => Operators[op].Symbol;

    /// <summary>Every overload the op set promises.</summary>
    public static IEnumerable<BinaryOverload> All()
    {
        OperandKind[] kinds = Enum.GetValues<OperandKind>();
        foreach (OperandKind left in kinds)
        {
            foreach (OperandKind right in kinds)
            {
                if (left == OperandKind.Double && right == OperandKind.Double) continue;
                foreach (string op in ArithmeticOps)
                {
                    yield return new BinaryOverload(op, left, right, Operator);
                    yield return new BinaryOverload(op, left, right, NamedTwin);
                }
                foreach (string op in FunctionOps) yield return new BinaryOverload(op, left, right, OpsFunction);
            }
        }
    }

    /// <summary>The CLR type of an operand kind.</summary>
    public static Type TypeOf(OperandKind kind) => kind switch
    {
        OperandKind.Double => typeof(double),
        OperandKind.Scalar => typeof(Scalar),
        OperandKind.Vector => typeof(Vector),
        _ => typeof(Matrix),
    };

    /// <summary>
    /// The public static method implementing <paramref name="overload"/> with the broadcast result type, or null: an
    /// operator on any of the three handle types (C# lets either operand's type declare it), a named twin on the
    /// result's type, an <see cref="Ops"/> function.
    /// </summary>
    public static MethodInfo? Find(BinaryOverload overload)
    {
        Type[] parameters = [TypeOf(overload.Left), TypeOf(overload.Right)];
        Type result = TypeOf(overload.Result);
        IEnumerable<Type> owners = overload.Form switch
        {
            Operator => [typeof(Scalar), typeof(Vector), typeof(Matrix)],
            NamedTwin => [result],
            _ => [typeof(Ops)],
        };
        string name = overload.Form == Operator ? Operators[overload.Op].Method : overload.Op;
        return owners
            .Select(t => t.GetMethod(name, BindingFlags.Public | BindingFlags.Static, parameters))
            .FirstOrDefault(m => m is not null && m.ReturnType == result);
    }

    /// <summary>Applies the overload to two operands (a <see cref="double"/> or a handle each).</summary>
    public static Node Apply(BinaryOverload overload, object left, object right)
    {
        MethodInfo method = Find(overload) ?? throw new InvalidOperationException($"{overload} is missing from the public surface.");
        try
        {
            return method.Invoke(null, [left, right]) switch
            {
                Scalar s => s,
                Vector v => v,
                Matrix m => m,
                var other => throw new InvalidOperationException($"{overload} returned {other?.GetType().Name ?? "null"}."),
            };
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>f(a, b) for one pair of elements, computed from the formula.</summary>
    public static double Reference(string op, double a, double b) => op switch
    {
        "Add" => a + b,
        "Subtract" => a - b,
        "Multiply" => a * b,
        "Divide" => a / b,
        "Pow" => Math.Pow(a, b),
        "Max" => Math.Max(a, b),
        "Min" => Math.Min(a, b),
        _ => throw new ArgumentException(op),
    };

    /// <summary>(∂f/∂a, ∂f/∂b) for one pair of elements, derived by hand (no ties for max/min).</summary>
    public static (double DA, double DB) Partials(string op, double a, double b) => op switch
    {
        "Add" => (1, 1),                                                          // ∂(a + b) = (1, 1)
        "Subtract" => (1, -1),                                                    // ∂(a − b) = (1, −1)
        "Multiply" => (b, a),                                                     // ∂(ab) = (b, a)
        "Divide" => (1 / b, -a / (b * b)),                                        // ∂(a/b) = (1/b, −a/b²)
        "Pow" => (b * Math.Pow(a, b - 1), Math.Pow(a, b) * Math.Log(a)),          // ∂(a^b) = (b·a^(b−1), a^b·ln a)
        "Max" => a > b ? (1, 0) : (0, 1),
        "Min" => a < b ? (1, 0) : (0, 1),
        _ => throw new ArgumentException(op),
    };
}

/// <summary>
/// A random instance of one overload: operands of random shapes and values in the op's domain (positive bases and
/// moderate exponents for a^b, divisors away from 0, max/min operands apart), a loss L = Σ wₖ·f(a, b)ₖ with random
/// constant weights, and the result and gradients computed independently from the formulas.
/// </summary>
public sealed class BinaryCase
{
    private readonly BinaryOverload _overload;
    private readonly double[] _left, _right, _weights;
    private readonly Parameter? _leftParameter, _rightParameter;

    /// <summary>Draws the case from <paramref name="seed"/>.</summary>
    public BinaryCase(BinaryOverload overload, int seed)
    {
        _overload = overload;
        var random = new Random(seed);
        Rows = random.Next(1, 4);
        Cols = random.Next(1, 4);
        (double lo, double hi, bool awayFromZero) leftDomain = overload.Op == "Pow" ? (0.5, 2.0, false) : (-2.0, 2.0, false);
        (double lo, double hi, bool awayFromZero) rightDomain = overload.Op == "Divide" ? (0.5, 2.0, true) : (-2.0, 2.0, false);
        do
        {
            _left = Draw(random, overload.Left, leftDomain);
            _right = Draw(random, overload.Right, rightDomain);
        }
        while (overload.Op is "Max" or "Min" && !Apart(_left, _right));
        _weights = Enumerable.Range(0, Length(overload.Result)).Select(_ => (random.Next(2) == 0 ? -1 : 1) * (0.5 + random.NextDouble())).ToArray();
        _leftParameter = MakeParameter("a", overload.Left, _left);
        _rightParameter = MakeParameter("b", overload.Right, _right);
    }

    /// <summary>Rows of a matrix operand.</summary>
    public int Rows { get; }

    /// <summary>Columns of a matrix operand, and the length of a vector operand (so that it broadcasts over the rows).</summary>
    public int Cols { get; }

    /// <summary>The parameters (the operands that are nodes).</summary>
    public IReadOnlyList<Parameter> Parameters => new[] { _leftParameter, _rightParameter }.OfType<Parameter>().ToArray();

    /// <summary>Records f(a, b) on <paramref name="tape"/>.</summary>
    public Node Result(Tape tape) => BinaryOverloads.Apply(_overload, Operand(tape, _overload.Left, _left, _leftParameter), Operand(tape, _overload.Right, _right, _rightParameter));

    /// <summary>L = Σ wₖ·f(a, b)ₖ.</summary>
    public Scalar Loss(Tape tape)
    {
        Node y = Result(tape);
        return y.Shape.Kind switch
        {
            ShapeKind.Scalar => y.AsScalar() * _weights[0],
            ShapeKind.Vector => Ops.Dot(y.AsVector(), tape.Constant(_weights)),
            _ => Ops.Sum(y.AsMatrix() * tape.Constant(_weights, y.Shape.Rows, y.Shape.Cols)),
        };
    }

    /// <summary>f(a, b), row-major, broadcast by hand: element (i, j) of the result combines each operand's element at (i, j), j or 0.</summary>
    public double[] ExpectedValue()
    {
        var y = new double[Length(_overload.Result)];
        for (int k = 0; k < y.Length; k++) y[k] = BinaryOverloads.Reference(_overload.Op, _left[Index(_overload.Left, k)], _right[Index(_overload.Right, k)]);
        return y;
    }

    /// <summary>∂L/∂p by hand: each operand element receives Σ wₖ·∂f/∂operand over the result elements it reached.</summary>
    public double[] ExpectedGradient(Parameter p)
    {
        bool left = ReferenceEquals(p, _leftParameter);
        var grad = new double[p.Value.Length];
        for (int k = 0; k < _weights.Length; k++)
        {
            int ia = Index(_overload.Left, k), ib = Index(_overload.Right, k);
            (double da, double db) = BinaryOverloads.Partials(_overload.Op, _left[ia], _right[ib]);
            if (left) grad[ia] += _weights[k] * da;
            else grad[ib] += _weights[k] * db;
        }
        return grad;
    }

    /// <summary>"operator +(Vector, Matrix) on 2×3".</summary>
    public override string ToString() => $"{_overload} on {Rows}×{Cols}: a = [{string.Join(", ", _left)}], b = [{string.Join(", ", _right)}]";

    private int Length(OperandKind kind) => kind switch
    {
        OperandKind.Double or OperandKind.Scalar => 1,
        OperandKind.Vector => Cols,
        _ => Rows * Cols,
    };

    /// <summary>The operand element that lines up with result element <paramref name="k"/> (row-major in the result's shape).</summary>
    private int Index(OperandKind kind, int k)
    {
        // A vector result has the vector's length, so its k is the vector's own index; a matrix result's k is i·Cols + j.
        return kind switch
        {
            OperandKind.Double or OperandKind.Scalar => 0,
            OperandKind.Vector => k % Cols,
            _ => k,
        };
    }

    private double[] Draw(Random random, OperandKind kind, (double Lo, double Hi, bool AwayFromZero) domain)
    {
        var values = new double[Length(kind)];
        for (int k = 0; k < values.Length; k++)
        {
            double v = domain.Lo + ((domain.Hi - domain.Lo) * random.NextDouble());
            values[k] = domain.AwayFromZero && random.Next(2) == 0 ? -v : v;
        }
        return values;
    }

    /// <summary>Whether no two values of the operands are within 0.05 (central differences would cross a max/min kink).</summary>
    private static bool Apart(double[] a, double[] b) => a.All(x => b.All(y => Math.Abs(x - y) >= 0.05));

    private Parameter? MakeParameter(string name, OperandKind kind, double[] values) => kind switch
    {
        OperandKind.Scalar => new ScalarParameter(name, values[0]),
        OperandKind.Vector => new VectorParameter(name, values),
        OperandKind.Matrix => new MatrixParameter(name, To2D(values, Rows, Cols)),
        _ => null,
    };

    private static object Operand(Tape tape, OperandKind kind, double[] values, Parameter? parameter) => kind switch
    {
        OperandKind.Double => values[0],
        OperandKind.Scalar => tape.Use((ScalarParameter)parameter!),
        OperandKind.Vector => tape.Use((VectorParameter)parameter!),
        _ => tape.Use((MatrixParameter)parameter!),
    };

    private static double[,] To2D(double[] flat, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int k = 0; k < flat.Length; k++) m[k / cols, k % cols] = flat[k];
        return m;
    }
}
