namespace GradientDescent.Autodiff.Testing;

/// <summary>
/// Kind-generic helpers over untyped <see cref="Node"/>s for the custom ops' recorded (second-order) rules: each
/// dispatches to the typed operator of the node's kind (scalar, vector or matrix), so one rule serves every shape.
/// </summary>
public static class GraphRecording
{
    /// <summary>a ⊙ b, with broadcasting (a scalar with anything).</summary>
    public static Node Times(Node a, Node b) => GraphProgram.Arithmetic(GraphOp.Multiply, a, b);

    /// <summary>a + b, with broadcasting.</summary>
    public static Node Plus(Node a, Node b) => GraphProgram.Arithmetic(GraphOp.Add, a, b);

    /// <summary>c·x.</summary>
    public static Node Scale(Node x, double c) => Map(x, s => s * c, v => v * c, m => m * c);

    /// <summary>x + c.</summary>
    public static Node Shift(Node x, double c) => Map(x, s => s + c, v => v + c, m => m + c);

    /// <summary>1 − x.</summary>
    public static Node OneMinus(Node x) => Map(x, s => 1 - s, v => 1 - v, m => 1 - m);

    /// <summary>x².</summary>
    public static Node Square(Node x) => Map(x, Ops.Square, Ops.Square, Ops.Square);

    /// <summary>σ(x).</summary>
    public static Node Sigmoid(Node x) => Map(x, Ops.Sigmoid, Ops.Sigmoid, Ops.Sigmoid);

    private static Node Map(Node x, Func<Scalar, Scalar> fs, Func<Vector, Vector> fv, Func<Matrix, Matrix> fm) => x.Shape.Kind switch
    {
        ShapeKind.Scalar => fs(x.AsScalar()),
        ShapeKind.Vector => fv(x.AsVector()),
        _ => fm(x.AsMatrix()),
    };
}
