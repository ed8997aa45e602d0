using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>Every op of the core has a TorchSharp mapping: a new <see cref="OpKind"/> cannot escape the cross-check.</summary>
public sealed class TorchOpMapTests
{
    public static TheoryData<OpKind> EveryOpKind()
    {
        var data = new TheoryData<OpKind>();
        foreach (OpKind op in Enum.GetValues<OpKind>()) data.Add(op);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryOpKind))]
    public void IsSupported_EveryOpKind_HasATorchMapping(OpKind op)
    {
        // Fails the day an op is added to the core without a case in TorchOpMap.
        Assert.True(TorchOpMap.IsSupported(op), $"OpKind.{op} has no TorchSharp mapping: add it to TorchOpMap so graphs using it can be cross-checked.");
        Assert.False(string.IsNullOrWhiteSpace(TorchOpMap.Describe(op)));
    }

    [Fact]
    public void IsSupported_AllOpKinds_CoveredAndDescribedDistinctly()
    {
        OpKind[] all = Enum.GetValues<OpKind>();
        OpKind[] missing = all.Where(op => !TorchOpMap.IsSupported(op)).ToArray();

        Assert.Empty(missing);
        // Leaves aside, no two ops share a torch expression (a copy-paste slip would).
        string[] described = all.Select(TorchOpMap.Describe).ToArray();
        Assert.Equal(described.Length, described.Distinct().Count());
    }

    [Fact]
    public void IsSupported_ValueOutsideTheEnum_IsFalseAndDescribeThrowsNamingIt()
    {
        var unknown = (OpKind)250;

        Assert.False(TorchOpMap.IsSupported(unknown));
        var error = Assert.Throws<NotSupportedException>(() => TorchOpMap.Describe(unknown));
        Assert.Contains("250", error.Message, StringComparison.Ordinal);
    }
}
