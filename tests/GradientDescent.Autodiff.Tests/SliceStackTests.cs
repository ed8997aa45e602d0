using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Tests.Support;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Building and taking apart: slices of vectors and of a matrix's rows (views), columns (copies), stack, split and
/// unstack. Views are checked to share storage (no value slot is spent on them) and to route gradients exactly,
/// overlapping views adding up; copies scatter-add; errors name the op, the shape and the valid range.
/// </summary>
public class SliceStackTests
{
    // ---------------------------------------------------------------- vector slices

    [Fact]
    public void Slice_VectorRanges_ValuesAreTheElementsWithCaretAndOpenEnds()
    {
        var t = new Tape();
        Vector v = t.Constant([0.0, 1, 2, 3, 4]);

        Assert.Equal([2.0, 3, 4], v[2..5].Value);
        Assert.Equal([3.0, 4], v[^2..].Value);
        Assert.Equal([0.0, 1], v[..2].Value);
        Assert.Equal([1.0, 2, 3], v[1..^1].Value);
        Assert.Equal([0.0, 1, 2, 3, 4], v[..].Value);
        Assert.Equal(4.0, v[^1].Value); // ^ on a single index, through Length and the int indexer
        Assert.Equal([2.0, 3], v.Slice(2..4).Value);
    }

    [Fact]
    public void Slice_OfAVector_SharesStorageAndSpendsNoValueSlot()
    {
        // A view: no slot in the value arena, the same numbers, and a write into the source shows through.
        double[] data = [1, 2, 3, 4, 5];
        var t = new Tape();
        Vector v = t.Constant(data);
        var p = new VectorParameter("p", 1, 2, 3, 4);
        Vector u = t.Use(p);
        int slots = t.ValueSlots;

        Vector a = v[1..4], b = u[2..], c = a[1..]; // c: a view of a view
        Assert.Equal(slots, t.ValueSlots);
        Assert.Equal(OpKind.Slice, ((Node)c).Op);
        data[2] = 30;
        Assert.Equal([30.0, 4], c.Value[..2]);
        Assert.Equal([3.0, 4], b.Value);
    }

    [Fact]
    public void Slice_SameInputSlicedTwiceOverlapping_GradientsAccumulate()
    {
        // L = w·v[0..3] + u·v[1..4]: ∂L/∂v = (w₀, w₁ + u₀, w₂ + u₁, u₂).
        var v = new VectorParameter("v", 1, 2, 3, 4);
        var t = new Tape();
        Vector x = t.Use(v);
        Scalar loss = Ops.Dot(x[0..3], t.Constant([1.0, 2, 3])) + Ops.Dot(x[1..4], t.Constant([10.0, 20, 30]));
        loss.Backward();

        Assert.Equal(1 * 1 + 2 * 2 + 3 * 3 + (10 * 2) + (20 * 3) + (30 * 4), loss.Value);
        Assert.Equal([1.0, 12, 23, 30], v.Grad);
    }

    [Fact]
    public void Slice_GradientOfTheView_IsTheSourceSlotsOnTheRange()
    {
        // slice is pad-with-zeros in reverse: ∂L/∂v is g on the range and 0 elsewhere.
        var v = new VectorParameter("v", 1, 2, 3, 4, 5);
        var t = new Tape();
        Vector s = t.Use(v)[1..3];
        Ops.Sum(Ops.Square(s)).Backward();

        Assert.Equal([4.0, 6], s.Grad);
        Assert.Equal([0.0, 4, 6, 0, 0], v.Grad);
    }

    [Theory]
    [InlineData(2, 7)]
    [InlineData(3, 3)]
    [InlineData(4, 2)]
    public void Slice_RangeOutsideOrEmpty_ThrowsNamingOpShapeAndValidRange(int start, int end)
    {
        var t = new Tape();
        Vector v = t.Constant([0.0, 1, 2, 3, 4]);
        int nodes = t.NodeCount;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => v[start..end]);
        Assert.Contains("Slice", e.Message, StringComparison.Ordinal);
        Assert.Contains("[5]", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{start}..{end}", e.Message, StringComparison.Ordinal);
        Assert.Contains("0 ≤ a < b ≤ 5", e.Message, StringComparison.Ordinal);
        Assert.Equal(nodes, t.NodeCount);
    }

    // ---------------------------------------------------------------- matrix rows (views) and columns (copies)

