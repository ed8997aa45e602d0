using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// micrograd's two reference expressions (karpathy/micrograd, test/test_engine.py), built with this library,
/// replayed in libtorch through the bridge, and checked against the numbers PyTorch gives.
/// </summary>
public sealed class MicrogradCrossCheckTests
{
    [Fact]
    public void Run_MicrogradSanityCheck_MatchesTorchAndKnownNumbers()
    {
        TorchRuntime.EnsureLoaded();
        var x = new ScalarParameter("x", -4.0);

        // z = 2x + 2 + x = −10; q = relu(z) + z·x = 40; h = relu(z·z) = 100; y = h + q + q·x = −20.
        // dy/dx = dh/dx + (dq/dx)(1 + x) + q = −60 + (−22)(−3) + 40 = 46 (relu'(z) = 0 at z < 0).
        static Scalar Expression(Tape tape, ScalarParameter p)
        {
            Scalar xs = tape.Use(p);
            Scalar z = (2 * xs) + 2 + xs;
            Scalar q = Ops.Relu(z) + (z * xs);
            Scalar h = Ops.Relu(z * z);
            return h + q + (q * xs);
        }

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Expression(t, x), [x]);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(-20.0, report.Loss, 12);
        Assert.Equal(-20.0, report.TorchLoss, 12);
        Assert.Equal(46.0, report.Parameters[0].Autodiff[0], 12);
        Assert.Equal(46.0, report.Parameters[0].Torch[0], 12);
    }

    [Fact]
    public void Run_MicrogradMoreOps_MatchesTorchAndKnownNumbers()
    {
        TorchRuntime.EnsureLoaded();
        var a = new ScalarParameter("a", -4.0);
        var b = new ScalarParameter("b", 2.0);

        // c = a + b = −2; d = a·b + b³ = 0; c = c + (c + 1) = −3; c = c + (1 + c + (−a)) = −1;
        // d = d + (2d + relu(b + a)) = 0; d = d + (3d + relu(b − a)) = 6; e = c − d = −7; f = e² = 49;
        // g = f/2 + 10/f = 24.5 + 0.2040816… = 24.70408163265306. PyTorch: dg/da = 138.83381924198252,
        // dg/db = 645.5772594752186. (Python's c += … on micrograd values is c = c + …, as C#'s += is here.)
        static Scalar Expression(Tape tape, ScalarParameter pa, ScalarParameter pb)
        {
            Scalar av = tape.Use(pa), bv = tape.Use(pb);
            Scalar c = av + bv;
            Scalar d = (av * bv) + Ops.Pow(bv, 3);
            c += c + 1;
            c += 1 + c + (-av);
            d += (d * 2) + Ops.Relu(bv + av);
            d += (3 * d) + Ops.Relu(bv - av);
            Scalar e = c - d;
            Scalar f = Ops.Pow(e, 2);
            Scalar g = f / 2.0;
            g += 10.0 / f;
            return g;
        }

        TorchCrossCheckReport report = TorchCrossCheck.Run(t => Expression(t, a, b), [a, b]);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(24.70408163265306, report.Loss, 12);
        Assert.Equal(24.70408163265306, report.TorchLoss, 12);
        Assert.Equal(138.83381924198252, report.Parameters[0].Autodiff[0], 12);
        Assert.Equal(645.5772594752186, report.Parameters[1].Autodiff[0], 12);
        Assert.Equal(138.83381924198252, report.Parameters[0].Torch[0], 12);
        Assert.Equal(645.5772594752186, report.Parameters[1].Torch[0], 12);
    }

    [Fact]
    public void Run_MicrogradMoreOps_ComparesEveryIntermediateNode()
    {
        TorchRuntime.EnsureLoaded();
        var a = new ScalarParameter("a", -4.0);
        var b = new ScalarParameter("b", 2.0);

        // e = a·b − (a + b)²: every node's value and ∂g/∂node is compared, not only the parameters'.
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Scalar av = t.Use(a), bv = t.Use(b);
                return (av * bv) - Ops.Square(av + bv);
            },
            [a, b]);

        Assert.True(report.Passed, report.ToString());
        Assert.All(report.Nodes.Where(n => n.Op != OpKind.Constant), n => Assert.NotNull(n.Gradient));
        Assert.Equal(report.Nodes.Count, report.Nodes.Count(n => n.Value is not null));
    }
}
