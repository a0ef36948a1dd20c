using System.Runtime.InteropServices;
using Functional.Data;
using Functional.Lang.Compilation;
using Functional.Networks;
using TorchSharp;

namespace Functional.Training;

/// <summary>A loss and metrics over a whole data set, in eval mode under no_grad, in batches (the session's validation and <see cref="Network.Evaluate(IDataset, Loss, IEnumerable{Metric}?, int)"/>).</summary>
internal static class Evaluator
{
    /// <summary>The means over <paramref name="data"/>'s examples (batch values weighted by batch size).</summary>
    public static Evaluation Run(CompiledModel module, IDataset data, BatchFeed feed, CompiledLoss loss,
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
                for (var m = 0; m < metrics.Count; m++)
                    if (metrics[m].OfMeanLoss is null) sums[m] += metrics[m].Compute(output, y) * rows;
            }
            catch (ExternalException e)
            {
                throw EngineException.From(e, "evaluating the loss");
            }
        }
        var values = new Dictionary<string, double>();
        for (var m = 0; m < metrics.Count; m++) values[metrics[m].Name] = metrics[m].Mean(sum / data.Count, sums[m], data.Count);
        return new Evaluation(sum / data.Count, values, data.Count);
    }
}
