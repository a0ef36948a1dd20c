namespace Functional.Training.Callbacks;

/// <summary>
/// Told as a training session runs: override the moments you care about. Callbacks run on the training
/// thread, in the order they were added, after the built-in ones; one can end the run with
/// <see cref="TrainingSession.RequestStop"/>.
/// </summary>
/// <remarks>Add yours through <see cref="TrainingOptions.Callbacks"/>.</remarks>
public abstract class TrainingCallback
{
    /// <summary>Before the first step (after a resumed run's state is restored).</summary>
    public virtual void OnTrainBegin(TrainingSession session) { }

    /// <summary>Before epoch <see cref="TrainingSession.Epoch"/>'s first step.</summary>
    public virtual void OnEpochBegin(TrainingSession session) { }

    /// <summary>Before step <see cref="TrainingSession.Step"/> + 1, batch <see cref="TrainingSession.Batch"/> + 1 of the epoch.</summary>
    public virtual void OnBatchBegin(TrainingSession session) { }

    /// <summary>After a step: its batch and loss. A stop asked for here ends the run after this step.</summary>
    public virtual void OnBatchEnd(TrainingSession session, BatchReport batch) { }

    /// <summary>After an epoch and its validation: the epoch's report (also the last of <see cref="TrainingSession.History"/>).</summary>
    public virtual void OnEpochEnd(TrainingSession session, EpochReport report) { }

    /// <summary>After the last step, however the run ended (<see cref="TrainingSession.Cancelled"/> says whether it was cancelled); not after an exception.</summary>
    public virtual void OnTrainEnd(TrainingSession session) { }
}
