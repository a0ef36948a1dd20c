using Functional.Training;

namespace Functional.Checkpoints;

/// <summary>model.json beside the weights: which model and source they belong to, and how they were made.</summary>
public sealed record CheckpointMetadata
{
    /// <summary>The format this version writes and reads.</summary>
    public const string CurrentFormat = "functional-checkpoint/1";

    /// <summary>The format of the file (<see cref="CurrentFormat"/>).</summary>
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The model's name.</summary>
    public required string Model { get; init; }

    /// <summary>The source's file name (without its folder).</summary>
    public required string Source { get; init; }

    /// <summary>The SHA-256 of the source text (hex), to tell whether it changed since.</summary>
    public required string SourceSha256 { get; init; }

    /// <summary>Every hyperparameter of the model with the value it was built with, as text.</summary>
    public Dictionary<string, string> Hyperparameters { get; init; } = new();

    /// <summary>The model's input shape, as the source writes it (<c>[2]</c>).</summary>
    public required string Input { get; init; }

    /// <summary>The model's output shape, as the source writes it.</summary>
    public required string Output { get; init; }

    /// <summary>Every parameter's path and shape, in registration order.</summary>
    public required List<ParameterInfo> Parameters { get; init; }

    /// <summary>The element type of the weights: <c>float32</c> or <c>float64</c>.</summary>
    public string Precision { get; init; } = "float32";

    /// <summary>
    /// The name of each class index of the data the weights were trained on (a CSV file's labels), so that a test
    /// file maps its labels as the training file did; null when the classes had no names (IDX, a train block).
    /// </summary>
    public List<string>? Classes { get; init; }

    /// <summary>How the weights were trained, when they were.</summary>
    public TrainingSummary? Training { get; init; }

    /// <summary>When the checkpoint was written.</summary>
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The version of Functional that wrote it.</summary>
    public string FunctionalVersion { get; init; } = typeof(CheckpointMetadata).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>One parameter as model.json lists it.</summary>
    /// <param name="Name">its path, the key in weights.safetensors</param>
    /// <param name="Shape">its sizes</param>
    public sealed record ParameterInfo(string Name, long[] Shape);
}
