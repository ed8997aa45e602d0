global using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Tests.Support;

/// <summary>swish(x) = x·σ(x) elementwise; d/dx = σ(x) + x·σ(x)(1 − σ(x)).</summary>
internal sealed class SwishOp : CustomOp
{
    public static readonly SwishOp Instance = new();

    public override string Name => "swish";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) =>
        inputs.Length == 1 ? inputs[0] : throw new ArgumentException($"swish: takes one input, got {inputs.Length}.");

    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> x = context.Input(0);
        Span<double> y = context.Output;
        for (int k = 0; k < x.Length; k++) y[k] = x[k] * Reference.Sigmoid(x[k]);
    }

    public override void Backward(CustomOpContext context)
    {
        if (!context.RequiresGrad(0)) return;
        ReadOnlySpan<double> x = context.Input(0), g = context.OutputGrad;
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++)
        {
            double s = Reference.Sigmoid(x[k]);
            gx[k] += g[k] * (s + x[k] * s * (1 - s));
        }
    }
}

/// <summary>y = a ⊙ b + a for two inputs of one shape; ∂y/∂a = b + 1, ∂y/∂b = a.</summary>
internal sealed class ProductPlusOp : CustomOp
{
    public static readonly ProductPlusOp Instance = new();

    public override string Name => "product-plus";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs)
    {
        if (inputs.Length != 2 || inputs[0] != inputs[1])
        {
            throw new ArgumentException("product-plus: takes two inputs of the same shape.");
        }
        return inputs[0];
    }

    public override void Forward(CustomOpContext context)
    {
        ReadOnlySpan<double> a = context.Input(0), b = context.Input(1);
        Span<double> y = context.Output;
        for (int k = 0; k < a.Length; k++) y[k] = a[k] * b[k] + a[k];
    }

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
}

/// <summary>s = Σ xₖ³ of a vector or matrix (a reduction: a scalar output); ∂s/∂xₖ = 3xₖ².</summary>
internal sealed class SumOfCubesOp : CustomOp
{
    public static readonly SumOfCubesOp Instance = new();

    public override string Name => "sum-of-cubes";

    public override Shape OutputShape(ReadOnlySpan<Shape> inputs) =>
        inputs.Length == 1 ? Shape.Scalar : throw new ArgumentException("sum-of-cubes: takes one input.");

    public override void Forward(CustomOpContext context)
    {
        double s = 0;
        foreach (double v in context.Input(0)) s += v * v * v;
        context.Output[0] = s;
    }

    public override void Backward(CustomOpContext context)
    {
        if (!context.RequiresGrad(0)) return;
        ReadOnlySpan<double> x = context.Input(0);
        double g = context.OutputGrad[0];
        Span<double> gx = context.InputGrad(0);
        for (int k = 0; k < x.Length; k++) gx[k] += g * 3 * x[k] * x[k];
    }
}

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
