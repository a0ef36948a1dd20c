using Functional.Checkpoints;

namespace Functional.Training.Callbacks;

/// <summary>
/// Writes a whole checkpoint (weights, model.json, optimizer.bin, training.json, all of one step) at the
/// end of every <c>every</c>-th epoch, of the last epoch and of an epoch after which the run stops; never
/// mid-epoch, so after a cancellation the folder holds the last whole epoch, which a resumed run
/// continues from. When early stopping puts an earlier epoch's weights back, the folder becomes that
/// epoch's checkpoint (kept in memory until then), so its weights and training state still agree.
/// </summary>
internal sealed class CheckpointCallback(string directory, int every) : TrainingCallback
{
    private (TrainingState State, byte[] Optimizer)? best;

    public override void OnEpochEnd(TrainingSession session, EpochReport report)
    {
        var keepBest = session.BestWeights is not null && session.BestEpoch == report.Epoch;
        var due = report.Epoch % every == 0 || report.Epoch == session.Epochs || session.StopRequested;
        if (!keepBest && !due) return;
        var state = session.CaptureState();
        var optimizer = session.Optimizer.SaveState();
        if (keepBest) best = (state, optimizer);
        if (due) Write(session, state, optimizer);
    }

    public override void OnTrainEnd(TrainingSession session)
    {
        if (session.RestoredBestWeights && best is { } b) Write(session, b.State, b.Optimizer);
        // A callback after this one may have stopped the run at an epoch's end.
        else if (!session.Cancelled && session.AtEpochBoundary && session.History.Count > 0
                 && session.CheckpointEpoch != session.History.Count)
            Write(session, session.CaptureState(), session.Optimizer.SaveState());
    }

    private void Write(TrainingSession session, TrainingState state, byte[] optimizer)
    {
        var bestWeights = state.EarlyStopping?.BestEpoch is { } bestEpoch && bestEpoch != state.Epoch ? session.BestWeights : null;
        TrainingState.Save(directory, folder => Checkpoint.Save(session.Module, session.Network.Source, session.Network.Options, folder, session.Summary(state), session.Network.ClassNames, session.Network.Tokenizer), optimizer, state, bestWeights);
        session.CheckpointEpoch = state.Epoch;
    }
}
