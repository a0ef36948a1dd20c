using Functional.Lang.Checking;

namespace Functional.Training;

/// <summary>
/// What a training run does: its examples, loss, optimizer and epochs. Made from a <c>train</c> block
/// (<see cref="Networks.FnnFile.TrainingPlan"/>) or directly from C# data.
/// </summary>
public sealed record TrainingPlan
{
    public required IReadOnlyList<float[]> Inputs { get; init; }
    public required IReadOnlyList<float[]> Targets { get; init; }
    public Loss Loss { get; init; } = Loss.MeanSquaredError;

    /// <summary>"sgd" or "adam".</summary>
    public string Optimizer { get; init; } = "sgd";
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; }
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per step; null means 32 (Keras's default).</summary>
    public int? BatchSize { get; init; }

    internal static TrainingPlan FromChecked(TrainPlan plan) => new()
    {
        Inputs = plan.Inputs.Select(x => x.Select(v => (float)v).ToArray()).ToList(),
        Targets = plan.Targets.Select(x => x.Select(v => (float)v).ToArray()).ToList(),
        Loss = plan.Loss,
        Optimizer = plan.Optimizer.Name,
        LearningRate = plan.Optimizer.LearningRate,
        Momentum = plan.Optimizer.Momentum,
        Epochs = plan.Epochs,
        BatchSize = plan.Batch is { } batch ? batch.Value : null,
    };
}
