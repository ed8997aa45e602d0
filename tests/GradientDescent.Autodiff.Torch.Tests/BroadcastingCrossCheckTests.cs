using GradientDescent.Autodiff.Testing;
using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// Every binary overload of the op set (every op × every mix of double, Scalar, Vector and Matrix that broadcasts, as
/// operator, named twin or Ops function; the table is <see cref="BinaryOverloads"/>) against libtorch's broadcasting
/// and autograd, on random shapes and operands, at the bridge's default tolerance (10⁻¹⁰ relative).
/// </summary>
public sealed class BroadcastingCrossCheckTests
{
    public static TheoryData<string, OperandKind, OperandKind, string> Overloads()
    {
        var data = new TheoryData<string, OperandKind, OperandKind, string>();
        foreach (BinaryOverload o in BinaryOverloads.All()) data.Add(o.Op, o.Left, o.Right, o.Form);
        return data;
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public void Run_EveryBinaryOverloadOnRandomOperands_ValuesAndGradientsMatchTorch(string op, OperandKind left, OperandKind right, string form)
    {
        TorchRuntime.EnsureLoaded();
        var overload = new BinaryOverload(op, left, right, form);
        for (int seed = 0; seed < 6; seed++)
        {
            // Six seeds reach shapes 1–3 × 1–3, so vectors of one element and one-row matrices are among them.
            var c = new BinaryCase(overload, (seed * 7919) + (int)left * 31 + (int)right);
            TorchCrossCheckReport report = TorchCrossCheck.Run(c.Loss, c.Parameters);
            Assert.True(report.Passed, $"{c}\n{report}\n{report.FormatNodes()}");
        }
    }
}
