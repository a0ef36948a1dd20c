using Functional.Bench.Harness;
using Functional.Bench.Networks;
using Functional.Data;
using Functional.Training;
using Functional.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Bench.Suites;

/// <summary>Whole training epochs (seconds, medians): Network.Fit against a hand-written loop.</summary>
public sealed record EpochResult(int Examples, int Batch, double CompiledSeconds, double HandWrittenSeconds, double Ratio,
    double RatioLow, double RatioHigh, int Runs);

/// <summary>
/// One epoch of the benchmark MLP (Adam, batch 128, shuffled) as an application runs it: the compiled network
/// through <c>Network.Fit</c> over an <see cref="InMemoryDataset"/> (batches read from arrays, the loop's
/// bookkeeping), the hand-written one through a hand-written loop over one data tensor. Alternating, as
/// the steps are; each epoch starts a fresh optimiser on both sides.
/// </summary>
public static class EpochSuite
{
    public const int Batch = 128;

    public static EpochResult Run(NetworkPair mlp, int examples, int warmup, int runs)
    {
        using var data = SyntheticData.Tensors(examples);
        var (rows, labels) = SyntheticData.Arrays(data);
        using var dataset = new InMemoryDataset(rows, labels, classCount: 10);
        var epoch = 0;
        void Compiled() => mlp.Compiled.Fit(dataset, null, new TrainingOptions
        {
            Epochs = 1, BatchSize = Batch, Seed = ++epoch, Loss = Loss.CrossEntropy,
            Optimizer = Optimizer.Adam(lr: NetworkPair.LearningRate),
        });
        void HandWritten()
        {
            using var optimizer = optim.Adam(mlp.HandWritten.parameters(), lr: NetworkPair.LearningRate);
            HandWrittenEpoch(mlp.HandWritten, optimizer, data.Features, data.Labels);
        }
        var (compiled, handWritten) = Timing.Alternate(Compiled, HandWritten, warmup, runs);
        var (low, high) = RatioInterval.OfMedians(compiled, handWritten);
        return new EpochResult(examples, Batch, compiled.Median / 1000, handWritten.Median / 1000,
            compiled.Median / handWritten.Median, low, high, runs);
    }

    /// <summary>The loop one writes by hand: a shuffled order, then a step per batch, each in a dispose scope.</summary>
    public static void HandWrittenEpoch(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor features, Tensor labels)
    {
        model.train();
        using var epochScope = NewDisposeScope();
        var examples = features.shape[0];
        var order = randperm(examples);
        for (long start = 0; start < examples; start += Batch)
        {
            using var scope = NewDisposeScope();
            var rows = order.narrow(0, start, Math.Min(Batch, examples - start));
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(features.index_select(0, rows)), labels.index_select(0, rows));
            loss.backward();
            optimizer.step();
            _ = loss.ToDouble();
        }
    }
}
