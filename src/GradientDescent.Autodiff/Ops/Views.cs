namespace GradientDescent.Autodiff;

/// <summary>
/// Element and row access, slices along the first axis, reshape and detach, which share storage with their input;
/// column access, concatenation and stacking, which copy.
/// </summary>
/// <remarks>
/// <para>A view node points at its input's values, and (the arenas having one layout) at its input's gradient
/// slots too: every contribution made to the view lands directly in the input's gradient, so the view's own
/// derivative rule is the identity and costs nothing ("slice is pad-with-zeros in reverse", done for free: the
/// slots outside the slice are simply not touched). Detach shares the values but is marked as needing no
/// gradient, so nothing flows back through it. A view needs contiguous storage: a range of a vector's elements or
/// of a row-major matrix's rows is one, a column is not.</para>
/// <para>Columns are strided in row-major storage (element (i, j) sits at i·cols + j), so a column or a range of
/// columns cannot share its matrix's slots under one offset: <see cref="Column"/> and <see cref="Columns"/> copy, and
/// their rule scatter-adds g back into the columns they came from.</para>
/// <para>Concatenation y = [a; b; …] and stacking (scalars into a vector, vectors into the rows of a matrix) copy;
/// their rule hands each input its slice of g ("concat is split in reverse", "stack is unstack in reverse").</para>
/// <para>Forward rules: every op here is linear and moves values without arithmetic, so the tangent moves the same
/// way. A view's tangent shares its input's tangent slots as its value shares the input's values (nothing to compute);
/// a column copy gathers the tangent's columns; concatenation and stacking join the inputs' tangents, 0 for an input
/// that carries none. Detach carries no tangent: ẏ = 0, declared (forward mode stops where backward stops).</para>
/// </remarks>
internal static class Views
{
    internal static Node Element(Node v, int index)
    {
        Tape t = v.Tape;
        int iv = v.Resolve(t, "Element");
        ref readonly NodeRecord s = ref t.Nodes[iv];
        if ((uint)index >= (uint)s.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Element: index {index} is outside the vector {s.Shape} (valid: 0 to {s.Length - 1}).");
        }
        return new Node(t, t.AppendView(OpKind.Element, iv, index, Shape.Scalar, s.RequiresGrad, index));
    }

