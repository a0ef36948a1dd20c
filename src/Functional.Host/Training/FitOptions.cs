using Functional.Lang.Checking;
using Functional.Training.Optimization;

namespace Functional.Training;

/// <summary>How <see cref="Networks.Network.Fit"/> trains on a dataset.</summary>
public sealed record FitOptions
{
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per step; the last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = Trainer.DefaultBatchSize;

    /// <summary>Seeds the epoch orders (<see cref="Data.BatchOrder"/>), the validation split and torch's generator
    /// (dropout); null: a random seed for shuffling, torch's generator left as it is.</summary>
    public int? Seed { get; init; }

    /// <summary>Shuffle the training examples every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    public required Loss Loss { get; init; }

    public Optimizer Optimizer { get; init; } = Optimizer.Sgd();

    /// <summary>The learning-rate schedule; null keeps the rate constant. A plateau schedule watches the validation loss when there is one, else the training loss.</summary>
    public Schedule? Schedule { get; init; }

    /// <summary>
    /// Used only when no validation dataset is given: this fraction (0 to 1, exclusive) of the training examples
    /// is held out for validation. Without a <see cref="Seed"/> it is the last examples in index order (Keras's
    /// rule); with one, the last examples of a permutation drawn from the seed, so the same seed gives the same split.
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>Metrics computed on every training step and on validation (e.g. <see cref="Metric.Accuracy"/>, <see cref="Metric.TopK"/>).</summary>
    public IReadOnlyList<Metric> Metrics { get; init; } = [];

    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Write one line per epoch to this file (replaced): JSON Lines, or CSV when it ends in .csv.
    /// Fields: epoch, loss, the metrics, val_loss and validation metrics, lr, seconds.</summary>
    public string? HistoryPath { get; init; }

    /// <summary>Told after every training step (on the training thread).</summary>
    public IProgress<BatchReport>? BatchProgress { get; init; }

    /// <summary>
    /// After every epoch, write the weights, model.json and the training state here (one folder, replaced
    /// as a whole), so that <see cref="ResumeFrom"/> can continue the run exactly.
    /// </summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>
    /// Continue the run saved in this checkpoint folder: its weights, optimizer moments, schedule, random
    /// generator, epochs done and history. <see cref="Epochs"/> is the total, not the epochs still to run.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>The same options reporting batches to <paramref name="progress"/> (for callers without C#'s <c>with</c>).</summary>
    public FitOptions WithBatchProgress(IProgress<BatchReport>? progress) => this with { BatchProgress = progress };
}
