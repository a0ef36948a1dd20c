using Functional.Training;

namespace Functional.Checkpoints;

/// <summary>model.json beside the weights: which model and source they belong to, and how they were made.</summary>
public sealed record CheckpointMetadata
{
    public const string CurrentFormat = "functional-checkpoint/1";

    public string Format { get; init; } = CurrentFormat;
    public required string Model { get; init; }
    public required string Source { get; init; }
    public required string SourceSha256 { get; init; }
    public Dictionary<string, string> Hyperparameters { get; init; } = new();
    public required string Input { get; init; }
    public required string Output { get; init; }
    public required List<ParameterInfo> Parameters { get; init; }
    public string Precision { get; init; } = "float32";
    public TrainingSummary? Training { get; init; }
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public string FunctionalVersion { get; init; } = typeof(CheckpointMetadata).Assembly.GetName().Version?.ToString() ?? "0";

    public sealed record ParameterInfo(string Name, long[] Shape);
}
