namespace GradientDescent.Autodiff;

/// <summary>
/// Element and row access, reshape and detach, which share storage with their input, and concatenation.
/// </summary>
/// <remarks>
/// <para>A view node points at its input's values, and (the arenas having one layout) at its input's gradient
/// slots too: every contribution made to the view lands directly in the input's gradient, so the view's own
/// derivative rule is the identity and costs nothing. Detach shares the values but is marked as needing no
/// gradient, so nothing flows back through it.</para>
/// <para>Concatenation y = [a; b; …] copies; its rule hands each input its slice of g ("concat is split in reverse").</para>
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
                Span<double> gp = t.GradSpan(ip);
                System.Numerics.Tensors.TensorPrimitives.Add(gp, g.Slice(at, len), gp);
            }
            at += len;
        }
    }
}
