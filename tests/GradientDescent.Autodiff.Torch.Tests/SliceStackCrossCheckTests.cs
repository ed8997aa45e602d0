using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Slices (views), columns (copies), stack, split and unstack against libtorch's indexing, narrow, select, stack and
/// split, whose autograd derives the reference gradients independently: values, every node's ∂L/∂node (a view's is
/// its source's slots) and the parameters' gradients agree at 10⁻¹⁰ relative.
/// </summary>
public sealed class SliceStackCrossCheckTests
{
    /// <summary>Every new op at once, with overlapping views, views of views and the same input taken apart twice.</summary>
    private static Scalar EveryOp(Tape t, MatrixParameter mp, VectorParameter vp, ScalarParameter sp, int a, int b)
    {
        Matrix m = t.Use(mp);
        Vector v = t.Use(vp);
        Scalar s = t.Use(sp);
        int rows = m.Rows, cols = m.Cols;
        int r0 = a % rows, r1 = r0 + 1 + (b % (rows - r0));
        int c0 = b % cols, c1 = c0 + 1 + (a % (cols - c0));

        Matrix batch = m[r0..r1];                                  // a view of rows
        Vector part = v[c0..c1], tail = v[^1..], head = v[..c1];   // overlapping vector views
        Vector rowPart = m[r0, c0..c1];                            // a view of a view
        Vector column = m.Column(c0);                              // copies
        Matrix block = m[r0..r1, c0..c1];
        Matrix stacked = Ops.Stack(v, Ops.Tanh(v), m.Row(rows - 1));
        Vector scalars = Ops.Stack(s, part[0], s * tail[0], column[rows - 1]);
        Vector[] pieces = Ops.Split(v, 1 + (a % cols));
        Matrix[] blocks = Ops.Split(m, 1 + (b % rows));
        Vector[] unbound = Ops.Unstack(m);

        Scalar loss = Ops.Sum(Ops.Square(batch)) + Ops.Dot(part, Ops.Exp(part)) + Ops.Sum(Ops.Square(head)) * tail[0]
            + Ops.Dot(rowPart, rowPart) + Ops.Dot(column, Ops.Sigmoid(column)) + Ops.Sum(Ops.Square(block))
            + Ops.Sum(Ops.Square(Ops.Tanh(stacked))) + Ops.Dot(scalars, Ops.Square(scalars));
        for (int k = 0; k < pieces.Length; k++) loss += (k + 0.5) * Ops.Sum(Ops.Square(pieces[k]));
        for (int k = 0; k < blocks.Length; k++) loss += (k - 0.5) * Ops.Mean(Ops.Square(blocks[k]));
        for (int k = 0; k < unbound.Length; k++) loss += Ops.Dot(unbound[k], v) * (k + 1);
        return loss;
    }

    [Property(MaxTest = 60)]
    public Property Run_EveryBuildAndTakeApartOpOnRandomShapes_MatchesTorch() =>
        Prop.ForAll(
            (from rows in Gen.Choose(1, 4)
             from cols in Gen.Choose(1, 4)
             from seed in Gen.Choose(0, int.MaxValue)
             from a in Gen.Choose(0, 100)
             from b in Gen.Choose(0, 100)
             select (rows, cols, seed, a, b)).ToArbitrary(),
            c =>
            {
                TorchRuntime.EnsureLoaded();
                var random = new Random(c.seed);
                var values = new double[c.rows, c.cols];
                for (int i = 0; i < c.rows; i++)
                {
                    for (int j = 0; j < c.cols; j++) values[i, j] = (random.NextDouble() * 2) - 1;
                }
                var mp = new MatrixParameter("M", values);
                var vp = new VectorParameter("v", [.. Enumerable.Range(0, c.cols).Select(_ => (random.NextDouble() * 2) - 1)]);
                var sp = new ScalarParameter("s", (random.NextDouble() * 2) - 1);

                TorchCrossCheckReport report = TorchCrossCheck.Run(t => EveryOp(t, mp, vp, sp, c.a, c.b), [mp, vp, sp]);
                Assert.True(report.Passed, $"{c}\n{report}\n{report.FormatNodes()}");
            });

    [Fact]
    public void Replay_SliceOfAConstant_ViewOfExternalStorageReplaysAsNarrow()
    {
        // A constant read in place (external storage) sliced, and a parameter's slices: torch's narrow of the same values.
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", 0.5, -1, 2);
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t => Ops.Dot(t.Constant([1.0, 2, 3, 4, 5])[1..4], t.Use(w)) + Ops.Sum(t.Constant([1.0, 2, 3, 4], 2, 2)[1..] * t.Use(w)[..2]),
            [w]);

        Assert.True(report.Passed, report.ToString());
    }
}
