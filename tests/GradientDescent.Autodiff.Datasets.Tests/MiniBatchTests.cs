using GradientDescent.Autodiff.Testing;

namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>Batches are row ranges of one epoch buffer: every row once per epoch, no copy and no allocation per batch.</summary>
public sealed class MiniBatchTests
{
    [Fact]
    public void Epoch_CoversEveryRowOnce_InContiguousBatches()
    {
        var iris = SampleData.Iris();
        var batches = new MiniBatches(iris, batchSize: 32, seed: 1);
        Assert.Equal(5, batches.BatchCount);   // ⌈150 / 32⌉
        batches.NextEpoch();
        var seen = new List<int>();
        int next = 0;
        for (int b = 0; b < batches.BatchCount; b++)
        {
            MiniBatch batch = batches[b];
            Assert.Equal(next, batch.Start);
            Assert.Equal(b < 4 ? 32 : 22, batch.RowCount);
            for (int r = 0; r < batch.RowCount; r++)
            {
                int row = batches.TableRow(batch.Start + r);
                seen.Add(row);
                Assert.Equal(iris.Row(row).ToArray(), batch.Features.Slice(r * 4, 4).ToArray());
                Assert.Equal(iris.Labels[row], batch.Labels[r]);
                Assert.Equal(iris.Targets[row], batch.Targets[r]);
            }
            next += batch.RowCount;
        }
        Assert.Equal(Enumerable.Range(0, 150), seen.Order());
    }

    [Fact]
    public void Batch_IsAViewOfTheEpochBuffer()
    {
        var batches = new MiniBatches(SampleData.Iris(), 10, seed: 2);
        batches.NextEpoch();
        MiniBatch batch = batches[3];
        Assert.Equal(30..40, batch.Rows);
        // The batch's span starts at element 30 · d of the epoch buffer itself: no copy.
        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(batch.Features), ref batches.Features[30 * 4]));
    }

    [Fact]
    public void Epochs_SameSeed_SameOrders_AndEachEpochDiffers()
    {
        var a = new MiniBatches(SampleData.Iris(), 16, seed: 7);
        var b = new MiniBatches(SampleData.Iris(), 16, seed: 7);
        a.NextEpoch();
        b.NextEpoch();
        double[] first = [.. a.Features];
        Assert.Equal(first, b.Features);
        a.NextEpoch();
        b.NextEpoch();
        Assert.Equal(a.Features, b.Features);
        Assert.NotEqual(first, a.Features);
        Assert.Equal(2, a.Epoch);
    }

    [Fact]
    public void NoShuffle_KeepsTableOrder()
    {
        var iris = SampleData.Iris();
        var batches = new MiniBatches(iris, 50, seed: 7, shuffle: false);
        batches.NextEpoch();
        Assert.Equal(iris.Features.ToArray(), batches.Features);
        Assert.Equal(iris.Labels.Slice(50, 50).ToArray(), batches[1].Labels.ToArray());
    }

    [Fact]
    public void EpochAndBatchesOnATape_AllocateNothing()
    {
        // One epoch: reorder (NextEpoch), then for each batch clear the tape and put the batch on it as a row view
        // of the epoch's matrix, X = tape.Constant(F, n, d)[rows], and reduce it. After a warm-up epoch (tape arenas
        // grown, code jitted), a whole epoch allocates 0 bytes.
        var iris = SampleData.Iris();
        var batches = new MiniBatches(iris, 16, seed: 3);
        var tape = new Tape();
        double checksum = 0;

        void RunEpoch()
        {
            batches.NextEpoch();
            for (int b = 0; b < batches.BatchCount; b++)
            {
                MiniBatch batch = batches[b];
                tape.Clear();
                Matrix x = tape.Constant(batches.Features, batches.RowCount, batches.FeatureCount)[batch.Rows];
                checksum += Ops.Sum(x).Value + batch.Targets[0] + batch.Labels[0];
            }
        }

        RunEpoch();
        RunEpoch();
        Assert.Equal(0, Allocations.Least(RunEpoch));
        // Every epoch sums all 150 rows once: the feature total is the same each time.
        Assert.True(checksum > 0);
    }

    [Fact]
    public void SoftmaxRegressionEpochOnATape_WithLabelArrays_AllocatesNothing()
    {
        // Iris, batches of 32 (the last has 22): logits = X W + b, mean softmax cross-entropy against the batch's
        // labels, backward. The labels come as exact-length arrays refilled in place; after warm-up, 0 bytes.
        var batches = new MiniBatches(SampleData.Iris(), 32, seed: 4);
        var w = MatrixParameter.Zeros("W", 4, 3);
        var b = VectorParameter.Zeros("b", 3);
        var tape = new Tape();

        void RunEpoch(bool check)
        {
            batches.NextEpoch();
            for (int k = 0; k < batches.BatchCount; k++)
            {
                MiniBatch batch = batches[k];
                int[] labels = batches.LabelArray(batch);
                if (check) Assert.Equal(batch.Labels.ToArray(), labels);   // outside the measured epoch: ToArray allocates
                tape.Clear();
                Matrix x = tape.Constant(batches.Features, batches.RowCount, 4)[batch.Rows];
                Loss.SoftmaxCrossEntropy(Ops.MatMul(x, tape.Use(w)) + tape.Use(b), labels).Backward();
            }
        }

        RunEpoch(check: true);
        RunEpoch(check: true);
        Assert.Equal(0, Allocations.Least(() => RunEpoch(check: false)));
        Assert.Equal(22, batches.LabelArray(batches[4]).Length);
    }

    [Fact]
    public void BadArguments_AreErrors()
    {
        var iris = SampleData.Iris();
        Assert.Throws<ArgumentOutOfRangeException>(() => new MiniBatches(iris, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MiniBatches(iris, 10, 1)[15]);
        Assert.Throws<InvalidOperationException>(() => new MiniBatches(Table.Create([1.0], 1, [2.0]), 1, 1)[0].Labels.Length);
    }
}
