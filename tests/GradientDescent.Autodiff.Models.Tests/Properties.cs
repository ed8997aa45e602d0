using FsCheck.Xunit;

namespace GradientDescent.Autodiff.Models.Tests;

/// <summary>FsCheck properties: file round trips for any doubles, and Linear's rules for any sizes and seeds.</summary>
public sealed class Properties : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gdad-models-props-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Property(MaxTest = 100)]
    public bool SaveLoad_AnyDoubles_BitExact(double[] values)
    {
        // Any array FsCheck makes, NaN, ±∞, −0 and subnormals included, reads back bit for bit.
        if (values is null || values.Length == 0) return true;
        var model = new Linear(values.Length, 1, new RandomSource(1), bias: false);
        values.CopyTo(model.Weight.Value);
        string path = Path.Combine(_directory, "p.json");
        ParameterFile.Save(model, path);
        var loaded = new Linear(values.Length, 1, new RandomSource(2), bias: false);
        ParameterFile.Load(loaded, path);
        return values.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(loaded.Weight.Value.Select(BitConverter.DoubleToInt64Bits));
    }

    [Property(MaxTest = 200)]
    public bool Linear_AnySizesAndSeed_ForwardAndGradientsMatchFormulas(ulong seed, byte batch, byte inputs, byte outputs)
    {
        // Y = X Wᵀ + b; with L = Σ Y ⊙ G for a fixed G: ∂L/∂W = Gᵀ X, ∂L/∂b = Σᵢ Gᵢ (column sums)
        int b = 1 + batch % 5, n = 1 + inputs % 6, k = 1 + outputs % 6;
        var random = new RandomSource(seed);
        var linear = new Linear(n, k, random);
        double[] x = [.. Enumerable.Range(0, b * n).Select(_ => random.NextUniform(-1, 1))];
        double[] g = [.. Enumerable.Range(0, b * k).Select(_ => random.NextUniform(-1, 1))];
        var tape = new Tape();
        Matrix y = linear.Forward(tape.Constant(x, b, n));
        Ops.Sum(y * tape.Constant(g, b, k)).Backward();

        double[] w = linear.Weight.Value, bias = linear.Bias!.Value, yv = y.Value;
        bool ok = true;
        for (int i = 0; i < b; i++)
        {
            for (int o = 0; o < k; o++)
            {
                double expected = bias[o];
                for (int j = 0; j < n; j++) expected += x[i * n + j] * w[o * n + j];
                ok &= Math.Abs(expected - yv[i * k + o]) <= 1e-13;
            }
        }
        for (int o = 0; o < k; o++)
        {
            double gb = 0;
            for (int i = 0; i < b; i++) gb += g[i * k + o];
            ok &= Math.Abs(gb - linear.Bias.Grad[o]) <= 1e-13;
            for (int j = 0; j < n; j++)
            {
                double gw = 0;
                for (int i = 0; i < b; i++) gw += g[i * k + o] * x[i * n + j];
                ok &= Math.Abs(gw - linear.Weight.Grad[o * n + j]) <= 1e-13;
            }
        }
        return ok;
    }
}
