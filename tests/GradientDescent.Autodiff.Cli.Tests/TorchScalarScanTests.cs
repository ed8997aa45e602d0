using GradientDescent.Autodiff.Testing;
using Xunit;

namespace GradientDescent.Autodiff.Cli.Tests;

/// <summary>
/// gdad and these tests hand libtorch no TorchSharp Scalar that nobody disposes (see the bridge's TorchScalars): the
/// property tests run thousands of TorchSharp formulas, and an implicit Scalar can be finalized during the call that
/// reads it.
/// </summary>
public sealed class TorchScalarScanTests
{
    private static readonly string TorchSharpDll = typeof(TorchSharp.torch).Assembly.Location;

    [Theory]
    [InlineData("gdad")]
    [InlineData("its tests")]
    public void Assembly_HandsLibtorchNoUndisposedScalar(string which)
    {
        string assembly = (which == "gdad" ? typeof(Gdad) : typeof(TorchScalarScanTests)).Assembly.Location;
        List<string> found = UndisposedTorchScalars.Find(assembly, TorchSharpDll);
        Assert.True(found.Count == 0, "hands libtorch a Scalar nobody disposes: " + string.Join("; ", found));
    }
}
