namespace GradientDescent.Autodiff.Testing;

// The custom ops the random graphs exercise besides CubeOp (moved here from the core tests so that the TorchSharp
// cross-check replays them too; their TorchSharp equivalents are in GraphOptions.Torch's consumer).

/// <summary>swish(x) = x·σ(x) elementwise; d/dx = σ(x) + x·σ(x)(1 − σ(x)).</summary>
public sealed class SwishOp : CustomOp
{
    /// <summary>The one instance the tests use.</summary>
    public static readonly SwishOp Instance = new();

    /// <inheritdoc/>
    public override string Name => "swish";

    /// <inheritdoc/>
    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) =>
        inputs.Length == 1 ? inputs[0] : throw new ArgumentException($"swish: takes one input, got {inputs.Length}.");

    /// <inheritdoc/>
    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0);
        Span<double> y = context.Output;
        for (int k = 0; k < x.Length; k++) y[k] = x[k] * (1 / (1 + Math.Exp(-x[k])));
    }

    /// <inheritdoc/>
    public override void Backward(CustomOpContext context)
    {
        if (!context.RequiresGrad(0)) return;
        ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++)
        {
            double s = (1 / (1 + Math.Exp(-x[k])));
            gx[k] += g[k] * (s + x[k] * s * (1 - s));
        }
    }

    /// <summary>The second-order half: ∂L/∂x = g ⊙ (σ + x·σ(1 − σ)), recorded with ops.</summary>
    public override void RecordBackward(CustomOpRecordContext context)
    {
        if (!context.RequiresGrad(0)) return;
        Node x = context.Input(0);
        Node s = GraphRecording.Sigmoid(x);
        Node d = GraphRecording.Plus(s, GraphRecording.Times(x, GraphRecording.Times(s, GraphRecording.OneMinus(s))));
        context.AddInputGrad(0, GraphRecording.Times(context.OutputGrad, d));
    }

    /// <inheritdoc/>
    public override void Jvp(CustomOpContext context)
    {
        // ẏ = (σ(x) + x·σ(x)(1 − σ(x)))·ẋ
        ReadOnlySpan<double> x = context.Input(0), dx = context.InputTangent(0);
        if (dx.IsEmpty) return;
        Span<double> dy = context.OutputTangent;
        for (int k = 0; k < x.Length; k++)
        {
            double s = 1 / (1 + Math.Exp(-x[k]));
            dy[k] += (s + x[k] * s * (1 - s)) * dx[k];
        }
    }
}

/// <summary>y = a ⊙ b + a for two inputs of one shape; ∂y/∂a = b + 1, ∂y/∂b = a.</summary>
public sealed class ProductPlusOp : CustomOp
{
    /// <summary>The one instance the tests use.</summary>
    public static readonly ProductPlusOp Instance = new();

    /// <inheritdoc/>
    public override string Name => "product-plus";

    /// <inheritdoc/>
    public override Shape OutputShape(ReadOnlySpan<Shape> inputs)
    {
        if (inputs.Length != 2 || inputs[0] != inputs[1])
        {
            throw new ArgumentException("product-plus: takes two inputs of the same shape.");
        }
        return inputs[0];
    }

    /// <inheritdoc/>
    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> a = context.Input(0), b = context.Input(1);
        Span<double> y = context.Output;
        for (int k = 0; k < a.Length; k++) y[k] = a[k] * b[k] + a[k];
    }

    /// <inheritdoc/>
    public override void Backward(CustomOpContext context)
    {
        ReadOnlySpan<double> a = context.Input(0), b = context.Input(1), g = context.OutputGrad;
        if (context.RequiresGrad(0))
        {
            Span<double> ga = context.InputGrad(0);
            for (int k = 0; k < a.Length; k++) ga[k] += g[k] * (b[k] + 1);
        }
        if (context.RequiresGrad(1))
        {
            Span<double> gb = context.InputGrad(1);
            for (int k = 0; k < a.Length; k++) gb[k] += g[k] * a[k];
        }
    }

    /// <summary>The second-order half: ∂L/∂a = g ⊙ (b + 1), ∂L/∂b = g ⊙ a, recorded with ops.</summary>
    public override void RecordBackward(CustomOpRecordContext context)
    {
        Node a = context.Input(0), b = context.Input(1), g = context.OutputGrad;
        if (context.RequiresGrad(0)) context.AddInputGrad(0, GraphRecording.Times(g, GraphRecording.Shift(b, 1)));
        if (context.RequiresGrad(1)) context.AddInputGrad(1, GraphRecording.Times(g, a));
    }

    /// <inheritdoc/>
    public override void Jvp(CustomOpContext context)
    {
        // ẏ = (b + 1)·ȧ + a·ḃ
        ReadOnlySpan<double> a = context.Input(0), b = context.Input(1), da = context.InputTangent(0), db = context.InputTangent(1);
        Span<double> dy = context.OutputTangent;
        if (!da.IsEmpty) for (int k = 0; k < a.Length; k++) dy[k] += (b[k] + 1) * da[k];
        if (!db.IsEmpty) for (int k = 0; k < a.Length; k++) dy[k] += a[k] * db[k];
    }
}

/// <summary>s = Σ xₖ³ of a vector or matrix (a reduction: a scalar output); ∂s/∂xₖ = 3xₖ².</summary>
public sealed class SumOfCubesOp : CustomOp
{
    /// <summary>The one instance the tests use.</summary>
    public static readonly SumOfCubesOp Instance = new();

    /// <inheritdoc/>
    public override string Name => "sum-of-cubes";

    /// <inheritdoc/>
    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) =>
        inputs.Length == 1 ? Shape.Scalar : throw new ArgumentException("sum-of-cubes: takes one input.");

    /// <inheritdoc/>
    public override void Forward(CustomOpContext context)
    {
        double s = 0;
        foreach (double v in context.Input(0)) s += v * v * v;
        context.Output[0] = s;
    }

    /// <inheritdoc/>
    public override void Backward(CustomOpContext context)
    {
        if (!context.RequiresGrad(0)) return;
        ReadOnlySpan<double> x = context.Input(0);
        double g = context.OutputGrad[0];
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++) gx[k] += g * 3 * x[k] * x[k];
    }

    /// <summary>The second-order half: ∂L/∂x = g·3x² (the scalar g broadcast), recorded with ops.</summary>
    public override void RecordBackward(CustomOpRecordContext context)
    {
        if (context.RequiresGrad(0)) context.AddInputGrad(0, GraphRecording.Times(GraphRecording.Scale(GraphRecording.Square(context.Input(0)), 3), context.OutputGrad));
    }

    /// <inheritdoc/>
    public override void Jvp(CustomOpContext context)
    {
        // ṡ = Σₖ 3xₖ²·ẋₖ
        ReadOnlySpan<double> x = context.Input(0), dx = context.InputTangent(0);
        if (dx.IsEmpty) return;
        double s = 0;
        for (int k = 0; k < x.Length; k++) s += 3 * x[k] * x[k] * dx[k];
        context.OutputTangent[0] += s;
    }
}
