using System.Runtime.CompilerServices;
using System.Text.Json;
using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Teaching.Tests.Trace;

/// <summary>
/// The backward trace on graphs small enough to check by hand: micrograd's first example (values, gradients and a
/// golden file), an input used twice by one node, views, losses, a custom op, a node used three times.
/// </summary>
public class BackwardTraceTests
{
    /// <summary>
    /// micrograd's first test expression (test_engine.py, test_more_ops), with its published results
    /// g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773.
    /// </summary>
    internal static (Scalar G, ScalarParameter A, ScalarParameter B) Micrograd(Tape tape)
    {
        var pa = new ScalarParameter("a", -4);
        var pb = new ScalarParameter("b", 2);
        Scalar a = tape.Use(pa), b = tape.Use(pb);
        Scalar c = a + b;
        Scalar d = a * b + Ops.Pow(b, 3);
        c += c + 1;
        c += 1 + c + (-a);
        d += d * 2 + Ops.Relu(b + a);
        d += 3 * d + Ops.Relu(b - a);
        Scalar e = (c - d).Named("e");
        Scalar f = Ops.Pow(e, 2).Named("f");
        Scalar g = f / 2.0;
        g += 10.0 / f;
        return (g.Named("g"), pa, pb);
    }

    [Fact]
    public void Record_MicrogradFirstExample_GivesPublishedValueAndGradients()
    {
        var tape = new Tape();
        var (g, a, b) = Micrograd(tape);
        BackwardTrace trace = BackwardTrace.Record(g);

        Assert.Equal(24.7041, trace.Loss, 4);
        Assert.Equal(138.8338, a.Grad, 4);
        Assert.Equal(645.5773, b.Grad, 4);
        // The last step into each parameter's leaf holds the parameter's gradient as its running sum; the
        // parameter's own step starts from it.
        TraceStep stepA = trace.Steps.Single(s => s.Label == "Parameter a");
        Assert.Equal(a.Grad, stepA.Upstream[0]);
        Assert.Empty(stepA.Terms);
        // a feeds a + b, a·b, −a, b + a and b − a: five contributions, numbered in backward order.
        TraceTerm[] intoA = [.. trace.Steps.SelectMany(s => s.Terms).Where(t => t.Input == stepA.Node)];
        Assert.Equal(5, intoA.Length);
        Assert.Equal([1, 2, 3, 4, 5], intoA.Select(t => t.Use));
        Assert.All(intoA, t => Assert.Equal(5, t.Uses));
        Assert.Equal(a.Grad, intoA[^1].RunningSum[0], 12);
    }

    [Fact]
    public void Record_MicrogradFirstExample_MatchesGoldenFiles()
    {
        // The text table and the JSON are deterministic (tape ids, invariant culture, shortest round-trip numbers):
        // a change to either format shows up as a diff of these files. To accept a deliberate change, run the test
        // with GDAD_UPDATE_GOLDEN=1 and review the diff.
        var tape = new Tape();
        var (g, _, _) = Micrograd(tape);
        BackwardTrace trace = BackwardTrace.Record(g);
        Golden("micrograd.trace.txt", trace.ToText());
        Golden("micrograd.trace.json", trace.ToJson());
    }

    [Fact]
    public void Record_InputUsedTwiceByOneNode_GivesTwoTermsThatAddUp()
    {
        // y = x·x at x = 3: ∂y/∂x = x + x = 6, one term per operand (b and a), 3 each.
        var p = new ScalarParameter("x", 3);
        var tape = new Tape();
        Scalar x = tape.Use(p);
        BackwardTrace trace = BackwardTrace.Record(x * x);

        TraceStep step = trace.Steps[0];
        Assert.Equal(OpKind.Multiply, step.Op);
        Assert.Equal(2, step.Terms.Count);
        // ∂(x·x)/∂(first x) = the second x, and the other way round.
        Assert.Equal(["x", "x"], step.Terms.Select(t => t.Formula));
        Assert.Equal([0, 1], step.Terms.Select(t => t.Position));
        Assert.Equal([3.0, 3.0], step.Terms.Select(t => t.Local!.Value));
        Assert.Equal([3.0, 3.0], step.Terms.Select(t => t.Contribution[0]));
        Assert.Equal([3.0, 6.0], step.Terms.Select(t => t.RunningSum[0]));
        Assert.Equal(["1/2", "2/2"], step.Terms.Select(t => $"{t.Use}/{t.Uses}"));
        Assert.Equal(6.0, p.Grad);
    }

