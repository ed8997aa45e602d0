namespace GradientDescent.Autodiff;

/// <summary>
/// The functions of the op set, for scalars, vectors and matrices. Each records one node whose derivative rule is
/// stated in its documentation and implemented beside its forward kernel in the op-family file.
/// </summary>
public static partial class Ops
{
    // ------------------------------------------------------------------ elementwise (Ops/Elementwise.cs)

    /// <summary>e^x; d/dx = e^x.</summary>
    public static Scalar Exp(Scalar x) => new(Elementwise.Unary(OpKind.Exp, x));
    /// <inheritdoc cref="Exp(Scalar)"/>
    public static Vector Exp(Vector x) => new(Elementwise.Unary(OpKind.Exp, x));
    /// <inheritdoc cref="Exp(Scalar)"/>
    public static Matrix Exp(Matrix x) => new(Elementwise.Unary(OpKind.Exp, x));

    /// <summary>ln x; d/dx = 1/x. ln 0 = −∞, ln of a negative number is NaN.</summary>
    public static Scalar Log(Scalar x) => new(Elementwise.Unary(OpKind.Log, x));
    /// <inheritdoc cref="Log(Scalar)"/>
    public static Vector Log(Vector x) => new(Elementwise.Unary(OpKind.Log, x));
    /// <inheritdoc cref="Log(Scalar)"/>
    public static Matrix Log(Matrix x) => new(Elementwise.Unary(OpKind.Log, x));

    /// <summary>√x; d/dx = 1/(2√x) (infinite at 0).</summary>
    public static Scalar Sqrt(Scalar x) => new(Elementwise.Unary(OpKind.Sqrt, x));
    /// <inheritdoc cref="Sqrt(Scalar)"/>
    public static Vector Sqrt(Vector x) => new(Elementwise.Unary(OpKind.Sqrt, x));
    /// <inheritdoc cref="Sqrt(Scalar)"/>
    public static Matrix Sqrt(Matrix x) => new(Elementwise.Unary(OpKind.Sqrt, x));

    /// <summary>|x|; d/dx = sign x, with the subgradient 0 at x = 0.</summary>
    public static Scalar Abs(Scalar x) => new(Elementwise.Unary(OpKind.Abs, x));
    /// <inheritdoc cref="Abs(Scalar)"/>
    public static Vector Abs(Vector x) => new(Elementwise.Unary(OpKind.Abs, x));
    /// <inheritdoc cref="Abs(Scalar)"/>
    public static Matrix Abs(Matrix x) => new(Elementwise.Unary(OpKind.Abs, x));

    /// <summary>x²; d/dx = 2x.</summary>
    public static Scalar Square(Scalar x) => new(Elementwise.Unary(OpKind.Square, x));
    /// <inheritdoc cref="Square(Scalar)"/>
    public static Vector Square(Vector x) => new(Elementwise.Unary(OpKind.Square, x));
    /// <inheritdoc cref="Square(Scalar)"/>
    public static Matrix Square(Matrix x) => new(Elementwise.Unary(OpKind.Square, x));

    /// <summary>tanh x; d/dx = 1 − tanh² x.</summary>
    public static Scalar Tanh(Scalar x) => new(Elementwise.Unary(OpKind.Tanh, x));
    /// <inheritdoc cref="Tanh(Scalar)"/>
    public static Vector Tanh(Vector x) => new(Elementwise.Unary(OpKind.Tanh, x));
    /// <inheritdoc cref="Tanh(Scalar)"/>
    public static Matrix Tanh(Matrix x) => new(Elementwise.Unary(OpKind.Tanh, x));

    /// <summary>σ(x) = 1/(1 + e^−x), computed without overflow; d/dx = σ(x)(1 − σ(x)).</summary>
    public static Scalar Sigmoid(Scalar x) => new(Elementwise.Unary(OpKind.Sigmoid, x));
    /// <inheritdoc cref="Sigmoid(Scalar)"/>
    public static Vector Sigmoid(Vector x) => new(Elementwise.Unary(OpKind.Sigmoid, x));
    /// <inheritdoc cref="Sigmoid(Scalar)"/>
    public static Matrix Sigmoid(Matrix x) => new(Elementwise.Unary(OpKind.Sigmoid, x));

