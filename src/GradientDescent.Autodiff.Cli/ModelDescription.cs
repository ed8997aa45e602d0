using System.Text.Json;
using System.Text.Json.Serialization;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// What <c>gdad predict</c> needs besides the parameters: the model's shape, the feature columns and the training
/// rows' standardisation. <c>gdad train --save model.json</c> writes the parameters to <c>model.json</c> (ParameterFile)
/// and this description beside it, to <c>model.gdad.json</c>.
/// </summary>
/// <param name="Format">"gdad/model/1".</param>
/// <param name="Model">linear, logistic, softmax or mlp.</param>
/// <param name="Hidden">The MLP's hidden widths; null for the others.</param>
/// <param name="Activation">The MLP's activation; null for the others.</param>
/// <param name="Features">The feature columns' names, in order (x1, x2, … for a file without header).</param>
/// <param name="Target">The target column's name at training.</param>
/// <param name="Classes">k for a classifier, 0 for regression.</param>
/// <param name="ClassNames">The class names for text labels, index = class; null for numeric labels.</param>
/// <param name="Mean">μ of each feature over the training rows with --standardize; null without.</param>
/// <param name="Scale">σ of each feature (1 for a constant one) with --standardize; null without.</param>
/// <param name="Task">For mlp: classification or regression (absent in older files: classification); null for the others.</param>
internal sealed record ModelDescription(string Format, string Model, int[]? Hidden, string? Activation, string[] Features, string Target,
    int Classes, string[]? ClassNames, double[]? Mean, double[]? Scale, string? Task = null)
{
    internal const string CurrentFormat = "gdad/model/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The description's path for a parameter file: <c>model.json</c> → <c>model.gdad.json</c>.</summary>
    internal static string PathFor(string parameterFile)
    {
        string path = Path.ChangeExtension(parameterFile, ".gdad.json");
        if (string.Equals(Path.GetFullPath(path), Path.GetFullPath(parameterFile), StringComparison.Ordinal))
        {
            throw new UsageException($"--save: '{parameterFile}' ends in .gdad.json, the name of the description gdad writes beside the parameters; choose another name, such as model.json.");
        }
        return path;
    }

    internal static void Save(string parameterFile, ModelDescription description) =>
        File.WriteAllText(PathFor(parameterFile), JsonSerializer.Serialize(description, Json));

    internal static ModelDescription Load(string parameterFile)
    {
        string path = PathFor(parameterFile);
        if (!File.Exists(parameterFile)) throw new UsageException($"--model-file: no file '{parameterFile}'.");
        if (!File.Exists(path)) throw new UsageException($"--model-file: no '{path}' beside '{parameterFile}'; gdad train --save writes both.");
        ModelDescription? d;
        try
        {
            d = JsonSerializer.Deserialize<ModelDescription>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path}: not a gdad model description ({e.Message}).");
        }
        if (d is null || d.Format != CurrentFormat || d.Features is null || d.Features.Length == 0 || !TrainCommand.Models.Contains(d.Model) || (d.Task is not null && !TrainCommand.Tasks.Contains(d.Task)))
        {
            throw new UsageException($"{path}: not a gdad model description of format {CurrentFormat}.");
        }
        return d;
    }
}
