using System.Diagnostics;
using Functional.Data;
using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Training;

/// <summary>The training loop: mini-batches, one dispose scope per step, so native memory stays flat.</summary>
public static class Trainer
{
    /// <summary>Keras's default.</summary>
    public const int DefaultBatchSize = 32;

    internal static TrainingResult Run(CompiledModel module, TrainingPlan plan, TrainingOptions options,
        IProgress<EpochReport>? progress, CancellationToken cancellation)
    {
        var epochs = options.Epochs ?? plan.Epochs;
        var chosen = options.Optimizer ?? plan.Optimizer;
        // lr's rule (positive, within float32) is the language's: WithLearningRate applies it.
        var spec = options.LearningRate is { } rate ? chosen.WithLearningRate(rate) : chosen;
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(options), epochs, "epochs must be positive");
        var batchSize = options.BatchSize ?? plan.BatchSize ?? DefaultBatchSize;
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), batchSize, "the batch size must be positive");

        using var data = ExampleTensors.Create(module.Model, module.Placement, plan.Inputs, plan.Targets);
        RequireBatchesForBatchNorm(module, data.Count, batchSize);
        using var loss = Losses.compile(module.Placement, plan.Loss);
        using var optimizer = spec.Create(module.parameters().Where(p => p.requires_grad).ToList());
        var schedule = (options.Schedule ?? plan.Schedule ?? Schedule.Constant).Create(optimizer);
        if (options.Seed is { } seed) torch.manual_seed(seed);

        var history = new List<double>(epochs);
        var clock = Stopwatch.StartNew();
        var cancelled = false;
        var step = 0L;
        module.train();
        try
        {
            for (var epoch = 1; epoch <= epochs && !cancelled; epoch++)
            {
                double sum = 0;
                var seen = 0;
                var epochRate = optimizer.LearningRate;
                using (var epochScope = torch.NewDisposeScope())
                {
                    var order = options.Shuffle && data.Count > batchSize
                        ? torch.randperm(data.Count, device: module.Placement.Device)
                        : null;
                    for (var start = 0; start < data.Count; start += batchSize)
                    {
                        if (cancellation.IsCancellationRequested)
                        {
                            cancelled = true;
                            break;
                        }
                        var rows = Math.Min(batchSize, data.Count - start);
                        using var scope = torch.NewDisposeScope();
                        var (x, y) = Batch(data, order, start, rows);
                        step++;
                        var (_, lossValue) = TrainingStep.Run(module, loss, optimizer, schedule, x, y, epoch, step);
                        sum += lossValue * rows;
                        seen += rows;
                    }
                }
                if (seen == data.Count)
                {
                    schedule.OnEpochEnd(sum / seen);
                    history.Add(sum / seen);
                    progress?.Report(new EpochReport(epoch, epochs, sum / seen, clock.Elapsed) { LearningRate = epochRate });
                }
            }
        }
        finally
        {
            module.eval();
        }
        return new TrainingResult(history, cancelled, clock.Elapsed);
    }

    /// <summary>
    /// Batch normalisation computes statistics over the batch, which one example cannot give (PyTorch
    /// refuses; libtorch through TorchSharp silently gives NaN): refuse before training starts.
    /// </summary>
    internal static void RequireBatchesForBatchNorm(CompiledModel module, int count, int batchSize)
    {
        var hasBatchNorm = module.Layers.Any(l => l.Item1.Op.IsBatchNorm);
        if (!hasBatchNorm) return;
        if (batchSize == 1 || count == 1)
            throw new ArgumentException($"{module.Model.Name} has batchNorm, which needs at least two examples in each training batch, but the batch size is {Math.Min(batchSize, count)}");
        if (count % batchSize == 1)
            throw new ArgumentException($"{module.Model.Name} has batchNorm, which needs at least two examples in each training batch, but {count} examples in batches of {batchSize} leave one example for the last batch: choose another batch size");
    }

    private static (torch.Tensor X, torch.Tensor Y) Batch(ExampleTensors data, torch.Tensor? order, int start, int rows)
    {
        var targets = data.Targets!;
        if (order is null)
            return rows == data.Count
                ? (data.Inputs, targets)
                : (data.Inputs.narrow(0, start, rows), targets.narrow(0, start, rows));
        var index = order.narrow(0, start, rows);
        return (data.Inputs.index_select(0, index), targets.index_select(0, index));
    }
}
