using Functional.Lang.Checking;
using Functional.Training.Optimization;
using Loss = Functional.Training.Loss;

namespace Functional.Training;

/// <summary>
/// What a training run does: its examples, loss, optimizer and epochs. Made from a <c>train</c> block
/// (<see cref="Networks.FnnFile.TrainingPlan"/>) or directly from C# data.
/// </summary>
public sealed record TrainingPlan
{
    /// <summary>The examples' inputs, each in row-major order (token ids for a model of tokens).</summary>
    public required IReadOnlyList<float[]> Inputs { get; init; }

    /// <summary>The examples' targets: values shaped as the output, or, for a model such as <c>[seq] int -> [seq; vocab]</c>, a class index per position.</summary>
    public required IReadOnlyList<float[]> Targets { get; init; }

    /// <summary>What is minimised (a train block's <c>loss</c>; mse when it names none).</summary>
    public Loss Loss { get; init; } = Loss.MeanSquaredError;

    /// <summary>The optimizer and its settings (PyTorch's defaults where unset).</summary>
    public Optimizer Optimizer { get; init; } = Optimizer.Sgd();

    /// <summary>The learning-rate schedule; null keeps the rate constant.</summary>
    public Schedule? Schedule { get; init; }

    /// <summary>The learning rate the optimizer starts from.</summary>
    public double LearningRate => Optimizer.LearningRate;

    /// <summary>The number of epochs.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per step; null means 32 (Keras's default).</summary>
    public int? BatchSize { get; init; }

    /// <summary>The train block's freezing and per-pattern rates (<c>freeze</c>, <c>unfreezeAt</c>, <c>lrFor</c>,
    /// <c>trainable</c>); null when it has none.</summary>
    public FineTuning.FineTuningOptions? FineTuning { get; init; }

    /// <summary>The train block's <c>lora</c> settings: the adapters a network compiled for this plan carries; null without.</summary>
    public FineTuning.LoraOptions? Lora { get; init; }

    /// <summary>The train block's <c>from</c>: the checkpoint folder its training starts from (a full path); null: fresh weights.</summary>
    public string? StartFrom { get; init; }

    internal static TrainingPlan FromChecked(TrainPlan plan) => new()
    {
        Inputs = plan.Inputs.Select(x => x.Select(v => (float)v).ToArray()).ToList(),
        Targets = plan.Targets.Select(x => x.Select(v => (float)v).ToArray()).ToList(),
        Loss = Loss.FromChecked(plan.Loss),
        Optimizer = new Optimizer(plan.Optimizer),
        Schedule = plan.Schedule?.Value is { } schedule ? new Schedule(schedule) : null,
        Epochs = plan.Epochs,
        BatchSize = plan.Batch is { } batch ? batch.Value : null,
        FineTuning = FineTuningOf(plan.FineTune),
        Lora = plan.FineTune.Lora?.Value is { } lora
            ? new FineTuning.LoraOptions { Rank = lora.Rank, Alpha = lora.Alpha, Dropout = lora.Dropout, Targets = lora.Targets.Select(t => t.Item1).ToList() }
            : null,
        StartFrom = plan.FineTune.From?.Value.Item1,
    };

    /// <summary>The block's freezing and rates; null when it sets none of them.</summary>
    private static FineTuning.FineTuningOptions? FineTuningOf(FineTunePlan plan) =>
        plan.Freeze.IsEmpty && plan.UnfreezeAt is null && plan.LearningRates.IsEmpty && plan.Trainable.IsEmpty
            ? null
            : new FineTuning.FineTuningOptions
            {
                Freeze = plan.Freeze.Select(f => f.Item1).ToList(),
                UnfreezeAtEpoch = plan.UnfreezeAt?.Value,
                LearningRates = plan.LearningRates.Select(r => new FineTuning.LearningRateRule(r.Item1, r.Item2)).ToList(),
                Train = plan.Trainable.Select(t => t.Item1).ToList(),
            };
}
