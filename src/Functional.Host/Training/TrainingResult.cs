namespace Functional.Training;

/// <summary>How a training session ended: a report per completed epoch, and why it stopped.</summary>
/// <param name="Epochs">one report per completed epoch, in order (a resumed run's include those done before)</param>
/// <param name="Cancelled">the cancellation token stopped it after a step; the network holds that step's weights,
/// and a checkpoint folder the last whole checkpoint (written at an epoch's end)</param>
/// <param name="StoppedEarly">a callback (early stopping, or your own) ended it before the planned epochs</param>
/// <param name="BestEpoch">the best epoch by the early-stopping monitor; null without early stopping</param>
/// <param name="RestoredBestWeights">the best epoch's weights were put back at the end</param>
/// <param name="Elapsed">the time this session took</param>
public sealed record TrainingResult(IReadOnlyList<EpochReport> Epochs, bool Cancelled, bool StoppedEarly, int? BestEpoch,
    bool RestoredBestWeights, TimeSpan Elapsed)
{
    /// <summary>The number of completed epochs.</summary>
    public int EpochsRun => Epochs.Count;

    /// <summary>The last completed epoch's mean training loss; NaN when none completed.</summary>
    public double FinalLoss => Epochs.Count > 0 ? Epochs[^1].Loss : double.NaN;

    /// <summary>Steps (batches) run in this session and before it, when resumed.</summary>
    public long Steps { get; init; }

    /// <summary>Why a callback stopped the run (<see cref="StoppedEarly"/>); null otherwise.</summary>
    public string? StopReason { get; init; }

    /// <summary>The epoch of the checkpoint left in <see cref="TrainingOptions.CheckpointDirectory"/>; null when none was written.</summary>
    public int? CheckpointEpoch { get; init; }
}
