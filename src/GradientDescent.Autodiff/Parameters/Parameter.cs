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

    /// <summary>Sets the accumulated gradient to zero.</summary>
    public void ZeroGrad() => Array.Clear(Grad);

    internal void Accumulate(ReadOnlySpan<double> gradient) =>
        System.Numerics.Tensors.TensorPrimitives.Add(Grad, gradient, Grad);

    /// <summary>"w [2]".</summary>
    public override string ToString() => $"{Name} {Shape}";
}

/// <summary>A scalar parameter (a bias, say).</summary>
public sealed class ScalarParameter : Parameter
{
    /// <summary>A scalar parameter with an initial value.</summary>
    public ScalarParameter(string name, double value = 0) : base(name, Shape.Scalar, [value]) { }
}

/// <summary>A vector parameter (a weight vector).</summary>
public sealed class VectorParameter : Parameter
{
    /// <summary>A vector parameter with the given initial values (the array is copied).</summary>
    public VectorParameter(string name, params double[] values) : base(name, Shape.Vector(values.Length), (double[])values.Clone()) { }

    /// <summary>A vector parameter of <paramref name="length"/> zeros.</summary>
    public VectorParameter(string name, int length) : base(name, Shape.Vector(length), new double[length]) { }
}

/// <summary>A matrix parameter (a layer's weights), row-major.</summary>
public sealed class MatrixParameter : Parameter
{
    /// <summary>A <paramref name="rows"/> × <paramref name="cols"/> parameter of zeros.</summary>
    public MatrixParameter(string name, int rows, int cols) : base(name, Shape.Matrix(rows, cols), new double[Math.Max(0, rows * cols)]) { }

    /// <summary>A matrix parameter with initial values (copied).</summary>
    public MatrixParameter(string name, double[,] values)
        : base(name, Shape.Matrix(values.GetLength(0), values.GetLength(1)), Flatten(values)) { }

    private static double[] Flatten(double[,] values) => RowMajor.Of(values).ToArray();
}
