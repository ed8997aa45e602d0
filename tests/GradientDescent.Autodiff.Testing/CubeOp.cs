namespace GradientDescent.Autodiff.Testing;

/// <summary>
/// y = x³ elementwise, any shape, as a user-defined op: dy/dx = 3x², so ∂L/∂xₖ += gₖ·3xₖ².
/// Its TorchSharp equivalent is <c>x.pow(3)</c>.
/// </summary>
public sealed class CubeOp : CustomOp
{
    /// <summary>The one instance the tests use.</summary>
    public static readonly CubeOp Instance = new();

    /// <inheritdoc/>
    public override string Name => "cube";

    /// <inheritdoc/>
    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) =>
        inputs.Length == 1 ? inputs[0] : throw new ArgumentException($"cube: takes one input, got {inputs.Length}.");

    /// <inheritdoc/>
    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0);
        Span<double> y = context.Output;
        for (int k = 0; k < x.Length; k++) y[k] = x[k] * x[k] * x[k];
    }

    /// <inheritdoc/>
    public override void Backward(CustomOpContext context)
    {
        if (!context.RequiresGrad(0)) return;
        ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++) gx[k] += g[k] * 3 * x[k] * x[k];
    }

    /// <summary>The second-order half: ∂L/∂x = g ⊙ 3x², recorded with ops (3x² as 3·x², so its derivative is 6x).</summary>
    public override void RecordBackward(CustomOpRecordContext context)
    {
        if (context.RequiresGrad(0)) context.AddInputGrad(0, GraphRecording.Times(context.OutputGrad, GraphRecording.Scale(GraphRecording.Square(context.Input(0)), 3)));
    }

    /// <inheritdoc/>
    public override void Jvp(CustomOpContext context)
    {
        // ẏ = 3x²·ẋ
        ReadOnlySpan<double> x = context.Input(0), dx = context.InputTangent(0);
        if (dx.IsEmpty) return;
        Span<double> dy = context.OutputTangent;
        for (int k = 0; k < x.Length; k++) dy[k] += 3 * x[k] * x[k] * dx[k];
    }
}
