using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>The lower level: a tape replayed node by node in libtorch, and the semantics of what it hands back.</summary>
public sealed class TorchReplayTests
{
    [Fact]
    public void Indexer_EveryNode_TensorOfTheNodesShapeAndValue()
    {
        TorchRuntime.EnsureLoaded();
        var w = new MatrixParameter("W", new double[,] { { 1, -2 }, { 0.5, 3 } });
        var tape = new Tape();
        Matrix x = tape.Use(w);
        Vector y = Ops.Softmax(Ops.Sum(Ops.MatMul(x, Ops.Transpose(x)), 0));
        _ = Ops.LogSumExp(y * 2.0);

        using var replay = new TorchReplay(tape);

        Assert.Equal(tape.NodeCount, replay.Count);
        for (int id = 0; id < replay.Count; id++)
        {
            Node node = tape.NodeAt(id);
            Assert.Equal(node.Shape, replay[id].ToShape());
            double[] expected = node.ToArray(), actual = replay.Value(id);
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], actual[k], 1e-14);
        }
        Assert.Same(replay[((Node)y).Id], replay[y]);
    }

    [Fact]
    public void Grad_ViewNodes_AreTheGradientOfTheStorageTheyShare()
    {
        TorchRuntime.EnsureLoaded();
        var p = new VectorParameter("p", 1.5, -2, 0.5);
        var tape = new Tape();
        Vector v = tape.Use(p);
        Scalar e = v[1];
        // L = e² + Σ v. This library's ∂L/∂e is the gradient of v's element 1, every use included: 2e + 1 = −3.
        // Torch's own e.grad would be 2e = −4; the replay reports the storage's, as this library does.
        Scalar loss = (e * e) + Ops.Sum(v);
        loss.Backward();

        using var replay = new TorchReplay(tape);
        replay.Backward(loss);

        Assert.Equal(-3.0, replay.Grad(((Node)e).Id)[0], 14);
        Assert.Equal(((Node)e).GradToArray(), replay.Grad(((Node)e).Id));
        Assert.Equal([1.0, -3, 1], replay.ParameterGrad(p));
    }

    [Fact]
    public void Constructor_StepsRecordedUnderNoGrad_AreDetachedInTorch()
    {
        TorchRuntime.EnsureLoaded();
        var p = new VectorParameter("p", 1, 2);
        var tape = new Tape();
        Vector v = tape.Use(p);
        Vector frozen;
        using (tape.NoGrad()) frozen = Ops.Exp(v);
        Scalar loss = Ops.Dot(v, frozen); // ∂L/∂v = e^v only: nothing flows back through the NoGrad step

        using var replay = new TorchReplay(tape);
        replay.Backward(loss);

        Assert.False(replay[frozen].requires_grad);
        double[] grad = replay.ParameterGrad(p);
        Assert.Equal(Math.Exp(1), grad[0], 1e-14);
        Assert.Equal(Math.Exp(2), grad[1], 1e-14);
    }

    [Fact]
    public void ParameterGrad_ParameterUsedTwice_SumsItsLeaves()
    {
        TorchRuntime.EnsureLoaded();
        var p = new ScalarParameter("p", 3);
        var tape = new Tape();
        Scalar loss = tape.Use(p) * tape.Use(p); // two leaves, ∂/∂p = 2p = 6, 3 from each

        using var replay = new TorchReplay(tape);
        replay.Backward(loss);

        Assert.Equal([0, 1], replay.LeavesOf(p));
        Assert.Equal([3.0], replay.Grad(0));
        Assert.Equal([6.0], replay.ParameterGrad(p));
    }

    [Fact]
    public void Backward_Twice_ThrowsAndGradBeforeBackward_Throws()
    {
        TorchRuntime.EnsureLoaded();
        var p = new ScalarParameter("p", 3);
        var tape = new Tape();
        Scalar loss = Ops.Exp(tape.Use(p));
        using var replay = new TorchReplay(tape);

        Assert.Throws<InvalidOperationException>(() => replay.Grad(0));
        replay.Backward(loss);
        Assert.Throws<InvalidOperationException>(() => replay.Backward(loss));
    }

    [Fact]
    public void Dispose_ReleasesEveryTensor()
    {
        TorchRuntime.EnsureLoaded();
        var p = new VectorParameter("p", 1, 2);
        var tape = new Tape();
        _ = Ops.Sum(Ops.Tanh(tape.Use(p)));
        var replay = new TorchReplay(tape);
        Tensor[] tensors = [.. Enumerable.Range(0, replay.Count).Select(id => replay[id])];

        replay.Dispose();

        Assert.All(tensors, t => Assert.True(t.IsInvalid));
        Assert.Throws<ObjectDisposedException>(() => replay[0]);
    }

    [Fact]
    public void Constructor_LeavesNoTensorsInTheCallersScope()
    {
        TorchRuntime.EnsureLoaded();
        var p = new MatrixParameter("P", new double[,] { { 1, 2 }, { 3, 4 } });
        var tape = new Tape();
        Scalar loss = Loss.SoftmaxCrossEntropy(tape.Use(p), [1, 0]);
        using DisposeScope scope = NewDisposeScope();
        int before = scope.DisposablesCount;

        using (var replay = new TorchReplay(tape))
        {
            replay.Backward(loss);
            _ = replay.ParameterGrad(p);
        }

        Assert.Equal(before, scope.DisposablesCount);
    }

    [Fact]
    public void Compare_TapeAlreadyDifferentiated_ChecksEveryParameterUsedOnIt()
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", 0.25, -0.5);
        var b = new ScalarParameter("b", 0.1);
        w.Grad[0] = 123; // accumulated from earlier steps: Compare reads gradients from the tape instead
        var tape = new Tape();
        Scalar loss = Loss.BinaryCrossEntropyWithLogits(Ops.Dot(tape.Use(w), tape.Constant([1.0, 2.0])) + tape.Use(b), 1);
        loss.Backward();

        TorchCrossCheckReport report = TorchCrossCheck.Compare(loss);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(["w", "b"], report.Parameters.Select(p => p.Parameter.Name));
    }

    [Fact]
    public void Run_LeavesParametersGradientsAsTheyWere()
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", 0.25, -0.5);
        w.Grad[0] = 5;
        w.Grad[1] = -7;

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Ops.Sum(Ops.Square(t.Use(w))), [w]);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal([0.5, -1.0], report.Parameters[0].Autodiff); // this pass alone: 2w
        Assert.Equal([5.0, -7.0], w.Grad);
    }

    [Fact]
    public void Run_LossRecordedOnAnotherTape_Throws()
    {
        TorchRuntime.EnsureLoaded();
        var w = new ScalarParameter("w", 1);
        var other = new Tape();

        Assert.Throws<InvalidOperationException>(() => TorchCrossCheck.Run(_ => Ops.Exp(other.Use(w)), [w]));
    }

    [Fact]
    public void ToString_PassingReport_TableOfParametersWorstNodeAndVerdict()
    {
        TorchRuntime.EnsureLoaded();
        var w = new VectorParameter("w", 0.3, -0.1);
        var b = new ScalarParameter("b", 0.2);

        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t => Loss.BinaryCrossEntropy(Ops.Sigmoid(Ops.Dot(t.Use(w), t.Constant([0.78051, -0.063669])) + t.Use(b)), 1.0), [w, b]);
        string text = report.ToString();

        Assert.StartsWith("TorchSharp cross-check of L = ", text, StringComparison.Ordinal);
        Assert.Contains("w                [2]", text, StringComparison.Ordinal);
        Assert.Contains("b                scalar", text, StringComparison.Ordinal);
        Assert.Contains("worst node: ", text, StringComparison.Ordinal);
        Assert.EndsWith("PASSED", text, StringComparison.Ordinal);
        Assert.Equal(report.Nodes.Count + 1, report.FormatNodes().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
