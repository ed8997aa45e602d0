using TorchSharp;
using GradientDescent.Autodiff.Testing;
using Xunit;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Custom ops in the cross-check: with a TorchSharp equivalent they are checked like built-in ops (and a wrong
/// derivative rule is caught); without one the report fails and names the op, never passing silently.
/// </summary>
public sealed class CustomOpCrossCheckTests
{
    /// <summary>√(a² + b²) elementwise: ∂/∂a = a/y, ∂/∂b = b/y.</summary>
    private sealed class HypotOp : CustomOp
    {
        public override string Name => "hypot";

        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) =>
            inputs.Length == 2 && inputs[0] == inputs[1] ? inputs[0] : throw new ArgumentException("hypot takes two inputs of one shape.");

        public override void Forward(CustomOpContext context)
        {
            ReadOnlySpan<double> a = context.Input(0), b = context.Input(1);
            for (int k = 0; k < a.Length; k++) context.Output[k] = Math.Sqrt((a[k] * a[k]) + (b[k] * b[k]));
        }

        public override void Backward(CustomOpContext context)
        {
            ReadOnlySpan<double> g = context.OutputGrad;
            for (int input = 0; input < 2; input++)
            {
                if (!context.RequiresGrad(input)) continue;
                ReadOnlySpan<double> x = context.Input(input);
                Span<double> gx = context.InputGrad(input);
                for (int k = 0; k < x.Length; k++) gx[k] += g[k] * x[k] / context.Output[k];
            }
        }
    }

    /// <summary>x² with a wrong rule, ∂/∂x = 3x instead of 2x: the kind of slip the cross-check exists for.</summary>
    private sealed class SquareWithWrongRuleOp : CustomOp
    {
        public override string Name => "square (wrong rule)";

        public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];

        public override void Forward(CustomOpContext context)
        {
            for (int k = 0; k < context.Output.Length; k++) context.Output[k] = context.Input(0)[k] * context.Input(0)[k];
        }

        public override void Backward(CustomOpContext context)
        {
            if (!context.RequiresGrad(0)) return;
            for (int k = 0; k < context.Output.Length; k++) context.InputGrad(0)[k] += context.OutputGrad[k] * 3 * context.Input(0)[k];
        }
    }

    private static readonly VectorParameter W = new("w", 0.5, -1.25, 2.0);
    private static readonly double[] Weights = [1.5, -0.75, 0.25];

    /// <summary>L = Σ cₖ·cube(wₖ + 1)·tanh(wₖ) + Σ cube(w)ₖ: the custom node's input and output are both reused.</summary>
    private static Scalar CubeLoss(Tape tape)
    {
        Vector w = tape.Use(W);
        Vector cube = Ops.CustomVector(CubeOp.Instance, w + 1.0);
        return Ops.Dot(cube * Ops.Tanh(w), tape.Constant(Weights)) + Ops.Sum(Ops.CustomVector(CubeOp.Instance, w));
    }

    [Fact]
    public void Run_CustomOpWithEquivalentByName_ValuesAndGradientsMatch()
    {
        TorchRuntime.EnsureLoaded();
        var options = new TorchCrossCheckOptions { CustomOps = { ["cube"] = x => TorchScalars.Pow(x[0], 3) } };

        TorchCrossCheckReport report = TorchCrossCheck.Run(CubeLoss, [W], options);

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(2, report.Nodes.Count(n => n.Op == OpKind.Custom && n.Value is not null && n.Gradient is not null));
    }

    [Fact]
    public void Run_CustomOpWithoutEquivalent_FailsAndNamesTheOpThatCannotBeChecked()
    {
        TorchRuntime.EnsureLoaded();

        TorchCrossCheckReport report = TorchCrossCheck.Run(CubeLoss, [W]);

        Assert.False(report.Passed);
        NodeComparison[] standIns = report.Nodes.Where(n => n.Op == OpKind.Custom).ToArray();
        Assert.Equal(2, standIns.Length);
        Assert.All(standIns, n =>
        {
            Assert.Null(n.Value); // its value is this library's own: nothing to compare
            Assert.Contains("'cube' has no TorchSharp equivalent", n.NotChecked, StringComparison.Ordinal);
        });
        // w's gradient flows through the custom nodes, so torch cannot give it: not checked, never passed.
        Assert.NotNull(report.Parameters[0].NotChecked);
        Assert.False(report.Parameters[0].Passed);
        // Everything downstream of the stand-ins is still compared, and agrees.
        NodeComparison tanh = report.Nodes.Single(n => n.Op == OpKind.Tanh);
        NodeComparison dot = report.Nodes.Single(n => n.Op == OpKind.Dot);
        Assert.True(tanh.Value!.Value.Passed && dot.Value!.Value.Passed && dot.Gradient!.Value.Passed);
        string text = report.ToString();
        Assert.Contains("NOT CHECKED", text, StringComparison.Ordinal);
        Assert.Contains("Custom cube", text, StringComparison.Ordinal);
        Assert.EndsWith("FAILED (not everything could be cross-checked)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_TwoInputCustomOpWithEquivalentByInstance_InstanceTakesPrecedenceOverName()
    {
        TorchRuntime.EnsureLoaded();
        var hypot = new HypotOp();
        var a = new VectorParameter("a", 3.0, -0.5, 1.0);
        var b = new VectorParameter("b", 4.0, 1.5, -2.0);
        var options = new TorchCrossCheckOptions
        {
            CustomOps =
            {
                ["hypot"] = x => TorchScalars.Add(x[0], x[1]), // wrong, and shadowed by the instance's equivalent
                [hypot] = x => TorchScalars.Add(TorchScalars.Square(x[0]), TorchScalars.Square(x[1])).sqrt(),
            },
        };

        // L = Σ hypot(a, b)ₖ·hypot(a, a)ₖ
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t =>
            {
                Vector av = t.Use(a), bv = t.Use(b);
                return Ops.Sum(Ops.CustomVector(hypot, av, bv) * Ops.CustomVector(hypot, av, av));
            },
            [a, b],
            options);

        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Run_CustomOpWithWrongDerivativeRule_FailsAtItsInput()
    {
        TorchRuntime.EnsureLoaded();
        var wrong = new SquareWithWrongRuleOp();
        var options = new TorchCrossCheckOptions { CustomOps = { [wrong] = x => TorchScalars.Square(x[0]) } };

        // L = Σ sq(w)·c: this library says ∂L/∂w = 3w·c, libtorch 2w·c, a relative error of 1/3 everywhere.
        TorchCrossCheckReport report = TorchCrossCheck.Run(
            t => Ops.Dot(Ops.CustomVector(wrong, t.Use(W)), t.Constant(Weights)), [W], options);

        Assert.False(report.Passed);
        Assert.Equal(1.0 / 3, report.Parameters[0].Gradient.MaxRelative, 12);
        Assert.Equal(OpKind.Parameter, report.WorstNode!.Op);
        NodeComparison custom = report.Nodes.Single(n => n.Op == OpKind.Custom);
        Assert.True(custom.Passed, "the op's own value and output gradient agree; the slip shows in what it hands its input");
        Assert.Contains("FAIL %0 Parameter w", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EquivalentOfTheWrongShape_ThrowsNamingTheNode()
    {
        TorchRuntime.EnsureLoaded();
        var options = new TorchCrossCheckOptions { CustomOps = { ["cube"] = x => x[0].sum() } };

        var error = Assert.Throws<InvalidOperationException>(() => TorchCrossCheck.Run(CubeLoss, [W], options));

        Assert.Contains("Custom cube", error.Message, StringComparison.Ordinal);
        Assert.Contains("shape", error.Message, StringComparison.Ordinal);
    }
}
