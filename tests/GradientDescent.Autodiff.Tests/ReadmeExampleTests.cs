using Xunit;

namespace GradientDescent.Autodiff.Tests;

/// <summary>The README's code, run as written, so the README cannot drift from the library.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void FirstExample_LogisticRegressionPoint_GradientIsTheSeedsHandFormulaToTheLastBit()
    {
        var w = new VectorParameter("w", 0.1, -0.2);
        var b = new ScalarParameter("b", 0.05);
        var tape = new Tape();
        var x = tape.Constant([0.78051, -0.063669]);

        var yHat = Ops.Sigmoid(Ops.Dot(tape.Use(w), x) + tape.Use(b));   // ŷ = σ(w·x + b)
        var error = Loss.BinaryCrossEntropy(yHat, 1.0);                  // E = −y ln ŷ − (1 − y) ln(1 − ŷ)
        error.Backward();

        // ∇E = −(y − ŷ)(x₁, x₂, 1) with y = 1
        double y = 1, p = yHat.Value;
        Assert.Equal(-(y - p) * 0.78051, w.Grad[0]);
        Assert.Equal(-(y - p) * -0.063669, w.Grad[1]);
        Assert.Equal(-(y - p), b.Grad);
    }

    [Fact]
    public void FirstExample_Format_ShowsEachNodeWithItsGradient()
    {
        var w = new VectorParameter("w", 0.1, -0.2);
        var b = new ScalarParameter("b", 0.05);
        var tape = new Tape();
        var x = tape.Constant([0.78051, -0.063669]);
        Loss.BinaryCrossEntropy(Ops.Sigmoid(Ops.Dot(tape.Use(w), x) + tape.Use(b)), 1.0).Backward();

        string text = tape.Format();

        // The lines the README shows.
        Assert.Contains("%1    Parameter w                      [2]        = [0.1, -0.2]   ∂L/∂ = [-0.362829, 0.0295973]", text);
        Assert.Contains("%5    Sigmoid(%4)                      scalar     = 0.535138   ∂L/∂ = -1.86868", text);
        Assert.Contains("%7    BinaryCrossEntropy(%5, %6)       scalar     = 0.62523   ∂L/∂ = 1", text);
    }

    [Fact]
    public void GradientCheckExample_HandDerivedLogisticGradient_Passes()
    {
        var w = new VectorParameter("w", 0.3, -0.1);
        var b = new ScalarParameter("b", 0.2);
        double[] x = [0.78051, -0.063669];
        double y = 1;

        var report = GradientCheck.Run(
            tape => Loss.BinaryCrossEntropy(Ops.Sigmoid(Ops.Dot(tape.Use(w), tape.Constant(x)) + tape.Use(b)), y),
            [w, b],
            new GradientCheckOptions
            {
                // ∇E = −(y − ŷ)(x, 1), written by hand
                HandDerived = p =>
                {
                    double yHat = 1 / (1 + Math.Exp(-(w.Value[0] * x[0] + w.Value[1] * x[1] + b.Value)));
                    return p == w ? [-(y - yHat) * x[0], -(y - yHat) * x[1]] : [-(y - yHat)];
                },
            });

        Assert.True(report.Passed, report.ToString());
        Assert.All(report.Parameters, p => Assert.NotNull(p.VersusHandDerived));
        Assert.All(report.Parameters, p => Assert.True(p.VersusHandDerived!.Value.MaxRelative < 1e-14, report.ToString()));
        Assert.Contains("hand-derived", report.ToString());
    }
}
