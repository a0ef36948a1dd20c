namespace Functional.Training;

/// <summary>How a <see cref="Networks.Network.Fit"/> run ended: a report per completed epoch, and why it stopped.</summary>
/// <param name="Epochs">one report per completed epoch, in order</param>
/// <param name="Cancelled">the cancellation token stopped it (after a step; the weights are those of that step)</param>
/// <param name="StoppedEarly">early stopping ended it before the planned epochs</param>
/// <param name="BestEpoch">the best epoch by the early-stopping monitor; null without early stopping</param>
/// <param name="RestoredBestWeights">the best epoch's weights were put back at the end</param>
/// <param name="Elapsed">the time the run took</param>
public sealed record FitResult(IReadOnlyList<EpochReport> Epochs, bool Cancelled, bool StoppedEarly, int? BestEpoch,
    bool RestoredBestWeights, TimeSpan Elapsed)
{
    public int EpochsRun => Epochs.Count;
    public double FinalLoss => Epochs.Count > 0 ? Epochs[^1].Loss : double.NaN;
}
