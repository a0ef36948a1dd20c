namespace Functional.Training;

/// <summary>Overrides of a training plan's settings (null keeps the plan's value).</summary>
public sealed record TrainingOptions
{
    public int? Epochs { get; init; }
    public double? LearningRate { get; init; }

    /// <summary>Replaces the plan's optimizer (LearningRate, if set, still overrides its rate).</summary>
    public Optimization.Optimizer? Optimizer { get; init; }

    /// <summary>Replaces the plan's learning-rate schedule.</summary>
    public Optimization.Schedule? Schedule { get; init; }

    /// <summary>Seeds the shuffling of examples; null leaves torch's generator as it is.</summary>
    public long? Seed { get; init; }

    /// <summary>Examples per step, overriding the plan's; the last batch of an epoch may be smaller.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Shuffle the examples every epoch (with the seeded generator).</summary>
    public bool Shuffle { get; init; } = true;
}
