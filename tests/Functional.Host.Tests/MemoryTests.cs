using Functional.Host.Tests.Support;
using Functional.Networks;
using Functional.Training;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>Every step and every prediction runs in a dispose scope: no native tensor outlives it.</summary>
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

    /// <summary>The promise: 20,000 XOR steps grow resident memory by less than 50 MB after the first 1,000.</summary>
    [Fact]
    public void Resident_memory_stays_flat_over_20000_training_steps()
    {
        var file = FnnFile.Load(Repository.XorSource);
        var plan = file.TrainingPlan("XorByHand"); // batch = 1: four steps an epoch
        using var network = file.Compile("XorByHand", new NetworkOptions { Seed = 1 });
        network.Train(plan with { Epochs = 250 }, new TrainingOptions { Seed = 1 }); // the first 1,000 steps
        var afterWarmUp = ResidentBytes();
        network.Train(plan with { Epochs = 4750 }, new TrainingOptions { Seed = 1 }); // 19,000 more
        var atEnd = ResidentBytes();

        var growth = (atEnd - afterWarmUp) / (1024.0 * 1024.0);
        TestContext.Current.SendDiagnosticMessage($"resident memory after 1,000 steps {afterWarmUp / 1048576.0:0.0} MB, after 20,000 {atEnd / 1048576.0:0.0} MB");
        Assert.True(growth < 50, $"resident memory grew by {growth:0.0} MB from step 1,000 to step 20,000");
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.WorkingSet64;
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