    private static MatrixParameter Grid(int rows, int cols) =>
        new("M", Gens.ToMatrix([.. Enumerable.Range(0, rows * cols).Select(k => (double)k)], rows, cols));

    [Fact]
    public void MatrixSlice_RowRange_IsAViewAndTheGradientLandsInThoseRows()
    {
        // A mini-batch m[1..3] of a 4×2 matrix: no copy; L = Σ B ⊙ W gives ∂L/∂M = W on rows 1–2, 0 elsewhere.
        var m = Grid(4, 2);
        var t = new Tape();
        Matrix x = t.Use(m);
        int slots = t.ValueSlots;
        Matrix batch = x[1..3];
        Matrix same = x[1..3, ..];
        Assert.Equal(slots, t.ValueSlots);
        Assert.Equal(OpKind.Slice, ((Node)same).Op);
        Assert.Equal(new double[,] { { 2, 3 }, { 4, 5 } }, batch.Value2D);
        Assert.Equal(batch.Value2D, x.Slice(1..3).Value2D);

        Ops.Sum(batch * t.Constant([1.0, 2, 3, 4], 2, 2)).Backward();
        Assert.Equal([0.0, 0, 1, 2, 3, 4, 0, 0], m.Grad);
    }

    [Fact]
    public void Column_ValueIsTheColumnAndItsRuleScatterAdds()
    {
        // y = M[:, 1] of a 3×3 grid; L = g·y + h·M[:, 1] (the same column twice): ∂L/∂Mᵢ₁ = gᵢ + hᵢ, 0 elsewhere.
        var m = Grid(3, 3);
        var t = new Tape();
        Matrix x = t.Use(m);
        int slots = t.ValueSlots;
        Vector y = x.Column(1);
        Assert.Equal(slots + 3, t.ValueSlots); // a copy: the column is strided
        Assert.Equal([1.0, 4, 7], y.Value);

        Scalar loss = Ops.Dot(y, t.Constant([1.0, 2, 3])) + Ops.Dot(x.Column(1), t.Constant([10.0, 20, 30]));
        loss.Backward();
        Assert.Equal([0.0, 11, 0, 0, 22, 0, 0, 33, 0], m.Grad);
    }

    [Fact]
    public void Columns_RangeOfColumns_ValueAndScatterAddedGradient()
    {
        // Y = M[:, 1..3] of a 2×4 grid; L = Σ Y ⊙ W: ∂L/∂M = W in columns 1–2, 0 elsewhere.
        var m = Grid(2, 4);
        var t = new Tape();
        Matrix y = t.Use(m).Columns(1..3);
        Assert.Equal(new double[,] { { 1, 2 }, { 5, 6 } }, y.Value2D);

        Ops.Sum(y * t.Constant([1.0, 2, 3, 4], 2, 2)).Backward();
        Assert.Equal([0.0, 1, 2, 0, 0, 3, 4, 0], m.Grad);
    }

    [Fact]
    public void MatrixIndexers_BlocksRowPartsAndColumnParts_MatchTheElements()
    {
        // m[a..b, c..d] = rows a..b (view) then columns c..d (copy); m[i, c..d] a view of a view; m[a..b, j] a column copy.
        var m = Grid(3, 4);
        var t = new Tape();
        Matrix x = t.Use(m);

        Assert.Equal(new double[,] { { 5, 6 }, { 9, 10 } }, x[1..3, 1..3].Value2D);
        Assert.Equal(new double[,] { { 1, 2 }, { 5, 6 }, { 9, 10 } }, x[.., 1..3].Value2D);
        Assert.Equal([5.0, 6, 7], x[1, 1..].Value);
        Assert.Equal(OpKind.Slice, ((Node)x[1, 1..]).Op);
        Assert.Equal(OpKind.Slice, ((Node)x[1..3, 0..4]).Op); // every column, however written: a view of the rows
        Assert.Equal(OpKind.Columns, ((Node)x[0..3, 1..3]).Op); // every row: the columns' copy alone
        Assert.Equal([6.0, 10], x[1..3, 2].Value);

        Scalar loss = Ops.Sum(x[1..3, 1..3]) + Ops.Sum(x[1, 1..]) + Ops.Sum(x[1..3, 2]);
        loss.Backward();
        // Counts per element: the block adds 1 to (1..2, 1..2), the row part 1 to (1, 1..3), the column part 1 to (1..2, 2).
        Assert.Equal([0.0, 0, 0, 0, 0, 2, 3, 1, 0, 1, 2, 0], m.Grad);
    }

