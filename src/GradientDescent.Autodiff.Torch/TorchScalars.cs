using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// Numbers passed to libtorch as TorchSharp <see cref="TorchSharp.Scalar"/>s that live until the call returns.
/// </summary>
/// <remarks>
/// A TorchSharp 0.107 Scalar holds a native handle that only its <c>Dispose</c> or its finalizer frees. Converted
/// implicitly from a double (<c>x.mul(c)</c>, and inside TorchSharp's own <c>x.square()</c>, which is <c>pow(2)</c>), it
/// is unreachable as soon as its handle is read, so a collection during the native call may finalize it while libtorch
/// still reads it: "Unknown scalar type" from c10, or worse. Measured with a thread collecting beside the caller:
/// <c>t.mul(c)</c> failed 26–28 times in 550,000–650,000 calls; made, used and disposed here, 0 in 1.48 million. It
/// surfaced in a stress run of the random-graph H v cross-check (3,000 cases beside the first-order one).
/// </remarks>
internal static class TorchScalars
{
    /// <summary><paramref name="op"/> applied to <paramref name="value"/> as a Scalar disposed after the call.</summary>
    internal static Tensor With(double value, Func<TorchSharp.Scalar, Tensor> op)
    {
        using TorchSharp.Scalar scalar = value.ToScalar();
        return op(scalar);
    }

    /// <summary>x² as TorchSharp's <c>x.square()</c> computes it (<c>x.pow(2)</c>, an integer exponent), with the Scalar kept alive.</summary>
    internal static Tensor Square(Tensor x)
    {
        using TorchSharp.Scalar two = 2.ToScalar();
        return x.pow(two);
    }
}
