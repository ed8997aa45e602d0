namespace GradientDescent.Autodiff.Tests.HigherOrder;

/// <summary>Second-order helpers shared by the higher-order tests: create-graph gradients and differences of gradients.</summary>
internal static class SecondOrder
{
    /// <summary>The parameter leaves of <paramref name="p"/> on the tape that take a gradient.</summary>
    public static Node[] Leaves(Tape tape, Parameter p) =>
        [.. Enumerable.Range(0, tape.NodeCount).Select(tape.Describe)
            .Where(info => info.Op == OpKind.Parameter && info.RequiresGrad && ReferenceEquals(info.Parameter, p))
            .Select(info => tape.NodeAt(info.Id))];

    /// <summary>∂loss/∂p for each parameter by the create-graph backward (leaves of one parameter summed).</summary>
    public static double[][] CreateGraphGradient(Tape tape, Scalar loss, Parameter[] parameters, bool createGraph = true)
    {
        Node[][] leaves = [.. parameters.Select(p => Leaves(tape, p))];
        Node[] grads = tape.Grad(loss, [.. leaves.SelectMany(l => l)], createGraph);
        var result = new double[parameters.Length][];
        int at = 0;
        for (int k = 0; k < parameters.Length; k++)
        {
            result[k] = new double[parameters[k].Value.Length];
            foreach (var _ in leaves[k])
            {
                double[] g = grads[at++].ToArray();
                for (int e = 0; e < g.Length; e++) result[k][e] += g[e];
            }
        }
        return result;
    }

    /// <summary>The fast backward's ∂loss/∂p of <paramref name="run"/> at the parameters' current values (zeros if the loss depends on none).</summary>
    public static double[] FastGradient(Func<Tape, Scalar> run, Parameter[] parameters)
    {
        foreach (var p in parameters) p.ZeroGrad();
        var tape = new Tape();
        Scalar loss = run(tape);
        if (loss.Handle.RequiresGrad) loss.Backward();
        double[] flat = [.. parameters.SelectMany(p => p.Grad)];
        foreach (var p in parameters) p.ZeroGrad();
        return flat;
    }

    /// <summary>
    /// H v by central differences of the gradient along v, the five-point stencil
    /// (8[g(θ + hv) − g(θ − hv)] − [g(θ + 2hv) − g(θ − 2hv)])/(12h): truncation error O(h⁴), rounding ≈ ε|g|/h.
    /// </summary>
    public static double[] DifferencesOfGradient(Func<Tape, Scalar> run, Parameter[] parameters, double[] v, double h)
    {
        double[] theta = [.. parameters.SelectMany(p => p.Value)];
        double[] At(double t)
        {
            Set(parameters, theta, v, t);
            return FastGradient(run, parameters);
        }
        try
        {
            double[] p1 = At(h), m1 = At(-h), p2 = At(2 * h), m2 = At(-2 * h);
            var hv = new double[theta.Length];
            for (int k = 0; k < hv.Length; k++) hv[k] = (8 * (p1[k] - m1[k]) - (p2[k] - m2[k])) / (12 * h);
            return hv;
        }
        finally
        {
            Set(parameters, theta, v, 0);
        }
    }

    private static void Set(Parameter[] parameters, double[] theta, double[] v, double t)
    {
        int at = 0;
        foreach (var p in parameters)
        {
            for (int e = 0; e < p.Value.Length; e++, at++) p.Value[e] = theta[at] + t * v[at];
        }
    }

    /// <summary>Splits a flat vector into one array per parameter.</summary>
    public static double[][] Split(double[] flat, Parameter[] parameters)
    {
        var parts = new double[parameters.Length][];
        int at = 0;
        for (int k = 0; k < parts.Length; k++)
        {
            parts[k] = flat[at..(at + parameters[k].Value.Length)];
            at += parts[k].Length;
        }
        return parts;
    }

    /// <summary>The largest error of <paramref name="actual"/> against <paramref name="expected"/>, relative to max(|expected|, 1).</summary>
    public static double MaxError(double[] expected, double[] actual)
    {
        double worst = 0;
        for (int k = 0; k < expected.Length; k++) worst = Math.Max(worst, Math.Abs(expected[k] - actual[k]) / Math.Max(Math.Abs(expected[k]), 1));
        return worst;
    }
}