    [Fact]
    public void ColumnAndColumns_OutOfRange_ThrowNamingOpShapeAndValidRange()
    {
        var t = new Tape();
        Matrix x = t.Constant(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });

        var column = Assert.Throws<ArgumentOutOfRangeException>(() => x.Column(3));
        Assert.Contains("Column: column 3 is outside the matrix [2×3] (valid: 0 to 2)", column.Message, StringComparison.Ordinal);
        var columns = Assert.Throws<ArgumentOutOfRangeException>(() => x.Columns(1..4));
        Assert.Contains("Columns", columns.Message, StringComparison.Ordinal);
        Assert.Contains("[2×3]", columns.Message, StringComparison.Ordinal);
        Assert.Contains("0 ≤ a < b ≤ 3", columns.Message, StringComparison.Ordinal);
        var rows = Assert.Throws<ArgumentOutOfRangeException>(() => x[1..3]);
        Assert.Contains("Slice", rows.Message, StringComparison.Ordinal);
        Assert.Contains("2 rows of [2×3]", rows.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- stack, split, unstack

    [Fact]
    public void Stack_Scalars_VectorOfThemAndEachGetsItsElementOfG()
    {
        // y = (a, b, a·b); L = g·y: ∂L/∂a = g₀ + g₂·b, ∂L/∂b = g₁ + g₂·a.
        var a = new ScalarParameter("a", 2);
        var b = new ScalarParameter("b", 5);
        var t = new Tape();
        Scalar x = t.Use(a), z = t.Use(b);
        Vector y = Ops.Stack(x, z, x * z);
        Assert.Equal([2.0, 5, 10], y.Value);

        Ops.Dot(y, t.Constant([1.0, 10, 100])).Backward();
        Assert.Equal(1 + (100 * 5), a.Grad);
        Assert.Equal(10 + (100 * 2), b.Grad);
    }

    [Fact]
    public void Stack_Vectors_RowsOfAMatrixAndEachGetsItsRowOfG()
    {
        // Y = [u; v; u]: ∂L/∂u = G₀ + G₂, ∂L/∂v = G₁ (stack is unstack in reverse).
        var u = new VectorParameter("u", 1, 2);
        var v = new VectorParameter("v", 3, 4);
        var t = new Tape();
        Vector x = t.Use(u), z = t.Use(v);
        Matrix y = Ops.Stack(x, z, x);
        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4 }, { 1, 2 } }, y.Value2D);

        Ops.Sum(y * t.Constant([1.0, 2, 3, 4, 5, 6], 3, 2)).Backward();
        Assert.Equal([6.0, 8], u.Grad);
        Assert.Equal([3.0, 4], v.Grad);
    }

    [Fact]
    public void Stack_UnequalLengthsOrNothing_ThrowsNamingOpIndexAndLengths_RecordsNothing()
    {
        var t = new Tape();
        Vector a = t.Constant([1.0, 2, 3]), b = t.Constant([1.0, 2]);
        int nodes = t.NodeCount;

        var e = Assert.Throws<ArgumentException>(() => Ops.Stack(a, a, b));
        Assert.Contains("Stack: vector 2 has length 2 but vector 0 has length 3", e.Message, StringComparison.Ordinal);
        Assert.Equal(nodes, t.NodeCount);
        Assert.Throws<ArgumentException>(() => Ops.Stack(Array.Empty<Vector>()));
        Assert.Throws<ArgumentException>(() => Ops.Stack(Array.Empty<Scalar>()));
    }

    [Fact]
    public void Split_VectorBySizesAndByChunk_ViewsThatCoverItInOrder()
    {
        // torch.split semantics: explicit sizes, or a chunk size with a shorter last piece.
        var t = new Tape();
        Vector v = t.Constant([0.0, 1, 2, 3, 4]);
        int slots = t.ValueSlots;

        Vector[] bySizes = Ops.Split(v, 2, 3);
        Vector[] byChunk = Ops.Split(v, 2);
        Assert.Equal(slots, t.ValueSlots);
        Assert.Equal([[0.0, 1], [2.0, 3, 4]], bySizes.Select(p => p.Value));
        Assert.Equal([[0.0, 1], [2.0, 3], [4.0]], byChunk.Select(p => p.Value));
        Assert.Equal([[0.0, 1, 2, 3, 4]], Ops.Split(v, [5]).Select(p => p.Value));
        Assert.Equal([[0.0, 1, 2, 3, 4]], Ops.Split(v, int.MaxValue).Select(p => p.Value)); // a chunk longer than v: v
    }

    [Fact]
    public void Split_SizesThatDoNotAddUp_ThrowNamingSizesAndShape_RecordsNothing()
    {
        var t = new Tape();
        Vector v = t.Constant([0.0, 1, 2, 3, 4]);
        int nodes = t.NodeCount;

        var e = Assert.Throws<ArgumentException>(() => Ops.Split(v, 2, 2));
        Assert.Contains("Split: sizes [2, 2] do not divide [5] (5 elements)", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Ops.Split(v, 6, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Split(v, 0));
        Assert.Equal(nodes, t.NodeCount);
    }

    [Fact]
    public void SplitMatrix_IntoRowBlocks_ViewsWhoseGradientsLandInTheirRows()
    {
        // Mini-batches of 2 rows of a 5×2 matrix: blocks of 2, 2 and 1 rows; L = Σₖ (k + 1)·Σ blockₖ.
        var m = Grid(5, 2);
        var t = new Tape();
        Matrix[] blocks = Ops.Split(t.Use(m), 2);
        Assert.Equal([2, 2, 1], blocks.Select(b => b.Rows));
        Assert.Equal(new double[,] { { 8, 9 } }, blocks[2].Value2D);
        Assert.Equal(new double[,] { { 0, 1 }, { 2, 3 } }, Ops.Split(t.Use(m), 2, 3)[0].Value2D);

        Scalar loss = Ops.Sum(blocks[0]) + (2 * Ops.Sum(blocks[1])) + (3 * Ops.Sum(blocks[2]));
        loss.Backward();
        Assert.Equal([1.0, 1, 1, 1, 2, 2, 2, 2, 3, 3], m.Grad);
    }

    [Fact]
    public void Unstack_MatrixAndVector_RowViewsAndElementViews_StackUndoesIt()
    {
        // Stack(Unstack(M)) = M and its gradient is the identity: ∂/∂M Σ W ⊙ Stack(Unstack(M)) = W.
        var m = Grid(3, 2);
        var t = new Tape();
        Matrix x = t.Use(m);
        int slots = t.ValueSlots;
        Vector[] rows = Ops.Unstack(x);
        Scalar[] elements = Ops.Unstack(rows[1]);
        Assert.Equal(slots, t.ValueSlots);
        Assert.Equal([OpKind.Row, OpKind.Row, OpKind.Row], rows.Select(r => ((Node)r).Op));
        Assert.Equal([2.0, 3], elements.Select(e => e.Value));

        Matrix back = Ops.Stack(rows);
        Assert.Equal(x.Value2D, back.Value2D);
        Ops.Sum(back * t.Constant([1.0, 2, 3, 4, 5, 6], 3, 2)).Backward();
        Assert.Equal([1.0, 2, 3, 4, 5, 6], m.Grad);
    }

    [Fact]
    public void MiniBatchStep_SlicesColumnsAndStack_AllocateNothingOnceWarm()
    {
        // A training step over a mini-batch view of a large constant, a column, and a stack of scalars: after the
        // tape's arenas have grown, record + backward + clear allocates no managed memory.
        double[] data = [.. Enumerable.Range(0, 64 * 4).Select(k => Math.Sin(k))];
        var w = new VectorParameter("w", 0.1, -0.2, 0.3, 0.05);
        var tape = new Tape();
        void Step(int batch)
        {
            Matrix x = tape.Constant(data, 64, 4)[(batch * 8)..((batch + 1) * 8)];
            Vector z = Ops.MatVec(x, tape.Use(w));
            Scalar loss = Ops.Mean(Ops.Square(z[1..^1])) + Ops.Sum(Ops.Stack(z[0], z[^1]) * x.Column(2)[..2]);
            loss.Backward();
            tape.Clear();
        }

        for (int k = 0; k < 3; k++) Step(k);
        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int k = 0; k < 8; k++) Step(k);
        }));
    }

    // ---------------------------------------------------------------- inspection

    [Fact]
    public void Format_SliceColumnColumnsStack_ShowBoundsAndEveryInput()
    {
        var t = new Tape();
        Matrix x = t.Constant(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }); // %0
        Vector r = x.Row(0);                                                // %1
        Vector s = r[1..3];                                                 // %2
        Vector c = x.Column(1);                                             // %3
        Matrix cs = x.Columns(0..2);                                        // %4
        Matrix st = Ops.Stack(s, c);                                        // %5
        Matrix rs = x[1..2];                                                // %6

        string text = t.Format();
        Assert.Contains("Slice[1..3](%1)", text, StringComparison.Ordinal);
        Assert.Contains("Column[1](%0)", text, StringComparison.Ordinal);
        Assert.Contains("Columns[0..2](%0)", text, StringComparison.Ordinal);
        Assert.Contains("Stack(%2, %3)", text, StringComparison.Ordinal);
        Assert.Contains("Slice[1..2](%0)", text, StringComparison.Ordinal);
        Assert.Equal([2, 3], t.Describe(((Node)st).Id).Inputs);
        Assert.Equal(1..3, t.Describe(((Node)s).Id).Bounds);
        Assert.Equal(0..2, t.Describe(((Node)cs).Id).Bounds);
        Assert.Null(t.Describe(((Node)c).Id).Bounds);
        Assert.Equal(1.0, t.Describe(((Node)c).Id).Constant);
        Assert.Equal(new double[,] { { 4, 5, 6 } }, rs.Value2D);
    }

    // ---------------------------------------------------------------- finite differences

    /// <summary>A random composition of the new ops on a random r×c matrix parameter and a length-c vector parameter.</summary>
    private static Scalar Compose(Tape t, MatrixParameter mp, VectorParameter vp, int choice, int a, int b)
    {
        Matrix m = t.Use(mp);
        Vector v = t.Use(vp);
        int rows = m.Rows, cols = m.Cols;
        int r0 = a % rows, r1 = r0 + 1 + (b % (rows - r0));
        int c0 = b % cols, c1 = c0 + 1 + (a % (cols - c0));
        // Squares and products make every path's gradient depend on the values (a routing slip changes it).
        return (choice % 6) switch
        {
            0 => Ops.Sum(Ops.Square(m[r0..r1])) + Ops.Dot(v[c0..c1], Ops.Square(v[c0..c1])),
            1 => Ops.Dot(Ops.Square(m.Column(c0)), m.Column(c1 - 1)) + Ops.Sum(Ops.Square(m.Columns(c0..c1))),
            2 => Ops.Sum(Ops.Square(Ops.Stack(v, v * v, m.Row(r0)))),
            3 => Ops.Sum(Ops.Stack(m[r0, c0], v[c1 - 1], m[r1 - 1, c1 - 1] * v[c0]) * Ops.Stack(v[c0], m[r0, c1 - 1], m[r0, c0])),
            4 => Ops.Split(m, 1 + (a % rows)).Select((block, k) => (k + 1.5) * Ops.Sum(Ops.Square(block))).Aggregate((x, y) => x + y),
            _ => Ops.Unstack(m).Select((row, k) => Ops.Dot(row, v) * (k - 0.5)).Aggregate((x, y) => x + y * y),
        };
    }

    [Property(MaxTest = 200)]
    public Property Compositions_RandomShapesAndRanges_GradientsMatchCentralDifferences() =>
        Prop.ForAll(
            (from rows in Gen.Choose(1, 4)
             from cols in Gen.Choose(1, 4)
             from mv in Gens.Array(rows * cols, -2, 2)
             from vv in Gens.Array(cols, -2, 2)
             from choice in Gen.Choose(0, 5)
             from a in Gen.Choose(0, 100)
             from b in Gen.Choose(0, 100)
             select (rows, cols, mv, vv, choice, a, b)).ToArbitrary(),
            c =>
            {
                var mp = new MatrixParameter("M", Gens.ToMatrix(c.mv, c.rows, c.cols));
                var vp = new VectorParameter("v", c.vv);
                GradientCheckReport report = GradientCheck.Run(t => Compose(t, mp, vp, c.choice, c.a, c.b), [mp, vp]);
                Assert.True(report.Passed, $"choice {c.choice}, {c.rows}×{c.cols}, a {c.a}, b {c.b}\n{report}");
            });
}
