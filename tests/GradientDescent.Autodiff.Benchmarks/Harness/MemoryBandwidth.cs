using System.Numerics.Tensors;

namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>The machine's streaming read bandwidth, measured in the same run as the workloads that are bound by it.</summary>
public static class MemoryBandwidth
{
    /// <summary>
    /// GB/s (10⁹ bytes) of one thread summing <paramref name="data"/> with <see cref="TensorPrimitives.Sum{T}(ReadOnlySpan{T})"/>,
    /// the median of <paramref name="reps"/> passes after one warm-up pass. The array should be much larger than the
    /// last-level cache so that it streams from memory.
    /// </summary>
    public static double ReadGBps(double[] data, int reps)
    {
        ArgumentNullException.ThrowIfNull(data);
        double sink = 0;
        Timing t = Harness.Time(() => sink += TensorPrimitives.Sum<double>(data), warmup: 1, reps: Math.Max(3, reps));
        GC.KeepAlive(sink);
        return data.Length * (double)sizeof(double) / (t.MedianMs * 1e6);
    }
}
