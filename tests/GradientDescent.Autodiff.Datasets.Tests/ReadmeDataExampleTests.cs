namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>The README's data example, run as written: split, standardise, mini-batches on a tape, weights back in the original units.</summary>
public sealed class ReadmeDataExampleTests
{
    [Fact]
    public void ReadmeExample_TrainsOnBatchesAndMapsWeightsBack()
    {
        // The lines the README shows.
        var (train, test) = SampleData.Admissions().Split(0.8, seed: 1);   // 80 rows to train, 20 to test
        var scaler = Standardizer.Fit(train);                              // μ, σ of the training rows only
        var batches = new MiniBatches(scaler.Transform(train), batchSize: 16, seed: 2);
        var w = VectorParameter.Zeros("w", 2);
        var b = new ScalarParameter("b");
        var sgd = new Sgd([w, b], learningRate: 0.5);
        var tape = new Tape();
        for (int epoch = 0; epoch < 100; epoch++)
        {
            batches.NextEpoch();                                           // one reorder, one copy of the rows
            for (int k = 0; k < batches.BatchCount; k++)
            {
                MiniBatch batch = batches[k];
                tape.Clear();
                Matrix x = tape.Constant(batches.Features, batches.RowCount, 2)[batch.Rows];   // a row view, no copy
                Vector y = tape.Constant(batches.Targets)[batch.Rows];
                Loss.BinaryCrossEntropyWithLogits(Ops.MatVec(x, tape.Use(w)) + tape.Use(b), y).Backward();
                sgd.Step();
                sgd.ZeroGrad();
            }
        }
        var (wRaw, bRaw) = scaler.ToOriginalUnits(w.Value, b.Value);      // w/σ and b − Σ wμ/σ: for raw features
        // End of the README's lines.

        // The raw-unit model classifies the untouched test rows as the standardised one does the standardised rows.
        var zTest = scaler.Transform(test);
        int correct = 0;
        for (int i = 0; i < test.RowCount; i++)
        {
            double onRaw = bRaw + wRaw[0] * test[i, 0] + wRaw[1] * test[i, 1];
            double onZ = b.Value + w.Value[0] * zTest[i, 0] + w.Value[1] * zTest[i, 1];
            Assert.Equal(onZ, onRaw, 1e-12);
            if ((onRaw > 0 ? 1 : 0) == test.Labels[i]) correct++;
        }
        // The seed's data is not linearly separable; a logistic fit gets roughly nine in ten right.
        Assert.InRange(correct, 14, 20);
    }
}
