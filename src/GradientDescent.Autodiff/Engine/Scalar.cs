namespace GradientDescent.Autodiff;

/// <summary>A scalar node of a <see cref="Tape"/>: a 16-byte handle, no heap object.</summary>
/// <remarks>Operators record a node and return its handle, so <c>w * x + b</c> reads like the math.</remarks>
public readonly struct Scalar
{
    internal readonly Node Handle;

    internal Scalar(Node handle) => Handle = handle;

    internal Scalar(Tape tape, int index) => Handle = new Node(tape, index);

    /// <summary>The tape the node was recorded on.</summary>
    public Tape Tape => Handle.Tape;

    /// <summary>The node's value.</summary>
    public double Value => Handle.Tape.ValueOf(Handle.Resolve("Value"));

    /// <summary>∂L/∂this from the last backward pass (0 if no gradient flows into the node).</summary>
    public double Grad => Handle.GradToArray()[0];

    /// <summary>
    /// Names this node in <see cref="Tape.Format"/> and <see cref="NodeInfo.Name"/> (<c>var z = (w * x + b).Named("z")</c>);
    /// returns the same handle. Names belong to the tape and are forgotten by <see cref="Tape.Clear"/>.
    /// </summary>
    public Scalar Named(string name)
    {
        Handle.Tape.SetName(Handle.Resolve("Named"), name);
        return this;
    }

    /// <summary>Differentiates this scalar loss (see <see cref="Tape.Backward(Scalar, bool)"/>).</summary>
    public void Backward(bool retainGraph = false) => Handle.Tape.Backward(this, retainGraph);

    /// <summary>The untyped handle.</summary>
    public static implicit operator Node(Scalar s) => s.Handle;

    /// <summary>a + b.</summary>
    public static Scalar operator +(Scalar a, Scalar b) => Add(a, b);
    /// <summary>a − b.</summary>
    public static Scalar operator -(Scalar a, Scalar b) => Subtract(a, b);
    /// <summary>a · b.</summary>
    public static Scalar operator *(Scalar a, Scalar b) => Multiply(a, b);
    /// <summary>a / b.</summary>
    public static Scalar operator /(Scalar a, Scalar b) => Divide(a, b);
    /// <summary>−a.</summary>
    public static Scalar operator -(Scalar a) => Negate(a);
    /// <summary>a + c.</summary>
    public static Scalar operator +(Scalar a, double c) => Add(a, c);
    /// <summary>c + a.</summary>
    public static Scalar operator +(double c, Scalar a) => Add(c, a);
    /// <summary>a − c.</summary>
    public static Scalar operator -(Scalar a, double c) => Subtract(a, c);
    /// <summary>c − a.</summary>
    public static Scalar operator -(double c, Scalar a) => Subtract(c, a);
    /// <summary>a · c.</summary>
    public static Scalar operator *(Scalar a, double c) => Multiply(a, c);
    /// <summary>c · a.</summary>
    public static Scalar operator *(double c, Scalar a) => Multiply(c, a);
    /// <summary>a / c.</summary>
    public static Scalar operator /(Scalar a, double c) => Divide(a, c);
    /// <summary>c / a.</summary>
    public static Scalar operator /(double c, Scalar a) => Divide(c, a);

    /// <summary>a + b; ∂/∂a = 1, ∂/∂b = 1.</summary>
    public static Scalar Add(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Add, a, b));
    /// <summary>a − b; ∂/∂a = 1, ∂/∂b = −1.</summary>
    public static Scalar Subtract(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Subtract, a, b));
    /// <summary>a · b; ∂/∂a = b, ∂/∂b = a.</summary>
    public static Scalar Multiply(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Multiply, a, b));
    /// <summary>a / b; ∂/∂a = 1/b, ∂/∂b = −a/b².</summary>
    public static Scalar Divide(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Divide, a, b));
    /// <summary>−a; ∂/∂a = −1.</summary>
    public static Scalar Negate(Scalar a) => new(Elementwise.Unary(OpKind.Negate, a));
    /// <summary>a + c; ∂/∂a = 1.</summary>
    public static Scalar Add(Scalar a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, c));
    /// <summary>c + a, recorded as a + c; ∂/∂a = 1.</summary>
    public static Scalar Add(double c, Scalar a) => Add(a, c);
    /// <summary>a − c, recorded as a + (−c) (exact in IEEE arithmetic).</summary>
    public static Scalar Subtract(Scalar a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, -c));
    /// <summary>c − a; ∂/∂a = −1.</summary>
    public static Scalar Subtract(double c, Scalar a) => new(Arithmetic.Binary(OpKind.Subtract, a.Tape.Constant(c), a));
    /// <summary>a · c; ∂/∂a = c.</summary>
    public static Scalar Multiply(Scalar a, double c) => new(Elementwise.Unary(OpKind.MultiplyConstant, a, c));
    /// <summary>c · a, recorded as a · c; ∂/∂a = c.</summary>
    public static Scalar Multiply(double c, Scalar a) => Multiply(a, c);
    /// <summary>a / c; ∂/∂a = 1/c.</summary>
    public static Scalar Divide(Scalar a, double c) => new(Arithmetic.Binary(OpKind.Divide, a, a.Tape.Constant(c)));
    /// <summary>c / a; ∂/∂a = −c/a².</summary>
    public static Scalar Divide(double c, Scalar a) => new(Arithmetic.Binary(OpKind.Divide, a.Tape.Constant(c), a));

    /// <summary>"Scalar(0.731) in node 7 (Sigmoid, scalar)".</summary>
    public override string ToString() => Handle.TapeOrNull is null ? "Scalar (default)" : $"Scalar({Value:G6}) in {Handle}";
}
