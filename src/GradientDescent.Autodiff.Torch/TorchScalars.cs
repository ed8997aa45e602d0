using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// TorchSharp operations on numbers, with every <see cref="TorchSharp.Scalar"/> they hand libtorch kept alive until
/// the call returns: for the TorchSharp you write beside this library (a custom op's equivalent, a reference model).
/// </summary>
/// <remarks>
/// <para>A TorchSharp 0.107 Scalar holds a native handle that only its <c>Dispose</c> or its finalizer frees. Made
/// implicitly — <c>x * c</c>, <c>x.mul(c)</c> with a double, and inside TorchSharp itself <c>x + y</c> and
/// <c>x.add(y)</c> (alpha = 1), <c>x.add(s)</c>, <c>x.square()</c> (pow(2)), <c>F.leaky_relu(x, slope)</c>,
/// <c>F.elu(x, α)</c> — it is unreachable as soon as its handle is read, so a collection during the native call may
/// finalize it while libtorch still reads it: "Unknown scalar type" from c10, or a wrong number. Measured with a thread
/// collecting beside the caller: <c>t.mul(c)</c> failed 26–28 times in 550,000–650,000 calls; made, used and disposed
/// here, 0 in 1.48 million. It surfaced in a stress run of the random-graph H v cross-check.</para>
/// <para>Each method makes the same libtorch call as the TorchSharp it replaces (<c>Add(x, y)</c> is
/// <c>x.add(y, 1)</c>, which <c>x + y</c> calls), so the results are the same bits. The tests read the IL of this
/// bridge, its tests, gdad and its tests and the benchmark program, and fail on any Scalar made and not disposed outside
/// this class.</para>
/// </remarks>
public static class TorchScalars
{
    /// <summary>x + y (TorchSharp's <c>x + y</c> and <c>x.add(y)</c>: <c>x.add(y, alpha: 1)</c>).</summary>
    public static Tensor Add(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        using TorchSharp.Scalar one = 1.ToScalar();
        return x.add(y, one);
    }

    /// <summary>x + c elementwise (TorchSharp's <c>x + c</c>: <c>x.add(c, alpha: 1)</c>).</summary>
    public static Tensor Add(Tensor x, double c)
    {
        ArgumentNullException.ThrowIfNull(x);
        using TorchSharp.Scalar one = 1.ToScalar();
        return With(c, s => x.add(s, one));
    }

    /// <summary>x · c elementwise (TorchSharp's <c>x * c</c>).</summary>
    public static Tensor Mul(Tensor x, double c)
    {
        ArgumentNullException.ThrowIfNull(x);
        return With(c, s => x.mul(s));
    }

    /// <summary>x² as TorchSharp's <c>x.square()</c> computes it (<c>x.pow(2)</c>, an integer exponent).</summary>
    public static Tensor Square(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using TorchSharp.Scalar two = 2.ToScalar();
        return x.pow(two);
    }

    /// <summary>x^c elementwise (TorchSharp's <c>x.pow(c)</c>), c a number.</summary>
    public static Tensor Pow(Tensor x, double c)
    {
        ArgumentNullException.ThrowIfNull(x);
        return With(c, s => x.pow(s));
    }

    /// <summary>x where x &gt; 0, slope·x elsewhere (TorchSharp's <c>F.leaky_relu(x, slope)</c>: <c>x.leaky_relu(slope)</c>).</summary>
    public static Tensor LeakyRelu(Tensor x, double slope)
    {
        ArgumentNullException.ThrowIfNull(x);
        return With(slope, s => x.leaky_relu(s));
    }

    /// <summary>x where x &gt; 0, α(eˣ − 1) elsewhere (TorchSharp's <c>F.elu(x, α)</c>: <c>x.elu(α, 1, 1)</c>).</summary>
    public static Tensor Elu(Tensor x, double alpha)
    {
        ArgumentNullException.ThrowIfNull(x);
        using TorchSharp.Scalar one = 1.ToScalar();
        return With(alpha, a => x.elu(a, one, one));
    }

    /// <summary>
    /// <paramref name="op"/> applied to <paramref name="value"/> as a Scalar disposed after the call: any TorchSharp
    /// operation that takes one, e.g. <c>TorchScalars.With(c, s =&gt; x.clamp_min(s))</c>.
    /// </summary>
    public static Tensor With(double value, Func<TorchSharp.Scalar, Tensor> op)
    {
        ArgumentNullException.ThrowIfNull(op);
        using TorchSharp.Scalar scalar = value.ToScalar();
        return op(scalar);
    }
}
