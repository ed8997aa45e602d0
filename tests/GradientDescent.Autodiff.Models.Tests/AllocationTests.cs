using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>
/// A training step on a reused tape allocates nothing once the tape's arenas have grown: the modules add no
/// allocation of their own (no enumerators, closures or boxing in forward passes).
/// </summary>
public sealed class AllocationTests
{
    [Fact]
    public void MlpForward_ReusedTape_AllocatesNothingInSteadyState()
    {
        const int B = 32;
        var random = new RandomSource(31);
        var model = new MlpClassifier(2, [16, 16], 3, random, Activation.Tanh);
        double[] x = [.. Enumerable.Range(0, B * 2).Select(_ => random.NextUniform(-1, 1))];
        var tape = new Tape();

        void Forward()
        {
            tape.Clear();
            _ = model.Forward(tape.Constant(x, B, 2));
        }

        for (int i = 0; i < 3; i++) Forward();
        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int i = 0; i < 100; i++) Forward();
        }));
    }

    [Fact]
    public void MlpTrainingStep_ReusedTapeAndAdam_AllocatesNothingInSteadyState()
    {
        // forward, loss, backward, Adam step, zero grad: the whole step
        const int B = 32;
        var random = new RandomSource(32);
        var model = new MlpClassifier(2, [16, 16], 3, random, Activation.Relu);
        double[] x = [.. Enumerable.Range(0, B * 2).Select(_ => random.NextUniform(-1, 1))];
        int[] labels = [.. Enumerable.Range(0, B).Select(i => i % 3)];
        var optimizer = new Adam(model.Parameters(), 1e-3);
        var tape = new Tape();

        void Step()
        {
            tape.Clear();
            model.Loss(tape.Constant(x, B, 2), labels).Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }

        for (int i = 0; i < 3; i++) Step();
        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int i = 0; i < 100; i++) Step();
        }));
    }
}
