using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>Values cross between this library and TorchSharp unchanged, in both directions, and leave no tensors behind.</summary>
public sealed class TorchConversionsTests
{
    [Fact]
    public void ToTorch_ScalarVectorMatrix_Float64TensorsOfTheSameShapeAndValues()
    {
        TorchRuntime.EnsureLoaded();
        var tape = new Tape();
        Scalar s = tape.Constant(2.5);
        Vector v = tape.Constant([1.0, -2.0, 3.5]);
        Matrix m = tape.Constant(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        using DisposeScope scope = NewDisposeScope();

        Tensor ts = s.ToTorch(), tv = v.ToTorch(), tm = m.ToTorch();

        Assert.Empty(ts.shape);
        Assert.Equal([3L], tv.shape);
        Assert.Equal([2L, 3L], tm.shape);
        Assert.All(new[] { ts, tv, tm }, t => Assert.Equal(ScalarType.Float64, t.dtype));
        Assert.Equal([2.5], ts.ToDoubleArray());
        Assert.Equal(v.Value, tv.ToDoubleArray());
        Assert.Equal(m.Value2D, tm.ToDoubleMatrix());
        Assert.Equal(Shape.Matrix(2, 3), tm.ToShape());
        Assert.Equal(Shape.Scalar, ts.ToShape());
    }

    [Fact]
    public void ToTorch_Parameter_LeafRequiringGradWithTheCurrentValue()
    {
        TorchRuntime.EnsureLoaded();
        var w = new MatrixParameter("W", new double[,] { { 0.5, -1 }, { 2, 0.25 } });
        using DisposeScope scope = NewDisposeScope();

        Tensor t = w.ToTorch();
        TorchScalars.Square(t).sum().backward(); // ∂/∂W Σ W² = 2W

        Assert.True(t.is_leaf && t.requires_grad);
        Assert.Equal([1.0, -2, 4, 0.5], t.grad!.ToDoubleArray());
        Assert.False(w.ToTorch(requiresGrad: false).requires_grad);
    }

    [Fact]
    public void ToDoubleArray_TransposedFloat32Tensor_RowMajorDoublesOfWhatItShows()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();
        // [[1, 2, 3], [4, 5, 6]]ᵀ is a non-contiguous view [[1, 4], [2, 5], [3, 6]].
        Tensor t = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]).t();

        Assert.Equal([1.0, 4, 2, 5, 3, 6], t.ToDoubleArray());
    }

    [Fact]
    public void ToConstantAndParameters_TensorValues_ArriveUnchangedOnTheTape()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();
        Tensor matrix = tensor(new double[] { 1, 2, 3, 4, 5, 6 }, [3, 2], float64);
        Tensor vector = tensor(new double[] { -1, 0.5 }, float64);
        var tape = new Tape();

        Matrix c = matrix.ToConstant(tape).AsMatrix();
        MatrixParameter w = matrix.ToMatrixParameter("W");
        VectorParameter v = vector.ToVectorParameter("v");
        ScalarParameter b = tensor(0.75, float64).ToScalarParameter("b");
        var target = VectorParameter.Zeros("t", 2);
        vector.CopyTo(target);

        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }, c.Value2D);
        Assert.Equal(Shape.Matrix(3, 2), w.Shape);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], w.Value);
        Assert.Equal([-1.0, 0.5], v.Value);
        Assert.Equal(0.75, b.Value);
        Assert.Equal([-1.0, 0.5], target.Value);
    }

    [Fact]
    public void ToShape_RankThreeTensor_ThrowsNamingTheShape()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();

        var error = Assert.Throws<ArgumentException>(() => zeros([2, 3, 4], float64).ToShape());

        Assert.Contains("[2, 3, 4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToDoubleArray_InsideAScope_DisposesEveryTemporaryItMakes()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();
        Tensor t = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]).t(); // needs a dtype conversion and a contiguous copy
        int before = scope.DisposablesCount;

        _ = t.ToDoubleArray();

        Assert.Equal(before, scope.DisposablesCount);
    }

    [Fact]
    public void ToTorch_MadeInsideADisposeScope_DisposedWithTheScope()
    {
        TorchRuntime.EnsureLoaded();
        var v = new VectorParameter("v", 1, 2, 3);
        Tensor t;
        using (NewDisposeScope())
        {
            t = v.ToTorch();
            Assert.False(t.IsInvalid);
        }

        Assert.True(t.IsInvalid);
    }
}
