namespace GradientDescent.Autodiff;

/// <summary>
/// Derivatives of functions, as a JAX or PyTorch (<c>torch.func</c>, <c>torch.autograd.functional</c>) user expects
/// them: <see cref="Grad(Func{Tape, Vector, Scalar}, double[])"/>, <see cref="ValueAndGrad(Func{Tape, Vector, Scalar}, double[])"/>,
/// <see cref="Vjp(Func{Tape, Vector, Vector}, double[], double[])"/>, <see cref="Jacobian(Func{Tape, Vector, Vector}, double[])"/>,
/// <see cref="Hessian(Func{Tape, Vector, Scalar}, double[])"/>, <see cref="HessianVectorProduct(Func{Tape, Vector, Scalar}, double[], double[])"/>
/// and <see cref="Derivative"/> in reverse mode; <see cref="Jvp(Func{Tape, Vector, Vector}, double[], double[])"/> and
/// <see cref="JacobianForward(Func{Tape, Vector, Vector}, double[])"/> in forward mode (Functional.Forward.cs);
/// <see cref="HessianVectorProductForward(Func{Tape, Vector, Scalar}, double[], double[])"/> forward-over-reverse.
/// </summary>
/// <remarks>
/// <para>Two forms. Over a function of a plain vector, <c>Func&lt;Tape, Vector, Scalar&gt;</c>: the function records
/// itself on the tape it is given, from the input node it is given, and the result is plain arrays:
/// <c>Functional.Grad((tape, x) => Ops.Sum(Ops.Square(x)), [1.0, 2.0])</c> is [2, 4]. Over parameters,
/// <c>Func&lt;Tape, Scalar&gt;</c> with a list of <see cref="Parameter"/>s: the function uses them through
/// <c>tape.Use(p)</c> (a model's loss, as written for training), and the result has one array per parameter, or one
/// row and column per element of the parameters taken in order for a Hessian or a Jacobian. Parameters used but not
/// listed are held fixed. Neither form changes a parameter's value or its <see cref="Parameter.Grad"/>.</para>
/// <para>Each call records the function on a fresh tape. First-order results use the fast backward pass.
/// Second-order ones are reverse-over-reverse: one create-graph backward
/// (<see cref="Tape.Grad(Scalar, IReadOnlyList{Node}, bool)"/>) records the gradient g(x) as nodes, then a fast
/// backward from g seeded with v gives H v = ∂⟨g, v⟩/∂x (a Hessian-vector product costs a small multiple of one
/// gradient, the cheap-gradient principle), and a Hessian is n of those with v = eᵢ, one row each.
/// <see cref="HessianVectorProductForward(Func{Tape, Scalar}, IReadOnlyList{Parameter}, IReadOnlyList{double[]})"/> is
/// forward-over-reverse instead (JAX's choice): one tangent sweep along v through the recorded gradient. Both give H v to
/// rounding (the tests hold them to 10⁻¹⁰ of each other on random graphs); reverse-over-reverse is the default here
/// because the fast backward is this library's most optimised loop (the hvp benchmark row times both).</para>
/// </remarks>
public static partial class Functional
{
    // ------------------------------------------------------------------ over a plain vector

    /// <summary>∇f(x) for f: ℝⁿ → ℝ (JAX's <c>jax.grad</c>): <c>Functional.Grad((tape, x) => Ops.Sum(Ops.Square(x)), [1.0, 2.0])</c> is [2, 4].</summary>
    /// <param name="f">Records f on the tape it is given, from the input node it is given.</param>
    /// <param name="x">The point (not changed).</param>
    public static double[] Grad(Func<Tape, Vector, Scalar> f, double[] x) => ValueAndGrad(f, x).Gradient;

    /// <summary>f(x) and ∇f(x) from one forward and one backward pass (JAX's <c>jax.value_and_grad</c>).</summary>
    public static (double Value, double[] Gradient) ValueAndGrad(Func<Tape, Vector, Scalar> f, double[] x)
    {
        var (p, g) = OverVector(f, x);
        var (value, grads) = ValueAndGrad(g, [p]);
        return (value, grads[0]);
    }

