namespace Functional.Training.Callbacks;

/// <summary>
/// Keras's early stopping: after each epoch, compares the monitored value with the best so far; asks the
/// session to stop after <see cref="EarlyStopping.Patience"/> epochs without an improvement larger than
/// <see cref="EarlyStopping.MinDelta"/>, and at the end (unless cancelled) puts back the best epoch's
/// weights when asked to. Its bookkeeping travels in checkpoints, so a resumed run stops where the
/// uninterrupted one would.
/// </summary>
internal sealed class EarlyStoppingCallback : TrainingCallback, IDisposable
{
    private readonly EarlyStopping rule;
    private readonly bool higherIsBetter;
    private readonly WeightSnapshot? best;
    private double bestValue;
    private int? bestEpoch;
    private int waited;

    /// <exception cref="ArgumentException">the monitored value is not reported by this run, or a setting is out of range</exception>
    public EarlyStoppingCallback(EarlyStopping rule, IReadOnlyList<Metric> metrics, bool validating)
    {
        if (rule.Patience < 0) throw new ArgumentOutOfRangeException(nameof(EarlyStopping.Patience), rule.Patience, "patience must be at least 0");
        if (!(rule.MinDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(EarlyStopping.MinDelta), rule.MinDelta, "the minimum change must be at least 0");
        var name = rule.Monitor;
        var isValidation = name.StartsWith("val_", StringComparison.Ordinal);
        var bare = isValidation ? name[4..] : name;
        if (isValidation && !validating)
            throw new ArgumentException($"early stopping watches '{name}', but there is no validation data (give a validation dataset or a ValidationSplit)");
        if (bare == "loss") higherIsBetter = false;
        else
        {
            var metric = metrics.FirstOrDefault(m => m.Name == bare)
                ?? throw new ArgumentException($"early stopping watches '{name}', but it is neither a loss nor a metric of this run ({string.Join(", ", metrics.Select(m => m.Name).DefaultIfEmpty("none"))})");
            higherIsBetter = metric.HigherIsBetter;
        }
        this.rule = rule;
        bestValue = higherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
        best = rule.RestoreBestWeights ? new WeightSnapshot() : null;
    }

    public override void OnTrainBegin(TrainingSession session)
    {
        session.BestWeights = best;
        session.MonitorState = () => new TrainingState.MonitorState(bestValue, bestEpoch, waited);
        if (session.Resumed?.EarlyStopping is not { } saved) return;
        (bestValue, bestEpoch, waited) = (saved.Best, saved.BestEpoch, saved.Waited);
        session.BestEpoch = bestEpoch;
        if (best is null || bestEpoch is null) return;
        // The best weights are the checkpoint's own, or were kept beside them.
        if (bestEpoch == session.Resumed.Epoch) best.Take(session.Module);
        else if (session.ResumedDirectory is { } directory && File.Exists(Path.Combine(directory, TrainingState.BestWeightsFile)))
            best.Load(Path.Combine(directory, TrainingState.BestWeightsFile), session.Module);
    }

    public override void OnEpochEnd(TrainingSession session, EpochReport report)
    {
        var value = rule.Monitor == "loss" ? report.Loss
            : report.Metrics.TryGetValue(rule.Monitor, out var v) ? v
            : throw new InvalidOperationException($"early stopping watches '{rule.Monitor}', which was not reported");
        var improved = higherIsBetter ? value - rule.MinDelta > bestValue : value + rule.MinDelta < bestValue;
        if (improved)
        {
            bestValue = value;
            bestEpoch = report.Epoch;
            waited = 0;
            best?.Take(session.Module);
        }
        else waited++;
        session.BestEpoch = bestEpoch;
        if (!improved && waited >= rule.Patience && report.Epoch < session.Epochs)
            session.RequestStop($"no improvement in {rule.Monitor} for {waited} epoch{(waited == 1 ? "" : "s")}");
    }

    public override void OnTrainEnd(TrainingSession session)
    {
        if (session.Cancelled || best is null || best.IsEmpty || bestEpoch is null || bestEpoch == session.History.Count) return;
        best.Restore(session.Module);
        session.RestoredBestWeights = true;
    }

    public void Dispose() => best?.Dispose();
}
