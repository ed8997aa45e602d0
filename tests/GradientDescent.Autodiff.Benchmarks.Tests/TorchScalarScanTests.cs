using GradientDescent.Autodiff.Testing;
using Xunit;

namespace GradientDescent.Autodiff.Benchmarks.Tests;

/// <summary>
/// The benchmark's TorchSharp workloads hand libtorch no Scalar that nobody disposes (see the bridge's TorchScalars):
/// micrograd_mlp alone makes about 34,000 Scalars a TorchSharp step, and an implicit one can be finalized during
/// the call that reads it.
/// </summary>
public sealed class TorchScalarScanTests
{
    [Fact]
    public void BenchmarkProgram_HandsLibtorchNoUndisposedScalar()
    {
        List<string> found = UndisposedTorchScalars.Find(typeof(TorchEnvironment).Assembly.Location, typeof(TorchSharp.torch).Assembly.Location);
        Assert.True(found.Count == 0, "hands libtorch a Scalar nobody disposes: " + string.Join("; ", found));
    }
}
