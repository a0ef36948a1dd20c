using Functional.Bench.Harness;
using Functional.Bench.Networks;
using Functional.Bench.Reports;
using Functional.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Bench.Suites;

/// <summary>
/// One training step and one inference batch of each network, compiled and hand-written, alternating.
/// A training step is what the trainers run (forward, loss, backward, Adam's update; the compiled side
/// through the trainers' own <see cref="TrainingStep"/>); inference is a forward pass in evaluation mode
/// without gradients. Each run is inside its own dispose scope, as in the trainers.
/// </summary>
public static class StepSuite
{
    public static IEnumerable<Comparison> Run(NetworkPair pair, int warmup, int runs)
    {
        var step = 0L;
        void CompiledTrain()
        {
            using var scope = NewDisposeScope();
            TrainingStep.Run(pair.Compiled.Compiled, pair.CompiledLoss, pair.CompiledOptimizer, pair.CompiledSchedule,
                pair.Inputs, pair.Targets, 1, ++step);
        }
        void HandWrittenTrain()
        {
            using var scope = NewDisposeScope();
            pair.HandWrittenOptimizer.zero_grad();
            var output = pair.HandWritten.forward(pair.Inputs);
            var classes = output.shape[^1];
            var loss = nn.functional.cross_entropy(output.reshape(-1, classes), pair.Targets.reshape(-1));
            loss.backward();
            pair.HandWrittenOptimizer.step();
            _ = loss.ToDouble();
        }
        void CompiledInference()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            pair.Compiled.Module.forward(pair.Inputs);
        }
        void HandWrittenInference()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            pair.HandWritten.forward(pair.Inputs);
        }

        pair.Compiled.Module.train();
        pair.HandWritten.train();
        var (compiledTrain, handTrain) = Timing.Alternate(CompiledTrain, HandWrittenTrain, warmup, runs);
        yield return Comparison.Of(pair, "train", compiledTrain, handTrain);

        pair.Compiled.Module.eval();
        pair.HandWritten.eval();
        var (compiledInference, handInference) = Timing.Alternate(CompiledInference, HandWrittenInference, warmup, runs);
        yield return Comparison.Of(pair, "inference", compiledInference, handInference);
    }
}
