using System.Diagnostics;
using Functional.Checkpoints;
using Functional.Data;
using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training.Callbacks;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Training;

/// <summary>
/// One training run: the loop every way of training goes through (a train block's data, a data set, a
/// resumed checkpoint). Each epoch runs the examples in <see cref="BatchOrder"/>'s seeded order, one
/// dispose scope per step, then validates (eval mode, no_grad, in batches); everything else (the
/// schedule's epoch step, the history file, early stopping, checkpoints, progress) is a callback.
/// Callbacks see the session: where it stands, and <see cref="RequestStop"/>.
/// </summary>
public sealed class TrainingSession
{
    private readonly List<EpochReport> reports = [];

    private TrainingSession(Network network, TrainingOptions options, int batchesPerEpoch, int? shuffleSeed,
        TrainingOptimizer optimizer, LearningRateSchedule schedule, bool validating)
    {
        Network = network;
        Options = options;
        BatchesPerEpoch = batchesPerEpoch;
        ShuffleSeed = shuffleSeed;
        Optimizer = optimizer;
        Schedule = schedule;
        HasValidation = validating;
    }

    /// <summary>The settings the session runs with: the options merged with the plan (<see cref="TrainingOptions.WithPlan"/>).</summary>
    public TrainingOptions Options { get; }

    /// <summary>The name of the model being trained.</summary>
    public string ModelName => Network.Name;

    /// <summary>The epochs planned in all (a resumed run's total).</summary>
    public int Epochs => Options.Epochs!.Value;

    /// <summary>The epoch running, or just finished (from 1).</summary>
    public int Epoch { get; private set; }

    /// <summary>Batches done in the current epoch.</summary>
    public int Batch { get; private set; }

    /// <summary>Batches in each epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Optimizer steps done, a resumed run's earlier ones included.</summary>
    public long Step { get; private set; }

    /// <summary>The optimizer's current learning rate.</summary>
    public double LearningRate => Optimizer.LearningRate;

    /// <summary>The report of every completed epoch, in order (a resumed run's earlier ones included).</summary>
    public IReadOnlyList<EpochReport> History => reports;

    /// <summary>Whether each epoch ends with a validation pass (its values are the reports' "val_" metrics).</summary>
    public bool HasValidation { get; }

    /// <summary>The cancellation token stopped the run (after a step).</summary>
    public bool Cancelled { get; private set; }

    /// <summary>Why a callback asked to stop; null while none has.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Whether a callback has asked to stop.</summary>
    public bool StopRequested => StopReason is not null;

    /// <summary>The best epoch by early stopping's monitor so far; null without early stopping.</summary>
    public int? BestEpoch { get; internal set; }

    /// <summary>Early stopping put the best epoch's weights back at the end.</summary>
    public bool RestoredBestWeights { get; internal set; }

    /// <summary>
    /// Ends the run: asked during an epoch (<see cref="TrainingCallback.OnBatchEnd"/>), after the current step;
    /// asked at an epoch's end, once every callback has seen that epoch. The first reason given is kept.
    /// </summary>
    public void RequestStop(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        StopReason ??= reason;
    }

    internal Network Network { get; }
    internal CompiledModel Module => Network.Compiled;
    internal TrainingOptimizer Optimizer { get; }
    internal LearningRateSchedule Schedule { get; }

    /// <summary>The seed of the epoch orders; null when the examples are not shuffled.</summary>
    internal int? ShuffleSeed { get; }

    /// <summary>The state a resumed run started from; null for a fresh run.</summary>
    internal TrainingState? Resumed { get; private set; }

    /// <summary>The checkpoint folder a resumed run started from.</summary>
    internal string? ResumedDirectory { get; private set; }

    /// <summary>Whether the run stands at an epoch's end (no step of the next epoch has run).</summary>
    internal bool AtEpochBoundary => Batch == 0 || Batch == BatchesPerEpoch;

