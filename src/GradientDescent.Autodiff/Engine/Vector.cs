namespace GradientDescent.Autodiff;

/// <summary>A vector node of a <see cref="Tape"/>: a 16-byte handle to n contiguous values.</summary>
/// <remarks>
/// Arithmetic is elementwise. A <see cref="Scalar"/> or a <see cref="double"/> broadcasts over every element; a
/// vector broadcasts over the rows of a <see cref="Matrix"/> with as many columns (a bias).
/// </remarks>
public readonly struct Vector
{
    internal readonly Node Handle;

    internal Vector(Node handle) => Handle = handle;

    internal Vector(Tape tape, int index) => Handle = new Node(tape, index);

    /// <summary>The tape the node was recorded on.</summary>
    public Tape Tape => Handle.Tape;

    /// <summary>Number of elements.</summary>
    public int Length => Handle.Shape.Rows;

    /// <summary>A copy of the values.</summary>
    public double[] Value => Handle.ToArray();

    /// <summary>A copy of ∂L/∂this from the last backward pass.</summary>
    public double[] Grad => Handle.GradToArray();

    /// <summary>Element <paramref name="index"/> as a scalar node that shares this vector's storage (no copy).</summary>
    public Scalar this[int index] => new(Views.Element(Handle, index));

    /// <summary>Backward from this vector with the seed gradient ∂L/∂this (one value per element).</summary>
    public void Backward(ReadOnlySpan<double> seed, bool retainGraph = false) => Handle.Tape.Backward(Handle, seed, retainGraph);

    /// <summary>The untyped handle.</summary>
    public static implicit operator Node(Vector v) => v.Handle;

    /// <summary>a + b elementwise.</summary>
    public static Vector operator +(Vector a, Vector b) => Add(a, b);
    /// <summary>a − b elementwise.</summary>
    public static Vector operator -(Vector a, Vector b) => Subtract(a, b);
    /// <summary>a · b elementwise (the Hadamard product; see <see cref="Ops.Dot"/> for the inner product).</summary>
    public static Vector operator *(Vector a, Vector b) => Multiply(a, b);
    /// <summary>a / b elementwise.</summary>
    public static Vector operator /(Vector a, Vector b) => Divide(a, b);
    /// <summary>−a.</summary>
    public static Vector operator -(Vector a) => new(Elementwise.Unary(OpKind.Negate, a));
    /// <summary>a + s, s broadcast.</summary>
    public static Vector operator +(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Add, a, s));
    /// <summary>s + a, s broadcast.</summary>
    public static Vector operator +(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Add, s, a));
    /// <summary>a − s, s broadcast.</summary>
    public static Vector operator -(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Subtract, a, s));
    /// <summary>s − a, s broadcast.</summary>
    public static Vector operator -(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Subtract, s, a));
    /// <summary>a · s, s broadcast.</summary>
    public static Vector operator *(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Multiply, a, s));
    /// <summary>s · a, s broadcast.</summary>
    public static Vector operator *(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Multiply, s, a));
    /// <summary>a / s, s broadcast.</summary>
    public static Vector operator /(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Divide, a, s));
    /// <summary>s / a, s broadcast.</summary>
    public static Vector operator /(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Divide, s, a));
    /// <summary>a + c.</summary>
    public static Vector operator +(Vector a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, c));
    /// <summary>c + a.</summary>
    public static Vector operator +(double c, Vector a) => new(Elementwise.Unary(OpKind.AddConstant, a, c));
    /// <summary>a − c.</summary>
    public static Vector operator -(Vector a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, -c));
    /// <summary>c − a.</summary>
    public static Vector operator -(double c, Vector a) => new(Arithmetic.Binary(OpKind.Subtract, a.Tape.Constant(c), a));
    /// <summary>a · c.</summary>
    public static Vector operator *(Vector a, double c) => new(Elementwise.Unary(OpKind.MultiplyConstant, a, c));
    /// <summary>c · a.</summary>
    public static Vector operator *(double c, Vector a) => new(Elementwise.Unary(OpKind.MultiplyConstant, a, c));
    /// <summary>a / c.</summary>
    public static Vector operator /(Vector a, double c) => new(Arithmetic.Binary(OpKind.Divide, a, a.Tape.Constant(c)));
    /// <summary>c / a.</summary>
    public static Vector operator /(double c, Vector a) => new(Arithmetic.Binary(OpKind.Divide, a.Tape.Constant(c), a));

    /// <summary>a + b elementwise; ∂/∂a = 1, ∂/∂b = 1.</summary>
    public static Vector Add(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Add, a, b));
    /// <summary>a − b elementwise; ∂/∂a = 1, ∂/∂b = −1.</summary>
    public static Vector Subtract(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Subtract, a, b));
    /// <summary>a ⊙ b; ∂/∂a = b, ∂/∂b = a.</summary>
    public static Vector Multiply(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Multiply, a, b));
    /// <summary>a / b elementwise; ∂/∂a = 1/b, ∂/∂b = −a/b².</summary>
    public static Vector Divide(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Divide, a, b));

    /// <summary>"Vector[3] in node 4 (Add, [3])".</summary>
    public override string ToString() => Handle.TapeOrNull is null ? "Vector (default)" : $"Vector[{Length}] in {Handle}";
}
