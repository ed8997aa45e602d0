namespace GradientDescent.Autodiff;

/// <summary>Loss functions: each returns a scalar node to call <see cref="Scalar.Backward"/> on.</summary>
/// <remarks>
/// <para>Every loss takes its target in the form that suits the caller, systematically:</para>
/// <list type="bullet">
/// <item>a node of the prediction's shape (a <see cref="Scalar"/>, <see cref="Vector"/> or <see cref="Matrix"/>, e.g.
/// <c>tape.Constant(…)</c>); a target that requires a gradient is differentiated like any operand in the squared
/// errors and refused by the cross-entropies (targets are data there);</item>
/// <item>plain numbers: a <see cref="double"/> for a scalar prediction, a <c>double[]</c> for a vector, a row-major
/// <c>double[]</c> or a <c>double[,]</c> for a matrix;</item>
/// <item>class indices for the softmax cross-entropy: an <see cref="int"/> per example (a class is a choice, not a
/// number with a gradient, so there is no node form).</item>
/// </list>
/// <para>An array target is recorded as <see cref="Tape.Constant(double[])"/> records it: read in place, not copied,
/// so it must not change until the tape is cleared (backward reads it again). A <c>double[,]</c> is copied.</para>
/// </remarks>
public static class Loss
{
    // ---------------------------------------------------------------- squared errors

    /// <summary>
    /// The seed's squared loss for one point: L(y, h) = ½(h − y)², so ∂L/∂h = h − y. Composed of ops
    /// (subtract, square, scale): stable as it stands.
    /// </summary>
    public static Scalar HalfSquaredError(Scalar prediction, Scalar target) => 0.5 * Ops.Square(prediction - target);

    /// <inheritdoc cref="HalfSquaredError(Scalar, Scalar)"/>
    public static Scalar HalfSquaredError(Scalar prediction, double target) => 0.5 * Ops.Square(prediction - target);

    /// <summary>
    /// The seed's cost J = (1/m) Σ ½(hᵢ − yᵢ)², so ∂J/∂hᵢ = (hᵢ − yᵢ)/m and, for h = w·x + b,
    /// ∂J/∂w = mean((h − y)x), ∂J/∂b = mean(h − y).
    /// </summary>
    public static Scalar HalfMeanSquaredError(Vector prediction, Vector target) => 0.5 * Ops.Mean(Ops.Square(prediction - target));

    /// <inheritdoc cref="HalfMeanSquaredError(Vector, Vector)"/>
    /// <param name="prediction">The predictions h.</param>
    /// <param name="targets">The targets y, one per prediction, read in place (see <see cref="Loss"/>).</param>
    public static Scalar HalfMeanSquaredError(Vector prediction, double[] targets) =>
        HalfMeanSquaredError(prediction, VectorTarget("HalfMeanSquaredError", prediction, targets));

    /// <summary>Mean squared error (1/n) Σ (pᵢ − yᵢ)²; ∂/∂pᵢ = 2(pᵢ − yᵢ)/n.</summary>
    public static Scalar MeanSquaredError(Vector prediction, Vector target) => Ops.Mean(Ops.Square(prediction - target));

    /// <inheritdoc cref="MeanSquaredError(Vector, Vector)"/>
    /// <param name="prediction">The predictions p.</param>
    /// <param name="targets">The targets y, one per prediction, read in place (see <see cref="Loss"/>).</param>
    public static Scalar MeanSquaredError(Vector prediction, double[] targets) =>
        MeanSquaredError(prediction, VectorTarget("MeanSquaredError", prediction, targets));

    /// <summary>Mean squared error over all elements, (1/(rc)) Σ (Pᵢⱼ − Yᵢⱼ)²; ∂/∂Pᵢⱼ = 2(Pᵢⱼ − Yᵢⱼ)/(rc).</summary>
    public static Scalar MeanSquaredError(Matrix prediction, Matrix target) => Ops.Mean(Ops.Square(prediction - target));

    /// <inheritdoc cref="MeanSquaredError(Matrix, Matrix)"/>
    /// <param name="prediction">The predictions P.</param>
    /// <param name="targets">The targets Y, row-major (Yᵢⱼ at i · cols + j), read in place (see <see cref="Loss"/>).</param>
    public static Scalar MeanSquaredError(Matrix prediction, double[] targets) =>
        MeanSquaredError(prediction, MatrixTarget("MeanSquaredError", prediction, targets));

    /// <inheritdoc cref="MeanSquaredError(Matrix, Matrix)"/>
    /// <param name="prediction">The predictions P.</param>
    /// <param name="targets">The targets Y, of P's shape (copied).</param>
    public static Scalar MeanSquaredError(Matrix prediction, double[,] targets) =>
        MeanSquaredError(prediction, MatrixTarget("MeanSquaredError", prediction, targets));

    // ---------------------------------------------------------------- binary cross-entropy

