namespace GradientDescent.Autodiff;

/// <summary>Loss functions: each returns a scalar node to call <see cref="Scalar.Backward"/> on.</summary>
public static class Loss
{
    /// <summary>
    /// The seed's squared loss for one point: L(y, h) = ½(h − y)², so ∂L/∂h = h − y. Composed of ops
    /// (subtract, square, scale): stable as it stands.
    /// </summary>
    public static Scalar HalfSquaredError(Scalar prediction, Scalar target) => 0.5 * Ops.Square(prediction - target);

    /// <summary>
    /// The seed's cost J = (1/m) Σ ½(hᵢ − yᵢ)², so ∂J/∂hᵢ = (hᵢ − yᵢ)/m and, for h = w·x + b,
    /// ∂J/∂w = mean((h − y)x), ∂J/∂b = mean(h − y).
    /// </summary>
    public static Scalar HalfMeanSquaredError(Vector prediction, Vector target) => 0.5 * Ops.Mean(Ops.Square(prediction - target));

    /// <summary>Mean squared error (1/n) Σ (pᵢ − yᵢ)²; ∂/∂pᵢ = 2(pᵢ − yᵢ)/n.</summary>
    public static Scalar MeanSquaredError(Vector prediction, Vector target) => Ops.Mean(Ops.Square(prediction - target));

    /// <inheritdoc cref="MeanSquaredError(Vector, Vector)"/>
    public static Scalar MeanSquaredError(Matrix prediction, Matrix target) => Ops.Mean(Ops.Square(prediction - target));

    /// <summary>
    /// Binary cross-entropy of a probability p for the label y: −[y ln p + (1 − y) ln(1 − p)], with ln clamped at
    /// −100 as PyTorch does, so p = 0 or 1 stays finite; ∂/∂p = (p − y)/max(p(1 − p), 10⁻¹²).
    /// Throws if p is outside [0, 1].
    /// </summary>
    public static Scalar BinaryCrossEntropy(Scalar probability, double label) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropy, probability, probability.Tape.Constant(label)));

    /// <summary>Mean binary cross-entropy over the elements (see <see cref="BinaryCrossEntropy(Scalar, double)"/>).</summary>
    public static Scalar BinaryCrossEntropy(Vector probabilities, Vector labels) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropy, probabilities, labels));

    /// <summary>
    /// Binary cross-entropy on a logit z (p = σ(z)), fused and stable: max(z, 0) − z·y + ln(1 + e^−|z|);
    /// ∂/∂z = σ(z) − y, the seed's −(y − ŷ). Finite for z = ±1000.
    /// </summary>
    public static Scalar BinaryCrossEntropyWithLogits(Scalar logit, double label) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropyWithLogits, logit, logit.Tape.Constant(label)));

    /// <summary>Mean binary cross-entropy on logits over the elements (see <see cref="BinaryCrossEntropyWithLogits(Scalar, double)"/>).</summary>
    public static Scalar BinaryCrossEntropyWithLogits(Vector logits, Vector labels) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropyWithLogits, logits, labels));

    /// <summary>
    /// Softmax cross-entropy of one example: −log softmax(x)[label] = lse(x) − x[label], stable;
    /// ∂/∂xₖ = softmax(x)ₖ − [k = label].
    /// </summary>
    public static Scalar SoftmaxCrossEntropy(Vector logits, int label) => new(SoftmaxCrossEntropyOps.Apply(logits, [label]));

    /// <summary>
    /// Mean softmax cross-entropy over the rows of <paramref name="logits"/> (one example per row, one label per
    /// row); ∂/∂Xᵢₖ = (softmax(Xᵢ)ₖ − [k = labelᵢ])/B. The labels array is read again by backward: do not change it
    /// until the tape is cleared.
    /// </summary>
    public static Scalar SoftmaxCrossEntropy(Matrix logits, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new(SoftmaxCrossEntropyOps.Apply(logits, labels));
    }
}
