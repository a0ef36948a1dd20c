namespace Functional.Training.Callbacks;

/// <summary>Reports each epoch and each step to the caller's <see cref="IProgress{T}"/>s (on the training thread).</summary>
internal sealed class ProgressCallback(IProgress<EpochReport>? epochs, IProgress<BatchReport>? batches) : TrainingCallback
{
    public override void OnBatchEnd(TrainingSession session, BatchReport batch) => batches?.Report(batch);

    public override void OnEpochEnd(TrainingSession session, EpochReport report) => epochs?.Report(report);
}