    /// <summary>
    /// Binary cross-entropy of a probability p for the label y: −[y ln p + (1 − y) ln(1 − p)], with ln clamped at
    /// −100 as PyTorch does, so p = 0 or 1 stays finite; ∂/∂p = (p − y)/max(p(1 − p), 10⁻¹²).
    /// Throws if p is outside [0, 1].
    /// </summary>
    public static Scalar BinaryCrossEntropy(Scalar probability, double label) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropy, probability, probability.Tape.Constant(label)));

    /// <inheritdoc cref="BinaryCrossEntropy(Scalar, double)"/>
    public static Scalar BinaryCrossEntropy(Scalar probability, Scalar label) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropy, probability, label));

    /// <summary>Mean binary cross-entropy over the elements (see <see cref="BinaryCrossEntropy(Scalar, double)"/>).</summary>
    public static Scalar BinaryCrossEntropy(Vector probabilities, Vector labels) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropy, probabilities, labels));

    /// <inheritdoc cref="BinaryCrossEntropy(Vector, Vector)"/>
    /// <param name="probabilities">The predicted probabilities p.</param>
    /// <param name="labels">The labels y, one per probability, read in place (see <see cref="Loss"/>).</param>
    public static Scalar BinaryCrossEntropy(Vector probabilities, double[] labels) =>
        BinaryCrossEntropy(probabilities, VectorTarget("BinaryCrossEntropy", probabilities, labels));

    /// <summary>
    /// Binary cross-entropy on a logit z (p = σ(z)), fused and stable: max(z, 0) − z·y + ln(1 + e^−|z|);
    /// ∂/∂z = σ(z) − y, the seed's −(y − ŷ). Finite for z = ±1000.
    /// </summary>
    public static Scalar BinaryCrossEntropyWithLogits(Scalar logit, double label) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropyWithLogits, logit, logit.Tape.Constant(label)));

    /// <inheritdoc cref="BinaryCrossEntropyWithLogits(Scalar, double)"/>
    public static Scalar BinaryCrossEntropyWithLogits(Scalar logit, Scalar label) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropyWithLogits, logit, label));

    /// <summary>Mean binary cross-entropy on logits over the elements (see <see cref="BinaryCrossEntropyWithLogits(Scalar, double)"/>).</summary>
    public static Scalar BinaryCrossEntropyWithLogits(Vector logits, Vector labels) =>
        new(BinaryCrossEntropyOps.Apply(OpKind.BinaryCrossEntropyWithLogits, logits, labels));

    /// <inheritdoc cref="BinaryCrossEntropyWithLogits(Vector, Vector)"/>
    /// <param name="logits">The logits z.</param>
    /// <param name="labels">The labels y, one per logit, read in place (see <see cref="Loss"/>).</param>
    public static Scalar BinaryCrossEntropyWithLogits(Vector logits, double[] labels) =>
        BinaryCrossEntropyWithLogits(logits, VectorTarget("BinaryCrossEntropyWithLogits", logits, labels));

    // ---------------------------------------------------------------- softmax cross-entropy

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

    // ---------------------------------------------------------------- fused model losses (one pass over X)

    /// <summary>
    /// The linear regression loss of the seed, J = ½·mean((X w + b − y)²) over the rows of X, fused: value and gradient
    /// in one pass over X. With hᵢ = xᵢ·w + b: ∂J/∂w = mean((h − y)x), ∂J/∂b = mean(h − y), ∂J/∂xᵢ = (hᵢ − yᵢ)w/n,
    /// ∂J/∂yᵢ = −(hᵢ − yᵢ)/n.
    /// </summary>
    /// <remarks>
    /// The same function, and the same numbers to rounding, as <c>HalfMeanSquaredError(Ops.MatVec(x, w) + b, y)</c>,
    /// which reads X twice (forward and backward). Rows are split over <see cref="Parallelism.ThreadCount"/> threads
    /// in fixed ranges, so the result is bit-identical for a given thread count.
    /// </remarks>
    /// <param name="x">The data X [n × d], one example per row.</param>
    /// <param name="w">The weights w [d].</param>
    /// <param name="b">The bias b.</param>
    /// <param name="targets">The targets y [n]; a target node that requires a gradient gets one.</param>
    public static Scalar LinearRegression(Matrix x, Vector w, Scalar b, Vector targets) =>
        new(ModelLosses.Linear(OpKind.LinearRegressionLoss, x.Handle, w.Handle, b.Handle, targets.Handle));

    /// <inheritdoc cref="LinearRegression(Matrix, Vector, Scalar, Vector)"/>
    /// <param name="x">The data X [n × d], one example per row.</param>
    /// <param name="w">The weights w [d].</param>
    /// <param name="b">The bias b.</param>
    /// <param name="targets">The targets y, one per row of X, read in place (see <see cref="Loss"/>).</param>
    public static Scalar LinearRegression(Matrix x, Vector w, Scalar b, double[] targets) =>
        LinearRegression(x, w, b, RowTargets("LinearRegression", x, targets));

    /// <summary>
    /// The logistic regression loss, mean binary cross-entropy on the logits z = X w + b, fused: value and gradient in
    /// one pass over X. Per row ℓ = max(z, 0) − z·y + ln(1 + e^−|z|), stable for any finite z (±1000 included);
    /// ∂L/∂w = mean((σ(z) − y)x), the seed's mean(−(y − ŷ)x); ∂L/∂b = mean(σ(z) − y); ∂L/∂xᵢ = (σ(zᵢ) − yᵢ)w/n.
    /// </summary>
    /// <remarks>
    /// The same function, and the same numbers to rounding, as <c>BinaryCrossEntropyWithLogits(Ops.MatVec(x, w) + b, y)</c>.
    /// The labels are data (a label node that requires a gradient is refused). Rows are split over
    /// <see cref="Parallelism.ThreadCount"/> threads in fixed ranges: bit-identical for a given thread count.
    /// </remarks>
    /// <param name="x">The data X [n × d], one example per row.</param>
    /// <param name="w">The weights w [d].</param>
    /// <param name="b">The bias b.</param>
    /// <param name="labels">The labels y [n] (0 or 1, or probabilities in between).</param>
    public static Scalar LogisticRegression(Matrix x, Vector w, Scalar b, Vector labels) =>
        new(ModelLosses.Linear(OpKind.LogisticRegressionLoss, x.Handle, w.Handle, b.Handle, labels.Handle));

    /// <inheritdoc cref="LogisticRegression(Matrix, Vector, Scalar, Vector)"/>
    /// <param name="x">The data X [n × d], one example per row.</param>
    /// <param name="w">The weights w [d].</param>
    /// <param name="b">The bias b.</param>
    /// <param name="labels">The labels y, one per row of X, read in place (see <see cref="Loss"/>).</param>
    public static Scalar LogisticRegression(Matrix x, Vector w, Scalar b, double[] labels) =>
        LogisticRegression(x, w, b, RowTargets("LogisticRegression", x, labels));

    /// <summary>
    /// The softmax regression loss, mean softmax cross-entropy of the logits Z = X W + b against integer class labels,
    /// fused: value and gradient in one pass over X. Per row ℓ = lse(zᵢ) − zᵢ,cᵢ, stable; with Pᵢ = softmax(zᵢ) and
    /// Y the one-hot labels: ∂L/∂W = Xᵀ(P − Y)/n, ∂L/∂b = mean over rows of (P − Y), ∂L/∂X = (P − Y)Wᵀ/n.
    /// </summary>
    /// <remarks>
    /// The same function, and the same numbers to rounding, as <c>SoftmaxCrossEntropy(Ops.MatMul(x, w) + b, labels)</c>.
    /// The labels array is read again by backward: do not change it until the tape is cleared. For a layer's weight
    /// stored [k × d] (as <c>nn.Linear</c>), pass <c>Ops.Transpose(weight)</c>. Bit-identical for a given
    /// <see cref="Parallelism.ThreadCount"/>.
    /// </remarks>
    /// <param name="x">The data X [n × d], one example per row.</param>
    /// <param name="w">The weights W [d × k], one column per class.</param>
    /// <param name="b">The biases b [k].</param>
    /// <param name="labels">The class of each row, in [0, k).</param>
    public static Scalar SoftmaxRegression(Matrix x, Matrix w, Vector b, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new(ModelLosses.Softmax(x.Handle, w.Handle, b.Handle, labels));
    }

    // ---------------------------------------------------------------- targets

    private static Vector VectorTarget(string loss, Vector prediction, double[] targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        int n = prediction.Length;
        if (targets.Length != n)
        {
            throw new ArgumentException($"{loss}: {targets.Length} targets for a prediction of shape [{n}]; pass one target per element.", nameof(targets));
        }
        return prediction.Tape.Constant(targets);
    }

    private static Vector RowTargets(string loss, Matrix x, double[] targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Length != x.Rows)
        {
            throw new ArgumentException($"{loss}: {targets.Length} targets for X of shape [{x.Rows}×{x.Cols}]; pass one target per row of X.", nameof(targets));
        }
        return x.Tape.Constant(targets);
    }

    private static Matrix MatrixTarget(string loss, Matrix prediction, double[] targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        int rows = prediction.Rows, cols = prediction.Cols;
        if (targets.Length != rows * cols)
        {
            throw new ArgumentException(
                $"{loss}: {targets.Length} targets for a prediction of shape [{rows}×{cols}]; pass rows × cols = {rows * cols} targets, row-major.", nameof(targets));
        }
        return prediction.Tape.Constant(targets, rows, cols);
    }

    private static Matrix MatrixTarget(string loss, Matrix prediction, double[,] targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        int rows = prediction.Rows, cols = prediction.Cols;
        if (targets.GetLength(0) != rows || targets.GetLength(1) != cols)
        {
            throw new ArgumentException(
                $"{loss}: targets of shape [{targets.GetLength(0)}×{targets.GetLength(1)}] for a prediction of shape [{rows}×{cols}]; the shapes must match.", nameof(targets));
        }
        return prediction.Tape.Constant(targets);
    }
}
