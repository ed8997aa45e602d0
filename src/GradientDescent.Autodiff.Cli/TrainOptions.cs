namespace GradientDescent.Autodiff.Cli;

/// <summary>Everything <c>gdad train</c> was asked to do, bound from the command line (tests build it directly or parse argv into it).</summary>
/// <param name="Model">linear, logistic, softmax or mlp.</param>
/// <param name="Data">A CSV file, or null for the embedded admissions data.</param>
/// <param name="HasHeader">Whether the CSV's first line names the columns.</param>
/// <param name="Target">The target column: a name, or a 0-based index without a header; null for the last column.</param>
/// <param name="Features">The feature columns (names, or 0-based indices without a header); null for all others.</param>
/// <param name="ClassNames">none (numeric labels), first (text labels numbered in order of appearance) or sorted.</param>
/// <param name="Hidden">The MLP's hidden layer widths.</param>
/// <param name="Activation">The MLP's activation: relu, tanh or sigmoid.</param>
/// <param name="Optimizer">sgd, momentum, nesterov, adam, adamw or rmsprop.</param>
/// <param name="LearningRate">η.</param>
/// <param name="WeightDecay">λ (L2 for sgd, adam, rmsprop; decoupled for adamw).</param>
/// <param name="Epochs">Passes over the training rows.</param>
/// <param name="BatchSize">Rows per step; null for the whole training set (full batch); 1 is the seed lesson's per-point updates.</param>
/// <param name="TestFraction">The share of rows held out for test metrics; null to train on all rows.</param>
/// <param name="Standardize">Whether to standardise the features with the training rows' μ and σ.</param>
/// <param name="Seed">Seeds the initialisation, the split and the epochs' shuffles.</param>
/// <param name="Save">Where to write the trained parameters (ParameterFile JSON), or null.</param>
/// <param name="Out">A folder for loss.png (the training loss per epoch) and summary.json (the --json object), or null.</param>
/// <param name="Task">For mlp: classification or regression; null for the model's default (mlp: classification).</param>
/// <param name="Json">Whether to write one JSON object to stdout instead of readable lines.</param>
internal sealed record TrainOptions(
    string Model = "logistic",
    string? Data = null,
    bool HasHeader = true,
    string? Target = null,
    IReadOnlyList<string>? Features = null,
    string ClassNames = "none",
    IReadOnlyList<int>? Hidden = null,
    string Activation = "relu",
    string Optimizer = "adam",
    double LearningRate = 0.05,
    double WeightDecay = 0,
    int Epochs = 200,
    int? BatchSize = null,
    double? TestFraction = null,
    bool Standardize = false,
    ulong Seed = 1,
    string? Save = null,
    bool Json = false,
    string? Out = null,
    string? Task = null);
