namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

/// <summary>
/// micrograd's first example (its README and test_engine.py's test_more_ops), the pictures' showcase, with a and b
/// as named scalar parameters.
/// </summary>
internal static class MicrogradExample
{
    /// <summary>
    /// Records g on <paramref name="tape"/> and runs backward. a = −4, b = 2; c = a + b; d = a·b + b³; c += c + 1;
    /// c += 1 + c + (−a); d += d·2 + relu(b + a); d += 3·d + relu(b − a); e = c − d; f = e²; g = f/2; g += 10/f.
    /// micrograd and PyTorch: g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773.
    /// </summary>
    public static (Scalar G, ScalarParameter A, ScalarParameter B) Record(Tape tape, bool backward = true)
    {
        var pa = new ScalarParameter("a", -4.0);
        var pb = new ScalarParameter("b", 2.0);
        Scalar a = tape.Use(pa), b = tape.Use(pb);
        Scalar c = (a + b).Named("c");
        Scalar d = ((a * b) + Ops.Pow(b, 3)).Named("d");
        c = (c + (c + 1)).Named("c");
        c = (c + (1 + c + (-a))).Named("c");
        d = (d + ((d * 2) + Ops.Relu(b + a))).Named("d");
        d = (d + ((3 * d) + Ops.Relu(b - a))).Named("d");
        Scalar e = (c - d).Named("e");
        Scalar f = Ops.Pow(e, 2).Named("f");
        Scalar g = (f / 2.0).Named("g");
        g = (g + (10.0 / f)).Named("g");
        if (backward) g.Backward(retainGraph: true);
        return (g, pa, pb);
    }
}
