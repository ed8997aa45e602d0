namespace GradientDescent.Autodiff.Datasets.Tests;

/// <summary>SplitMix64 against its reference outputs; seeded shuffles and splits are deterministic partitions.</summary>
public sealed class ShuffleSplitTests
{
    [Fact]
    public void SplitMix64_Seed1234567_MatchesTheReferenceImplementation()
    {
        // Vigna's splitmix64.c, seeded with 1234567: its first five outputs.
        var r = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        foreach (ulong e in expected) Assert.Equal(e, r.NextUInt64());
    }

    [Fact]
    public void NextInt_StaysInRangeAndHitsEveryValue()
    {
        var r = new SplitMix64(9);
        var counts = new int[7];
        for (int i = 0; i < 7000; i++) counts[r.NextInt(7)]++;
        // Each of 7 values has probability 1/7: 1000 expected, sd ≈ 29; 850..1150 is > 5 sd.
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void Shuffle_IsAReproduciblePermutationThatKeepsRowsWhole()
    {
        // Tag row i with feature i and target 1000 + i, so rows can be followed through the shuffle.
        int n = 150;
        var tagged = Table.Create([.. Enumerable.Range(0, n).Select(i => (double)i)], 1, [.. Enumerable.Range(0, n).Select(i => 1000.0 + i)]);
        double[] order = tagged.Shuffle(5).Features.ToArray();

        // A permutation of the rows, not the identity, each target still beside its own features.
        Assert.Equal(Enumerable.Range(0, n).Select(i => (double)i), order.Order());
        Assert.True(order.Where((v, i) => v != i).Count() > n / 2, "a shuffle of 150 rows should move most of them");
        var shuffled = tagged.Shuffle(5);
        for (int i = 0; i < n; i++) Assert.Equal(shuffled[i, 0] + 1000, shuffled.Targets[i]);

        // Reproducible from a fresh table with the same seed; another seed gives another order.
        var again = Table.Create([.. Enumerable.Range(0, n).Select(i => (double)i)], 1, [.. Enumerable.Range(0, n).Select(i => 1000.0 + i)]);
        Assert.Equal(order, again.Shuffle(5).Features.ToArray());
        Assert.NotEqual(order, tagged.Shuffle(6).Features.ToArray());
    }

    [Fact]
    public void Permutation_Seed42_IsPinned()
    {
        // Golden: Fisher–Yates from the last element, j = NextInt(i + 1). A change here changes every seeded split.
        // The same algorithm in Python (arbitrary-precision integers) gives this order of rows 0..9 for seed 42.
        var tagged = Table.Create([.. Enumerable.Range(0, 10).Select(i => (double)i)], 1, new double[10]);
        Assert.Equal([8.0, 3, 6, 5, 4, 0, 9, 2, 1, 7], tagged.Shuffle(42).Features.ToArray());
    }

    [Fact]
    public void Split_IsADeterministicPartitionOfTheRows()
    {
        // Tag every row with its index as the target, so the rows can be followed.
        int n = 101;
        var t = Table.Create([.. Enumerable.Range(0, n).Select(i => (double)i)], 1, [.. Enumerable.Range(0, n).Select(i => (double)i)]);
        var (train, test) = t.Split(0.8, seed: 11);
        Assert.Equal(81, train.RowCount);   // round(101 · 0.8) = round(80.8)
        Assert.Equal(20, test.RowCount);
        int[] all = [.. train.Targets.ToArray().Concat(test.Targets.ToArray()).Select(v => (int)v).Order()];
        Assert.Equal(Enumerable.Range(0, n), all);
        for (int i = 0; i < train.RowCount; i++) Assert.Equal(train.Targets[i], train[i, 0]);   // rows kept whole

        var (train2, test2) = t.Split(0.8, seed: 11);
        Assert.Equal(train.Targets.ToArray(), train2.Targets.ToArray());
        Assert.Equal(test.Targets.ToArray(), test2.Targets.ToArray());
        Assert.NotEqual(train.Targets.ToArray(), t.Split(0.8, seed: 12).Train.Targets.ToArray());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    [InlineData(0.001)]   // round(150 · 0.001) = 0 rows to train
    public void Split_FractionLeavingAnEmptyPart_IsAnError(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleData.Iris().Split(fraction, 1));
    }

    [Fact]
    public void Split_KeepsNamesKindAndClasses()
    {
        var (train, test) = SampleData.Iris().Split(0.5, 1);
        Assert.Equal(3, test.ClassCount);
        Assert.Equal(["setosa", "versicolor", "virginica"], train.ClassNames);
        Assert.Equal("petal_width", test.FeatureNames[3]);
        Assert.Equal(TargetKind.MultiClass, train.TargetKind);
    }
}
