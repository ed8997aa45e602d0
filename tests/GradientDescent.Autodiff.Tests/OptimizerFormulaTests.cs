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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamStep_IsKingmaAndBasAlgorithm1(bool amsGrad)
    {
        // Kingma & Ba, Algorithm 1, with ε after the root of the corrected v as PyTorch:
        // g ← g + λp; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ) (AMSGrad: the
        // running maximum of v, corrected); p ← p − η·m̂/(√v̂ + ε).
        const double eta = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-3, lambda = 0.1;
        var path = Run(p => new Adam([p], eta, b1, b2, eps, lambda, amsGrad));
        for (int j = 0; j < 2; j++)
        {
            double p = P0[j], m = 0, v = 0, vMax = 0;
            for (int t = 1; t <= Grads.Length; t++)
            {
                double g = Grads[t - 1][j] + lambda * p;
                m = b1 * m + (1 - b1) * g;
                v = b2 * v + (1 - b2) * g * g;
                vMax = Math.Max(vMax, v);
                double mHat = m / (1 - Math.Pow(b1, t)), vHat = (amsGrad ? vMax : v) / (1 - Math.Pow(b2, t));
                p -= eta * mHat / (Math.Sqrt(vHat) + eps);
                Approx.Equal(p, path[t - 1][j], 1e-13, 0, $"p[{j}] after step {t}");
            }
        }
    }

    [Fact]
    public void AdamStep_AmsGrad_UsesTheLargestSecondMomentSoFar()
    {
        // A large gradient then small ones: v falls, max(v) does not, so AMSGrad's later steps are smaller.
        var p1 = new VectorParameter("p", 0.0);
        var p2 = new VectorParameter("p", 0.0);
        var plain = new Adam([p1], 0.1, beta2: 0.5);
        var ams = new Adam([p2], 0.1, beta2: 0.5, amsGrad: true);
        double[] g = [10, 0.1, 0.1, 0.1];
        double[] moved = new double[2];
        for (int t = 0; t < g.Length; t++)
        {
            p1.Grad[0] = p2.Grad[0] = g[t];
            double before1 = p1.Value[0], before2 = p2.Value[0];
            plain.Step();
            ams.Step();
            if (t == 0) Assert.Equal(p1.Value[0], p2.Value[0]);   // v = max(v) on the first step
            moved[0] = Math.Abs(p1.Value[0] - before1);
            moved[1] = Math.Abs(p2.Value[0] - before2);
        }
        Assert.True(moved[1] < moved[0], $"AMSGrad moved {moved[1]}, Adam {moved[0]}");
    }

    [Fact]
    public void AdamStep_FirstStep_MovesEveryElementByTheLearningRate()
    {
        // t = 1: m̂ = g, v̂ = g², so with ε = 0 the step is η·g/|g| = η·sign(g), whatever the gradient's scale.
        var p = new VectorParameter("p", 1.0, 1.0, 1.0);
        var adam = new Adam([p], 0.01, epsilon: 0);
        double[] g = [1e-6, -3.0, 250.0];
        g.CopyTo(p.Grad, 0);
        adam.Step();
        Approx.Equal([1 - 0.01, 1 + 0.01, 1 - 0.01], p.Value, 1e-15, 0, "p after one step");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamWStep_IsDecoupledDecayThenAdam(bool amsGrad)
    {
        // Loshchilov & Hutter with PyTorch's convention: p ← p − ηλp, then the Adam step on the raw gradient.
        const double eta = 0.02, b1 = 0.9, b2 = 0.99, eps = 1e-8, lambda = 0.3;
        var path = Run(p => new AdamW([p], eta, b1, b2, eps, lambda, amsGrad));
        for (int j = 0; j < 2; j++)
        {
            double p = P0[j], m = 0, v = 0, vMax = 0;
            for (int t = 1; t <= Grads.Length; t++)
            {
                double g = Grads[t - 1][j];
                p -= eta * lambda * p;
                m = b1 * m + (1 - b1) * g;
                v = b2 * v + (1 - b2) * g * g;
                vMax = Math.Max(vMax, v);
                double mHat = m / (1 - Math.Pow(b1, t)), vHat = (amsGrad ? vMax : v) / (1 - Math.Pow(b2, t));
                p -= eta * mHat / (Math.Sqrt(vHat) + eps);
                Approx.Equal(p, path[t - 1][j], 1e-13, 0, $"p[{j}] after step {t}");
            }
        }
    }

    [Fact]
    public void AdamWStep_ZeroGradient_OnlyDecays()
    {
        // g = 0 keeps m = v = 0, so the Adam part is 0/(0 + ε) = 0: p ← (1 − ηλ)p exactly.
        var p = new VectorParameter("p", 2.0, -4.0);
        var adamw = new AdamW([p], 0.1, weightDecay: 0.5);
        adamw.Step();
        Assert.Equal([2.0 * (1 - 0.1 * 0.5), -4.0 * (1 - 0.1 * 0.5)], p.Value);
    }

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(false, 0.9)]
    [InlineData(true, 0.5)]
    public void RmsPropStep_IsTielemanAndHintonWithGravesCentering(bool centered, double mu)
    {
        // g ← g + λp; v ← αv + (1 − α)g²; ḡ ← αḡ + (1 − α)g; d = √(v − ḡ²) + ε (centered) or √v + ε;
        // b ← μb + g/d, p ← p − ηb (momentum) or p ← p − ηg/d.
        const double eta = 0.01, alpha = 0.9, eps = 1e-4, lambda = 0.05;
        var path = Run(p => new RmsProp([p], eta, alpha, eps, lambda, mu, centered));
        for (int j = 0; j < 2; j++)
        {
            double p = P0[j], v = 0, gBar = 0, b = 0;
            for (int t = 0; t < Grads.Length; t++)
            {
                double g = Grads[t][j] + lambda * p;
                v = alpha * v + (1 - alpha) * g * g;
                gBar = alpha * gBar + (1 - alpha) * g;
                double d = (centered ? Math.Sqrt(v - gBar * gBar) : Math.Sqrt(v)) + eps;
                b = mu * b + g / d;
                p -= mu > 0 ? eta * b : eta * g / d;
                Approx.Equal(p, path[t][j], 1e-14, 0, $"p[{j}] after step {t + 1}");
            }
        }
    }

    [Fact]
    public void AdagradStep_IsDuchiHazanSingerWithTorchsRateDecay()
    {
        // g ← g + λp; s ← s + g² (s starts at s₀); p ← p − η/(1 + (t − 1)δ) · g/(√s + ε).
        const double eta = 0.5, delta = 0.1, lambda = 0.01, s0 = 0.2, eps = 1e-6;
        var path = Run(p => new Adagrad([p], eta, delta, lambda, s0, eps));
        for (int j = 0; j < 2; j++)
        {
            double p = P0[j], s = s0;
            for (int t = 1; t <= Grads.Length; t++)
            {
                double g = Grads[t - 1][j] + lambda * p;
                s += g * g;
                p -= eta / (1 + (t - 1) * delta) * g / (Math.Sqrt(s) + eps);
                Approx.Equal(p, path[t - 1][j], 1e-14, 0, $"p[{j}] after step {t}");
            }
        }
    }

    [Fact]
    public void Step_SeveralParameters_EachKeepsItsOwnState()
    {
        // Two parameters stepped together move exactly as each stepped alone: state is per parameter.
        var a = new VectorParameter("a", 1.0, 2.0);
        var b = new MatrixParameter("B", new double[,] { { 3.0 }, { -1.0 } });
        var aAlone = new VectorParameter("a", 1.0, 2.0);
        var bAlone = new MatrixParameter("B", new double[,] { { 3.0 }, { -1.0 } });
        var both = new Adam([a, b], 0.1);
        var onlyA = new Adam([aAlone], 0.1);
        var onlyB = new Adam([bAlone], 0.1);
        for (int t = 0; t < 5; t++)
        {
            a.Grad[0] = aAlone.Grad[0] = t + 1;
            a.Grad[1] = aAlone.Grad[1] = -0.5;
            b.Grad[0] = bAlone.Grad[0] = 0.25 * t;
            b.Grad[1] = bAlone.Grad[1] = 7;
            both.Step();
            onlyA.Step();
            onlyB.Step();
        }
        Assert.Equal(aAlone.Value, a.Value);
        Assert.Equal(bAlone.Value, b.Value);
        Assert.Equal(5, both.StepCount);
    }
}
