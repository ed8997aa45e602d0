namespace GradientDescent.Autodiff;

/// <summary>
/// Gradient clipping between <c>Backward()</c> and <c>Step()</c>, as PyTorch's <c>torch.nn.utils.clip_grad_norm_</c>
/// and <c>clip_grad_value_</c>: it changes <see cref="Parameter.Grad"/> in place and allocates nothing.
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients together so their global L2 norm is at most about <paramref name="maxNorm"/>, and
    /// returns the norm before clipping.
    /// </summary>
    /// <remarks>
    /// ‖g‖ = √(Σₖ ‖gₖ‖²) over all parameters k, as if their gradients were one vector; every gradient is multiplied
    /// by c = min(1, maxNorm / (‖g‖ + 10⁻⁶)) (PyTorch's 10⁻⁶ keeps c finite at ‖g‖ = 0, and leaves the clipped norm
    /// just under maxNorm). A NaN or infinite norm is returned as it is and makes the gradients NaN, as PyTorch does
    /// with <c>error_if_nonfinite=False</c>; check the returned norm to skip such a step.
    /// </remarks>
    /// <param name="parameters">The parameters whose gradients to clip (an optimizer's <c>Parameters</c>, say).</param>
    /// <param name="maxNorm">The largest global norm, a positive finite number.</param>
    public static double ClipByNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Setting.Check(nameof(GradientClipping) + "." + nameof(ClipByNorm), "maximum norm", nameof(maxNorm), maxNorm, Setting.Range.Positive);
        double sumOfSquares = 0;
        for (int k = 0; k < parameters.Count; k++)
        {
            double norm = System.Numerics.Tensors.TensorPrimitives.Norm<double>(parameters[k].Grad);   // ‖gₖ‖
            sumOfSquares += norm * norm;
        }
        double total = Math.Sqrt(sumOfSquares);                                                     // ‖g‖ = √(Σ ‖gₖ‖²)
        double c = Math.Min(maxNorm / (total + 1e-6), 1.0);                                         // c = min(1, max/(‖g‖ + 10⁻⁶)); NaN stays NaN
        if (c != 1.0)
        {
            for (int k = 0; k < parameters.Count; k++)
            {
                double[] g = parameters[k].Grad;
                System.Numerics.Tensors.TensorPrimitives.Multiply(g, c, g);                         // gₖ ← c·gₖ
            }
        }
        return total;
    }

    /// <summary>
    /// Clamps every gradient element into [−<paramref name="clipValue"/>, <paramref name="clipValue"/>]; NaN stays NaN.
    /// </summary>
    /// <param name="parameters">The parameters whose gradients to clip.</param>
    /// <param name="clipValue">The largest magnitude, a positive finite number.</param>
    public static void ClipByValue(IReadOnlyList<Parameter> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Setting.Check(nameof(GradientClipping) + "." + nameof(ClipByValue), "clip value", nameof(clipValue), clipValue, Setting.Range.Positive);
        for (int k = 0; k < parameters.Count; k++)
        {
            double[] g = parameters[k].Grad;
            for (int j = 0; j < g.Length; j++)
            {
                g[j] = g[j] > clipValue ? clipValue : g[j] < -clipValue ? -clipValue : g[j];        // g ← clamp(g, −v, v)
            }
        }
    }
}
