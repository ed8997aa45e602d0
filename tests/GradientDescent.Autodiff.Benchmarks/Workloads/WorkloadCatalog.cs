namespace GradientDescent.Autodiff.Benchmarks;

/// <summary>Every workload, in the order of the issue.</summary>
public static class WorkloadCatalog
{
    /// <summary>deep_chain, micrograd_mlp, logreg_full_batch, small_batch_sgd, op_overhead, mlp_epoch, trainer_overhead, jvp, hvp, softmax_regression.</summary>
    public static IReadOnlyList<IWorkload> All { get; } =
    [
        new DeepChain(),
        new MicrogradMlp(),
        new LogRegFullBatch(),
        new SmallBatchSgd(),
        new OpOverhead(),
        new MlpEpoch(),
        new TrainerOverhead(),
        new JacobianVectorProduct(),
        new HessianVectorProduct(),
        new SoftmaxRegressionFullBatch(),
    ];
}
