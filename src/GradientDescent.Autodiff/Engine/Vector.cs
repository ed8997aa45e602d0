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

    /// <inheritdoc cref="Scalar.Named"/>
    public Vector Named(string name)
    {
        Handle.Tape.SetName(Handle.Resolve("Named"), name);
        return this;
    }

    /// <summary>Element <paramref name="index"/> as a scalar node that shares this vector's storage (no copy).</summary>
    public Scalar this[int index] => new(Views.Element(Handle, index));

    /// <summary>
    /// Elements <paramref name="range"/> (<c>v[2..5]</c>, <c>v[^3..]</c>, <c>v[..4]</c>) as a vector that shares this
    /// vector's values and gradient slots (a view, no copy; PyTorch's <c>v[2:5]</c>). ∂L/∂v is g on the range, 0
    /// elsewhere (slice is pad-with-zeros in reverse), and slices that overlap add up.
    /// </summary>
    public Vector this[Range range] => Slice(range);

    /// <summary>The named twin of <see cref="this[Range]"/>.</summary>
    public Vector Slice(Range range) => new(Views.Slice(Handle, range));

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
    public static Vector operator -(Vector a) => Negate(a);
    /// <summary>a + s, s broadcast.</summary>
    public static Vector operator +(Vector a, Scalar s) => Add(a, s);
    /// <summary>s + a, s broadcast.</summary>
    public static Vector operator +(Scalar s, Vector a) => Add(s, a);
    /// <summary>a − s, s broadcast.</summary>
    public static Vector operator -(Vector a, Scalar s) => Subtract(a, s);
    /// <summary>s − a, s broadcast.</summary>
    public static Vector operator -(Scalar s, Vector a) => Subtract(s, a);
    /// <summary>a · s, s broadcast.</summary>
    public static Vector operator *(Vector a, Scalar s) => Multiply(a, s);
    /// <summary>s · a, s broadcast.</summary>
    public static Vector operator *(Scalar s, Vector a) => Multiply(s, a);
    /// <summary>a / s, s broadcast.</summary>
    public static Vector operator /(Vector a, Scalar s) => Divide(a, s);
    /// <summary>s / a, s broadcast.</summary>
    public static Vector operator /(Scalar s, Vector a) => Divide(s, a);
    /// <summary>a + c.</summary>
    public static Vector operator +(Vector a, double c) => Add(a, c);
    /// <summary>c + a.</summary>
    public static Vector operator +(double c, Vector a) => Add(c, a);
    /// <summary>a − c.</summary>
    public static Vector operator -(Vector a, double c) => Subtract(a, c);
    /// <summary>c − a.</summary>
    public static Vector operator -(double c, Vector a) => Subtract(c, a);
    /// <summary>a · c.</summary>
    public static Vector operator *(Vector a, double c) => Multiply(a, c);
    /// <summary>c · a.</summary>
    public static Vector operator *(double c, Vector a) => Multiply(c, a);
    /// <summary>a / c.</summary>
    public static Vector operator /(Vector a, double c) => Divide(a, c);
    /// <summary>c / a.</summary>
    public static Vector operator /(double c, Vector a) => Divide(c, a);

    /// <summary>a + b elementwise; ∂/∂a = 1, ∂/∂b = 1.</summary>
    public static Vector Add(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Add, a, b));
    /// <summary>a − b elementwise; ∂/∂a = 1, ∂/∂b = −1.</summary>
    public static Vector Subtract(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Subtract, a, b));
    /// <summary>a ⊙ b; ∂/∂a = b, ∂/∂b = a.</summary>
    public static Vector Multiply(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Multiply, a, b));
    /// <summary>a / b elementwise; ∂/∂a = 1/b, ∂/∂b = −a/b².</summary>
    public static Vector Divide(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Divide, a, b));
    /// <summary>−a elementwise; ∂/∂a = −1.</summary>
    public static Vector Negate(Vector a) => new(Elementwise.Unary(OpKind.Negate, a));

    // Named twins of the broadcasting operators: a scalar or a constant over every element. The derivative of a
    // broadcast operand is the sum of its elementwise derivatives ("broadcast is sum in reverse").

    /// <summary>a + s, s broadcast; ∂/∂aₖ = 1, ∂/∂s = Σₖ gₖ.</summary>
    public static Vector Add(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Add, a, s));
    /// <summary>s + a, s broadcast; ∂/∂s = Σₖ gₖ, ∂/∂aₖ = 1.</summary>
    public static Vector Add(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Add, s, a));
    /// <summary>a − s, s broadcast; ∂/∂aₖ = 1, ∂L/∂s = −Σₖ gₖ.</summary>
    public static Vector Subtract(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Subtract, a, s));
    /// <summary>s − a, s broadcast; ∂L/∂s = Σₖ gₖ, ∂/∂aₖ = −1.</summary>
    public static Vector Subtract(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Subtract, s, a));
    /// <summary>a · s, s broadcast; ∂/∂aₖ = s, ∂L/∂s = Σₖ gₖaₖ.</summary>
    public static Vector Multiply(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Multiply, a, s));
    /// <summary>s · a, s broadcast; ∂L/∂s = Σₖ gₖaₖ, ∂/∂aₖ = s.</summary>
    public static Vector Multiply(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Multiply, s, a));
    /// <summary>a / s, s broadcast; ∂/∂aₖ = 1/s, ∂L/∂s = −Σₖ gₖaₖ/s².</summary>
    public static Vector Divide(Vector a, Scalar s) => new(Arithmetic.Binary(OpKind.Divide, a, s));
    /// <summary>s / a, s broadcast; ∂L/∂s = Σₖ gₖ/aₖ, ∂/∂aₖ = −s/aₖ².</summary>
    public static Vector Divide(Scalar s, Vector a) => new(Arithmetic.Binary(OpKind.Divide, s, a));
    /// <summary>a + c; ∂/∂aₖ = 1.</summary>
    public static Vector Add(Vector a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, c));
    /// <summary>c + a, recorded as a + c; ∂/∂aₖ = 1.</summary>
    public static Vector Add(double c, Vector a) => Add(a, c);
    /// <summary>a − c, recorded as a + (−c); ∂/∂aₖ = 1.</summary>
    public static Vector Subtract(Vector a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, -c));
    /// <summary>c − a; ∂/∂aₖ = −1.</summary>
    public static Vector Subtract(double c, Vector a) => new(Arithmetic.Binary(OpKind.Subtract, a.Tape.Constant(c), a));
    /// <summary>a · c; ∂/∂aₖ = c.</summary>
    public static Vector Multiply(Vector a, double c) => new(Elementwise.Unary(OpKind.MultiplyConstant, a, c));
    /// <summary>c · a, recorded as a · c; ∂/∂aₖ = c.</summary>
    public static Vector Multiply(double c, Vector a) => Multiply(a, c);
    /// <summary>a / c (a true division, not a · (1/c)); ∂/∂aₖ = 1/c.</summary>
    public static Vector Divide(Vector a, double c) => new(Arithmetic.Binary(OpKind.Divide, a, a.Tape.Constant(c)));
    /// <summary>c / a; ∂/∂aₖ = −c/aₖ².</summary>
    public static Vector Divide(double c, Vector a) => new(Arithmetic.Binary(OpKind.Divide, a.Tape.Constant(c), a));

    /// <summary>"Vector[3] in node 4 (Add, [3])".</summary>
    public override string ToString() => Handle.TapeOrNull is null ? "Vector (default)" : $"Vector[{Length}] in {Handle}";
}