    /// <summary>Early stopping's copy of the best weights, for checkpoints to keep; null without one.</summary>
    internal WeightSnapshot? BestWeights { get; set; }

    /// <summary>Early stopping's bookkeeping, for checkpoints to keep; null without early stopping.</summary>
    internal Func<TrainingState.MonitorState>? MonitorState { get; set; }

    /// <summary>The epoch of the last checkpoint written.</summary>
    internal int? CheckpointEpoch { get; set; }

    /// <summary>
    /// Trains <paramref name="network"/> on <paramref name="train"/>, validating on <paramref name="validation"/>
    /// (or on a split of the training data), with <paramref name="options"/> merged with <paramref name="plan"/>.
    /// </summary>
    internal static TrainingResult Run(Network network, TrainingPlan? plan, IDataset train, IDataset? validation,
        TrainingOptions options, IProgress<EpochReport>? progress, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.WithPlan(plan);
        var module = network.Compiled;
        if (train.Count == 0) throw new ArgumentException("the training data has no examples", nameof(train));
        var seed = settings.Seed;
        if (validation is null && settings.ValidationSplit > 0)
            (train, validation) = DatasetSubset.Split(train, settings.ValidationSplit, seed);
        if (validation is { Count: 0 }) throw new ArgumentException("the validation data has no examples", nameof(validation));
        var batchSize = settings.BatchSize!.Value;

        if (module.Lora is not null && (settings.CheckpointDirectory is not null || settings.ResumeFrom is not null))
            throw new ArgumentException(
                $"{network.Name} carries LoRA adapters, which are saved alone (Network.SaveAdapter) after training: a run of it writes no checkpoints of the whole network and resumes none",
                settings.CheckpointDirectory is not null ? nameof(TrainingOptions.CheckpointDirectory) : nameof(TrainingOptions.ResumeFrom));
        if (settings.CheckpointDirectory is { } target) CheckpointFolder.RequireReplaceable(target);
        var feed = new BatchFeed(module, train);
        var validationFeed = validation is null ? null : new BatchFeed(module, validation);
        feed.CheckTokenIds(train, "the training data");
        validationFeed?.CheckTokenIds(validation!, "the validation data");
        BatchNormRule.Check(module, train.Count, batchSize);
        var resumed = settings.ResumeFrom is { } from ? TrainingState.Load(from) : default;
        if (resumed.State is { } recorded) RequireSameOrder(recorded, settings, Path.Combine(resumed.Directory, TrainingState.StateFile));
        var shuffleSeed = resumed.State is { } saved ? saved.ShuffleSeed
            : settings.Shuffle ? seed ?? FoldedSeed(network.Options.Seed) ?? Random.Shared.Next() : (int?)null;
        var order = new BatchOrder(train.Count, batchSize, shuffleSeed, maxBatches: settings.StepsPerEpoch);
        if (seed is { } s) SessionRandom.Seed(module.Generator, s);

        using var loss = settings.Loss!.Compile(module.Placement);
        var trainable = FineTuning.TrainableParameters.Resolve(module, settings.FineTuning, settings.Epochs!.Value);
        using var optimizer = settings.Optimizer!.CreateByPath(trainable.Optimized);
        foreach (var (name, rate) in trainable.Rates) optimizer.SetLearningRate(name, rate);
        network.NoteTrainedBase(trainable.Optimized.Select(p => p.Key));
        var schedule = (settings.Schedule ?? Optimization.Schedule.Constant).Create(optimizer);
        var session = new TrainingSession(network, settings, order.BatchesPerEpoch, shuffleSeed, optimizer, schedule, validation is not null);
        var callbacks = new List<TrainingCallback> { new ScheduleCallback() };
        using var history = settings.HistoryPath is { } path ? new HistoryCallback(path) : null;
        if (history is not null) callbacks.Add(history);
        using var stopping = settings.EarlyStopping is { } rule ? new EarlyStoppingCallback(rule, settings.Metrics, validation is not null) : null;
        if (stopping is not null) callbacks.Add(stopping);
        if (settings.CheckpointDirectory is { } directory) callbacks.Add(new CheckpointCallback(directory, settings.CheckpointEvery));
        if (progress is not null || settings.BatchProgress is not null) callbacks.Add(new ProgressCallback(progress, settings.BatchProgress));
        callbacks.AddRange(settings.Callbacks);

        var firstEpoch = 1;
        if (resumed.State is { } state)
        {
            // The run's state, the weights first (restoring the optimizer also restores the rate it had, so the schedule goes last).
            Checkpoint.LoadInto(module, resumed.Directory);
            try
            {
                optimizer.LoadState(resumed.Optimizer, state.Steps);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(Path.Combine(resumed.Directory, TrainingState.OptimizerFile), e.Message, e);
            }
            var statePath = Path.Combine(resumed.Directory, TrainingState.StateFile);
            try
            {
                schedule.SetState(state.Schedule);
            }
            catch (ArgumentException e)
            {
                throw new CheckpointFormatException(statePath, $"schedule: {e.Message.Split(" (Parameter")[0]}; resume with the schedule the run had", e);
            }
            try
            {
                SessionRandom.Restore(module.Generator, state.RandomState);
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                throw new CheckpointFormatException(statePath, $"randomState: libtorch refused it: {Excerpt.@short(e.Message.Split('\n')[0])}", e);
            }
            session.reports.AddRange(state.History.Select(r => r.ToReport()));
            session.Step = state.Steps;
            session.Epoch = state.Epoch;
            session.Resumed = state;
            session.ResumedDirectory = resumed.Directory;
            session.CheckpointEpoch = state.Epoch;
            firstEpoch = state.Epoch + 1;
        }

        var metrics = settings.Metrics;
        var clock = Stopwatch.StartNew();
        module.FrozenNormsTrain = settings.FineTuning?.FrozenBatchNormTrains ?? false;
        module.train();
        try
        {
            foreach (var c in callbacks) c.OnTrainBegin(session);
            for (var epoch = firstEpoch; epoch <= session.Epochs && !session.Cancelled && !session.StopRequested; epoch++)
            {
                session.Epoch = epoch;
                session.Batch = 0;
                foreach (var c in callbacks) c.OnEpochBegin(session);
                if (session.StopRequested) break;
                var started = clock.Elapsed;
                var learningRate = optimizer.LearningRate;
                trainable.Apply(epoch);
                module.train();
                double sum = 0;
                var sums = new double[metrics.Count];
                var seen = 0;
                foreach (var indices in order.Batches(epoch))
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        session.Cancelled = true;
                        break;
                    }
                    foreach (var c in callbacks) c.OnBatchBegin(session);
                    var rows = indices.Length;
                    double lossValue;
                    using (var scope = torch.NewDisposeScope())
                    {
                        var (x, y) = feed.Prepare(train.ReadBatch(indices));
                        var (output, value) = TrainingStep.Run(module, loss, optimizer, schedule, x, y, epoch, session.Step + 1);
                        lossValue = value;
                        if (metrics.Count > 0)
                            using (torch.no_grad())
                            {
                                var detached = output.detach();
                                for (var m = 0; m < metrics.Count; m++)
                                    if (metrics[m].OfMeanLoss is null) sums[m] += metrics[m].Compute(detached, y) * rows;
                            }
                    }
                    session.Step++;
                    session.Batch++;
                    sum += lossValue * rows;
                    seen += rows;
                    var batch = new BatchReport(epoch, session.Batch, order.BatchesPerEpoch, lossValue, rows);
                    foreach (var c in callbacks) c.OnBatchEnd(session, batch);
                    if (session.StopRequested) break;
                }
                if (seen != order.ExamplesPerEpoch) break;

                var trainSeconds = (clock.Elapsed - started).TotalSeconds;
                var values = new Dictionary<string, double>();
                for (var m = 0; m < metrics.Count; m++) values[metrics[m].Name] = metrics[m].Mean(sum / seen, sums[m], seen);
                if (validation is not null)
                {
                    var checkedOn = Evaluator.Run(module, validation, validationFeed!, loss, metrics, batchSize);
                    values["val_loss"] = checkedOn.Loss;
                    foreach (var (name, v) in checkedOn.Metrics) values["val_" + name] = v;
                    module.train();
                }
                var report = new EpochReport(epoch, session.Epochs, sum / seen, clock.Elapsed)
                {
                    Metrics = values,
                    LearningRate = learningRate,
                    Duration = clock.Elapsed - started,
                    ExamplesPerSecond = trainSeconds > 0 ? seen / trainSeconds : double.PositiveInfinity,
                };
                session.reports.Add(report);
                foreach (var c in callbacks) c.OnEpochEnd(session, report);
            }
            foreach (var c in callbacks) c.OnTrainEnd(session);
        }
        finally
        {
            module.eval();
            trainable.Restore();
            module.FrozenNormsTrain = false;
        }
        var stoppedEarly = session.StopRequested && session.reports.Count < session.Epochs;
        return new TrainingResult(session.reports, session.Cancelled, stoppedEarly, session.BestEpoch, session.RestoredBestWeights, clock.Elapsed)
        {
            Steps = session.Step,
            StopReason = session.StopReason,
            CheckpointEpoch = session.CheckpointEpoch,
        };
    }

    /// <summary>Where the run stands at an epoch's end, as a checkpoint records it.</summary>
    internal TrainingState CaptureState() => new()
    {
        Epoch = reports.Count,
        Steps = Step,
        ShuffleSeed = ShuffleSeed,
        Schedule = Schedule.GetState(),
        RandomState = SessionRandom.Save(Module.Generator),
        History = reports.Select(TrainingState.EpochRecord.From).ToList(),
        EarlyStopping = MonitorState?.Invoke(),
    };

    /// <summary>What model.json records about this run, as of <paramref name="state"/>.</summary>
    internal TrainingSummary Summary(TrainingState state) =>
        new(Network.Options.Seed ?? Options.Seed, state.Epoch, Options.Optimizer!.Name, Options.Optimizer.LearningRate,
            Options.Loss!.Name, state.History.Count > 0 ? state.History[^1].Loss : double.NaN);

    /// <summary>
    /// A resumed run shuffles as the checkpoint's run did, from the seed training.json records, so that it ends
    /// with the weights of an uninterrupted run; a seed (or --no-shuffle) given now that says otherwise is refused.
    /// </summary>
    private static void RequireSameOrder(TrainingState saved, TrainingOptions settings, string path)
    {
        int? wanted = settings.Shuffle ? settings.Seed : null;
        if (!settings.Shuffle && saved.ShuffleSeed is { } was)
            throw new CheckpointFormatException(path, $"shuffleSeed: the checkpoint's run shuffled its examples (seed {was}), but this run does not shuffle; " +
                                                      "resume with shuffling on, so that the order (and the result) is that of an uninterrupted run");
        if (settings.Shuffle && saved.ShuffleSeed is null)
            throw new CheckpointFormatException(path, "shuffleSeed: the checkpoint's run did not shuffle its examples (null), but this run does; " +
                                                      "resume without shuffling, so that the order (and the result) is that of an uninterrupted run");
        if (wanted is { } given && saved.ShuffleSeed is { } recorded && given != recorded)
            throw new CheckpointFormatException(path, $"shuffleSeed: the checkpoint's run shuffled with seed {recorded}, but this run's seed is {given}; " +
                                                      $"resume with seed {recorded} (or without one), so that the order is that of an uninterrupted run");
    }

    /// <summary>A network's 64-bit seed as a shuffling seed: itself when it fits in 32 bits, else its halves folded.</summary>
    private static int? FoldedSeed(long? seed) => seed switch
    {
        null => null,
        >= int.MinValue and <= int.MaxValue => (int)seed.Value,
        { } s => unchecked((int)(s ^ (s >> 32))),
    };
}
