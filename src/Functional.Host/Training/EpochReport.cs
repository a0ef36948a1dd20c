namespace Functional.Training;

/// <summary>Progress after one epoch: its number (from 1), the number planned, and the mean training loss.</summary>
/// <remarks>
/// <see cref="Networks.Network.Fit"/> also fills <see cref="Metrics"/> (Keras's names: "accuracy", "top5", "val_loss",
/// "val_accuracy", ...), <see cref="LearningRate"/>, <see cref="Duration"/> and <see cref="ExamplesPerSecond"/>.
/// </remarks>
public sealed record EpochReport(int Epoch, int Epochs, double Loss, TimeSpan Elapsed)
{
    private static readonly IReadOnlyDictionary<string, double> None = new Dictionary<string, double>();

    /// <summary>Training metrics by name, then "val_loss" and the validation metrics ("val_" + name) when there is validation data.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = None;

    /// <summary>The validation loss, when the run had validation data.</summary>
    public double? ValidationLoss => Metrics.TryGetValue("val_loss", out var v) ? v : null;

    /// <summary>The learning rate the epoch started with (a schedule may change it within the epoch); NaN if unknown.</summary>
    public double LearningRate { get; init; } = double.NaN;

    /// <summary>This epoch's wall-clock time, validation included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Training examples per second in this epoch (validation excluded).</summary>
    public double ExamplesPerSecond { get; init; }
}
