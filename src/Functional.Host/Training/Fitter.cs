using System.Diagnostics;
using System.Runtime.InteropServices;
using Functional.Checkpoints;
using Functional.Data;
using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Training;

/// <summary>
/// The training loop over datasets: seeded epoch orders, one dispose scope per step, metrics, validation after
/// every epoch (eval mode, no_grad, in batches), early stopping and a history file.
/// </summary>
internal static class Fitter
{
    public static FitResult Run(CompiledModel module, IDataset train, IDataset? validation, FitOptions options,
        IProgress<EpochReport>? progress, CancellationToken cancellation, Action<string>? saveWeights = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Loss);
        if (options.Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, "epochs must be positive");
        if (options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "the batch size must be positive");
        if (options.ValidationSplit is < 0 or >= 1 || double.IsNaN(options.ValidationSplit))
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationSplit, "the validation split must be at least 0 and below 1");
        var metrics = options.Metrics ?? [];
        var duplicate = metrics.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"two metrics are named '{duplicate.Key}'", nameof(options));
        if (train.Count == 0) throw new ArgumentException("the training data has no examples", nameof(train));

        if (validation is null && options.ValidationSplit > 0)
            (train, validation) = DatasetSubset.Split(train, options.ValidationSplit, options.Seed);
        if (validation is { Count: 0 }) throw new ArgumentException("the validation data has no examples", nameof(validation));
        var monitor = Monitor.For(options.EarlyStopping, metrics, validation is not null);

        var feed = new BatchFeed(module, train);
        var validationFeed = validation is null ? null : new BatchFeed(module, validation);
        Trainer.RequireBatchesForBatchNorm(module, train.Count, options.BatchSize);
        var spec = options.Optimizer ?? Optimizer.Sgd();
        var resumed = options.ResumeFrom is { } from ? TrainingState.Load(from) : default;
        var shuffleSeed = resumed.State is { } saved ? saved.ShuffleSeed
            : options.Shuffle ? options.Seed ?? Random.Shared.Next() : (int?)null;
        var order = new BatchOrder(train.Count, options.BatchSize, shuffleSeed);
        if (options.Seed is { } seed) torch.manual_seed(seed);

        using var loss = Losses.compile(module.Placement, options.Loss);
        using var optimizer = spec.Create(module.parameters().Where(p => p.requires_grad).ToList());
        var schedule = (options.Schedule ?? Schedule.Constant).Create(optimizer);
        using var history = options.HistoryPath is { } path ? new HistoryWriter(path) : null;
        using var best = options.EarlyStopping is { RestoreBestWeights: true } ? new WeightSnapshot() : null;

        var reports = new List<EpochReport>(options.Epochs);
        var clock = Stopwatch.StartNew();
        var cancelled = false;
        var stoppedEarly = false;
        var restored = false;
        var step = 0L;
        var firstEpoch = 1;
        if (resumed.State is { } state)
        {
            // The weights were loaded by the caller; the rest of the run's state is restored here, the
            // schedule last (restoring the optimizer also restores the rate it had).
            try
            {
                optimizer.LoadState(resumed.Optimizer);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(Path.Combine(resumed.Directory, TrainingState.OptimizerFile), e.Message, e);
            }
            schedule.SetState(state.Schedule);
            using (var random = torch.tensor(Convert.FromBase64String(state.RandomState)))
                torch.set_rng_state(random);
            reports.AddRange(state.History.Select(r => r.ToReport()));
            foreach (var report in reports) history?.Write(report);
            step = state.Steps;
            firstEpoch = state.Epoch + 1;
        }
        try
        {
            for (var epoch = firstEpoch; epoch <= options.Epochs && !cancelled && !stoppedEarly; epoch++)
            {
                var started = clock.Elapsed;
                var learningRate = optimizer.LearningRate;
                module.train();
                double sum = 0;
                var sums = new double[metrics.Count];
                var seen = 0;
                var batchNumber = 0;
                foreach (var indices in order.Batches(epoch))
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }
                    batchNumber++;
                    var rows = indices.Length;
                    using var scope = torch.NewDisposeScope();
                    var (x, y) = feed.Prepare(train.ReadBatch(indices));
                    step++;
                    var (output, lossValue) = TrainingStep.Run(module, loss, optimizer, schedule, x, y, epoch, step);
                    if (metrics.Count > 0)
                        using (torch.no_grad())
                        {
                            var detached = output.detach();
                            for (var m = 0; m < metrics.Count; m++) sums[m] += metrics[m].Compute(detached, y) * rows;
                        }
                    sum += lossValue * rows;
                    seen += rows;
                    options.BatchProgress?.Report(new BatchReport(epoch, batchNumber, order.BatchesPerEpoch, lossValue, rows));
                }
                if (cancelled || seen != order.Count) break;

                var trainSeconds = (clock.Elapsed - started).TotalSeconds;
                var values = new Dictionary<string, double>();
                for (var m = 0; m < metrics.Count; m++) values[metrics[m].Name] = sums[m] / seen;
                Evaluation? checkedOn = null;
                if (validation is not null)
                {
                    checkedOn = Evaluate(module, validation, validationFeed!, loss, metrics, options.BatchSize);
                    values["val_loss"] = checkedOn.Loss;
                    foreach (var (name, v) in checkedOn.Metrics) values["val_" + name] = v;
                }
                var trainLoss = sum / seen;
                schedule.OnEpochEnd(checkedOn?.Loss ?? trainLoss);
                var report = new EpochReport(epoch, options.Epochs, trainLoss, clock.Elapsed)
                {
                    Metrics = values,
                    LearningRate = learningRate,
                    Duration = clock.Elapsed - started,
                    ExamplesPerSecond = trainSeconds > 0 ? seen / trainSeconds : double.PositiveInfinity,
                };
                reports.Add(report);
                history?.Write(report);
                if (options.CheckpointDirectory is { } directory && saveWeights is not null)
                {
                    using var random = torch.get_rng_state();
                    TrainingState.Save(directory, saveWeights, optimizer, new TrainingState
                    {
                        Epoch = epoch,
                        Steps = step,
                        ShuffleSeed = shuffleSeed,
                        Schedule = schedule.GetState(),
                        RandomState = Convert.ToBase64String(random.bytes.ToArray()),
                        History = reports.Select(TrainingState.EpochRecord.From).ToList(),
                    });
                }
                if (monitor is not null)
                {
                    var current = monitor.Value(report);
                    if (monitor.Observe(epoch, current)) best?.Take(module);
                    else if (monitor.Waited >= options.EarlyStopping!.Patience)
                        stoppedEarly = epoch < options.Epochs;
                }
                progress?.Report(report);
            }
            if (!cancelled && best is not null && monitor!.BestEpoch is { } bestEpoch && bestEpoch != reports.Count)
            {
                best.Restore(module);
                restored = true;
            }
        }
        finally
        {
            module.eval();
        }
        return new FitResult(reports, cancelled, stoppedEarly, monitor?.BestEpoch, restored, clock.Elapsed);
    }

    /// <summary>The loss and metrics over <paramref name="data"/> in eval mode under no_grad, in batches.</summary>
    public static Evaluation Evaluate(CompiledModel module, IDataset data, BatchFeed feed, LossFunction loss,
        IReadOnlyList<Metric> metrics, int batchSize)
    {
        if (data.Count == 0) throw new ArgumentException("the data has no examples", nameof(data));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the batch size must be positive");
        module.eval();
        using var noGrad = torch.no_grad();
        double sum = 0;
        var sums = new double[metrics.Count];
        for (var start = 0; start < data.Count; start += batchSize)
        {
            var rows = Math.Min(batchSize, data.Count - start);
            using var scope = torch.NewDisposeScope();
            var (x, y) = feed.Prepare(data.ReadRange(start, rows));
            try
            {
                var output = module.forward(x);
                sum += loss.Compute(output, y).ToDouble() * rows;
                for (var m = 0; m < metrics.Count; m++) sums[m] += metrics[m].Compute(output, y) * rows;
            }
            catch (ExternalException e)
            {
                throw EngineException.From(e, "evaluating the loss");
            }
        }
        var values = new Dictionary<string, double>();
        for (var m = 0; m < metrics.Count; m++) values[metrics[m].Name] = sums[m] / data.Count;
        return new Evaluation(sum / data.Count, values, data.Count);
    }

    /// <summary>Early stopping's bookkeeping: the value watched, its best so far, and the epochs since.</summary>
    private sealed class Monitor(string name, bool higherIsBetter, double minDelta)
    {
        private double best = higherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;

        public int? BestEpoch { get; private set; }
        public int Waited { get; private set; }

        public double Value(EpochReport report) =>
            name == "loss" ? report.Loss
            : report.Metrics.TryGetValue(name, out var v) ? v
            : throw new InvalidOperationException($"early stopping watches '{name}', which was not reported");

        /// <summary>True when <paramref name="value"/> improves on the best by more than the minimum change.</summary>
        public bool Observe(int epoch, double value)
        {
            var improved = higherIsBetter ? value - minDelta > best : value + minDelta < best;
            if (improved)
            {
                best = value;
                BestEpoch = epoch;
                Waited = 0;
            }
            else Waited++;
            return improved;
        }

        public static Monitor? For(EarlyStopping? stopping, IReadOnlyList<Metric> metrics, bool validating)
        {
            if (stopping is null) return null;
            if (stopping.Patience < 0) throw new ArgumentOutOfRangeException(nameof(stopping), stopping.Patience, "patience must be at least 0");
            if (!(stopping.MinDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(stopping), stopping.MinDelta, "the minimum change must be at least 0");
            var name = stopping.Monitor;
            var isValidation = name.StartsWith("val_", StringComparison.Ordinal);
            var bare = isValidation ? name[4..] : name;
            if (isValidation && !validating)
                throw new ArgumentException($"early stopping watches '{name}', but there is no validation data (give a validation dataset or a ValidationSplit)");
            if (bare == "loss") return new Monitor(name, false, stopping.MinDelta);
            var metric = metrics.FirstOrDefault(m => m.Name == bare)
                ?? throw new ArgumentException($"early stopping watches '{name}', but it is neither a loss nor a metric of this run ({string.Join(", ", metrics.Select(m => m.Name).DefaultIfEmpty("none"))})");
            return new Monitor(name, metric.HigherIsBetter, stopping.MinDelta);
        }
    }
}
