namespace GradientDescent.Autodiff;

/// <summary>A matrix node of a <see cref="Tape"/>: a 16-byte handle to rows × cols values, row-major.</summary>
/// <remarks>
/// Values read from a matrix are row-major flat arrays (<see cref="Value"/>, <see cref="Grad"/>), as everywhere in
/// the library; <see cref="Value2D"/> and <see cref="Grad2D"/> are two-dimensional copies.
/// Arithmetic is elementwise, with broadcasting of a <see cref="Scalar"/> over every element and of a
/// <see cref="Vector"/> of length <see cref="Cols"/> over every row (<c>X * W + b</c>). <c>M * v</c> with a
/// vector is the matrix–vector product only through <see cref="Ops.MatVec"/>; the operator broadcasts.
/// </remarks>
public readonly struct Matrix
{
    internal readonly Node Handle;

    internal Matrix(Node handle) => Handle = handle;

    internal Matrix(Tape tape, int index) => Handle = new Node(tape, index);

    /// <summary>The tape the node was recorded on.</summary>
    public Tape Tape => Handle.Tape;

    /// <summary>Number of rows.</summary>
    public int Rows => Handle.Shape.Rows;

    /// <summary>Number of columns.</summary>
    public int Cols => Handle.Shape.Cols;

    /// <summary>A copy of the values, row-major: element (i, j) at <c>i · Cols + j</c> (as <see cref="Parameter.Value"/>).</summary>
    public double[] Value => Handle.ToArray();

    /// <summary>A copy of ∂L/∂this from the last backward pass, row-major (see <see cref="Value"/>).</summary>
    public double[] Grad => Handle.GradToArray();

    /// <summary>A two-dimensional copy of the values, for display (element [i, j] = <c>Value[i · Cols + j]</c>).</summary>
    public double[,] Value2D => RowMajor.ToArray2D(Handle.ToArray(), Rows, Cols);

    /// <summary>A two-dimensional copy of ∂L/∂this from the last backward pass.</summary>
    public double[,] Grad2D => RowMajor.ToArray2D(Handle.GradToArray(), Rows, Cols);

    /// <inheritdoc cref="Scalar.Named"/>
    public Matrix Named(string name)
    {
        Handle.Tape.SetName(Handle.Resolve("Named"), name);
        return this;
    }

    /// <summary>Element (<paramref name="row"/>, <paramref name="col"/>) as a scalar node sharing this matrix's storage.</summary>
    public Scalar this[int row, int col] => new(Views.Element(Handle, row, col));

    /// <summary>Row <paramref name="row"/> as a vector node sharing this matrix's storage (no copy).</summary>
    public Vector Row(int row) => new(Views.Row(Handle, row));

    /// <summary>
    /// Rows <paramref name="rows"/> (<c>m[2..5]</c>, a mini-batch) as a matrix that shares this matrix's values and
    /// gradient slots: a view, no copy, as PyTorch's <c>m[2:5]</c>. ∂L/∂M is G on those rows, 0 elsewhere.
    /// </summary>
    public Matrix this[Range rows] => Slice(rows);

    /// <summary>
    /// The block <c>m[rows, cols]</c>: with every column (<c>m[2..5, ..]</c>) a view of the rows; otherwise the rows'
    /// view, then a copy of the columns (columns are strided, see <see cref="Columns"/>).
    /// </summary>
    public Matrix this[Range rows, Range cols]
    {
        get
        {
            Shape shape = Handle.Shape;
            bool allCols = cols.Start.GetOffset(shape.Cols) == 0 && cols.End.GetOffset(shape.Cols) == shape.Cols;
            bool allRows = rows.Start.GetOffset(shape.Rows) == 0 && rows.End.GetOffset(shape.Rows) == shape.Rows;
            if (allCols) return Slice(rows);
            return allRows ? Columns(cols) : Slice(rows).Columns(cols);
        }
    }

    /// <summary>Part of row <paramref name="row"/>, <c>m[i, a..b]</c>: the row's view, sliced (a view of a view, no copy).</summary>
    public Vector this[int row, Range cols] => Row(row).Slice(cols);

    /// <summary>Part of column <paramref name="col"/>, <c>m[a..b, j]</c>: a view of the rows, then a copy of the column.</summary>
    public Vector this[Range rows, int col] => Slice(rows).Column(col);

    /// <summary>The named twin of <see cref="this[Range]"/>: rows <paramref name="rows"/>, a view (PyTorch's <c>m[a:b]</c>, <c>m.narrow(0, a, b − a)</c>).</summary>
    public Matrix Slice(Range rows) => new(Views.Slice(Handle, rows));

    /// <summary>
    /// Column <paramref name="col"/> as a vector, yᵢ = Mᵢⱼ (PyTorch's <c>m[:, j]</c>); ∂L/∂Mᵢⱼ = gᵢ, 0 in the other
    /// columns. A copy, not a view: in row-major storage a column's elements are <see cref="Cols"/> apart, and a view
    /// here is one offset into contiguous slots.
    /// </summary>
    public Vector Column(int col) => new(Views.Column(Handle, col));

    /// <summary>
    /// Columns <paramref name="cols"/> as a matrix (PyTorch's <c>m[:, a:b]</c>); ∂L/∂M is G in those columns, 0 elsewhere.
    /// A copy, for the reason given at <see cref="Column"/>.
    /// </summary>
    public Matrix Columns(Range cols) => new(Views.Columns(Handle, cols));

    /// <summary>Backward from this matrix with the seed gradient ∂L/∂this (row-major, one value per element).</summary>
    public void Backward(ReadOnlySpan<double> seed, bool retainGraph = false) => Handle.Tape.Backward(Handle, seed, retainGraph);

    /// <summary>The untyped handle.</summary>
    public static implicit operator Node(Matrix m) => m.Handle;

    /// <summary>A + B elementwise.</summary>
    public static Matrix operator +(Matrix a, Matrix b) => Add(a, b);
    /// <summary>A − B elementwise.</summary>
    public static Matrix operator -(Matrix a, Matrix b) => Subtract(a, b);
    /// <summary>A ⊙ B elementwise (see <see cref="Ops.MatMul"/> for the matrix product).</summary>
    public static Matrix operator *(Matrix a, Matrix b) => Multiply(a, b);
    /// <summary>A / B elementwise.</summary>
    public static Matrix operator /(Matrix a, Matrix b) => Divide(a, b);
    /// <summary>−A.</summary>
    public static Matrix operator -(Matrix a) => Negate(a);
    /// <summary>A + v, v added to every row.</summary>
    public static Matrix operator +(Matrix a, Vector v) => Add(a, v);
    /// <summary>v + A, v added to every row.</summary>
    public static Matrix operator +(Vector v, Matrix a) => Add(v, a);
    /// <summary>A − v, v subtracted from every row.</summary>
    public static Matrix operator -(Matrix a, Vector v) => Subtract(a, v);
    /// <summary>v − A, row by row.</summary>
    public static Matrix operator -(Vector v, Matrix a) => Subtract(v, a);
    /// <summary>A ⊙ v, every row multiplied elementwise by v.</summary>
    public static Matrix operator *(Matrix a, Vector v) => Multiply(a, v);
    /// <summary>v ⊙ A, every row multiplied elementwise by v.</summary>
    public static Matrix operator *(Vector v, Matrix a) => Multiply(v, a);
    /// <summary>A / v, every row divided elementwise by v.</summary>
    public static Matrix operator /(Matrix a, Vector v) => Divide(a, v);
    /// <summary>v / A, row by row.</summary>
    public static Matrix operator /(Vector v, Matrix a) => Divide(v, a);
    /// <summary>A + s, s broadcast.</summary>
    public static Matrix operator +(Matrix a, Scalar s) => Add(a, s);
    /// <summary>s + A, s broadcast.</summary>
    public static Matrix operator +(Scalar s, Matrix a) => Add(s, a);
    /// <summary>A − s, s broadcast.</summary>
    public static Matrix operator -(Matrix a, Scalar s) => Subtract(a, s);
    /// <summary>s − A, s broadcast.</summary>
    public static Matrix operator -(Scalar s, Matrix a) => Subtract(s, a);
    /// <summary>A · s, s broadcast.</summary>
    public static Matrix operator *(Matrix a, Scalar s) => Multiply(a, s);
    /// <summary>s · A, s broadcast.</summary>
    public static Matrix operator *(Scalar s, Matrix a) => Multiply(s, a);
    /// <summary>A / s, s broadcast.</summary>
    public static Matrix operator /(Matrix a, Scalar s) => Divide(a, s);
    /// <summary>s / A, s broadcast.</summary>
    public static Matrix operator /(Scalar s, Matrix a) => Divide(s, a);
    /// <summary>A + c.</summary>
    public static Matrix operator +(Matrix a, double c) => Add(a, c);
    /// <summary>c + A.</summary>
    public static Matrix operator +(double c, Matrix a) => Add(c, a);
    /// <summary>A − c.</summary>
    public static Matrix operator -(Matrix a, double c) => Subtract(a, c);
    /// <summary>c − A.</summary>
    public static Matrix operator -(double c, Matrix a) => Subtract(c, a);
    /// <summary>A · c.</summary>
    public static Matrix operator *(Matrix a, double c) => Multiply(a, c);
    /// <summary>c · A.</summary>
    public static Matrix operator *(double c, Matrix a) => Multiply(c, a);
    /// <summary>A / c.</summary>
    public static Matrix operator /(Matrix a, double c) => Divide(a, c);
    /// <summary>c / A.</summary>
    public static Matrix operator /(double c, Matrix a) => Divide(c, a);

    /// <summary>A + B elementwise; ∂/∂A = 1, ∂/∂B = 1.</summary>
    public static Matrix Add(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Add, a, b));
    /// <summary>A − B elementwise; ∂/∂A = 1, ∂/∂B = −1.</summary>
    public static Matrix Subtract(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Subtract, a, b));
    /// <summary>A ⊙ B; ∂/∂A = B, ∂/∂B = A.</summary>
    public static Matrix Multiply(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Multiply, a, b));
    /// <summary>A / B elementwise; ∂/∂A = 1/B, ∂/∂B = −A/B².</summary>
    public static Matrix Divide(Matrix a, Matrix b) => new(Arithmetic.Binary(OpKind.Divide, a, b));
    /// <summary>−a elementwise; ∂/∂a = −1.</summary>
    public static Matrix Negate(Matrix a) => new(Elementwise.Unary(OpKind.Negate, a));

    // Named twins of the broadcasting operators: a vector of length Cols over every row, a scalar or a constant over
    // every element. A broadcast operand's derivative is the sum of its elementwise derivatives over the positions it
    // was broadcast to ("broadcast is sum in reverse"): column sums for a row vector, the total for a scalar.

    /// <summary>A + v, v added to every row; ∂L/∂A = G, ∂L/∂vⱼ = Σᵢ Gᵢⱼ.</summary>
    public static Matrix Add(Matrix a, Vector v) => new(Arithmetic.Binary(OpKind.Add, a, v));
    /// <summary>v + A, v added to every row; ∂L/∂vⱼ = Σᵢ Gᵢⱼ, ∂L/∂A = G.</summary>
    public static Matrix Add(Vector v, Matrix a) => new(Arithmetic.Binary(OpKind.Add, v, a));
    /// <summary>A − v, v subtracted from every row; ∂L/∂A = G, ∂L/∂vⱼ = −Σᵢ Gᵢⱼ.</summary>
    public static Matrix Subtract(Matrix a, Vector v) => new(Arithmetic.Binary(OpKind.Subtract, a, v));
    /// <summary>v − A, row by row; ∂L/∂vⱼ = Σᵢ Gᵢⱼ, ∂L/∂A = −G.</summary>
    public static Matrix Subtract(Vector v, Matrix a) => new(Arithmetic.Binary(OpKind.Subtract, v, a));
    /// <summary>A ⊙ v, every row times v; ∂L/∂Aᵢⱼ = Gᵢⱼvⱼ, ∂L/∂vⱼ = Σᵢ GᵢⱼAᵢⱼ.</summary>
    public static Matrix Multiply(Matrix a, Vector v) => new(Arithmetic.Binary(OpKind.Multiply, a, v));
    /// <summary>v ⊙ A, every row times v; ∂L/∂vⱼ = Σᵢ GᵢⱼAᵢⱼ, ∂L/∂Aᵢⱼ = Gᵢⱼvⱼ.</summary>
    public static Matrix Multiply(Vector v, Matrix a) => new(Arithmetic.Binary(OpKind.Multiply, v, a));
    /// <summary>A / v, every row divided by v; ∂L/∂Aᵢⱼ = Gᵢⱼ/vⱼ, ∂L/∂vⱼ = −Σᵢ GᵢⱼAᵢⱼ/vⱼ².</summary>
    public static Matrix Divide(Matrix a, Vector v) => new(Arithmetic.Binary(OpKind.Divide, a, v));
    /// <summary>v / A, row by row; ∂L/∂vⱼ = Σᵢ Gᵢⱼ/Aᵢⱼ, ∂L/∂Aᵢⱼ = −Gᵢⱼvⱼ/Aᵢⱼ².</summary>
    public static Matrix Divide(Vector v, Matrix a) => new(Arithmetic.Binary(OpKind.Divide, v, a));
    /// <summary>A + s, s broadcast; ∂L/∂A = G, ∂L/∂s = Σ G.</summary>
    public static Matrix Add(Matrix a, Scalar s) => new(Arithmetic.Binary(OpKind.Add, a, s));
    /// <summary>s + A, s broadcast; ∂L/∂s = Σ G, ∂L/∂A = G.</summary>
    public static Matrix Add(Scalar s, Matrix a) => new(Arithmetic.Binary(OpKind.Add, s, a));
    /// <summary>A − s, s broadcast; ∂L/∂A = G, ∂L/∂s = −Σ G.</summary>
    public static Matrix Subtract(Matrix a, Scalar s) => new(Arithmetic.Binary(OpKind.Subtract, a, s));
    /// <summary>s − A, s broadcast; ∂L/∂s = Σ G, ∂L/∂A = −G.</summary>
    public static Matrix Subtract(Scalar s, Matrix a) => new(Arithmetic.Binary(OpKind.Subtract, s, a));
    /// <summary>A · s, s broadcast; ∂L/∂A = s·G, ∂L/∂s = Σ G ⊙ A.</summary>
    public static Matrix Multiply(Matrix a, Scalar s) => new(Arithmetic.Binary(OpKind.Multiply, a, s));
    /// <summary>s · A, s broadcast; ∂L/∂s = Σ G ⊙ A, ∂L/∂A = s·G.</summary>
    public static Matrix Multiply(Scalar s, Matrix a) => new(Arithmetic.Binary(OpKind.Multiply, s, a));
    /// <summary>A / s, s broadcast; ∂L/∂A = G/s, ∂L/∂s = −Σ G ⊙ A/s².</summary>
    public static Matrix Divide(Matrix a, Scalar s) => new(Arithmetic.Binary(OpKind.Divide, a, s));
    /// <summary>s / A, s broadcast; ∂L/∂s = Σ G/A, ∂L/∂Aᵢⱼ = −Gᵢⱼs/Aᵢⱼ².</summary>
    public static Matrix Divide(Scalar s, Matrix a) => new(Arithmetic.Binary(OpKind.Divide, s, a));
    /// <summary>A + c; ∂L/∂A = G.</summary>
    public static Matrix Add(Matrix a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, c));
    /// <summary>c + A, recorded as A + c; ∂L/∂A = G.</summary>
    public static Matrix Add(double c, Matrix a) => Add(a, c);
    /// <summary>A − c, recorded as A + (−c); ∂L/∂A = G.</summary>
    public static Matrix Subtract(Matrix a, double c) => new(Elementwise.Unary(OpKind.AddConstant, a, -c));
    /// <summary>c − A; ∂L/∂A = −G.</summary>
    public static Matrix Subtract(double c, Matrix a) => new(Arithmetic.Binary(OpKind.Subtract, a.Tape.Constant(c), a));
    /// <summary>A · c; ∂L/∂A = c·G.</summary>
    public static Matrix Multiply(Matrix a, double c) => new(Elementwise.Unary(OpKind.MultiplyConstant, a, c));
    /// <summary>c · A, recorded as A · c; ∂L/∂A = c·G.</summary>
    public static Matrix Multiply(double c, Matrix a) => Multiply(a, c);
    /// <summary>A / c (a true division, not A · (1/c)); ∂L/∂A = G/c.</summary>
    public static Matrix Divide(Matrix a, double c) => new(Arithmetic.Binary(OpKind.Divide, a, a.Tape.Constant(c)));
    /// <summary>c / A; ∂L/∂Aᵢⱼ = −Gᵢⱼc/Aᵢⱼ².</summary>
    public static Matrix Divide(double c, Matrix a) => new(Arithmetic.Binary(OpKind.Divide, a.Tape.Constant(c), a));

    /// <summary>"Matrix[2×3] in node 5 (MatMul, [2×3])".</summary>
    public override string ToString() => Handle.TapeOrNull is null ? "Matrix (default)" : $"Matrix[{Rows}×{Cols}] in {Handle}";
}
