namespace GradientDescent.Autodiff;

/// <summary>What kind of value a node holds.</summary>
public enum ShapeKind : byte
{
    /// <summary>A single number.</summary>
    Scalar,
    /// <summary>A one-dimensional array of <see cref="Shape.Rows"/> numbers.</summary>
    Vector,
    /// <summary>A row-major <see cref="Shape.Rows"/> × <see cref="Shape.Cols"/> array.</summary>
    Matrix,
}

/// <summary>The shape of a node: a scalar (1×1), a vector of n (n×1) or a matrix r×c, stored row-major.</summary>
/// <param name="Kind">Scalar, vector or matrix.</param>
/// <param name="Rows">Number of rows (the length, for a vector).</param>
/// <param name="Cols">Number of columns (1 for scalars and vectors).</param>
public readonly record struct Shape(ShapeKind Kind, int Rows, int Cols)
{
    /// <summary>The shape of a scalar.</summary>
    public static Shape Scalar => new(ShapeKind.Scalar, 1, 1);

    /// <summary>The shape of a vector of <paramref name="length"/> elements.</summary>
    public static Shape Vector(int length) => new(ShapeKind.Vector, length, 1);

    /// <summary>The shape of a <paramref name="rows"/> × <paramref name="cols"/> matrix.</summary>
    public static Shape Matrix(int rows, int cols) => new(ShapeKind.Matrix, rows, cols);

    /// <summary>Number of elements.</summary>
    public int Length => Rows * Cols;

    /// <summary>"scalar", "[n]" or "[r×c]": the form used in every error message.</summary>
    public override string ToString() => Kind switch
    {
        ShapeKind.Scalar => "scalar",
        ShapeKind.Vector => $"[{Rows}]",
        _ => $"[{Rows}×{Cols}]",
    };
}
