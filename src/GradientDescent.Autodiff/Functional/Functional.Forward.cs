namespace GradientDescent.Autodiff;

// Forward mode of the functional API: Jvp (the value and J·v in one forward pass) and JacobianForward (a column per
// tangent sweep). Each records f once on a fresh tape and runs Tape.Jvp's sweep over it; the reverse half and the
// class summary are in Functional.cs.
public static partial class Functional
{
    // ------------------------------------------------------------------ forward mode over a plain vector

    /// <summary>
    /// The value of f: ℝⁿ → ℝᵐ at <paramref name="x"/> and its directional derivative J_f(x)·v along
    /// <paramref name="v"/>, in one forward pass with tangents (JAX's <c>jax.jvp</c>, PyTorch's <c>torch.func.jvp</c>):
    /// <c>Functional.Jvp((tape, x) => Ops.Sin(x), [0.0, 1.0], [1.0, 1.0])</c> is ([0, sin 1], [1, cos 1]).
    /// </summary>
    /// <param name="f">Records f on the tape it is given, from the input node it is given.</param>
    /// <param name="x">The point (not changed).</param>
    /// <param name="v">The direction, one element per element of <paramref name="x"/>.</param>
    /// <returns>f(x), and J_f(x)·v = Σⱼ (∂f/∂xⱼ)·vⱼ, one element per output element (row-major for a matrix output).</returns>
    public static (double[] Value, double[] Tangent) Jvp(Func<Tape, Vector, Vector> f, double[] x, double[] v)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = Point(x, "Jvp");
        CheckDirection(x, v);
        var tape = new Tape();
        Node output = f(tape, tape.Use(p));
        var tangent = new double[output.Shape.Length];
        tape.Jvp(output, [p], [v], tangent);
        return (output.ToArray(), tangent);
    }

    /// <summary>
    /// The value of a scalar function f: ℝⁿ → ℝ at <paramref name="x"/> and its directional derivative ∇f(x)·v, in one
    /// forward pass (see <see cref="Jvp(Func{Tape, Vector, Vector}, double[], double[])"/>).
    /// </summary>
    public static (double Value, double Tangent) Jvp(Func<Tape, Vector, Scalar> f, double[] x, double[] v)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = Point(x, "Jvp");
        CheckDirection(x, v);
        var tape = new Tape();
        Scalar output = f(tape, tape.Use(p));
        return (output.Value, tape.Jvp(output, [p], [v]));
    }

    /// <summary>
    /// The value of f: ℝ → ℝ at <paramref name="x"/> and f′(x)·v, in one forward pass (dual numbers):
    /// <c>Functional.Jvp((tape, x) => Ops.Sin(x), 0.5)</c> is (sin 0.5, cos 0.5).
    /// </summary>
    public static (double Value, double Tangent) Jvp(Func<Tape, Scalar, Scalar> f, double x, double v = 1)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = new ScalarParameter("x", x);
        var tape = new Tape();
        Scalar output = f(tape, tape.Use(p));
        return (output.Value, tape.Jvp(output, [p], [[v]]));
    }

    /// <summary>
    /// The Jacobian J_f(x) (m × n, Jᵢⱼ = ∂fᵢ/∂xⱼ) of f: ℝⁿ → ℝᵐ by forward mode (JAX's <c>jax.jacfwd</c>): f is recorded
    /// once and a tangent sweep runs per input direction eⱼ, filling column j. The cheaper mode when n ≤ m; the
    /// reverse <see cref="Jacobian(Func{Tape, Vector, Vector}, double[])"/> fills a row per backward pass. Both give
    /// the same matrix (to rounding).
    /// </summary>
    /// <returns>J, m × n, rows in the output's row-major order.</returns>
    public static double[,] JacobianForward(Func<Tape, Vector, Vector> f, double[] x)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = Point(x, "JacobianForward");
        var tape = new Tape();
        Node output = f(tape, tape.Use(p));
        return ColumnsByTangents(tape, output, [p]);
    }

    // ------------------------------------------------------------------ forward mode over parameters

    /// <summary>
    /// The value of a function of parameters (a model's output or loss, recorded by <paramref name="f"/> through
    /// <c>tape.Use(p)</c>) and its directional derivative along <paramref name="tangents"/>, one array per parameter
    /// (as the v of <see cref="HessianVectorProduct(Func{Tape, Scalar}, IReadOnlyList{Parameter}, IReadOnlyList{double[]})"/>),
    /// in one forward pass. Parameters used but not listed are held fixed.
    /// </summary>
    /// <returns>The output's value and its tangent J·v, row-major.</returns>
    public static (double[] Value, double[] Tangent) Jvp(Func<Tape, Node> f, IReadOnlyList<Parameter> parameters, IReadOnlyList<double[]> tangents)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(tangents);
        Check(parameters, "Jvp");
        var tape = new Tape();
        Node output = f(tape);
        var tangent = new double[output.Shape.Length];
        tape.Jvp(output, [.. parameters], [.. tangents], tangent);
        return (output.ToArray(), tangent);
    }

    /// <summary>
    /// The Jacobian of a function of parameters by forward mode, a tangent sweep per column: one row per output element
    /// (row-major), one column per element of the parameters taken in order, as the reverse
    /// <see cref="Jacobian(Func{Tape, Node}, IReadOnlyList{Parameter})"/>.
    /// </summary>
    public static double[,] JacobianForward(Func<Tape, Node> f, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        Check(parameters, "JacobianForward");
        var tape = new Tape();
        Node output = f(tape);
        return ColumnsByTangents(tape, output, [.. parameters]);
    }

    private static void CheckDirection(double[] x, double[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Length != x.Length)
        {
            throw new ArgumentException($"Jvp: the direction has {v.Length} elements but the point has {x.Length}; pass one tangent element per input element.", nameof(v));
        }
    }

    /// <summary>J column by column: one tangent sweep over the recorded tape per element of the parameters, seeded with that unit direction.</summary>
    private static double[,] ColumnsByTangents(Tape tape, Node output, Parameter[] parameters)
    {
        int m = output.Shape.Length;
        var seeds = new double[parameters.Length][];
        for (int k = 0; k < parameters.Length; k++) seeds[k] = new double[parameters[k].Value.Length];
        var jacobian = new double[m, TotalLength(parameters)];
        var column = new double[m];
        int j = 0;
        for (int k = 0; k < parameters.Length; k++)
        {
            for (int e = 0; e < seeds[k].Length; e++, j++)
            {
                seeds[k][e] = 1;
                tape.Jvp(output, parameters, seeds, column);
                seeds[k][e] = 0;
                for (int r = 0; r < m; r++) jacobian[r, j] = column[r];
            }
        }
        return jacobian;
    }
}
