using Functional.Training.Callbacks;
using Functional.Training.Optimization;

namespace Functional.Training;

/// <summary>
/// How a training session runs. Every setting a train block also has (loss, epochs, batch, optimizer,
/// schedule) is null unless given: null keeps the plan's value, or the default when there is no plan
/// (<see cref="Networks.Network.Fit"/>). <see cref="WithPlan"/> is the one place the two are merged.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Examples per step when neither the options nor the plan say (Keras's default).</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>What is minimised; null: the plan's. Training without a plan needs one.</summary>
    public Loss? Loss { get; init; }

    /// <summary>The total number of epochs (a resumed run counts the epochs already done); null: the plan's, else 1.</summary>
    public int? Epochs { get; init; }

    /// <summary>Examples per step; the last batch of an epoch may be smaller. Null: the plan's, else <see cref="DefaultBatchSize"/>.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The optimizer; null: the plan's, else plain sgd. <see cref="LearningRate"/>, if set, still overrides its rate.</summary>
    public Optimizer? Optimizer { get; init; }

    /// <summary>The optimizer's learning rate, overriding the one the optimizer names.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The learning-rate schedule; null: the plan's, else a constant rate. A plateau schedule watches
    /// the validation loss when there is validation data, else the training loss.</summary>
    public Schedule? Schedule { get; init; }

    /// <summary>Seeds the epoch orders (<see cref="Data.BatchOrder"/>), the validation split and the random
    /// generator (dropout). Null: the network's seed (<see cref="Networks.NetworkOptions.Seed"/>), else a random one.</summary>
    public int? Seed { get; init; }

    /// <summary>Shuffle the training examples every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// At most this many batches make an epoch: the first ones of the epoch's (seeded) order, so each epoch sees
    /// other examples and a resumed run the same ones. Null: every batch. For data sets of very many examples,
    /// such as every window of a text (<see cref="Text.TextDataset.ExamplesPerEpoch"/>).
    /// </summary>
    public int? StepsPerEpoch { get; init; }

    /// <summary>
    /// Used only when no validation data is given: this fraction (0 to 1, exclusive) of the training examples
    /// is held out for validation. Without a seed it is the last examples in index order (Keras's rule); with
    /// one, the last examples of a permutation drawn from the seed, so the same seed gives the same split.
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>Metrics computed on every training step and on validation (e.g. <see cref="Metric.Accuracy"/>, <see cref="Metric.TopK"/>).</summary>
    public IReadOnlyList<Metric> Metrics { get; init; } = [];

    /// <summary>Stop when a monitored value stops improving (an <see cref="EarlyStoppingCallback"/>).</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Write one line per epoch to this file (replaced): JSON Lines, or CSV when it ends in .csv.
    /// Fields: epoch, loss, the metrics, val_loss and validation metrics, lr, seconds.</summary>
    public string? HistoryPath { get; init; }

    /// <summary>Told after every training step (on the training thread).</summary>
    public IProgress<BatchReport>? BatchProgress { get; init; }

    /// <summary>
    /// Write a checkpoint here at the end of every <see cref="CheckpointEvery"/>-th epoch and of the last one:
    /// the weights, model.json and the training state, all of the same step, replacing the folder as a whole,
    /// so that <see cref="ResumeFrom"/> can continue the run exactly.
    /// </summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Checkpoint every this many epochs (and after the last); 1: every epoch.</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>
    /// Continue the run saved in this checkpoint folder: its weights, optimizer moments, schedule, random
    /// generator, epochs done and history. <see cref="Epochs"/> is the total, not the epochs still to run.
    /// A folder without a checkpoint is an error.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Your own callbacks, told after the built-in ones (schedule, history, early stopping, checkpoints, progress).</summary>
    public IReadOnlyList<TrainingCallback> Callbacks { get; init; } = [];

    /// <summary>Which parameters train and at which rates (freezing, unfreezing, per-pattern rates; with LoRA adapters,
    /// what trains besides them); null: the plan's, or every parameter at the optimizer's rate.</summary>
    public FineTuning.FineTuningOptions? FineTuning { get; init; }

    /// <summary>The same options reporting batches to <paramref name="progress"/> (for callers without C#'s <c>with</c>).</summary>
    public TrainingOptions WithBatchProgress(IProgress<BatchReport>? progress) => this with { BatchProgress = progress };

    /// <summary>
    /// These options with every unset train-block setting taken from <paramref name="plan"/> (or the defaults
    /// when it is null) and the learning rate applied to the optimizer: what a session runs with. Checks the
    /// settings' ranges.
    /// </summary>
    /// <exception cref="ArgumentException">no loss anywhere, or a setting out of range</exception>
    public TrainingOptions WithPlan(TrainingPlan? plan)
    {
        var loss = Loss ?? plan?.Loss
                   ?? throw new ArgumentException("there is no loss: set TrainingOptions.Loss (or train from a plan, whose train block names one)");
        var epochs = Epochs ?? plan?.Epochs ?? 1;
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), epochs, "epochs must be positive");
        var batch = BatchSize ?? plan?.BatchSize ?? DefaultBatchSize;
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), batch, "the batch size must be positive");
        var optimizer = Optimizer ?? plan?.Optimizer ?? Optimization.Optimizer.Sgd();
        // lr's rule (positive, within float32) is the language's: WithLearningRate applies it.
        if (LearningRate is { } rate) optimizer = optimizer.WithLearningRate(rate);
        if (ValidationSplit is < 0 or >= 1 || double.IsNaN(ValidationSplit))
            throw new ArgumentOutOfRangeException(nameof(ValidationSplit), ValidationSplit, "the validation split must be at least 0 and below 1");
        if (StepsPerEpoch is < 1)
            throw new ArgumentOutOfRangeException(nameof(StepsPerEpoch), StepsPerEpoch, "the steps per epoch must be positive (or null: every batch)");
        if (CheckpointEvery < 1) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "checkpoints are written every 1 or more epochs");
        var duplicate = (Metrics ?? []).GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"two metrics are named '{duplicate.Key}'", nameof(Metrics));
        return this with
        {
            Loss = loss,
            Epochs = epochs,
            BatchSize = batch,
            Optimizer = optimizer,
            LearningRate = optimizer.LearningRate,
            Schedule = Schedule ?? plan?.Schedule,
            Metrics = Metrics ?? [],
            Callbacks = Callbacks ?? [],
            FineTuning = FineTuning ?? plan?.FineTuning,
        };
    }
}