    [Fact]
    public void Record_NodeUsedThreeTimes_NumbersItsUsesAndEndsAtItsGradient()
    {
        // u = 2x, L = u·u + sin u at x = 0.5 (u = 1): ∂L/∂u = cos u + u + u = cos 1 + 2, in three uses, latest
        // node first: Sin (cos 1), then Multiply's two operands (1 each). ∂L/∂x = 2·(2 + cos 1).
        var p = new ScalarParameter("x", 0.5);
        var tape = new Tape();
        Scalar u = (2 * tape.Use(p)).Named("u");
        BackwardTrace trace = BackwardTrace.Record(u * u + Ops.Sin(u));

        int uid = trace.Steps.Single(s => s.Name == "u").Node;
        TraceTerm[] intoU = [.. trace.Steps.SelectMany(s => s.Terms).Where(t => t.Input == uid)];
        Assert.Equal(3, intoU.Length);
        Assert.Equal([1, 2, 3], intoU.Select(t => t.Use));
        Assert.All(intoU, t => Assert.Equal(3, t.Uses));
        Assert.Equal(["cos u", "u", "u"], intoU.Select(t => t.Formula));
        Assert.Equal(Math.Cos(1), intoU[0].RunningSum[0]);
        Assert.Equal(Math.Cos(1) + 1, intoU[1].RunningSum[0]);
        Assert.Equal(Math.Cos(1) + 1 + 1, intoU[2].RunningSum[0]);
        // u's step starts from the completed sum and multiplies by the constant 2.
        TraceStep stepU = trace.Steps.Single(s => s.Node == uid);
        Assert.Equal(intoU[2].RunningSum[0], stepU.Upstream[0]);
        Assert.Equal("2", stepU.Terms[0].Formula);
        Assert.Equal(2 * (2 + Math.Cos(1)), p.Grad, 14);
    }

    [Fact]
    public void Record_Views_ShowTheViewsGradientPlacedIntoItsInput()
    {
        // v = (v₀, v₁, v₂) = (1, 2, 3); L = 5·v₀ + Σ v[1..3]² + Σ v.
        // ∂L/∂v = (5, 2·2, 2·3) + (1, 1, 1) = (6, 5, 7). The element view's step contributes (5, 0, 0), the
        // slice's (0, 4, 6): each view's own gradient placed into its region of v, though the engine's views write
        // there in place and have no gradient slot of their own.
        var p = new VectorParameter("v", 1, 2, 3);
        var tape = new Tape();
        Vector v = tape.Use(p);
        Scalar first = v[0];
        Vector tail = v[1..3];
        BackwardTrace trace = BackwardTrace.Record(5 * first + Ops.Sum(Ops.Square(tail)) + Ops.Sum(v));

        TraceStep element = trace.Steps.Single(s => s.Op == OpKind.Element);
        Assert.Equal([5.0], element.Upstream);
        TraceTerm e = Assert.Single(element.Terms);
        Assert.Equal([5.0, 0, 0], e.Contribution);
        Assert.Equal("ḡ placed at [0], 0 elsewhere", e.Formula);

        TraceStep slice = trace.Steps.Single(s => s.Op == OpKind.Slice);
        Assert.Equal([4.0, 6.0], slice.Upstream);
        Assert.Equal([0, 4.0, 6.0], Assert.Single(slice.Terms).Contribution);
        Assert.Equal("ḡ placed in elements 1..3, 0 elsewhere", slice.Terms[0].Formula);

        // Three uses of v: Sum (1, 1, 1), the slice, the element (backward order: latest node first).
        TraceTerm[] intoV = [.. trace.Steps.SelectMany(s => s.Terms).Where(t => t.Input == 0)];
        Assert.Equal(3, intoV.Length);
        Assert.Equal([6.0, 5.0, 7.0], intoV[^1].RunningSum);
        Assert.Equal([6.0, 5.0, 7.0], p.Grad);
        Assert.Equal([6.0, 5.0, 7.0], trace.Steps.Single(s => s.Op == OpKind.Parameter).Upstream);
    }