    /// <summary>max(x, 0); d/dx = 1 for x &gt; 0, else 0 (subgradient 0 at 0). NaN stays NaN, as in <see cref="Max(Scalar, double)"/>.</summary>
    public static Scalar Relu(Scalar x) => new(Elementwise.Unary(OpKind.Relu, x));
    /// <inheritdoc cref="Relu(Scalar)"/>
    public static Vector Relu(Vector x) => new(Elementwise.Unary(OpKind.Relu, x));
    /// <inheritdoc cref="Relu(Scalar)"/>
    public static Matrix Relu(Matrix x) => new(Elementwise.Unary(OpKind.Relu, x));

    /// <summary>softplus x = ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|); d/dx = σ(x).</summary>
    public static Scalar Softplus(Scalar x) => new(Elementwise.Unary(OpKind.Softplus, x));
    /// <inheritdoc cref="Softplus(Scalar)"/>
    public static Vector Softplus(Vector x) => new(Elementwise.Unary(OpKind.Softplus, x));
    /// <inheritdoc cref="Softplus(Scalar)"/>
    public static Matrix Softplus(Matrix x) => new(Elementwise.Unary(OpKind.Softplus, x));

    /// <summary>ln σ(x) = −softplus(−x), fused and stable (no −∞ for x = −1000); d/dx = 1 − σ(x).</summary>
    public static Scalar LogSigmoid(Scalar x) => new(Elementwise.Unary(OpKind.LogSigmoid, x));
    /// <inheritdoc cref="LogSigmoid(Scalar)"/>
    public static Vector LogSigmoid(Vector x) => new(Elementwise.Unary(OpKind.LogSigmoid, x));
    /// <inheritdoc cref="LogSigmoid(Scalar)"/>
    public static Matrix LogSigmoid(Matrix x) => new(Elementwise.Unary(OpKind.LogSigmoid, x));

    /// <summary>x^c for a constant c; d/dx = c·x^(c−1).</summary>
    public static Scalar Pow(Scalar x, double c) => new(Elementwise.Unary(OpKind.PowerConstant, x, c));
    /// <inheritdoc cref="Pow(Scalar, double)"/>
    public static Vector Pow(Vector x, double c) => new(Elementwise.Unary(OpKind.PowerConstant, x, c));
    /// <inheritdoc cref="Pow(Scalar, double)"/>
    public static Matrix Pow(Matrix x, double c) => new(Elementwise.Unary(OpKind.PowerConstant, x, c));