    /// <summary>
    /// f(x) and the vector-Jacobian product uᵀJ_f(x) = Σᵢ uᵢ ∇fᵢ(x) for f: ℝⁿ → ℝᵐ, from one backward pass seeded with
    /// <paramref name="u"/> (JAX's <c>jax.vjp</c>, PyTorch's <c>torch.autograd.functional.vjp</c>).
    /// </summary>
    /// <param name="f">Records f on the tape it is given, from the input node it is given.</param>
    /// <param name="x">The point (not changed).</param>
    /// <param name="u">The cotangent, one element per output element.</param>
    public static (double[] Value, double[] Vjp) Vjp(Func<Tape, Vector, Vector> f, double[] x, double[] u)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = Point(x, "Vjp");
        var (value, vjp) = Vjp(tape => f(tape, tape.Use(p)), [p], u);
        return (value, vjp[0]);
    }

    /// <summary>
    /// The Jacobian J_f(x) (m × n, Jᵢⱼ = ∂fᵢ/∂xⱼ) of f: ℝⁿ → ℝᵐ by reverse mode: f is recorded once and a backward pass
    /// seeded with eᵢ fills row i (JAX's <c>jax.jacrev</c>): the cheaper mode when m ≤ n.
    /// </summary>
    public static double[,] Jacobian(Func<Tape, Vector, Vector> f, double[] x)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = Point(x, "Jacobian");
        return Jacobian(tape => f(tape, tape.Use(p)), [p]);
    }

    /// <summary>
    /// The Hessian ∇²f(x) (n × n, Hᵢⱼ = ∂²f/∂xᵢ∂xⱼ) of f: ℝⁿ → ℝ, reverse-over-reverse: the gradient recorded once with
    /// create-graph, then one fast backward pass per row (JAX's <c>jax.hessian</c>, PyTorch's
    /// <c>torch.autograd.functional.hessian</c>). Each row is computed on its own, so H is symmetric to rounding.
    /// </summary>
    public static double[,] Hessian(Func<Tape, Vector, Scalar> f, double[] x)
    {
        var (p, g) = OverVector(f, x);
        return Hessian(g, [p]);
    }

    /// <summary>
    /// The Hessian-vector product ∇²f(x)·v without forming the Hessian, reverse-over-reverse: the gradient g(x)
    /// recorded with create-graph, then one backward pass from g seeded with v gives ∂⟨g, v⟩/∂x = H v (Pearlmutter's
    /// trick; a few times the cost of one gradient).
    /// </summary>
    public static double[] HessianVectorProduct(Func<Tape, Vector, Scalar> f, double[] x, double[] v)
    {
        var (p, g) = OverVector(f, x);
        return HessianVectorProduct(g, [p], [v])[0];
    }

    /// <summary>
    /// The <paramref name="order"/>-th derivative of f: ℝ → ℝ at <paramref name="x"/>, by repeated create-graph backward
    /// (grad of grad …): <c>Functional.Derivative((tape, x) => Ops.Sin(x), 0.5, order: 3)</c> is −cos 0.5.
    /// </summary>
    public static double Derivative(Func<Tape, Scalar, Scalar> f, double x, int order = 1)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        var tape = new Tape();
        var p = new ScalarParameter("x", x);
        Scalar input = tape.Use(p);
        Scalar d = f(tape, input);
        for (int k = 0; k < order; k++)
        {
            // A derivative that no longer depends on x is constant: every higher one is 0.
            if (!d.Handle.RequiresGrad) return 0;
            d = tape.Grad(d, input, createGraph: k < order - 1);
        }
        return d.Value;
    }

    // ------------------------------------------------------------------ over parameters

    /// <summary>
    /// ∂f/∂p for each parameter, f a scalar function of parameters recorded by <paramref name="f"/> through
    /// <c>tape.Use(p)</c> (a model's loss as written for training). <see cref="Parameter.Grad"/> is left as it was.
    /// </summary>
    /// <returns>One array per parameter, row-major, of the parameter's length.</returns>
    public static double[][] Grad(Func<Tape, Scalar> f, IReadOnlyList<Parameter> parameters) => ValueAndGrad(f, parameters).Gradients;

    /// <summary>f and ∂f/∂p for each parameter (see <see cref="Grad(Func{Tape, Scalar}, IReadOnlyList{Parameter})"/>).</summary>
    public static (double Value, double[][] Gradients) ValueAndGrad(Func<Tape, Scalar> f, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        Check(parameters, "ValueAndGrad");
        var tape = new Tape();
        Scalar loss = f(tape);
        return (loss.Value, BackwardInto(tape, loss, [1.0], parameters, retain: false));
    }

    /// <summary>
    /// The output of a function of parameters and uᵀJ = Σᵢ uᵢ ∂outputᵢ/∂p for each parameter, from one backward pass
    /// seeded with <paramref name="u"/> (one element per output element, row-major).
    /// </summary>
    public static (double[] Value, double[][] Vjp) Vjp(Func<Tape, Node> f, IReadOnlyList<Parameter> parameters, double[] u)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(u);
        Check(parameters, "Vjp");
        var tape = new Tape();
        Node output = f(tape);
        if (u.Length != output.Shape.Length)
        {
            throw new ArgumentException(
                $"Vjp: the cotangent has {u.Length} elements but the output has shape {output.Shape} ({output.Shape.Length} elements); pass one value per output element.", nameof(u));
        }
        return (output.ToArray(), BackwardInto(tape, output, u, parameters, retain: false));
    }

    /// <summary>
    /// The Jacobian of a function of parameters by reverse mode: one row per output element (row-major), one column per
    /// element of the parameters taken in order; a backward pass per row.
    /// </summary>
    public static double[,] Jacobian(Func<Tape, Node> f, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        Check(parameters, "Jacobian");
        var tape = new Tape();
        Node output = f(tape);
        int m = output.Shape.Length, n = TotalLength(parameters);
        var jacobian = new double[m, n];
        var seed = new double[m];
        for (int i = 0; i < m; i++)
        {
            seed[i] = 1;
            Fill(jacobian, i, BackwardInto(tape, output, seed, parameters, retain: i < m - 1));
            seed[i] = 0;
        }
        return jacobian;
    }

    /// <summary>
    /// The Hessian of a scalar function of parameters, one row and column per element of the parameters taken in order
    /// (row-major within each): reverse-over-reverse (see <see cref="Hessian(Func{Tape, Vector, Scalar}, double[])"/>).
    /// For logistic regression it is XᵀSX/m, S = diag(ŷ(1 − ŷ)); Newton's method steps by −H⁻¹∇f.
    /// </summary>
    public static double[,] Hessian(Func<Tape, Scalar> f, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        Check(parameters, "Hessian");
        var (tape, gradient) = RecordGradient(f, parameters);
        int n = TotalLength(parameters);
        var hessian = new double[n, n];
        if (!gradient.RequiresGrad) return hessian; // the gradient is constant: f is affine in the parameters
        var seed = new double[n];
        for (int i = 0; i < n; i++)
        {
            seed[i] = 1;
            Fill(hessian, i, BackwardInto(tape, gradient, seed, parameters, retain: i < n - 1));
            seed[i] = 0;
        }
        return hessian;
    }

    /// <summary>
    /// The Hessian-vector product H·v of a scalar function of parameters, <paramref name="v"/> one array per parameter
    /// (as the tangents of <c>Jvp</c>), reverse-over-reverse (see
    /// <see cref="HessianVectorProduct(Func{Tape, Vector, Scalar}, double[], double[])"/>).
    /// </summary>
    /// <returns>H v, one array per parameter.</returns>
    public static double[][] HessianVectorProduct(Func<Tape, Scalar> f, IReadOnlyList<Parameter> parameters, IReadOnlyList<double[]> v)
    {
        ArgumentNullException.ThrowIfNull(f);
        double[] seed = Direction(parameters, v, "HessianVectorProduct");
        var (tape, gradient) = RecordGradient(f, parameters);
        if (!gradient.RequiresGrad) return [.. parameters.Select(p => new double[p.Value.Length])];
        return BackwardInto(tape, gradient, seed, parameters, retain: false);
    }

    /// <summary>
    /// H·v by forward-over-reverse (JAX's choice for <c>hvp</c>): the gradient g(θ) recorded with create-graph as in
    /// <see cref="HessianVectorProduct(Func{Tape, Scalar}, IReadOnlyList{Parameter}, IReadOnlyList{double[]})"/>, then
    /// one forward tangent sweep along v (<see cref="Tape.Jvp(Node, ReadOnlySpan{Parameter}, ReadOnlySpan{double[]}, Span{double})"/>)
    /// gives d/dt g(θ + t v) = H v. The same number to rounding; it needs every op on the way, the recorded rules'
    /// included, to have a forward rule (a custom op needs <see cref="CustomOp.Jvp"/> and <see cref="CustomOp.RecordBackward"/>).
    /// </summary>
    /// <returns>H v, one array per parameter.</returns>
    public static double[][] HessianVectorProductForward(Func<Tape, Scalar> f, IReadOnlyList<Parameter> parameters, IReadOnlyList<double[]> v)
    {
        ArgumentNullException.ThrowIfNull(f);
        double[] direction = Direction(parameters, v, "HessianVectorProductForward");
        var (tape, gradient) = RecordGradient(f, parameters);
        var hv = new double[direction.Length];
        if (gradient.RequiresGrad) tape.Jvp(gradient, [.. parameters], [.. v], hv);
        var result = new double[parameters.Count][];
        int at = 0;
        for (int k = 0; k < result.Length; k++)
        {
            result[k] = hv[at..(at + parameters[k].Value.Length)];
            at += result[k].Length;
        }
        return result;
    }

    /// <summary>H·v of f: ℝⁿ → ℝ by forward-over-reverse (see <see cref="HessianVectorProductForward(Func{Tape, Scalar}, IReadOnlyList{Parameter}, IReadOnlyList{double[]})"/>).</summary>
    public static double[] HessianVectorProductForward(Func<Tape, Vector, Scalar> f, double[] x, double[] v)
    {
        var (p, g) = OverVector(f, x);
        return HessianVectorProductForward(g, [p], [v])[0];
    }

    /// <summary>The direction v, one array per parameter, checked and joined in the parameters' order.</summary>
    private static double[] Direction(IReadOnlyList<Parameter> parameters, IReadOnlyList<double[]> v, string caller)
    {
        ArgumentNullException.ThrowIfNull(v);
        Check(parameters, caller);
        if (v.Count != parameters.Count)
        {
            throw new ArgumentException($"{caller}: {v.Count} direction arrays for {parameters.Count} parameters; pass one per parameter.", nameof(v));
        }
        var seed = new double[TotalLength(parameters)];
        int at = 0;
        for (int k = 0; k < parameters.Count; k++)
        {
            if (v[k] is null || v[k].Length != parameters[k].Value.Length)
            {
                throw new ArgumentException(
                    $"{caller}: direction {k} has {v[k]?.Length ?? 0} elements but parameter {parameters[k].Name} {parameters[k].Shape} has {parameters[k].Value.Length}.", nameof(v));
            }
            v[k].CopyTo(seed, at);
            at += v[k].Length;
        }
        return seed;
    }

    // ------------------------------------------------------------------ the machinery

    /// <summary>A fresh parameter holding a copy of <paramref name="x"/>, the variable of a function of a plain vector.</summary>
    private static VectorParameter Point(double[] x, string caller)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Length == 0) throw new ArgumentException($"{caller}: the point needs at least one element.", nameof(x));
        return new VectorParameter("x", (double[])x.Clone());
    }

    private static (VectorParameter P, Func<Tape, Scalar> F) OverVector(Func<Tape, Vector, Scalar> f, double[] x)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = Point(x, "Functional");
        return (p, tape => f(tape, tape.Use(p)));
    }

    private static void Check(IReadOnlyList<Parameter> parameters, string caller)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException($"{caller}: pass at least one parameter to differentiate with respect to.", nameof(parameters));
        if (parameters.Distinct().Count() != parameters.Count)
        {
            throw new ArgumentException($"{caller}: a parameter is listed twice; list each once.", nameof(parameters));
        }
    }

    private static int TotalLength(IReadOnlyList<Parameter> parameters) => parameters.Sum(p => p.Value.Length);

    private static void Fill(double[,] matrix, int row, double[][] parts)
    {
        int j = 0;
        foreach (double[] part in parts)
        {
            foreach (double value in part) matrix[row, j++] = value;
        }
    }

    /// <summary>The leaves of <paramref name="parameter"/> on the tape that take a gradient (a parameter may be used more than once).</summary>
    private static List<Node> Leaves(Tape tape, Parameter parameter)
    {
        var leaves = new List<Node>();
        for (int i = 0; i < tape.Count; i++)
        {
            ref readonly NodeRecord n = ref tape.Nodes[i];
            if (n.Op == OpKind.Parameter && n.RequiresGrad && ReferenceEquals(tape.ParameterTable[n.A], parameter)) leaves.Add(new Node(tape, i));
        }
        return leaves;
    }

    /// <summary>
    /// Records f, then its gradient with create-graph, as one vector node G: the gradients of each parameter's leaves
    /// summed, flattened and joined in the parameters' order (zeros for a parameter f does not use).
    /// </summary>
    private static (Tape Tape, Node Gradient) RecordGradient(Func<Tape, Scalar> f, IReadOnlyList<Parameter> parameters)
    {
        var tape = new Tape();
        Scalar loss = f(tape);
        var leaves = parameters.Select(p => Leaves(tape, p)).ToArray();
        Node[] all = [.. leaves.SelectMany(l => l)];
        Node[] grads = all.Length > 0 && loss.Handle.RequiresGrad ? tape.Grad(loss, all, createGraph: true) : [];
        var parts = new Vector[parameters.Count];
        int at = 0;
        for (int k = 0; k < parameters.Count; k++)
        {
            Node? sum = null;
            for (int l = 0; l < leaves[k].Count; l++, at++)
            {
                Node g = grads.Length > 0 ? grads[at] : default;
                if (g.TapeOrNull is null) continue;
                sum = sum is { } s ? RecordedGradients.Plus(s, g) : g;
            }
            int length = parameters[k].Value.Length;
            parts[k] = sum is { } total
                ? new Vector(total.Shape.Kind == ShapeKind.Vector ? total : Views.Reshape(total, Shape.Vector(length)))
                : tape.Constant(new double[length]);
        }
        return (tape, parts.Length == 1 ? parts[0].Handle : Views.Concat(parts));
    }

    /// <summary>
    /// Runs the fast backward from <paramref name="output"/> seeded with <paramref name="seed"/> and returns ∂/∂p for each
    /// listed parameter, leaving every parameter's <see cref="Parameter.Grad"/> as it was (saved, zeroed, read, restored).
    /// </summary>
    private static double[][] BackwardInto(Tape tape, Node output, ReadOnlySpan<double> seed, IReadOnlyList<Parameter> parameters, bool retain)
    {
        var result = new double[parameters.Count][];
        for (int k = 0; k < result.Length; k++) result[k] = new double[parameters[k].Value.Length];
        if (!output.RequiresGrad) return result; // the output depends on no parameter: every derivative is 0
        Parameter[] used = [.. tape.ParameterTable.Distinct()];
        var saved = new double[used.Length][];
        for (int k = 0; k < used.Length; k++)
        {
            saved[k] = (double[])used[k].Grad.Clone();
            used[k].ZeroGrad();
        }
        try
        {
            tape.Backward(output, seed, retain);
            for (int k = 0; k < result.Length; k++) parameters[k].Grad.CopyTo(result[k], 0);
        }
        finally
        {
            for (int k = 0; k < used.Length; k++) saved[k].CopyTo(used[k].Grad, 0);
        }
        return result;
    }
}
