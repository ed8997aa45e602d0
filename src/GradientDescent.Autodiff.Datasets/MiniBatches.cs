namespace GradientDescent.Autodiff.Datasets;

/// <summary>
/// Mini-batches over a table with no copy and no allocation per batch: each epoch copies the rows once, in a new
/// seeded order, into buffers allocated at construction; batch b is then the contiguous rows
/// [b · size, min((b + 1) · size, n)) of those buffers.
/// </summary>
/// <example>
/// Put a batch on a tape as a row view of the epoch's matrix (two nodes, no copy):
/// <code>
/// var batches = new MiniBatches(train, batchSize: 32, seed: 7);
/// for (int epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     batches.NextEpoch();                                   // reorders the rows (one copy of n × d per epoch)
///     for (int b = 0; b &lt; batches.BatchCount; b++)
///     {
///         MiniBatch batch = batches[b];
///         tape.Clear();
///         Matrix x = tape.Constant(batches.Features, batches.RowCount, batches.FeatureCount)[batch.Rows];
///         // … targets: batch.Targets / batch.Labels, the same rows of batches.Targets / batches.Labels
///     }
/// }
/// </code>
/// </example>
public sealed class MiniBatches
{
    private readonly Table _table;
    private readonly int[] _order;
    private readonly SplitMix64 _random;
    private readonly bool _shuffle;
    private readonly int[]? _fullBatchLabels;
    private readonly int[]? _lastBatchLabels;

    /// <summary>Batches of <paramref name="batchSize"/> rows (the last may be smaller) over <paramref name="table"/>.</summary>
    /// <param name="table">The rows to serve.</param>
    /// <param name="batchSize">Rows per batch, at least 1.</param>
    /// <param name="seed">The seed of the epochs' orders: epoch e's order depends only on it and e.</param>
    /// <param name="shuffle">Whether each epoch reorders the rows; when false they stay in table order.</param>
    public MiniBatches(Table table, int batchSize, ulong seed, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"MiniBatches: the batch size is {batchSize}; it must be at least 1.");
        _table = table;
        _shuffle = shuffle;
        _random = new SplitMix64(seed);
        BatchSize = Math.Min(batchSize, table.RowCount);
        BatchCount = (table.RowCount + BatchSize - 1) / BatchSize;
        _order = new int[table.RowCount];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        Features = table.FeatureArray();
        Targets = table.TargetArray();
        Labels = table.LabelStorage is { } labels ? (int[])labels.Clone() : null;
        if (Labels is not null)
        {
            _fullBatchLabels = new int[BatchSize];
            int last = table.RowCount - (BatchCount - 1) * BatchSize;
            _lastBatchLabels = last == BatchSize ? _fullBatchLabels : new int[last];
        }
    }

    /// <summary>The number of rows, n.</summary>
    public int RowCount => _order.Length;

    /// <summary>The number of features, d.</summary>
    public int FeatureCount => _table.FeatureCount;

    /// <summary>Rows per batch (the last batch of an epoch may have fewer).</summary>
    public int BatchSize { get; }

    /// <summary>Batches per epoch, ⌈n / size⌉.</summary>
    public int BatchCount { get; }

    /// <summary>The number of epochs started by <see cref="NextEpoch"/>.</summary>
    public int Epoch { get; private set; }

    /// <summary>
    /// This epoch's n × d features, row-major, in this epoch's order: the buffer a batch is a row range of. Pass it
    /// to <c>tape.Constant(Features, RowCount, FeatureCount)</c> and take <c>[batch.Rows]</c>. Do not write to it;
    /// <see cref="NextEpoch"/> overwrites it (clear the tape first). Before the first epoch it holds the table's order.
    /// </summary>
    public double[] Features { get; }

    /// <summary>This epoch's n targets, in this epoch's order.</summary>
    public double[] Targets { get; }

    /// <summary>This epoch's n labels, in this epoch's order, for a classification table; else <see langword="null"/>.</summary>
    public int[]? Labels { get; }

    /// <summary>The table row of position <paramref name="position"/> in this epoch's order.</summary>
    public int TableRow(int position) => _order[position];

    /// <summary>
    /// Starts the next epoch: draws a new order (Fisher–Yates over <see cref="SplitMix64"/>, continuing one stream
    /// from the seed) unless shuffling is off, and copies the rows into <see cref="Features"/>, <see cref="Targets"/>
    /// and <see cref="Labels"/> in that order. Allocates nothing.
    /// </summary>
    public void NextEpoch()
    {
        Epoch++;
        if (!_shuffle) return;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        _random.Shuffle(_order.AsSpan());
        int d = FeatureCount;
        ReadOnlySpan<double> features = _table.Features, targets = _table.Targets;
        int[]? labels = _table.LabelStorage;
        for (int k = 0; k < _order.Length; k++)
        {
            int i = _order[k];
            features.Slice(i * d, d).CopyTo(Features.AsSpan(k * d, d));
            Targets[k] = targets[i];
            if (labels is not null) Labels![k] = labels[i];
        }
    }

    /// <summary>
    /// The labels of <paramref name="batch"/> as an array of exactly its length, for a loss that takes an <c>int[]</c>
    /// (<c>Loss.SoftmaxCrossEntropy(logits, labels)</c>). The array is one of two allocated at construction (full
    /// batches, and a shorter last batch), refilled by each call: a copy of the batch's labels, no allocation. Use it
    /// before asking for another batch's labels.
    /// </summary>
    public int[] LabelArray(MiniBatch batch)
    {
        if (Labels is null) throw new InvalidOperationException("MiniBatches.LabelArray: the table's target is a regression value; read Targets.");
        int[] destination = batch.RowCount == BatchSize ? _fullBatchLabels! : _lastBatchLabels!;
        if (destination.Length != batch.RowCount || batch.Start + batch.RowCount > RowCount)
            throw new ArgumentException($"MiniBatches.LabelArray: a batch of {batch.RowCount} rows at {batch.Start} is not one of these batches.", nameof(batch));
        Labels.AsSpan(batch.Start, batch.RowCount).CopyTo(destination);
        return destination;
    }

    /// <summary>Batch <paramref name="batch"/> of this epoch: a row range of the epoch's buffers.</summary>
    public MiniBatch this[int batch]
    {
        get
        {
            if ((uint)batch >= (uint)BatchCount)
                throw new ArgumentOutOfRangeException(nameof(batch), $"MiniBatches: batch {batch} of {BatchCount} (0 to {BatchCount - 1}).");
            int start = batch * BatchSize;
            return new MiniBatch(this, start, Math.Min(BatchSize, RowCount - start));
        }
    }
}

