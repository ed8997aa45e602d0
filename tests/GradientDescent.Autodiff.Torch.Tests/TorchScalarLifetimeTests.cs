using Xunit;
using GradientDescent.Autodiff.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The bridge passes numbers to libtorch only as Scalars it keeps alive until the call returns (TorchScalars): a Scalar
/// converted implicitly from a double can be finalized during the native call that reads it.
/// </summary>
public sealed class TorchScalarLifetimeTests
{
    private static readonly string TorchSharpDll = typeof(torch).Assembly.Location;

    [Fact]
    public void Bridge_MakesEveryScalarInTorchScalars_NoUndisposedScalarAnywhereElse()
    {
        List<string> found = UndisposedTorchScalars.Find(typeof(TorchReplay).Assembly.Location, TorchSharpDll, "TorchScalars");
        Assert.True(found.Count == 0, "hands libtorch a Scalar nobody disposes: " + string.Join("; ", found));
    }

    [Fact]
    public void TheseTests_HandLibtorchNoUndisposedScalar()
    {
        List<string> found = UndisposedTorchScalars.Find(typeof(TorchScalarLifetimeTests).Assembly.Location, TorchSharpDll, nameof(ImplicitScalars), nameof(NoScalarOverload));
        Assert.True(found.Count == 0, "hands libtorch a Scalar nobody disposes: " + string.Join("; ", found));
    }

    [Fact]
    public void Scan_KnowsTorchSharpsImplicitScalars()
    {
        // The members that make one: directly (x * c, x.square()'s pow(2), F.leaky_relu's slope), and through another
        // (x.add(y) is add(y, 1), x + y is x.add(y)); those that take a Scalar do not.
        HashSet<string> members = UndisposedTorchScalars.UnsafeTorchSharpMembers(TorchSharpDll);
        const string tensor = "TorchSharp.torch.Tensor";
        Assert.Contains($"{tensor}::op_Multiply({tensor},System.Double)", members);
        Assert.Contains($"{tensor}::square()", members);
        Assert.Contains($"TorchSharp.torch.nn.functional::leaky_relu({tensor},System.Double,System.Boolean)", members);
        Assert.Contains($"{tensor}::add({tensor})", members);
        Assert.Contains($"{tensor}::add(TorchSharp.Scalar)", members);
        Assert.Contains($"{tensor}::op_Addition({tensor},{tensor})", members);
        Assert.DoesNotContain($"{tensor}::mul(TorchSharp.Scalar)", members);
        Assert.DoesNotContain($"{tensor}::add({tensor},TorchSharp.Scalar)", members);
        Assert.DoesNotContain($"{tensor}::exp()", members);
        // And the scan finds each way of making one in compiled code, and passes the disposed one.
        List<string> found = UndisposedTorchScalars.Find(typeof(TorchScalarLifetimeTests).Assembly.Location, TorchSharpDll)
            .Where(f => f.StartsWith(nameof(ImplicitScalars) + ".", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                $"ImplicitScalars.Sum calls {tensor}::op_Addition({tensor},{tensor})",
                $"ImplicitScalars.PlusHalf calls {tensor}::op_Addition({tensor},System.Double)",
                $"ImplicitScalars.TimesHalf calls {tensor}::op_Multiply({tensor},System.Double)",
                "ImplicitScalars.MulHalf makes a Scalar it never disposes",
                $"ImplicitScalars.Squared calls {tensor}::square()",
                "ImplicitScalars.Cubed makes a Scalar it never disposes",
                $"ImplicitScalars.LeakyRelu calls TorchSharp.torch.nn.functional::leaky_relu({tensor},System.Double,System.Boolean)",
                $"ImplicitScalars.Elu calls TorchSharp.torch.nn.functional::elu({tensor},System.Double,System.Boolean)",
                "ImplicitScalars.KeptHalf makes a Scalar it never disposes",
            ],
            found);
    }

    [Fact]
    public void TorchScalars_GiveTheBitsOfTheTorchSharpTheyReplace()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.5, 0.25, 3.0, -1e-300, 7.1e15, -0.0 }, float64);
        Tensor y = tensor(new[] { 0.1, -2.0, 1e-17, 4.0, -3.3, 0.0 }, float64);
        AssertSameBits(ImplicitScalars.Sum(x, y), TorchScalars.Add(x, y));
        AssertSameBits(ImplicitScalars.PlusHalf(x), TorchScalars.Add(x, 0.5));
        AssertSameBits(ImplicitScalars.TimesHalf(x), TorchScalars.Mul(x, 0.5));
        AssertSameBits(ImplicitScalars.MulHalf(x), TorchScalars.With(0.5, half => x.mul(half)));
        AssertSameBits(ImplicitScalars.Squared(x), TorchScalars.Square(x));
        AssertSameBits(ImplicitScalars.Cubed(x), TorchScalars.Pow(x, 3));
        AssertSameBits(ImplicitScalars.LeakyRelu(x, 0.07), TorchScalars.LeakyRelu(x, 0.07));
        AssertSameBits(ImplicitScalars.Elu(x, 1.3), TorchScalars.Elu(x, 1.3));
        Assert.Equal(new[] { 2.25, 0.0625, 9.0 }, TorchScalars.Square(x).data<double>().ToArray()[..3]);
    }

    private static void AssertSameBits(Tensor expected, Tensor actual) =>
        Assert.Equal(
            expected.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits),
            actual.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits));
}

/// <summary>
/// TorchSharp as one writes it, each line handing libtorch a Scalar nobody disposes (the test above must find them all),
/// and one that disposes its Scalar; run only to compare bits with <see cref="TorchScalars"/>.
/// </summary>
internal static class ImplicitScalars
{
    internal static Tensor Sum(Tensor x, Tensor y) => x + y;

    internal static Tensor PlusHalf(Tensor x) => x + 0.5;

    internal static Tensor TimesHalf(Tensor x) => x * 0.5;

    internal static Tensor MulHalf(Tensor x) => x.mul(0.5);

    internal static Tensor Squared(Tensor x) => x.square();

    internal static Tensor Cubed(Tensor x) => x.pow(3.0);

    internal static Tensor LeakyRelu(Tensor x, double slope) => nn.functional.leaky_relu(x, slope);

    internal static Tensor Elu(Tensor x, double alpha) => nn.functional.elu(x, alpha);

    internal static Tensor KeptHalf(Tensor x)
    {
        TorchSharp.Scalar half = 0.5.ToScalar();
        return x.mul(half);
    }

    internal static Tensor DisposedHalf(Tensor x)
    {
        using TorchSharp.Scalar half = 0.5.ToScalar();
        return x.mul(half);
    }
}