    /// <summary>a^b with a variable exponent; ∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a (0 where a = 0 and b ≥ 0).</summary>
    public static Scalar Pow(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Vector Pow(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Vector Pow(Vector a, Scalar b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Power, a, b));

    /// <summary>
    /// clamp(x, lo, hi) = min(max(x, lo), hi), recorded as those two nodes; d/dx = 1 for lo ≤ x ≤ hi, else 0
    /// (the bounds themselves pass the gradient, as in PyTorch).
    /// </summary>
    public static Scalar Clamp(Scalar x, double lo, double hi) => Min(Max(x, CheckBounds(lo, hi)), hi);
    /// <inheritdoc cref="Clamp(Scalar, double, double)"/>
    public static Vector Clamp(Vector x, double lo, double hi) => Min(Max(x, CheckBounds(lo, hi)), hi);
    /// <inheritdoc cref="Clamp(Scalar, double, double)"/>
    public static Matrix Clamp(Matrix x, double lo, double hi) => Min(Max(x, CheckBounds(lo, hi)), hi);

    private static double CheckBounds(double lo, double hi) =>
        lo <= hi ? lo : throw new ArgumentException($"Clamp: the lower bound {lo} is above the upper bound {hi}; swap them.");

    /// <summary>max(x, c) for a constant c; d/dx = 1 for x ≥ c, else 0.</summary>
    public static Scalar Max(Scalar x, double c) => new(Elementwise.Unary(OpKind.MaxConstant, x, c));
    /// <inheritdoc cref="Max(Scalar, double)"/>
    public static Vector Max(Vector x, double c) => new(Elementwise.Unary(OpKind.MaxConstant, x, c));
    /// <inheritdoc cref="Max(Scalar, double)"/>
    public static Matrix Max(Matrix x, double c) => new(Elementwise.Unary(OpKind.MaxConstant, x, c));

    /// <summary>min(x, c) for a constant c; d/dx = 1 for x ≤ c, else 0.</summary>
    public static Scalar Min(Scalar x, double c) => new(Elementwise.Unary(OpKind.MinConstant, x, c));
    /// <inheritdoc cref="Min(Scalar, double)"/>
    public static Vector Min(Vector x, double c) => new(Elementwise.Unary(OpKind.MinConstant, x, c));
    /// <inheritdoc cref="Min(Scalar, double)"/>
    public static Matrix Min(Matrix x, double c) => new(Elementwise.Unary(OpKind.MinConstant, x, c));

    /// <summary>max(a, b) elementwise; the gradient goes to the larger, split g/2 each where a = b.</summary>
    public static Scalar Max(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Vector Max(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));

    /// <summary>min(a, b) elementwise; the gradient goes to the smaller, split g/2 each where a = b.</summary>
    public static Scalar Min(Scalar a, Scalar b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Vector Min(Vector a, Vector b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));

    // Broadcasting mixes of the variable-exponent power, max and min (the rules of Ops/Arithmetic.cs): a scalar with
    // anything, a vector of length c with an r×c matrix (every row), in either order; the result has the larger kind.
    // A broadcast operand's gradient is the sum of its elementwise gradients over the positions it reached.
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Vector Pow(Scalar a, Vector b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Scalar a, Matrix b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Vector a, Matrix b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Matrix a, Scalar b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Pow(Scalar, Scalar)"/>
    public static Matrix Pow(Matrix a, Vector b) => new(Arithmetic.Binary(OpKind.Power, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Vector Max(Scalar a, Vector b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Scalar a, Matrix b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Vector Max(Vector a, Scalar b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Vector a, Matrix b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Matrix a, Scalar b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Max(Scalar, Scalar)"/>
    public static Matrix Max(Matrix a, Vector b) => new(Arithmetic.Binary(OpKind.Maximum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Vector Min(Scalar a, Vector b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Scalar a, Matrix b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Vector Min(Vector a, Scalar b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Vector a, Matrix b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Matrix a, Scalar b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));
    /// <inheritdoc cref="Min(Scalar, Scalar)"/>
    public static Matrix Min(Matrix a, Vector b) => new(Arithmetic.Binary(OpKind.Minimum, a, b));

    /// <summary>c^x for a constant base c; d/dx = c^x·ln c (0 where c = 0 and x ≥ 0; NaN for c &lt; 0, as in PyTorch).</summary>
    public static Scalar Pow(double c, Scalar x) => new(Arithmetic.Binary(OpKind.Power, x.Tape.Constant(c), x));
    /// <inheritdoc cref="Pow(double, Scalar)"/>
    public static Vector Pow(double c, Vector x) => new(Arithmetic.Binary(OpKind.Power, x.Tape.Constant(c), x));
    /// <inheritdoc cref="Pow(double, Scalar)"/>
    public static Matrix Pow(double c, Matrix x) => new(Arithmetic.Binary(OpKind.Power, x.Tape.Constant(c), x));

    /// <summary>max(c, x) = max(x, c) (recorded as <see cref="Max(Scalar, double)"/>); d/dx = 1 for x ≥ c, else 0.</summary>
    public static Scalar Max(double c, Scalar x) => Max(x, c);
    /// <inheritdoc cref="Max(double, Scalar)"/>
    public static Vector Max(double c, Vector x) => Max(x, c);
    /// <inheritdoc cref="Max(double, Scalar)"/>
    public static Matrix Max(double c, Matrix x) => Max(x, c);

    /// <summary>min(c, x) = min(x, c) (recorded as <see cref="Min(Scalar, double)"/>); d/dx = 1 for x ≤ c, else 0.</summary>
    public static Scalar Min(double c, Scalar x) => Min(x, c);
    /// <inheritdoc cref="Min(double, Scalar)"/>
    public static Vector Min(double c, Vector x) => Min(x, c);
    /// <inheritdoc cref="Min(double, Scalar)"/>
    public static Matrix Min(double c, Matrix x) => Min(x, c);

    // ------------------------------------------------------------------ linear algebra (Ops/LinearAlgebra.cs)

    /// <summary>a·b = Σ aₖbₖ; ∂/∂a = b, ∂/∂b = a.</summary>
    public static Scalar Dot(Vector a, Vector b) => new(LinearAlgebra.Dot(a, b));

    /// <summary>y = M v, yᵢ = Σⱼ Mᵢⱼvⱼ; ∂L/∂M = g vᵀ, ∂L/∂v = Mᵀ g.</summary>
    public static Vector MatVec(Matrix m, Vector v) => new(LinearAlgebra.MatVec(m, v));

    /// <summary>C = A B; ∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G.</summary>
    public static Matrix MatMul(Matrix a, Matrix b) => new(LinearAlgebra.MatMul(a, b));

    /// <summary>Aᵀ; ∂L/∂A = Gᵀ.</summary>
    public static Matrix Transpose(Matrix a) => new(LinearAlgebra.Transpose(a));

    // ------------------------------------------------------------------ reductions (Ops/Reductions.cs)

    /// <summary>Σ of all elements; ∂/∂xₖ = 1.</summary>
    public static Scalar Sum(Vector x) => new(Reductions.Sum(x, mean: false));
    /// <inheritdoc cref="Sum(Vector)"/>
    public static Scalar Sum(Matrix x) => new(Reductions.Sum(x, mean: false));

    /// <summary>(1/n) Σ of all n elements; ∂/∂xₖ = 1/n.</summary>
    public static Scalar Mean(Vector x) => new(Reductions.Sum(x, mean: true));
    /// <inheritdoc cref="Mean(Vector)"/>
    public static Scalar Mean(Matrix x) => new(Reductions.Sum(x, mean: true));

    /// <summary>
    /// Σ over one axis: axis 0 sums over rows (yⱼ = Σᵢ Xᵢⱼ, one value per column), axis 1 over columns
    /// (yᵢ = Σⱼ Xᵢⱼ, one value per row); ∂L/∂Xᵢⱼ = g of the output element Xᵢⱼ went into.
    /// </summary>
    public static Vector Sum(Matrix x, int axis) => new(Reductions.SumAxis(x, axis, mean: false));

    /// <summary>Mean over one axis (see <see cref="Sum(Matrix, int)"/>); the rule divides by the axis length.</summary>
    public static Vector Mean(Matrix x, int axis) => new(Reductions.SumAxis(x, axis, mean: true));

    /// <summary>ln Σ e^x, stable; ∂/∂xₖ = softmax(x)ₖ.</summary>
    public static Scalar LogSumExp(Vector x) => new(Reductions.LogSumExp(x));

    /// <summary>ln Σ e^x of each row, stable; ∂/∂Xᵢₖ = gᵢ·softmax(Xᵢ)ₖ.</summary>
    public static Vector LogSumExp(Matrix x) => new(Reductions.LogSumExp(x));

    // ------------------------------------------------------------------ softmax (Ops/Softmax.cs)

    /// <summary>softmax(x)ₖ = e^xₖ / Σ e^x, stable; ∂L/∂xₖ = yₖ(gₖ − g·y).</summary>
    public static Vector Softmax(Vector x) => new(SoftmaxOps.Apply(OpKind.Softmax, x));

    /// <summary>Softmax of each row.</summary>
    public static Matrix Softmax(Matrix x) => new(SoftmaxOps.Apply(OpKind.Softmax, x));

    /// <summary>log-softmax(x) = x − ln Σ e^x, stable; ∂L/∂xₖ = gₖ − softmax(x)ₖ Σ g.</summary>
    public static Vector LogSoftmax(Vector x) => new(SoftmaxOps.Apply(OpKind.LogSoftmax, x));

    /// <summary>Log-softmax of each row.</summary>
    public static Matrix LogSoftmax(Matrix x) => new(SoftmaxOps.Apply(OpKind.LogSoftmax, x));

    // ------------------------------------------------------------------ views and assembly (Ops/Views.cs)

    /// <summary>The vectors end to end; each input receives its slice of the gradient.</summary>
    public static Vector Concat(params ReadOnlySpan<Vector> parts) => new(Views.Concat(parts));

    /// <summary>The scalars as a vector, yₖ = sₖ (PyTorch's <c>torch.stack</c>); ∂L/∂sₖ = gₖ (stack is unstack in reverse).</summary>
    public static Vector Stack(params ReadOnlySpan<Scalar> parts) => new(Views.Stack(parts, ShapeKind.Scalar, static s => s.Handle));

    /// <summary>
    /// The vectors as the rows of a matrix, Yₖ = vₖ (PyTorch's <c>torch.stack</c>); they must have one length.
    /// ∂L/∂vₖ = row k of G (stack is unstack in reverse).
    /// </summary>
    public static Matrix Stack(params ReadOnlySpan<Vector> parts) => new(Views.Stack(parts, ShapeKind.Vector, static v => v.Handle));

    /// <summary>
    /// The vector cut into consecutive pieces of the given sizes, which must be positive and add up to its length
    /// (PyTorch's <c>torch.split(v, [sizes])</c>). Each piece is a view (<see cref="Vector.Slice"/>), no copy.
    /// </summary>
    public static Vector[] Split(Vector v, params int[] sizes) => Typed(Views.Split(v, sizes), n => new Vector(n));

    /// <summary>
    /// The vector cut into pieces of <paramref name="chunk"/> elements, the last one shorter if the length is not a
    /// multiple (PyTorch's <c>torch.split(v, chunk)</c>); views. <c>Split(v, 3)</c> is this overload.
    /// </summary>
    public static Vector[] Split(Vector v, int chunk) => Typed(Views.Split(v, chunk), n => new Vector(n));

    /// <summary>The matrix cut into consecutive blocks of rows of the given counts (mini-batches); each a view.</summary>
    public static Matrix[] Split(Matrix m, params int[] rows) => Typed(Views.Split(m, rows), n => new Matrix(n));

    /// <summary>The matrix cut into blocks of <paramref name="chunk"/> rows, the last one smaller if need be; each a view.</summary>
    public static Matrix[] Split(Matrix m, int chunk) => Typed(Views.Split(m, chunk), n => new Matrix(n));

    /// <summary>The matrix's rows as vectors (PyTorch's <c>torch.unbind(m)</c>), each a view; the inverse of <see cref="Stack(ReadOnlySpan{Vector})"/>.</summary>
    public static Vector[] Unstack(Matrix m) => Typed(Views.Unstack(m), n => new Vector(n));

    /// <summary>The vector's elements as scalars (PyTorch's <c>torch.unbind(v)</c>), each a view; the inverse of <see cref="Stack(ReadOnlySpan{Scalar})"/>.</summary>
    public static Scalar[] Unstack(Vector v) => Typed(Views.Unstack(v), n => new Scalar(n));

    private static T[] Typed<T>(Node[] nodes, Converter<Node, T> cast) => Array.ConvertAll(nodes, cast);

    /// <summary>A vector seen as a <paramref name="rows"/> × <paramref name="cols"/> matrix, row-major (no copy).</summary>
    public static Matrix Reshape(Vector x, int rows, int cols) => new(Views.Reshape(x, Shape.Matrix(rows, cols)));

    /// <summary>A matrix seen as another <paramref name="rows"/> × <paramref name="cols"/> matrix (no copy).</summary>
    public static Matrix Reshape(Matrix x, int rows, int cols) => new(Views.Reshape(x, Shape.Matrix(rows, cols)));

    /// <summary>A matrix's elements as a vector, row by row (no copy).</summary>
    public static Vector Flatten(Matrix x) => new(Views.Reshape(x, Shape.Vector(x.Rows * x.Cols)));

    /// <summary>The same value with no gradient flowing back through it (PyTorch's <c>detach</c>).</summary>
    public static Scalar Detach(Scalar x) => new(Views.Detach(x));
    /// <inheritdoc cref="Detach(Scalar)"/>
    public static Vector Detach(Vector x) => new(Views.Detach(x));
    /// <inheritdoc cref="Detach(Scalar)"/>
    public static Matrix Detach(Matrix x) => new(Views.Detach(x));

    // ------------------------------------------------------------------ extension (Ops/CustomOp.cs)

    /// <summary>Applies a user-defined op; use <see cref="Node.AsScalar"/>, <see cref="Node.AsVector"/> or <see cref="Node.AsMatrix"/> on the result.</summary>
    public static Node Custom(CustomOp op, params ReadOnlySpan<Node> inputs) => CustomOps.Apply(op, inputs);
}
