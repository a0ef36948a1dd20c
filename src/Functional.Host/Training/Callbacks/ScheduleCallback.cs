namespace Functional.Training.Callbacks;

/// <summary>
/// Steps the learning-rate schedule at each epoch's end (its per-batch steps are part of the training
/// step). A plateau schedule watches the validation loss when there is one, else the training loss.
/// </summary>
internal sealed class ScheduleCallback : TrainingCallback
{
    public override void OnEpochEnd(TrainingSession session, EpochReport report) =>
        session.Schedule.OnEpochEnd(report.ValidationLoss ?? report.Loss);
}