    internal static Node Element(Node m, int row, int col)
    {
        Tape t = m.Tape;
        int im = m.Resolve(t, "Element");
        ref readonly NodeRecord s = ref t.Nodes[im];
        if ((uint)row >= (uint)s.Rows || (uint)col >= (uint)s.Cols)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"Element: ({row}, {col}) is outside the matrix {s.Shape}.");
        }
        int k = row * s.Cols + col;
        return new Node(t, t.AppendView(OpKind.Element, im, k, Shape.Scalar, s.RequiresGrad, k));
    }

    internal static Node Row(Node m, int row)
    {
        Tape t = m.Tape;
        int im = m.Resolve(t, "Row");
        ref readonly NodeRecord s = ref t.Nodes[im];
        if ((uint)row >= (uint)s.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row: row {row} is outside the matrix {s.Shape} (valid: 0 to {s.Rows - 1}).");
        }
        return new Node(t, t.AppendView(OpKind.Row, im, row * s.Cols, Shape.Vector(s.Cols), s.RequiresGrad, row));
    }

    internal static Node Reshape(Node x, Shape shape)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "Reshape");
        ref readonly NodeRecord s = ref t.Nodes[ix];
        if (shape.Length != s.Length || shape.Rows <= 0 || shape.Cols <= 0)
        {
            throw new ArgumentException($"Reshape: {s.Shape} has {s.Length} elements and cannot become {shape}; the element count must stay the same.");
        }
        return new Node(t, t.AppendView(OpKind.Reshape, ix, 0, shape, s.RequiresGrad));
    }

    internal static Node Detach(Node x)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "Detach");
        return new Node(t, t.AppendView(OpKind.Detach, ix, 0, t.Nodes[ix].Shape, requiresGrad: false));
    }

    internal static Node Concat(ReadOnlySpan<Vector> parts)
    {
        if (parts.Length == 0) throw new ArgumentException("Concat: needs at least one vector.", nameof(parts));
        Tape t = parts[0].Tape;
        int start = t.Operands.Count, total = 0;
        NodeFlags flags = NodeFlags.None;
        foreach (var p in parts)
        {
            int ip = p.Handle.Resolve(t, "Concat");
            t.Operands.Add(ip);
            total += t.Nodes[ip].Length;
            flags |= t.GradFlag(ip);
        }
        int i = t.Append(OpKind.Concat, start, parts.Length, Shape.Vector(total), flags);
        Span<double> y = t.ValueSpan(i);
        int at = 0;
        for (int k = 0; k < parts.Length; k++)
        {
            ReadOnlySpan<double> v = t.ValueSpan(t.Operands[start + k]);
            v.CopyTo(y.Slice(at));
            at += v.Length;
        }
        return new Node(t, t.Checked(i));
    }

    internal static void ConcatBackward(Tape t, int i, ref NodeRecord n)
    {
        ReadOnlySpan<double> g = t.GradSpan(i);
        int at = 0;
        for (int k = 0; k < n.B; k++)
        {
            int ip = t.Operands[n.A + k];
            int len = t.Nodes[ip].Length;
            if (t.Nodes[ip].RequiresGrad)
            {
                Span<double> gp = t.AddTarget(ip);
                System.Numerics.Tensors.TensorPrimitives.Add(gp, g.Slice(at, len), gp);
            }
            at += len;
        }
    }

    /// <summary>
    /// The recorded (create-graph) rule of a view. The fast backward needs none (a view shares its input's gradient
    /// slots); recorded, each gradient is its own node, so the dual is written out: an element, a row or a slice
    /// is padded with zeros into the input's shape ("slice is pad-with-zeros in reverse"), a reshape is reshaped back.
    /// </summary>
    internal static void RecordViewBackward(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int ix = n.A;
        if (!r.Needs(i, ix)) return;
        Shape s = r.Record(ix).Shape;
        switch (n.Op)
        {
            case OpKind.Reshape:
                r.Add(ix, Reshape(g, s));
                return;
            case OpKind.Element:
                r.Add(ix, r.Pad(g, (int)n.Aux, s));
                return;
            case OpKind.Row:
                r.Add(ix, r.Pad(g, (int)n.Aux * s.Cols, s));
                return;
            case OpKind.Slice:
                r.Add(ix, r.Pad(g, (int)n.Aux * s.Cols, s));
                return;
            default:
                throw new InvalidOperationException($"Grad: no recorded derivative rule for {n.Op} in Views.");
        }
    }

    /// <summary>The recorded rule of concat and stack: each input gets its part of g, as a view ("concat is split in reverse", "stack is unstack in reverse").</summary>
    internal static void RecordConcatBackward(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        Tape t = r.Tape;
        int at = 0;
        for (int k = 0; k < n.B; k++)
        {
            int ip = t.Operands[n.A + k];
            int len = t.Nodes[ip].Length;
            if (r.Needs(i, ip))
            {
                Node part = n.Op == OpKind.Concat ? Slice(g, at..(at + len))
                    : n.Kind == ShapeKind.Vector ? Element(g, k)
                    : Row(g, k);
                r.Add(ip, part);
            }
            at += len;
        }
    }

    /// <summary>
    /// The recorded rule of column and columns: G (r×w) goes back into columns [a, a + w) of an r×c zero matrix,
    /// built transposed (Gᵀ's rows padded into a c×r matrix, then transposed), as the ops have no strided scatter.
    /// </summary>
    internal static void RecordColumnsBackward(RecordedGradients r, int i, in NodeRecord n, Node g)
    {
        int im = n.A;
        if (!r.Needs(i, im)) return;
        Shape s = r.Record(im).Shape;
        int start = (int)n.Aux;
        Node gt = n.Op == OpKind.Column ? g : LinearAlgebra.Transpose(g);
        Node padded = r.Pad(gt, start * s.Rows, Shape.Matrix(s.Cols, s.Rows));
        r.Add(im, LinearAlgebra.Transpose(padded));
    }

    /// <summary>Forward rule of <see cref="Concat"/> and <see cref="Stack{T}"/>: ẏ = [ȧ; ḃ; …], 0 for an input without a tangent.</summary>
    internal static void ConcatTangent(Tape t, int i, ref NodeRecord n)
    {
        Span<double> d = t.TangentSpan(i);
        int at = 0;
        for (int k = 0; k < n.B; k++)
        {
            int ip = t.Operands[n.A + k];
            int len = t.Nodes[ip].Length;
            if (t.Nodes[ip].RequiresGrad) t.TangentSpan(ip).CopyTo(d.Slice(at, len));
            else d.Slice(at, len).Clear();
            at += len;
        }
    }

    // ------------------------------------------------------------------ slices and splits (views)

    /// <summary>
    /// x[range] along the first axis: elements of a vector, rows of a matrix (PyTorch's <c>x[a:b]</c>,
    /// <c>x.narrow(0, a, b − a)</c>). A view: y shares x's values and gradient slots from element a (row a) on.
    /// </summary>
    internal static Node Slice(Node x, Range range)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "Slice");
        ref readonly NodeRecord s = ref t.Nodes[ix];
        (int start, int length) = Resolve("Slice", range, s.Rows, s.Shape, s.Kind == ShapeKind.Vector ? "elements" : "rows");
        return SliceAt(t, ix, start, length);
    }

    /// <summary>Records the slice [start, start + length) of node <paramref name="ix"/> along its first axis (bounds already checked).</summary>
    private static Node SliceAt(Tape t, int ix, int start, int length)
    {
        ref readonly NodeRecord s = ref t.Nodes[ix];
        Shape shape = s.Kind == ShapeKind.Vector ? Shape.Vector(length) : Shape.Matrix(length, s.Cols);
        return new Node(t, t.AppendView(OpKind.Slice, ix, start * s.Cols, shape, s.RequiresGrad, start));
    }

    /// <summary>
    /// x split along its first axis into consecutive parts of the given sizes (PyTorch's <c>torch.split(x, sizes)</c>),
    /// each a <see cref="OpKind.Slice"/> view. The sizes must be positive and add up to the axis length; all are
    /// checked before any node is recorded.
    /// </summary>
    internal static Node[] Split(Node x, ReadOnlySpan<int> sizes)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "Split");
        Shape shape = t.Nodes[ix].Shape;
        string what = shape.Kind == ShapeKind.Vector ? "elements" : "rows";
        long total = 0;
        bool positive = true;
        foreach (int size in sizes)
        {
            total += size;
            positive &= size > 0;
        }
        if (sizes.Length == 0 || !positive || total != shape.Rows)
        {
            throw new ArgumentException(
                $"Split: sizes [{string.Join(", ", sizes.ToArray())}] do not divide {shape} ({shape.Rows} {what}); pass positive sizes that add up to {shape.Rows}, or one chunk size (Ops.Split(x, chunk)).",
                nameof(sizes));
        }
        var parts = new Node[sizes.Length];
        int start = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            parts[k] = SliceAt(t, ix, start, sizes[k]);
            start += sizes[k];
        }
        return parts;
    }

    /// <summary>
    /// x split along its first axis into chunks of <paramref name="chunk"/> (the last one smaller if the length is not a
    /// multiple), as PyTorch's <c>torch.split(x, chunk)</c>; each a view.
    /// </summary>
    internal static Node[] Split(Node x, int chunk)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "Split");
        Shape shape = t.Nodes[ix].Shape;
        if (chunk <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(chunk), chunk, $"Split: the chunk size must be positive, got {chunk} for {shape}.");
        }
        int n = shape.Rows, count = ((n - 1) / chunk) + 1; // ⌈n / chunk⌉ without overflow for a huge chunk
        var sizes = new int[count];
        for (int k = 0; k < count; k++) sizes[k] = Math.Min(chunk, n - (k * chunk));
        return Split(x, sizes);
    }

    /// <summary>
    /// The rows of a matrix as vectors, or the elements of a vector as scalars (PyTorch's <c>torch.unbind(x)</c>):
    /// views, each sharing its slots with x.
    /// </summary>
    internal static Node[] Unstack(Node x)
    {
        Tape t = x.Tape;
        int ix = x.Resolve(t, "Unstack");
        Shape shape = t.Nodes[ix].Shape;
        var parts = new Node[shape.Rows];
        for (int k = 0; k < parts.Length; k++) parts[k] = shape.Kind == ShapeKind.Vector ? Element(x, k) : Row(x, k);
        return parts;
    }

    /// <summary>
    /// Resolves <paramref name="range"/> (with ^ and open ends) against an axis of <paramref name="n"/>; errors name the op,
    /// the shape, the range and the valid bounds. An empty range is an error: no node has zero elements.
    /// </summary>
    private static (int Start, int Length) Resolve(string op, Range range, int n, Shape shape, string what)
    {
        int start = range.Start.IsFromEnd ? n - range.Start.Value : range.Start.Value;
        int end = range.End.IsFromEnd ? n - range.End.Value : range.End.Value;
        if (start < 0 || end > n || start >= end)
        {
            throw new ArgumentOutOfRangeException(nameof(range),
                $"{op}: the range {range}{(range.Start.IsFromEnd || range.End.IsFromEnd ? $" (= {start}..{end})" : "")} is not within the {n} {what} of {shape}; valid ranges are a..b with 0 ≤ a < b ≤ {n} (^k counts from the end, and a slice cannot be empty).");
        }
        return (start, end - start);
    }

    // ------------------------------------------------------------------ columns (copies: a column is strided)

    /// <summary>
    /// Column <paramref name="col"/> of a matrix as a vector, yᵢ = Mᵢⱼ (PyTorch's <c>m[:, j]</c>). A copy, because the
    /// column's elements are <c>cols</c> apart in row-major storage; the rule scatter-adds: ∂L/∂Mᵢⱼ += gᵢ.
    /// </summary>
    internal static Node Column(Node m, int col)
    {
        Tape t = m.Tape;
        int im = m.Resolve(t, "Column");
        ref readonly NodeRecord s = ref t.Nodes[im];
        if ((uint)col >= (uint)s.Cols)
        {
            throw new ArgumentOutOfRangeException(nameof(col), col, $"Column: column {col} is outside the matrix {s.Shape} (valid: 0 to {s.Cols - 1}).");
        }
        int i = t.Append(OpKind.Column, im, -1, Shape.Vector(s.Rows), t.GradFlag(im), col);
        ColumnsForward(t.ValueSpan(im), t.ValueSpan(i), t.Nodes[im].Cols, col, 1);
        return new Node(t, t.Checked(i));
    }

    /// <summary>
    /// The columns <paramref name="range"/> of a matrix, Y = M[:, a..b] (PyTorch's <c>m[:, a:b]</c>). A copy (each row's
    /// part is contiguous, but the rows are <c>cols</c> apart); the rule scatter-adds: ∂L/∂Mᵢ,ₐ₊ₖ += Gᵢₖ.
    /// </summary>
    internal static Node Columns(Node m, Range range)
    {
        Tape t = m.Tape;
        int im = m.Resolve(t, "Columns");
        ref readonly NodeRecord s = ref t.Nodes[im];
        (int start, int length) = Resolve("Columns", range, s.Cols, s.Shape, "columns");
        int i = t.Append(OpKind.Columns, im, -1, Shape.Matrix(s.Rows, length), t.GradFlag(im), start);
        ColumnsForward(t.ValueSpan(im), t.ValueSpan(i), t.Nodes[im].Cols, start, length);
        return new Node(t, t.Checked(i));
    }

    /// <summary>y = M[:, start..start + width), row by row.</summary>
    private static void ColumnsForward(ReadOnlySpan<double> m, Span<double> y, int cols, int start, int width)
    {
        int rows = m.Length / cols;
        for (int r = 0; r < rows; r++) m.Slice((r * cols) + start, width).CopyTo(y.Slice(r * width, width));
    }

    /// <summary>The rule of <see cref="Column"/> and <see cref="Columns"/>: ∂L/∂M[:, start..start + width) += G, row by row.</summary>
    internal static void ColumnsBackward(Tape t, int i, ref NodeRecord n)
    {
        int im = n.A;
        if (!t.Nodes[im].RequiresGrad) return;
        ReadOnlySpan<double> g = t.GradSpan(i);
        Span<double> gm = t.AddTarget(im);
        int cols = t.Nodes[im].Cols, start = (int)n.Aux, width = n.Op == OpKind.Column ? 1 : n.Cols;
        for (int r = 0; r < n.Length / width; r++)
        {
            Span<double> target = gm.Slice((r * cols) + start, width);
            System.Numerics.Tensors.TensorPrimitives.Add(target, g.Slice(r * width, width), target);
        }
    }

    /// <summary>Forward rule of <see cref="Column"/> and <see cref="Columns"/>: Ẏ = Ṁ[:, start..start + width), the value's gather on the tangent.</summary>
    internal static void ColumnsTangent(Tape t, int i, ref NodeRecord n)
    {
        int im = n.A;
        int width = n.Op == OpKind.Column ? 1 : n.Cols;
        ColumnsForward(t.TangentSpan(im), t.TangentSpan(i), t.Nodes[im].Cols, (int)n.Aux, width);
    }

    // ------------------------------------------------------------------ stacking (copies)

    /// <summary>
    /// Scalars into a vector, or vectors of one length into the rows of a matrix (PyTorch's <c>torch.stack(parts)</c>).
    /// The values are copied end to end, as in <see cref="Concat"/>, and the rule is Concat's: each input receives its
    /// slice of g ("stack is unstack in reverse").
    /// </summary>
    /// <remarks>Generic over the handle type (with a static accessor) so that stacking allocates nothing.</remarks>
    internal static Node Stack<T>(ReadOnlySpan<T> parts, ShapeKind partKind, Func<T, Node> handle)
    {
        string what = partKind == ShapeKind.Scalar ? "scalar" : "vector";
        if (parts.Length == 0) throw new ArgumentException($"Stack: needs at least one {what}.", nameof(parts));
        Tape t = handle(parts[0]).Tape;
        int width = 0;
        for (int k = 0; k < parts.Length; k++)
        {
            int ip = handle(parts[k]).Resolve(t, "Stack");
            int len = t.Nodes[ip].Length;
            if (k == 0) width = len;
            else if (len != width)
            {
                throw new ArgumentException(
                    $"Stack: vector {k} has length {len} but vector 0 has length {width}; the rows of a stacked matrix must have one length (slice or pad them first, or use Concat to join them end to end).",
                    nameof(parts));
            }
        }
        int start = t.Operands.Count;
        NodeFlags flags = NodeFlags.None;
        foreach (T p in parts)
        {
            int ip = handle(p).Index;
            t.Operands.Add(ip);
            flags |= t.GradFlag(ip);
        }
        Shape shape = partKind == ShapeKind.Scalar ? Shape.Vector(parts.Length) : Shape.Matrix(parts.Length, width);
        int i = t.Append(OpKind.Stack, start, parts.Length, shape, flags);
        Span<double> y = t.ValueSpan(i);
        for (int k = 0; k < parts.Length; k++) t.ValueSpan(t.Operands[start + k]).CopyTo(y.Slice(k * width, width));
        return new Node(t, t.Checked(i));
    }
}
