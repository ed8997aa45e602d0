namespace GradientDescent.Autodiff;

/// <summary>
/// A trainable value that outlives tapes: its name, shape, current value and accumulated gradient.
/// </summary>
/// <remarks>
/// Each step uses the parameter on a fresh (or cleared) <see cref="Tape"/> with <c>tape.Use(p)</c>; backward adds
/// ∂L/∂p into <see cref="Grad"/>, so gradients accumulate across backward passes until <see cref="ZeroGrad"/>.
/// Optimizers change <see cref="Value"/> in place. A parameter is not synchronised: tapes on several threads may
/// read one parameter, but their backward passes must not add into its <see cref="Grad"/> at the same time (give
/// each thread its own parameters, or take turns).
/// </remarks>
public abstract class Parameter
{
    private protected Parameter(string name, Shape shape, double[] value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (value.Length != shape.Length || shape.Length == 0)
        {
            throw new ArgumentException($"Parameter {name}: {value.Length} initial values for shape {shape}; pass exactly {shape.Length}.", nameof(value));
        }
        Name = name;
        Shape = shape;
        Value = value;
        Grad = new double[value.Length];
    }

    /// <summary>The name used in reports and errors.</summary>
    public string Name { get; }

    /// <summary>The parameter's shape.</summary>
    public Shape Shape { get; }

    /// <summary>The current values, row-major; optimizers update them in place.</summary>
    public double[] Value { get; }

    /// <summary>∂L/∂value accumulated over backward passes since the last <see cref="ZeroGrad"/>.</summary>
    public double[] Grad { get; }

    /// <summary>
    /// Counts in-place updates by optimizers (<see cref="Optimizer.Step"/>): a tape that read this parameter in place
    /// refuses to differentiate after it changed (see <see cref="Tape.Use(VectorParameter)"/>).
    /// </summary>
    internal int Version;

    /// <summary>Sets the accumulated gradient to zero.</summary>
    public void ZeroGrad() => Array.Clear(Grad);

    /// <summary>Grad += gradient, split over the pool when long.</summary>
    internal void Accumulate(ReadOnlySpan<double> gradient) =>
        Split.Elementwise(gradient, default, default, Grad, new AddKernel());

    /// <summary>Grad += g in every element (a uniform gradient), split over the pool when long.</summary>
    internal void AccumulateUniform(double g) =>
        Split.Elementwise(default, default, default, Grad, new FillOrAddKernel(g, assign: false));

    /// <summary>Grad += s·values (a scaled gradient), split over the pool when long.</summary>
    internal void AccumulateScaled(double s, ReadOnlySpan<double> values) =>
        Split.Elementwise(values, default, default, Grad, new ScaleKernel(s, assign: false));

    private readonly struct AddKernel : IElementKernel
    {
        public bool Accumulates => true;

        public void Apply(ReadOnlySpan<double> gradient, ReadOnlySpan<double> unused1, ReadOnlySpan<double> unused2, Span<double> grad) =>
            System.Numerics.Tensors.TensorPrimitives.Add(grad, gradient, grad);
    }

    /// <summary>"w [2]".</summary>
    public override string ToString() => $"{Name} {Shape}";
}

/// <summary>A scalar parameter (a bias, say).</summary>
/// <remarks>
/// <see cref="Value"/> and <see cref="Grad"/> read as plain numbers (<c>b.Value</c>, <c>b.Grad</c>); through a
/// <see cref="Parameter"/> reference they are the one-element arrays every parameter has.
/// </remarks>
public sealed class ScalarParameter : Parameter
{
    /// <summary>A scalar parameter with an initial value.</summary>
    public ScalarParameter(string name, double value = 0) : base(name, Shape.Scalar, [value]) { }

    /// <summary>The current value; optimizers update it in place (it is element 0 of <see cref="Parameter.Value"/>).</summary>
    public new double Value
    {
        get => base.Value[0];
        set => base.Value[0] = value;
    }

    /// <summary>∂L/∂value accumulated since the last <see cref="Parameter.ZeroGrad"/> (element 0 of <see cref="Parameter.Grad"/>).</summary>
    public new double Grad => base.Grad[0];
}

