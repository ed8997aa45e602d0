namespace GradientDescent.Autodiff.Torch;

/// <summary>Settings of <see cref="TorchCrossCheck"/>: the tolerance, and the TorchSharp equivalents of custom ops.</summary>
/// <remarks>
/// <para>Element k of a node's value (or gradient) agrees when
/// |aₖ − tₖ| ≤ <see cref="RelativeTolerance"/>·max(|aₖ|, |tₖ|) or |aₖ − tₖ| ≤ <see cref="AbsoluteTolerance"/>·max(1, s),
/// where a is this library's array, t libtorch's, and s the largest finite magnitude in either. Equal values agree
/// (NaN with NaN, an infinity with the same infinity); a NaN or an infinity against anything else does not.</para>
/// <para>Why 10⁻¹⁰ relative. Both sides compute in float64 (unit roundoff u = 2⁻⁵³ ≈ 1.1·10⁻¹⁶) and evaluate the
/// same formulas, but not in the same order: SIMD reductions against libtorch's cascade sums, different vectorised
/// exp/log/tanh (each within about one ulp), gradient contributions of a reused node summed in another order. For
/// well-conditioned graphs that leaves differences of a few u per op along a path, 10⁻¹⁵ to 10⁻¹³ (over 60 000 random
/// graphs over the whole op set no element used more than 2 % of its allowance). A wrong derivative rule shows up as an
/// error of order 1, and a precision defect (ln(1 + x) where log1p is needed, a vectorised tanh that cancels near 0, PyTorch's
/// float ε taken as the double 10⁻¹²) as 10⁻⁹ to 1.</para>
/// <para>Why a floor, and why 10⁻¹² of the node's scale. Where an element's exact value is zero or comes out of
/// cancellation — a gradient that sums contributions of opposite sign, p − 1 for a softmax probability p ≈ 1,
/// σ(z) − y with σ(z) ≈ y, the far tail of a softmax of ±10⁴ — both sides carry rounding noise of order u times the
/// terms that cancel, not times the result, and the relative difference means nothing (10⁻¹⁸ against 0 is 100 %).
/// The terms that cancel are of the order of the node's larger elements, so the floor is 10⁻¹² (about 10⁴·u) times
/// the node's largest magnitude, and 10⁻¹² itself for nodes of magnitude up to 1: a normwise agreement to 12 digits,
/// a hundred times stricter than the elementwise 10⁻¹⁰, that accepts the noise of a cancelling element but not a
/// wrong one of the node's own size.</para>
/// </remarks>
public sealed class TorchCrossCheckOptions
{
    /// <summary>Agreement when |a − t| / max(|a|, |t|) is at most this; default 10⁻¹⁰.</summary>
    public double RelativeTolerance { get; init; } = 1e-10;

    /// <summary>
    /// Agreement when |a − t| is at most this times max(1, the node's largest magnitude) (elements at or near zero,
    /// cancellation); default 10⁻¹².
    /// </summary>
    public double AbsoluteTolerance { get; init; } = 1e-12;

    /// <summary>Also compare ∂L/∂node of every node that requires a gradient, not only the parameters'; default true.</summary>
    public bool CompareNodeGradients { get; init; } = true;

    /// <summary>
    /// A gradient derived by hand for a parameter (row-major), compared with this library's under the same tolerance, so
    /// one report holds all three: autodiff, libtorch and your formula. Null for none, or a null result to skip that
    /// parameter. Called once per parameter, after the backward pass, with the parameters at the values of the check.
    /// </summary>
    /// <example>The seed lesson's ∇E = −(y − ŷ)(x, 1): <c>HandDerived = p =&gt; p == w ? [-(y - yHat) * x[0], -(y - yHat) * x[1]] : [-(y - yHat)]</c>.</example>
    public Func<Parameter, double[]?>? HandDerived { get; init; }

    /// <summary>TorchSharp equivalents of the custom ops in the graph (by instance or name).</summary>
    public TorchCustomOps CustomOps { get; init; } = new();
}
