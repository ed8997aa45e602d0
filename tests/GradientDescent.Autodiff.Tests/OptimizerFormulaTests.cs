using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests;

/// <summary>
/// Each optimizer's step against its published update rule, written out by hand for a few elements and steps.
/// </summary>
public sealed class OptimizerFormulaTests
{
    // Two gradients fed in turn, for a two-element parameter starting at p₀.
    private static readonly double[] P0 = [0.5, -1.25];
    private static readonly double[][] Grads = [[0.3, -0.7], [-0.2, 0.4], [0.05, 0.9]];

    /// <summary>Feeds <see cref="Grads"/> to <paramref name="make"/>'s optimizer and returns p after each step.</summary>
    private static double[][] Run(Func<Parameter, Optimizer> make)
    {
        var p = new VectorParameter("p", P0);
        var opt = make(p);
        var path = new double[Grads.Length][];
        for (int t = 0; t < Grads.Length; t++)
        {
            Grads[t].CopyTo(p.Grad, 0);
            opt.Step();
            path[t] = (double[])p.Value.Clone();
        }
        return path;
    }

    [Fact]
    public void SgdStep_MomentumDampeningWeightDecay_IsTorchsRule()
    {
        // g ← g + λp; b₁ = g₁ (first step, undamped); bₜ = μbₜ₋₁ + (1 − τ)gₜ; p ← p − ηb.
        const double eta = 0.1, mu = 0.9, tau = 0.25, lambda = 0.01;
        var path = Run(p => new Sgd([p], eta, momentum: mu, dampening: tau, weightDecay: lambda));
        for (int j = 0; j < 2; j++)
        {
            double p = P0[j], b = 0;
            for (int t = 0; t < Grads.Length; t++)
            {
                double g = Grads[t][j] + lambda * p;
                b = t == 0 ? g : mu * b + (1 - tau) * g;
                p -= eta * b;
                Approx.Equal(p, path[t][j], 1e-15, 0, $"p[{j}] after step {t + 1}");
            }
        }
    }

    [Fact]
    public void SgdStep_Nesterov_IsTorchsRule()
    {
        // b₁ = g₁, bₜ = μbₜ₋₁ + gₜ; p ← p − η(g + μb).
        const double eta = 0.05, mu = 0.8;
        var path = Run(p => new Sgd([p], eta, momentum: mu, nesterov: true));
        for (int j = 0; j < 2; j++)
        {
            double p = P0[j], b = 0;
            for (int t = 0; t < Grads.Length; t++)
            {
                double g = Grads[t][j];
                b = t == 0 ? g : mu * b + g;
                p -= eta * (g + mu * b);
                Approx.Equal(p, path[t][j], 1e-15, 0, $"p[{j}] after step {t + 1}");
            }
        }
    }

    [Fact]
    public void SgdStep_NoMomentum_IsTheSeedsRule()
    {
        // p ← p − η(g + λp), nothing remembered between steps.
        const double eta = 0.2, lambda = 0.1;
        var path = Run(p => new Sgd([p], eta, weightDecay: lambda));
        double[] p = [.. P0];
        for (int t = 0; t < Grads.Length; t++)
        {
            for (int j = 0; j < 2; j++) p[j] -= eta * (Grads[t][j] + lambda * p[j]);
            Approx.Equal(p, path[t], 1e-15, 0, $"p after step {t + 1}");
        }
    }
}