/// <summary>A vector parameter (a weight vector).</summary>
/// <remarks>
/// <c>new VectorParameter("w", 0.1, -0.2)</c> gives the initial values; <see cref="Zeros"/> gives n zeros. There is
/// deliberately no <c>(string, int)</c> constructor: <c>new VectorParameter("w", 2)</c> would read as two zeros
/// and <c>new VectorParameter("w", 2.0)</c> as the one value 2.
/// </remarks>
public sealed class VectorParameter : Parameter
{
    /// <summary>A vector parameter with the given initial values (the array is copied).</summary>
    public VectorParameter(string name, params double[] values)
        : base(name, Shape.Vector(Checked(name, values).Length), (double[])values.Clone()) { }

    /// <summary>Refused at compile time: use <see cref="Zeros"/> for n zeros, or pass doubles for initial values.</summary>
    [Obsolete("new VectorParameter(name, n) is ambiguous: write VectorParameter.Zeros(name, n) for n zeros, or new VectorParameter(name, 2.0) for the one initial value 2.", error: true)]
    public VectorParameter(string name, int length) : this(name, new double[Math.Max(0, length)]) { }

    /// <summary>A vector parameter of <paramref name="length"/> zeros.</summary>
    public static VectorParameter Zeros(string name, int length)
    {
        if (length <= 0)
        {
            throw new ArgumentException($"Parameter {name}: a vector needs at least one element, got length {length}.", nameof(length));
        }
        return new VectorParameter(name, new double[length]);
    }

    /// <summary>Number of elements.</summary>
    public int Length => Shape.Rows;

    private static double[] Checked(string name, double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values;
    }
}

/// <summary>A matrix parameter (a layer's weights).</summary>
/// <remarks>
/// Values are row-major: <see cref="Parameter.Value"/> holds element (i, j) at <c>i · Cols + j</c>, the same
/// convention as every value and gradient read from a tape (<see cref="Matrix.Value"/>); <see cref="Value2D"/> and
/// <see cref="Grad2D"/> are two-dimensional copies for display.
/// </remarks>
public sealed class MatrixParameter : Parameter
{
    /// <summary>A matrix parameter with initial values (copied).</summary>
    public MatrixParameter(string name, double[,] values)
        : base(name, Shape.Matrix(Checked(values).GetLength(0), values.GetLength(1)), RowMajor.Of(values).ToArray()) { }

    private MatrixParameter(string name, Shape shape, double[] values) : base(name, shape, values) { }

    /// <summary>Refused at compile time: use <see cref="Zeros"/> (or <see cref="FromRowMajor"/> for initial values).</summary>
    [Obsolete("new MatrixParameter(name, rows, cols) is gone: write MatrixParameter.Zeros(name, rows, cols) for zeros, or MatrixParameter.FromRowMajor(name, rows, cols, values).", error: true)]
    public MatrixParameter(string name, int rows, int cols) : this(name, Shape.Matrix(rows, cols), new double[Math.Max(0, rows * cols)]) { }

    /// <summary>A <paramref name="rows"/> × <paramref name="cols"/> parameter of zeros.</summary>
    public static MatrixParameter Zeros(string name, int rows, int cols) =>
        new(name, CheckedShape(name, rows, cols), new double[rows * cols]);

    /// <summary>A <paramref name="rows"/> × <paramref name="cols"/> parameter with row-major initial values (copied).</summary>
    public static MatrixParameter FromRowMajor(string name, int rows, int cols, ReadOnlySpan<double> values)
    {
        Shape shape = CheckedShape(name, rows, cols);
        if (values.Length != shape.Length)
        {
            throw new ArgumentException($"Parameter {name}: {values.Length} values for a [{rows}×{cols}] matrix; pass rows × cols = {shape.Length} values, row-major.", nameof(values));
        }
        return new(name, shape, values.ToArray());
    }

    /// <summary>Number of rows.</summary>
    public int Rows => Shape.Rows;

    /// <summary>Number of columns.</summary>
    public int Cols => Shape.Cols;

    /// <summary>A two-dimensional copy of <see cref="Parameter.Value"/> (element [i, j] = Value[i · Cols + j]).</summary>
    public double[,] Value2D => RowMajor.ToArray2D(Value, Rows, Cols);

    /// <summary>A two-dimensional copy of <see cref="Parameter.Grad"/>.</summary>
    public double[,] Grad2D => RowMajor.ToArray2D(Grad, Rows, Cols);

    private static double[,] Checked(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values;
    }

    private static Shape CheckedShape(string name, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0)
        {
            throw new ArgumentException($"Parameter {name}: a matrix needs at least one row and one column, got [{rows}×{cols}].", nameof(rows));
        }
        return Shape.Matrix(rows, cols);
    }
}
