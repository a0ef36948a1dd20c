namespace Functional.Training;

/// <summary>How a training run ended: the loss of every epoch run, and whether it was cancelled.</summary>
public sealed record TrainingResult(IReadOnlyList<double> History, bool Cancelled, TimeSpan Elapsed)
{
    public int EpochsRun => History.Count;
    public double FinalLoss => History.Count > 0 ? History[^1] : double.NaN;
}
