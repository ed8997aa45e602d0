using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// Conversions between this library's values and TorchSharp tensors. Every conversion copies, and every tensor made
/// here is float64 on the CPU.
/// </summary>
/// <remarks>
/// <para>Shapes map one to one: a scalar is a rank-0 tensor, a vector of n elements is a tensor of shape [n], an
/// r × c matrix is a tensor of shape [r, c]; both sides store elements row-major.</para>
/// <para>Tensors are native resources. Create them inside <c>using (torch.NewDisposeScope()) { … }</c>, or dispose
/// them yourself; the methods that only read a tensor dispose every temporary they make.</para>
/// </remarks>
public static class TorchConversions
{
    /// <summary>The tensor shape of <paramref name="shape"/>: [] for a scalar, [n] for a vector, [r, c] for a matrix.</summary>
    public static long[] ToTorchShape(this Shape shape) => shape.Kind switch
    {
        ShapeKind.Scalar => [],
        ShapeKind.Vector => [shape.Rows],
        _ => [shape.Rows, shape.Cols],
    };

    /// <summary>This library's shape of a rank-0, rank-1 or rank-2 tensor with no empty dimension.</summary>
    /// <exception cref="ArgumentException">The tensor has rank 3 or more, or an empty dimension.</exception>
    public static Shape ToShape(this Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long[] dims = tensor.shape;
        if (dims.Any(d => d <= 0 || d > int.MaxValue) || dims.Length > 2)
        {
            throw new ArgumentException(
                $"ToShape: a tensor of shape [{string.Join(", ", dims)}] has no counterpart here; scalars, vectors and matrices (rank 0 to 2, no empty dimension) do.",
                nameof(tensor));
        }
        return dims.Length switch
        {
            0 => Shape.Scalar,
            1 => Shape.Vector((int)dims[0]),
            _ => Shape.Matrix((int)dims[0], (int)dims[1]),
        };
    }

    /// <summary>A float64 tensor of <paramref name="shape"/> holding the row-major <paramref name="values"/>.</summary>
    public static Tensor ToTorch(this double[] values, Shape shape, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != shape.Length)
        {
            throw new ArgumentException($"ToTorch: {values.Length} values cannot fill shape {shape} ({shape.Length} elements).", nameof(values));
        }
        return shape.Kind == ShapeKind.Scalar
            ? tensor(values[0], float64, requires_grad: requiresGrad)
            : tensor(values, shape.ToTorchShape(), float64, requires_grad: requiresGrad);
    }

    /// <summary>A float64 tensor of shape [n] holding <paramref name="values"/>.</summary>
    public static Tensor ToTorch(this double[] values, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.ToTorch(Shape.Vector(values.Length), requiresGrad);
    }

    /// <summary>A float64 tensor of shape [r, c] holding <paramref name="values"/>.</summary>
    public static Tensor ToTorch(this double[,] values, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        return tensor(values, float64, requires_grad: requiresGrad);
    }

    /// <summary>The node's current value as a float64 tensor of the node's shape (a new leaf).</summary>
    public static Tensor ToTorch(this Node node, bool requiresGrad = false) => node.ToArray().ToTorch(node.Shape, requiresGrad);

    /// <summary>The scalar's value as a rank-0 float64 tensor (a new leaf).</summary>
    public static Tensor ToTorch(this Scalar scalar, bool requiresGrad = false) => ((Node)scalar).ToTorch(requiresGrad);

    /// <summary>The vector's values as a float64 tensor of shape [n] (a new leaf).</summary>
    public static Tensor ToTorch(this Vector vector, bool requiresGrad = false) => ((Node)vector).ToTorch(requiresGrad);

    /// <summary>The matrix's values as a float64 tensor of shape [r, c] (a new leaf).</summary>
    public static Tensor ToTorch(this Matrix matrix, bool requiresGrad = false) => ((Node)matrix).ToTorch(requiresGrad);

    /// <summary>The parameter's current value as a float64 leaf tensor of its shape, by default with requires_grad.</summary>
    public static Tensor ToTorch(this Parameter parameter, bool requiresGrad = true)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return parameter.Value.ToTorch(parameter.Shape, requiresGrad);
    }

    /// <summary>The parameter's accumulated gradient as a float64 tensor of its shape.</summary>
    public static Tensor GradToTorch(this Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return parameter.Grad.ToTorch(parameter.Shape);
    }

    /// <summary>
    /// The tensor's elements as doubles in row-major order, whatever its dtype, layout or autograd state
    /// (a copy; temporaries are disposed).
    /// </summary>
    public static double[] ToDoubleArray(this Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using DisposeScope scope = NewDisposeScope();
        Tensor t = tensor.detach();
        if (t.dtype != ScalarType.Float64) t = t.to_type(ScalarType.Float64);
        return t.cpu().contiguous().data<double>().ToArray();
    }

    /// <summary>The elements of a rank-2 tensor as an r × c array (a copy).</summary>
    public static double[,] ToDoubleMatrix(this Tensor tensor)
    {
        Shape shape = tensor.ToShape();
        if (shape.Kind != ShapeKind.Matrix)
        {
            throw new ArgumentException($"ToDoubleMatrix: the tensor has shape {shape}; a matrix needs rank 2.", nameof(tensor));
        }
        double[] flat = tensor.ToDoubleArray();
        var result = new double[shape.Rows, shape.Cols];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    /// <summary>The tensor's values as a constant node of <paramref name="tape"/> (a copy; use AsScalar/AsVector/AsMatrix).</summary>
    public static Node ToConstant(this Tensor tensor, Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Shape shape = tensor.ToShape();
        double[] values = tensor.ToDoubleArray();
        return shape.Kind switch
        {
            ShapeKind.Scalar => tape.Constant(values[0]),
            ShapeKind.Vector => tape.Constant(values),
            _ => tape.Constant(values, shape.Rows, shape.Cols),
        };
    }

    /// <summary>A scalar parameter holding the value of a one-element tensor.</summary>
    public static ScalarParameter ToScalarParameter(this Tensor tensor, string name)
    {
        double[] values = tensor.ToDoubleArray();
        if (values.Length != 1)
        {
            throw new ArgumentException($"ToScalarParameter: the tensor has {values.Length} elements; a scalar needs exactly one.", nameof(tensor));
        }
        return new ScalarParameter(name, values[0]);
    }

    /// <summary>A vector parameter holding the values of a rank-1 tensor.</summary>
    public static VectorParameter ToVectorParameter(this Tensor tensor, string name)
    {
        Shape shape = tensor.ToShape();
        if (shape.Kind != ShapeKind.Vector)
        {
            throw new ArgumentException($"ToVectorParameter: the tensor has shape {shape}; a vector needs rank 1.", nameof(tensor));
        }
        return new VectorParameter(name, tensor.ToDoubleArray());
    }

    /// <summary>A matrix parameter holding the values of a rank-2 tensor.</summary>
    public static MatrixParameter ToMatrixParameter(this Tensor tensor, string name) => new(name, tensor.ToDoubleMatrix());

    /// <summary>Overwrites <paramref name="parameter"/>'s value with the tensor's elements (same element count, row-major).</summary>
    public static void CopyTo(this Tensor tensor, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        double[] values = tensor.ToDoubleArray();
        if (values.Length != parameter.Value.Length)
        {
            throw new ArgumentException(
                $"CopyTo: the tensor has {values.Length} elements but parameter {parameter.Name} has shape {parameter.Shape} ({parameter.Value.Length}).",
                nameof(tensor));
        }
        values.CopyTo(parameter.Value, 0);
    }
}