/// <summary>One mini-batch: rows [<see cref="Start"/>, <see cref="Start"/> + <see cref="RowCount"/>) of the epoch's buffers. A view; valid until the next epoch.</summary>
public readonly struct MiniBatch
{
    private readonly MiniBatches _owner;

    internal MiniBatch(MiniBatches owner, int start, int rows)
    {
        _owner = owner;
        Start = start;
        RowCount = rows;
    }

    /// <summary>The first row, in the epoch's buffers.</summary>
    public int Start { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>The rows as a range, for a row view <c>m[batch.Rows]</c> of the epoch's matrix on a tape.</summary>
    public Range Rows => new(Start, Start + RowCount);

    /// <summary>The rows' features, RowCount × d row-major, in place in <see cref="MiniBatches.Features"/>.</summary>
    public ReadOnlySpan<double> Features => _owner.Features.AsSpan(Start * _owner.FeatureCount, RowCount * _owner.FeatureCount);

    /// <summary>The rows' targets, in place in <see cref="MiniBatches.Targets"/>.</summary>
    public ReadOnlySpan<double> Targets => _owner.Targets.AsSpan(Start, RowCount);

    /// <summary>The rows' labels, in place in <see cref="MiniBatches.Labels"/>.</summary>
    public ReadOnlySpan<int> Labels => (_owner.Labels ?? throw new InvalidOperationException(
        "MiniBatch.Labels: the table's target is a regression value; read Targets.")).AsSpan(Start, RowCount);
}
