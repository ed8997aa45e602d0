using GradientDescent.Autodiff.Tests.Support;

namespace GradientDescent.Autodiff.Tests.Batched;

/// <summary>
/// Uniform gradients (issue 10 §2): in a plain backward pass the input of a sum or mean gets its gradient as one
/// number, passed on as one number through +, −, × by a scalar and the linear unary ops, written out only where a rule
/// needs the array. The numbers are those of a pass that writes everything out (a checked pass, DetectAnomalies).
/// </summary>
public sealed class UniformGradientTests
{
    private const int N = 70_001;

    public static TheoryData<string> Graphs => ["add", "sub", "mul", "scalar-mul", "exp", "relu", "linear-unary", "mean-twice", "mixed", "view", "matvec"];

    /// <summary>∂L/∂a, ∂L/∂b, ∂L/∂s and every node's gradient for one graph, in a plain or a checked pass.</summary>
    private static (double[] Parameters, double[][] Nodes) Run(string graph, bool checkedPass)
    {
        var rng = new Random(3);
        double[] Uniform(int n) => [.. Enumerable.Range(0, n).Select(_ => 0.5 + rng.NextDouble())];
        var a = new VectorParameter("a", Uniform(N));
        var b = new VectorParameter("b", Uniform(N));
        var s = new ScalarParameter("s", 0.7);
        var tape = new Tape { DetectAnomalies = checkedPass };
        Vector av = tape.Use(a), bv = tape.Use(b);
        Scalar sv = tape.Use(s);
        Scalar loss = graph switch
        {
            "add" => Ops.Sum(av + bv),
            "sub" => Ops.Sum(av - bv),
            "mul" => Ops.Sum(av * bv),
            "scalar-mul" => Ops.Mean(sv * av) + Ops.Sum(bv * sv),
            "exp" => Ops.Sum(Ops.Exp(av)),
            "relu" => Ops.Mean(Ops.Relu(av - 1)),
            "linear-unary" => Ops.Sum(-(3 * (av + 2))),
            "mean-twice" => Ops.Mean(av) + Ops.Sum(av) * Ops.Mean(av * bv),
            "mixed" => Ops.Sum(av * av) + Ops.Sum(Ops.Exp(av) + bv) + Ops.Dot(av, bv),
            "view" => Ops.Sum(av[1..N]) + Ops.Sum(av),
            _ => Ops.Sum(Ops.MatVec(tape.Constant(Uniform(30), 3, 10), av[0..10])) + Ops.Mean(bv),
        };
        loss.Backward(retainGraph: true);
        double[][] nodes = [.. Enumerable.Range(0, tape.NodeCount).Select(k => tape.NodeAt(k).GradToArray())];
        return ([.. a.Grad, .. b.Grad, s.Grad], nodes);
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void PlainPass_EqualsAPassThatWritesEverythingOut(string graph)
    {
        (double[] plain, double[][] plainNodes) = Run(graph, checkedPass: false);
        (double[] full, double[][] fullNodes) = Run(graph, checkedPass: true);
        // The one number is the one every slot would hold; only + versus fused multiply-add in accumulations can
        // differ, by an ulp.
        Approx.Equal(full, plain, rel: 1e-15, abs: 0, what: $"{graph}: parameter gradients");
        for (int k = 0; k < plainNodes.Length; k++) Approx.Equal(fullNodes[k], plainNodes[k], rel: 1e-15, abs: 0, what: $"{graph}: node {k}");
    }

    [Fact]
    public void SumGradient_IsTheOneNumberEverywhere_WhenRead()
    {
        var a = new VectorParameter("a", [.. Enumerable.Range(0, N).Select(k => (double)k)]);
        var tape = new Tape();
        Vector x = 2 * tape.Use(a);
        Scalar loss = 5 * Ops.Mean(x);
        loss.Backward();
        // Stored once: the slot of x is marked uniform and a (in place) received it as one number too.
        Assert.True(tape.IsUniform(x.Handle.Index));
        Assert.True(tape.IsUniform(0));
        Assert.All(x.Grad, g => Assert.Equal(5.0 / N, g));
        Assert.All(a.Grad, g => Assert.Equal(2 * (5.0 / N), g));
    }

    [Fact]
    public void ExpAndProductUnderASum_KeepTheLeafGradientAsANumberTimesANode()
    {
        // ∂Σeᵃ/∂a = eᵃ and ∂Σ(a·b)/∂a = b: the leaves' slots hold (g, node) and Parameter.Grad receives g·values in one
        // pass; reading the leaf's gradient writes it out.
        var a = new VectorParameter("a", [.. Enumerable.Range(0, N).Select(k => k / (double)N)]);
        var b = new VectorParameter("b", [.. Enumerable.Range(0, N).Select(k => 1 - k / (double)N)]);
        var tape = new Tape();
        Vector av = tape.Use(a), bv = tape.Use(b);
        Scalar loss = 3 * Ops.Sum(Ops.Exp(av)) + Ops.Sum(av * bv);
        loss.Backward();
        Assert.True(tape.IsScaled(bv.Handle.Index));
        for (int k = 0; k < N; k += 997)
        {
            Approx.Equal(3 * Math.Exp(a.Value[k]) + b.Value[k], a.Grad[k], rel: 1e-15, what: $"∂L/∂a[{k}]");
            Assert.Equal(a.Value[k], b.Grad[k]);
        }
        Assert.Equal(a.Value, bv.Grad);
    }

    [Fact]
    public void ScaledGradientOfAParameterFactor_ReadAfterAnOptimizerStep_IsAClearError()
    {
        // ∂Σ(a·b)/∂a is kept as 1·b with b read in place; once a step changed b it cannot be written out, and reading
        // it says so (Parameter.Grad, accumulated during backward, is unaffected).
        var a = new VectorParameter("a", [.. Enumerable.Range(0, N).Select(k => k / (double)N)]);
        var b = new VectorParameter("b", [.. Enumerable.Range(0, N).Select(k => 1 - k / (double)N)]);
        var tape = new Tape();
        Vector av = tape.Use(a);
        Ops.Sum(av * tape.Use(b)).Backward();
        double[] expected = (double[])b.Value.Clone();
        Assert.Equal(expected, a.Grad);
        new Sgd([b], 0.1).Step();
        var e = Assert.Throws<InvalidOperationException>(() => av.Grad);
        Assert.StartsWith("Grad: parameter b", e.Message);
        Assert.Equal(expected, a.Grad);
    }
}