    [Fact]
    public void Record_BinaryCrossEntropy_GivesTheFusedRuleAndSkipsTheTarget()
    {
        // L = BCE(σ(z), t) = −[t ln p + (1 − t) ln(1 − p)], p = σ(z), mean over n = 2.
        // ∂L/∂p = (p − t)/(n·p(1 − p)); through σ: ∂L/∂z = (p − t)/n.
        var w = new VectorParameter("z", 0.3, -1.2);
        var tape = new Tape();
        Vector p = Ops.Sigmoid(tape.Use(w));
        BackwardTrace trace = BackwardTrace.Record(Loss.BinaryCrossEntropy(p, [1.0, 0.0]));

        TraceStep bce = trace.Steps[0];
        Assert.Equal(OpKind.BinaryCrossEntropy, bce.Op);
        TraceTerm term = Assert.Single(bce.Terms); // the target, a constant, takes no gradient
        Assert.Equal("ḡ·(p − t)/(2·p(1 − p))", term.Formula);
        Assert.Null(term.Local);
        double[] pv = p.Value;
        Assert.Equal((pv[0] - 1) / (2 * pv[0] * (1 - pv[0])), term.Contribution[0], 14);
        Assert.Equal((pv[1] - 0) / (2 * pv[1] * (1 - pv[1])), term.Contribution[1], 14);

        TraceStep sigmoid = trace.Steps[1];
        // The letters are the nodes: z the parameter, %1 the sigmoid node itself (unnamed).
        Assert.Equal("σ(z)(1 − σ(z)) = %1(1 − %1), per element", sigmoid.Terms[0].Formula);
        Assert.Equal((pv[0] - 1) / 2, w.Grad[0], 14);
        Assert.Equal(pv[1] / 2, w.Grad[1], 14);
    }

    [Fact]
    public void Record_SoftmaxCrossEntropy_ContributionIsSoftmaxMinusOneHot()
    {
        // L = −ln softmax(x)[label], ∂L/∂x = softmax(x) − onehot(label), for one row.
        var w = new VectorParameter("x", 1.0, 2.0, 0.5);
        var tape = new Tape();
        BackwardTrace trace = BackwardTrace.Record(Loss.SoftmaxCrossEntropy(tape.Use(w), 1));

        TraceTerm term = Assert.Single(trace.Steps[0].Terms);
        Assert.Equal("ḡ·(softmax(x) − onehot(labels))/1, per row", term.Formula);
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(0.5);
        double[] expected = [Math.Exp(1) / z, Math.Exp(2) / z - 1, Math.Exp(0.5) / z];
        for (int k = 0; k < 3; k++) Assert.Equal(expected[k], term.Contribution[k], 14);
        Assert.Equal(w.Grad, term.RunningSum);
    }

