using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.Batched;

/// <summary>
/// Vector and matrix parameters are read in place (issue 10 §2): no copy, a version check against optimizer steps
/// between forward and backward, and gradient slots that are written by their first contribution instead of being
/// cleared for every pass.
/// </summary>
public sealed class InPlaceParameterTests
{
    [Fact]
    public void Use_VectorParameter_ReadsItsArrayInPlace()
    {
        var w = new VectorParameter("w", [1.0, 2, 3]);
        var tape = new Tape();
        Vector v = tape.Use(w);
        Assert.Equal([1.0, 2, 3], v.Value);
        w.Value[1] = 20; // no copy: the node is the parameter's array
        Assert.Equal([1.0, 20, 3], v.Value);
    }

    [Fact]
    public void Backward_AfterAnOptimizerStep_IsAClearError_AndChangesNothing()
    {
        // PyTorch: "one of the variables needed for gradient computation has been modified by an inplace operation".
        var w = new VectorParameter("w", [1.0, 2, 3]);
        var sgd = new Sgd([w], 0.1);
        var tape = new Tape();
        Scalar loss = Ops.Sum(Ops.Square(tape.Use(w)));
        w.Grad[0] = 7; // left from an earlier step
        sgd.Step();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("Backward: parameter w [3] was modified in place after tape.Use recorded it", e.Message);
        Assert.Contains("Call Backward before optimizer.Step()", e.Message);
        Assert.Equal([7.0, 0, 0], w.Grad);

        // Recorded again after the step, it differentiates: ∂Σw²/∂w = 2w.
        tape.Clear();
        w.ZeroGrad();
        Ops.Sum(Ops.Square(tape.Use(w))).Backward();
        Assert.Equal(w.Value.Select(v => 2 * v), w.Grad);
    }

    [Fact]
    public void VersionCheck_NamesTheParameterThatChanged_AmongScalarAndVectorOnes_OnlyForNodesTheLossUses()
    {
        // The versions are kept with the tape's parameter entries: a scalar parameter (copied) between two vector
        // ones, the second vector changed after recording. A loss recorded before the second vector's leaf does not
        // read it and differentiates; one that does names it, with the node and both versions.
        var u = new VectorParameter("u", [1.0, 2]);
        var b = new ScalarParameter("b", 0.5);
        var v = new VectorParameter("v", [3.0, 4]);
        var tape = new Tape();
        Scalar first = Ops.Sum(Ops.Square(tape.Use(u))) + tape.Use(b);
        Vector vv = tape.Use(v);
        Scalar both = first + Ops.Sum(vv);
        int before = v.Version;
        new Sgd([v], 0.1).Step(); // a step (its gradient is 0, so the values stay) marks v modified
        first.Backward(retainGraph: true);
        Assert.Equal([2.0, 4], u.Grad);
        Assert.Equal(1.0, b.Grad);
        var e = Assert.Throws<InvalidOperationException>(() => both.Backward());
        Assert.Contains($"Backward: parameter v [2] was modified in place after tape.Use recorded it (node {vv.Handle.Index}; version {before} then, {v.Version} now", e.Message);

        // A new recording after Clear checks the versions it recorded, not the earlier ones.
        tape.Clear();
        u.ZeroGrad();
        v.ZeroGrad();
        Ops.Sum(tape.Use(u) * tape.Use(v)).Backward();
        Assert.Equal([3.0, 4], u.Grad);
    }

    [Fact]
    public void Jvp_AndGrad_AfterAnOptimizerStep_AreClearErrors()
    {
        var w = new MatrixParameter("W", new double[,] { { 1, 2 }, { 3, 4 } });
        var tape = new Tape();
        Scalar loss = Ops.Sum(Ops.Square(tape.Use(w)));
        new Sgd([w], 0.1).Step();
        Assert.StartsWith("Jvp: parameter W", Assert.Throws<InvalidOperationException>(() => tape.Jvp(loss, [w], [new double[4]])).Message);
        Assert.StartsWith("Grad: parameter W", Assert.Throws<InvalidOperationException>(() => tape.Grad(loss, [loss.Tape.NodeAt(0)])).Message);
    }

    [Fact]
    public void ScalarParameter_IsCopied_SoAStepBeforeBackwardUsesTheRecordedValue()
    {
        // One element costs one store to copy and keeps the scalar fast path: no version check needed.
        var b = new ScalarParameter("b", 3);
        var tape = new Tape();
        Scalar loss = Ops.Square(tape.Use(b));
        new Sgd([b], 0.5).Step();
        loss.Backward();
        Assert.Equal(6.0, b.Grad); // 2·3, the recorded value
    }

