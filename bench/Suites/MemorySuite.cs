using System.Diagnostics;
using System.Text.Json;
using Functional.Bench.Harness;
using Functional.Bench.Networks;
using Functional.Data;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Bench.Suites;

/// <summary>Resident memory of one process over a training run (MB): before it, after each epoch, and the peak while training.</summary>
public sealed record MemoryResult(string Side, int Examples, int Epochs, int Batch, double StartMb, double[] AfterEpochMb, double PeakMb,
    double[] EpochSeconds, double[] ManagedCommittedMb)
{
    /// <summary>The median from the end of epoch 3 on, when allocations have settled.</summary>
    public double SteadyMb => new Sample(AfterEpochMb.Length > 2 ? AfterEpochMb.Skip(2) : AfterEpochMb.TakeLast(1)).Median;

    /// <summary>The epoch the second half of the run starts from (1-based): growth is measured from there.</summary>
    public int HalfwayEpoch => Math.Max(1, AfterEpochMb.Length / 2);

    /// <summary>Growth over the second half of the run, as a fraction: a leak shows here, the allocators' warm-up does not.</summary>
    public double Growth => AfterEpochMb[^1] / AfterEpochMb[HalfwayEpoch - 1] - 1;

    /// <summary>The part of that growth that is the .NET heap's (MB committed by the garbage collector); the rest is native.</summary>
    public double ManagedGrowthMb => ManagedCommittedMb[^1] - ManagedCommittedMb[HalfwayEpoch - 1];

    /// <summary>The rest of the growth (MB): libtorch's and the C runtime's allocations, and the runtime's own.</summary>
    public double NativeGrowthMb => AfterEpochMb[^1] - AfterEpochMb[HalfwayEpoch - 1] - ManagedGrowthMb;

    /// <summary>The training data's size (MB of float32 features), which each side holds before training starts.</summary>
    public double DataMb => Examples * (double)SyntheticData.Width * sizeof(float) / (1024 * 1024);
}

/// <summary>
/// A training run of the benchmark MLP (10 epochs in the full and quick runs) on synthetic Fashion-MNIST-sized data (batch 128, Adam), each side
/// in a fresh process of its own so that peaks do not mix: the compiled network through
/// <c>Network.Fit</c>, and the hand-written one through a hand-written loop over tensors.
/// </summary>
public static class MemorySuite
{
    /// <summary>The same batch as the hand-written loop (EpochSuite) uses.</summary>
    public const int Batch = EpochSuite.Batch;

    /// <summary>Runs one side in a child process (this program, <c>memory compiled|handwritten</c>).</summary>
    public static MemoryResult Measure(string side, int examples, int epochs)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(MemorySuite).Assembly.Location);
        foreach (var a in new[] { "memory", side, examples.ToString(), epochs.ToString() }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"the {side} memory run failed (exit code {process.ExitCode}): {stdout}{stderr.Result}");
        return JsonSerializer.Deserialize<MemoryResult>(line)!;
    }

    /// <summary>The child's side: trains and prints one JSON line.</summary>
    public static int RunChild(string repository, string side, int examples, int epochs)
    {
        var rss = new List<double>();
        var seconds = new List<double>();
        var managed = new List<double>();
        var clock = new Stopwatch();
        void EpochEnded()
        {
            rss.Add(ResidentMemory.CurrentMb());
            managed.Add(GC.GetGCMemoryInfo().TotalCommittedBytes / (1024.0 * 1024.0));
            seconds.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
        }
        double startMb;
        if (side == "compiled")
        {
            using var dataset = InMemory(examples);
            using var network = FnnFile.Load(Path.Combine(repository, "bench", "networks", "mlp.fnn")).Compile("BenchMlp", new NetworkOptions { Seed = 1 });
            startMb = Settle();
            clock.Start();
            network.Fit(dataset, null, new TrainingOptions
            {
                Epochs = epochs, BatchSize = Batch, Seed = 1, Loss = Loss.CrossEntropy,
                Optimizer = Optimizer.Adam(lr: NetworkPair.LearningRate),
            }, new Recorder(EpochEnded));
        }
        else if (side == "handwritten")
        {
            using var data = SyntheticData.Tensors(examples);
            manual_seed(1);
            using var model = new HandWrittenMlp();
            using var optimizer = optim.Adam(model.parameters(), lr: NetworkPair.LearningRate);
            startMb = Settle();
            clock.Start();
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                EpochSuite.HandWrittenEpoch(model, optimizer, data.Features, data.Labels);
                EpochEnded();
            }
        }
        else throw new ArgumentException($"memory: '{side}' is neither compiled nor handwritten", nameof(side));
        Console.WriteLine(JsonSerializer.Serialize(new MemoryResult(side, examples, epochs, Batch, startMb, rss.ToArray(), ResidentMemory.PeakMb(), seconds.ToArray(), managed.ToArray())));
        return 0;
    }

    /// <summary>The examples as an <see cref="InMemoryDataset"/>, which keeps its own copy: the arrays it was made from are dropped.</summary>
    private static InMemoryDataset InMemory(int examples)
    {
        using var data = SyntheticData.Tensors(examples);
        var (rows, classes) = SyntheticData.Arrays(data);
        return new InMemoryDataset(rows, classes, classCount: 10);
    }

    /// <summary>Collects what setting up left behind, so that the run starts from what it holds: its resident memory then.</summary>
    private static double Settle()
    {
        // Aggressive: compact, and give the freed memory back to the system, so that it is not counted.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        ResidentMemory.ResetPeak();
        return ResidentMemory.CurrentMb();
    }

    /// <summary>Reports on the training thread, as the epoch ends (Progress&lt;T&gt; would post it elsewhere).</summary>
    private sealed class Recorder(Action onEpoch) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => onEpoch();
    }
}

/// <summary>The process's resident set size from /proc/self/status (Linux).</summary>
public static class ResidentMemory
{
    public static double CurrentMb() => Read("VmRSS:");
    public static double PeakMb() => Read("VmHWM:");

    /// <summary>Starts the peak (VmHWM) over from the current size, so that setting up is not counted (Linux 4.0 and later).</summary>
    public static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: the peak resident memory includes setting up ({e.Message})");
        }
    }

    private static double Read(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal))
                   ?? throw new PlatformNotSupportedException($"/proc/self/status has no {field}");
        return long.Parse(line[field.Length..].Trim().Split(' ')[0]) / 1024.0;
    }
}
