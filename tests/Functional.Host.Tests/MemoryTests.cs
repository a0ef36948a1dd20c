using Functional.Host.Tests.Support;
using Functional.Networks;
using Functional.Training;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>
/// Every step and every prediction runs in a dispose scope: no native tensor outlives it. Counting live tensors
/// holds on any machine, however busy; resident memory does not, and is measured by the benchmark's memory
/// suite instead (bench/Suites/MemorySuite.cs, limited by its --check).
/// </summary>
public class MemoryTests
{
    private static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Fact]
    public void Training_steps_leave_no_native_tensors_behind()
    {
        var file = FnnFile.Load(Repository.XorSource);
        var plan = file.TrainingPlan("XorByHand");
        using var network = file.Compile("XorByHand", new NetworkOptions { Seed = 1 });
        network.Train(plan with { Epochs = 10 }, new TrainingOptions { Seed = 1 }); // warm up

        var before = LiveTensors;
        network.Train(plan with { Epochs = 200 }, new TrainingOptions { Seed = 1 }); // 800 steps
        Assert.Equal(before, LiveTensors);
    }

    [Fact]
    public void Predictions_and_evaluations_leave_no_native_tensors_behind()
    {
        var file = FnnFile.Load(Repository.XorSource);
        var plan = file.TrainingPlan("Xor");
        using var network = file.Compile("Xor", new NetworkOptions { Seed = 1 });
        network.Predict(plan.Inputs);

        var before = LiveTensors;
        for (var i = 0; i < 100; i++)
        {
            network.Predict(plan.Inputs);
            network.Predict(plan.Inputs[0]);
            network.Evaluate(plan);
        }
        Assert.Equal(before, LiveTensors);
    }
}
