using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// NaN and infinity in backward: a node on a path to the loss runs its rule even when its gradient is zero
/// (0·∞ = NaN), as libtorch's engine does, on the scalar path as on the vector path; a node off every path never runs.
/// </summary>
public sealed class NanPropagationCrossCheckTests
{
    /// <summary>
    /// The hand-written BCE L = −[y ln p + (1 − y) ln(1 − p)] at p = σ(39), which rounds to exactly 1: ln(1 − p) = −∞,
    /// (1 − y)·ln(1 − p) = 0·(−∞) = NaN, and backward hands ln(1 − p) the gradient −(1 − y) = 0, whose rule gives
    /// 0/(1 − p) = 0/0 = NaN. libtorch propagates that NaN down to z; so must the scalar path, which used to skip
    /// the zero gradient and report a finite ∂L/∂z.
    /// </summary>
    private static Scalar HandWrittenBce(Tape t, Scalar z, Scalar y)
    {
        Scalar p = Ops.Sigmoid(z);
        return -(y * Ops.Log(p) + (1.0 - y) * Ops.Log(1.0 - p));
    }

    [Fact]
    public void Backward_HandWrittenBceAtSaturatedSigmoid_NanPatternEqualsLibtorch()
    {
        TorchRuntime.EnsureLoaded();
        var z = new ScalarParameter("z", 39);
        var tape = new Tape();
        Scalar loss = HandWrittenBce(tape, tape.Use(z), tape.Constant(1.0));
        Assert.Equal(1.0, Ops.Sigmoid(tape.Constant(39.0)).Value); // the premise: σ(39) rounds to 1
        loss.Backward(retainGraph: true);

        Assert.True(double.IsNaN(z.Grad), $"∂L/∂z = {z.Grad}, libtorch gives NaN");
        AssertSameAsLibtorch(tape, loss, z);
    }

    [Fact]
    public void Backward_HandWrittenBceOnVectors_ScalarAndVectorPathsAgreeWithLibtorch()
    {
        // The same loss per element on a vector [39, 0.5] (the general path) and on each element alone (the scalar path).
        TorchRuntime.EnsureLoaded();
        double[] zs = [39, 0.5];
        var zv = new VectorParameter("z", zs);
        var tape = new Tape();
        Vector z = tape.Use(zv);
        Vector y = tape.Constant([1.0, 1.0]);
        Vector p = Ops.Sigmoid(z);
        Scalar loss = Ops.Sum(-(y * Ops.Log(p) + (1.0 - y) * Ops.Log(1.0 - p)));
        loss.Backward(retainGraph: true);
        AssertSameAsLibtorch(tape, loss, zv);

        for (int k = 0; k < zs.Length; k++)
        {
            var zk = new ScalarParameter("z", zs[k]);
            var t = new Tape();
            HandWrittenBce(t, t.Use(zk), t.Constant(1.0)).Backward();
            Assert.Equal(zv.Grad[k], zk.Grad); // NaN equals NaN here; finite values bit for bit
        }
        Assert.True(double.IsNaN(zv.Grad[0]));
        Assert.True(double.IsFinite(zv.Grad[1]));
    }

    [Fact]
    public void Backward_UnreachableSqrtAtZero_GradientsFiniteLikeLibtorch()
    {
        // x = [0, 4]; an unused √x (derivative 1/(2√x) = ∞ at 0) is recorded between x and the loss L = Σ 2x.
        // libtorch never visits it, so ∂L/∂x = 2; running its rule with a zero gradient would give 0·∞ = NaN.
        TorchRuntime.EnsureLoaded();
        var x = new VectorParameter("x", 0.0, 4.0);
        var s = new ScalarParameter("s", 0.0);
        var tape = new Tape();
        Vector xv = tape.Use(x);
        Scalar sv = tape.Use(s);
        _ = Ops.Sqrt(xv);
        _ = Ops.Sqrt(sv);
        Scalar loss = Ops.Sum(xv * 2.0) + sv * 3.0;
        loss.Backward(retainGraph: true);

        Assert.Equal([2.0, 2.0], x.Grad);
        Assert.Equal(3.0, s.Grad);
        AssertSameAsLibtorch(tape, loss, x);
        AssertSameAsLibtorch(tape, loss, s);
    }

    /// <summary>Every node's ∂L/∂node and the parameter's gradient equal libtorch's: NaN where it has NaN, ±∞ where it has ±∞.</summary>
    private static void AssertSameAsLibtorch(Tape tape, Scalar loss, Parameter parameter)
    {
        using var replay = new TorchReplay(tape);
        replay.Backward(loss);
        for (int id = 0; id < tape.NodeCount; id++)
        {
            double[] ours = tape.NodeAt(id).GradToArray(), theirs = replay.Grad(id);
            for (int k = 0; k < ours.Length; k++) AssertSame(theirs[k], ours[k], $"node {id} ({tape.Describe(id).Op})[{k}]");
        }
        double[] torchGrad = replay.ParameterGrad(parameter);
        for (int k = 0; k < torchGrad.Length; k++) AssertSame(torchGrad[k], parameter.Grad[k], $"{parameter.Name}[{k}]");
    }

    private static void AssertSame(double expected, double actual, string what)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.True(expected.Equals(actual), $"{what}: libtorch {expected}, ours {actual}");
            return;
        }
        Assert.True(double.IsFinite(actual), $"{what}: libtorch {expected}, ours {actual}");
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"{what}: libtorch {expected}, ours {actual}");
    }
}