    [Fact]
    public void DetectAnomalies_CatchesAHandWrittenChange()
    {
        var w = new VectorParameter("w", [1.0, 2]);
        var tape = new Tape { DetectAnomalies = true };
        Scalar loss = Ops.Sum(Ops.Square(tape.Use(w)));
        w.Value[0] = 5;
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("the values of parameter w [2] (node 0) changed after tape.Use recorded it", e.Message);
    }

    [Fact]
    public void ElementViews_OfAnInPlaceParameter_TakeTheScalarPaths()
    {
        // w₁·w₂ + w₀³ through element views (one-element nodes whose value is the parameter's): backward's and the
        // tangent sweep's scalar paths read and write them through the general storage lookup.
        var w = new VectorParameter("w", [1.5, -2, 0.5]);
        var tape = new Tape();
        Vector v = tape.Use(w);
        Scalar f = v[1] * v[2] + Ops.Pow(v[0], 3);
        f.Backward(retainGraph: true);
        Assert.Equal([3 * 1.5 * 1.5, 0.5, -2], w.Grad);
        // J·u = ∇f·u
        double jvp = tape.Jvp(f, [w], [[1.0, 10, 100]]);
        Approx.Equal(3 * 1.5 * 1.5 + 10 * 0.5 + 100 * -2, jvp, rel: 1e-15);
    }

    [Fact]
    public void UnreachedNodes_ReadZero_EvenWhereAnEarlierStepLeftGradients()
    {
        // Slots are not cleared per pass: a node backward did not reach reports 0, not what the previous step's
        // node at the same arena offset held.
        var w = new VectorParameter("w", [1.0, 2]);
        var tape = new Tape();
        Ops.Sum(Ops.Exp(tape.Use(w))).Backward();
        tape.Clear();
        Vector v = tape.Use(w);
        Vector unused = Ops.Exp(v);
        Scalar loss = Ops.Sum(v * 3);
        loss.Backward();
        Assert.Equal([0.0, 0], unused.Grad);
        Assert.Equal([3.0, 3], v.Grad);
    }

    [Fact]
    public void RetainedGraph_SecondPass_RecomputesNodeGradients()
    {
        var w = new VectorParameter("w", [1.0, 2]);
        var tape = new Tape();
        Vector v = tape.Use(w);
        Vector e = Ops.Exp(v);
        Scalar loss = Ops.Sum(e * e);
        loss.Backward(retainGraph: true);
        double[] first = e.Grad;
        loss.Backward();
        Assert.Equal(first, e.Grad); // not doubled: node gradients belong to one pass
        Approx.Equal([.. w.Value.Select(x => 2 * 2 * Math.Exp(2 * x))], w.Grad, rel: 1e-15); // Parameter.Grad accumulates: twice 2e^{2x}
    }

    [Fact]
    public void ViewAndDirectUse_OfOneNode_AddUp_InEitherOrder()
    {
        // x used directly and through a slice: the slice's contribution lands in x's storage by addition, whether
        // it comes before or after the direct one (the first contribution to x may assign, a view's never does).
        var w = new VectorParameter("w", [1.0, 2, 3, 4]);
        for (int order = 0; order < 2; order++)
        {
            w.ZeroGrad();
            var tape = new Tape();
            Vector x = 2 * tape.Use(w);
            Scalar direct = Ops.Sum(x * x), viaSlice = Ops.Sum(Ops.Exp(x[1..3]));
            Scalar loss = order == 0 ? direct + viaSlice : viaSlice + direct;
            loss.Backward();
            double[] expected = [.. w.Value.Select((v, k) => 8 * v + (k is 1 or 2 ? 2 * Math.Exp(2 * v) : 0))];
            Approx.Equal(expected, w.Grad, rel: 1e-15, what: $"order {order}");
        }
    }

    [Fact]
    public void Backward_FromAView_SeedsOnlyThatPart()
    {
        var w = new VectorParameter("w", [1.0, 2, 3]);
        var tape = new Tape();
        Vector y = Ops.Exp(tape.Use(w));
        Scalar middle = y[1];
        tape.Backward(middle, [1.0]);
        Approx.Equal([0, Math.Exp(2), 0], w.Grad, rel: 1e-15);
    }
}