    [Fact]
    public void Record_CustomOp_ShowsItsNameAndItsRulesContribution()
    {
        // y = cube(x) = x³ (a user-defined op), L = Σ y: ∂L/∂x = 3x².
        var w = new VectorParameter("x", 1.0, -2.0);
        var tape = new Tape();
        Vector y = Ops.CustomVector(CubeOp.Instance, tape.Use(w));
        BackwardTrace trace = BackwardTrace.Record(Ops.Sum(y));

        TraceStep custom = trace.Steps.Single(s => s.Op == OpKind.Custom);
        Assert.Equal("Custom cube(%0)", custom.Label);
        TraceTerm term = Assert.Single(custom.Terms);
        Assert.Equal("cube.Backward: the custom op's own rule", term.Formula);
        Assert.Equal([3.0, 12.0], term.Contribution);
        // Record adds into Parameter.Grad once, like backward, though the custom rule ran twice.
        Assert.Equal([3.0, 12.0], w.Grad);
    }

    [Fact]
    public void Record_MatrixVectorProduct_ShowsTheJacobianVectorForms()
    {
        // y = M v, L = Σ y: ∂L/∂v = Mᵀ 1 (column sums of M), ∂L/∂M = 1 vᵀ (v in every row).
        var m = new MatrixParameter("M", new double[,] { { 1, 2 }, { 3, 4 } });
        var v = new VectorParameter("v", 5, 6);
        var tape = new Tape();
        BackwardTrace trace = BackwardTrace.Record(Ops.Sum(Ops.MatVec(tape.Use(m), tape.Use(v))));

        TraceStep matvec = trace.Steps.Single(s => s.Op == OpKind.MatVec);
        Assert.Equal(["ḡ vᵀ", "Mᵀ ḡ"], matvec.Terms.Select(t => t.Formula));
        Assert.Equal([5.0, 6, 5, 6], matvec.Terms[0].Contribution);
        Assert.Equal([4.0, 6], matvec.Terms[1].Contribution);
        Assert.All(matvec.Terms, t => Assert.Null(t.Local));
    }

    [Fact]
    public void Record_LeavesParameterGradientsAsBackwardDoes_AndFreesTheGraphUnlessRetained()
    {
        // The same graph on two tapes: Record and plain Backward give bit-identical parameter gradients.
        var (ga, a1, b1) = Micrograd(new Tape());
        ga.Backward();
        var tape = new Tape();
        var (gb, a2, b2) = Micrograd(tape);
        BackwardTrace.Record(gb);
        Assert.Equal(a1.Grad, a2.Grad);
        Assert.Equal(b1.Grad, b2.Grad);
        // Freed like backward: a second pass is an error naming retainGraph.
        var error = Assert.Throws<InvalidOperationException>(() => BackwardTrace.Record(gb));
        Assert.Contains("retainGraph", error.Message);

        // Retained: a second trace accumulates a second time, as a second backward would.
        var tape2 = new Tape();
        var (gc, a3, _) = Micrograd(tape2);
        BackwardTrace first = BackwardTrace.Record(gc, retainGraph: true);
        BackwardTrace second = BackwardTrace.Record(gc, retainGraph: true);
        Assert.Equal(2 * a1.Grad, a3.Grad);
        Assert.Equal(first.ToJson(), second.ToJson());
        // The tape's own gradients afterwards are backward's: Format shows them.
        Assert.Contains("∂L/∂", tape2.Format());
    }

    [Fact]
    public void Record_DetectAnomaliesOn_TracesTheGeneralRulesWithTheSameGradients()
    {
        // With anomaly detection every node takes the general rule (no scalar fast path); the trace observes that
        // path the same way, and gives backward-with-detection's parameter gradients bit for bit.
        var plain = new Tape { DetectAnomalies = true };
        var (g1, a1, b1) = Micrograd(plain);
        g1.Backward();
        var tape = new Tape { DetectAnomalies = true };
        var (g2, a2, b2) = Micrograd(tape);
        BackwardTrace trace = BackwardTrace.Record(g2);
        Assert.Equal(a1.Grad, a2.Grad);
        Assert.Equal(b1.Grad, b2.Grad);
        Assert.Equal(138.8338, a2.Grad, 4);
        Assert.Equal(27, trace.Steps.Count);
    }

