namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// Per-feature standardisation z = (x − μ) / σ, with μ and σ fitted on training rows only (the population standard
/// deviation, σ² = (1/n) Σ (x − μ)², as scikit-learn's <c>StandardScaler</c>), then applied unchanged to any rows.
/// </summary>
/// <remarks>
/// A feature that is constant on the training rows (σ = 0) is centred but not scaled: its <see cref="Scale"/> is 1,
/// and <see cref="IsConstant"/> says so. <see cref="ToOriginalUnits(ReadOnlySpan{double}, double)"/> maps a linear
/// model fitted on z back to x.
/// </remarks>
public sealed class Standardizer
{
    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly bool[] _constant;

    private Standardizer(double[] mean, double[] scale, bool[] constant)
    {
        _mean = mean;
        _scale = scale;
        _constant = constant;
    }

    /// <summary>μ per feature (d values).</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>σ per feature (d values), 1 for a constant feature.</summary>
    public IReadOnlyList<double> Scale => _scale;

    /// <summary>The number of features, d.</summary>
    public int FeatureCount => _mean.Length;

    /// <summary>Whether feature <paramref name="feature"/> was constant on the training rows (so centred, not scaled).</summary>
    public bool IsConstant(int feature) => _constant[feature];

    /// <summary>Fits μ and σ on <paramref name="train"/>'s rows (and no others).</summary>
    public static Standardizer Fit(Table train)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Fit(train.Features, train.RowCount, train.FeatureCount);
    }

    /// <summary>Fits μ and σ on an n × d row-major matrix: two passes (mean, then squared deviations), so a large mean costs no digits.</summary>
    public static Standardizer Fit(ReadOnlySpan<double> features, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0 || (long)rows * cols != features.Length)
            throw new ArgumentException($"Standardizer.Fit: {features.Length} values cannot form {rows} rows of {cols}; pass n × d values, row-major, n ≥ 1.");
        var mean = new double[cols];
        var scale = new double[cols];
        var constant = new bool[cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) mean[j] += features[i * cols + j];
        for (int j = 0; j < cols; j++) mean[j] /= rows;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double delta = features[i * cols + j] - mean[j];
                scale[j] += delta * delta;
            }
        for (int j = 0; j < cols; j++)
        {
            if (!double.IsFinite(mean[j]) || !double.IsFinite(scale[j]))
                throw new ArgumentException($"Standardizer.Fit: feature {j} has a non-finite mean or spread (NaN or ±∞ among its values, or values near ±1e308); remove those rows first.");
            scale[j] = Math.Sqrt(scale[j] / rows);
            constant[j] = scale[j] == 0;
            if (constant[j]) scale[j] = 1;
        }
        return new Standardizer(mean, scale, constant);
    }

    /// <summary>The table with every feature standardised with this fit's μ and σ (targets and names unchanged).</summary>
    public Table Transform(Table table)
    {
        ArgumentNullException.ThrowIfNull(table);
        CheckWidth(table.FeatureCount, "Transform");
        var z = table.FeatureArray();
        TransformInPlace(z);
        return table.With(z, table.TargetArray());
    }

    /// <summary>Standardises an n × d row-major matrix in place: z = (x − μ) / σ.</summary>
    public void TransformInPlace(Span<double> features)
    {
        int d = FeatureCount;
        if (features.Length % d != 0) throw new ArgumentException($"Standardizer.TransformInPlace: {features.Length} values are not whole rows of {d} features.", nameof(features));
        for (int i = 0; i < features.Length; i += d)
            for (int j = 0; j < d; j++) features[i + j] = (features[i + j] - _mean[j]) / _scale[j];
    }

    /// <summary>The inverse, in place: x = μ + σ z.</summary>
    public void InverseTransformInPlace(Span<double> features)
    {
        int d = FeatureCount;
        if (features.Length % d != 0) throw new ArgumentException($"Standardizer.InverseTransformInPlace: {features.Length} values are not whole rows of {d} features.", nameof(features));
        for (int i = 0; i < features.Length; i += d)
            for (int j = 0; j < d; j++) features[i + j] = _mean[j] + _scale[j] * features[i + j];
    }

    /// <summary>
    /// A linear model ŷ = w·z + b fitted on standardised features, in the original units: w·z + b = w′·x + b′ for
    /// w′ⱼ = wⱼ / σⱼ and b′ = b − Σⱼ wⱼ μⱼ / σⱼ.
    /// </summary>
    public (double[] Weights, double Bias) ToOriginalUnits(ReadOnlySpan<double> weights, double bias)
    {
        CheckWidth(weights.Length, "ToOriginalUnits");
        var w = new double[weights.Length];
        for (int j = 0; j < w.Length; j++)
        {
            w[j] = weights[j] / _scale[j];
            bias -= w[j] * _mean[j];
        }
        return (w, bias);
    }

    /// <summary>
    /// A linear layer Ŷ = Z W + b (W is d × k row-major, b has k entries, as <c>MatMul(X, W) + b</c>) in the original
    /// units: W′ⱼₖ = Wⱼₖ / σⱼ and b′ₖ = bₖ − Σⱼ Wⱼₖ μⱼ / σⱼ.
    /// </summary>
    public (double[] Weights, double[] Bias) ToOriginalUnits(ReadOnlySpan<double> weights, ReadOnlySpan<double> bias)
    {
        int d = FeatureCount, k = bias.Length;
        if (k == 0 || weights.Length != d * k)
            throw new ArgumentException($"Standardizer.ToOriginalUnits: {weights.Length} weights and {k} biases do not form a {d} × k layer; pass W as d × k row-major and k biases.");
        var w = new double[weights.Length];
        var b = bias.ToArray();
        for (int j = 0; j < d; j++)
            for (int c = 0; c < k; c++)
            {
                w[j * k + c] = weights[j * k + c] / _scale[j];
                b[c] -= w[j * k + c] * _mean[j];
            }
        return (w, b);
    }

    private void CheckWidth(int width, string member)
    {
        if (width != FeatureCount)
            throw new ArgumentException($"Standardizer.{member}: {width} features where the fit had {FeatureCount}; standardise the same columns it was fitted on.");
    }
}
