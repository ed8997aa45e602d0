namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

/// <summary>Graphs far beyond a picture's limit, and the largest one under it.</summary>
internal static class LargeGraphs
{
    /// <summary>
    /// A micrograd-style scalar MLP 2 → 16 → 16 → 1 (tanh, squared error) over <paramref name="examples"/> points: every
    /// weight a scalar parameter, every multiply-add a node. 67 examples give about 65,000 nodes (982 per example), the size of
    /// micrograd's two-moons demo graph.
    /// </summary>
    public static Scalar ScalarMlp(Tape tape, int examples)
    {
        int[] sizes = [2, 16, 16, 1];
        var weights = new List<ScalarParameter[,]>();
        var biases = new List<ScalarParameter[]>();
        for (int l = 0; l + 1 < sizes.Length; l++)
        {
            var w = new ScalarParameter[sizes[l + 1], sizes[l]];
            var b = new ScalarParameter[sizes[l + 1]];
            for (int o = 0; o < sizes[l + 1]; o++)
            {
                b[o] = new ScalarParameter($"b{l}.{o}", 0.01 * o);
                for (int i = 0; i < sizes[l]; i++) w[o, i] = new ScalarParameter($"w{l}.{o}.{i}", 0.1 * Math.Sin(o + 3 * i + l));
            }
            weights.Add(w);
            biases.Add(b);
        }
        Scalar loss = tape.Constant(0);
        for (int n = 0; n < examples; n++)
        {
            Scalar[] x = [tape.Constant(Math.Cos(n)), tape.Constant(Math.Sin(n))];
            for (int l = 0; l < weights.Count; l++)
            {
                var next = new Scalar[sizes[l + 1]];
                for (int o = 0; o < next.Length; o++)
                {
                    Scalar sum = tape.Use(biases[l][o]);
                    for (int i = 0; i < x.Length; i++) sum += tape.Use(weights[l][o, i]) * x[i];
                    next[o] = l + 2 < sizes.Length ? Ops.Tanh(sum) : sum;
                }
                x = next;
            }
            Scalar error = x[0] - (n % 2 == 0 ? 1.0 : -1.0);
            loss += error * error;
        }
        return loss;
    }

    /// <summary>A chain of <paramref name="count"/> nodes: p, then tanh and scaling in turn.</summary>
    public static Scalar Chain(Tape tape, int count)
    {
        Scalar x = tape.Use(new ScalarParameter("p", 0.5));
        for (int i = 1; i < count; i++) x = i % 2 == 0 ? Ops.Tanh(x) : x * 1.5;
        return x;
    }
}
