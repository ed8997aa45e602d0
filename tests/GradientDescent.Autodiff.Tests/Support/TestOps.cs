global using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Tests.Support;

/// <summary>A deliberately wrong cube: forward x³, but the derivative 2x² instead of 3x².</summary>
internal sealed class WrongCubeOp : CustomOp
{
    public override string Name => "wrong-cube";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];

    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0);
        Span<double> y = context.Output;
        for (int k = 0; k < x.Length; k++) y[k] = x[k] * x[k] * x[k];
    }

    public override void Backward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++) gx[k] += g[k] * 2 * x[k] * x[k]; // wrong on purpose: d(x³)/dx = 3x²
    }
}

/// <summary>
/// A cube whose derivative is right but assigned (=) instead of added (+=): it wipes the contributions other
/// consumers of the input already made, the classic custom-op bug.
/// </summary>
internal sealed class AssigningCubeOp : CustomOp
{
    public override string Name => "assigning-cube";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => inputs[0];

    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0);
        Span<double> y = context.Output;
        for (int k = 0; k < x.Length; k++) y[k] = x[k] * x[k] * x[k];
    }

    public override void Backward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++) gx[k] = g[k] * 3 * x[k] * x[k]; // wrong on purpose: must be +=
    }
}

/// <summary>An op whose OutputShape is not a valid shape (a "vector" with two columns).</summary>
internal sealed class BadShapeOp : CustomOp
{
    public override string Name => "bad-shape";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) => new(ShapeKind.Vector, 3, 2);

    public override void Forward(CustomOpContext context) { }

    public override void Backward(CustomOpContext context) { }
}