    [Fact]
    public void Record_NonFiniteGradientUnderDetectAnomalies_ThrowsNamingTheOpAndLeavesTheTapeUsable()
    {
        // √x at x = 0 has derivative +∞: detection stops the pass at Sqrt's rule, as it does for backward. The
        // trace's redirected inputs are put back even so, and the tape records again after Clear.
        var p = new ScalarParameter("x", 0);
        var tape = new Tape { DetectAnomalies = true };
        Scalar y = Ops.Sqrt(tape.Use(p));
        var error = Assert.Throws<ArithmeticException>(() => BackwardTrace.Record(y));
        Assert.Contains("Sqrt", error.Message);
        Assert.Equal([0], tape.Describe(((Node)y).Id).Inputs);
        tape.Clear();
        p.Value = 4;
        BackwardTrace trace = BackwardTrace.Record(Ops.Sqrt(tape.Use(p)));
        Assert.Equal(0.25, trace.Steps[0].Terms[0].Local);
    }

    [Fact]
    public void ToJson_Micrograd_FollowsTheDocumentedSchema()
    {
        var (g, _, _) = Micrograd(new Tape());
        BackwardTrace trace = BackwardTrace.Record(g);
        using JsonDocument doc = JsonDocument.Parse(trace.ToJson());
        JsonElement root = doc.RootElement;
        Assert.Equal(["schema", "output", "loss", "steps"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(BackwardTrace.JsonSchema, root.GetProperty("schema").GetString());
        JsonElement step = root.GetProperty("steps")[0];
        Assert.Equal(["step", "node", "label", "name", "op", "shape", "value", "upstream", "terms"], step.EnumerateObject().Select(p => p.Name));
        Assert.Equal("g", step.GetProperty("name").GetString());
        JsonElement term = step.GetProperty("terms")[0];
        Assert.Equal(
            ["input", "position", "inputLabel", "inputShape", "formula", "local", "contribution", "runningSum", "use", "uses"],
            term.EnumerateObject().Select(p => p.Name));
        Assert.Equal(trace.Steps.Count, root.GetProperty("steps").GetArrayLength());
        // Numbers read back to the same doubles.
        Assert.Equal(trace.Loss, root.GetProperty("loss").GetDouble());
    }

    [Fact]
    public void ToJson_NonFiniteNumbers_AreWrittenAsStrings()
    {
        // L = √x at x = 0: ∂L/∂x = 1/(2√0) = +∞, which JSON cannot write as a number.
        var p = new ScalarParameter("x", 0);
        var tape = new Tape();
        BackwardTrace trace = BackwardTrace.Record(Ops.Sqrt(tape.Use(p)));
        using JsonDocument doc = JsonDocument.Parse(trace.ToJson());
        JsonElement term = doc.RootElement.GetProperty("steps")[0].GetProperty("terms")[0];
        Assert.Equal("Infinity", term.GetProperty("local").GetString());
        Assert.Equal("Infinity", term.GetProperty("contribution")[0].GetString());
    }

    [Fact]
    public void ToText_LongVectors_ShowFirstElementsAndEllipsis()
    {
        var p = new VectorParameter("x", 1, 2, 3, 4, 5, 6);
        var tape = new Tape();
        BackwardTrace trace = BackwardTrace.Record(Ops.Sum(Ops.Square(tape.Use(p))));
        string text = trace.ToText(maxElements: 3);
        Assert.Contains("[2, 4, 6, …]", text);
        Assert.DoesNotContain("10", text.Split('\n').Single(l => l.Contains("Square")));
    }

    private static void Golden(string file, string actual, [CallerFilePath] string source = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(source)!, "Golden", file);
        if (Environment.GetEnvironmentVariable("GDAD_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"Golden file {path} is missing; run the test with GDAD_UPDATE_GOLDEN=1 to create it, then review it.");
        string expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.Equal(expected, actual);
    }
}
