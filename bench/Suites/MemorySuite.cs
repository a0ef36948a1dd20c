using System.Diagnostics;
using System.Text.Json;
using Functional.Bench.Harness;
using Functional.Bench.Networks;
using Functional.Data;
using Functional.Lang.Checking;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Bench.Suites;

/// <summary>Resident memory of one process over a training run (MB): after each epoch, and the peak.</summary>
public sealed record MemoryResult(string Side, int Examples, int Epochs, int Batch, double StartMb, double[] AfterEpochMb, double PeakMb,
    double[] EpochSeconds)
{
    /// <summary>The median after the second epoch on, when allocations have settled.</summary>
    public double SteadyMb => new Sample(AfterEpochMb.Length > 2 ? AfterEpochMb.Skip(2) : AfterEpochMb.TakeLast(1)).Median;

    /// <summary>Growth from the end of epoch 2 to the last epoch, as a fraction.</summary>
    public double Growth => AfterEpochMb.Length > 2 ? AfterEpochMb[^1] / AfterEpochMb[1] - 1 : 0;
}

/// <summary>
/// A 10-epoch run of the benchmark MLP on synthetic Fashion-MNIST-sized data (batch 128, Adam), each side
/// in a fresh process of its own so that peaks do not mix: the compiled network through
/// <c>Network.Fit</c>, and the hand-written one through a hand-written loop over tensors.
/// </summary>
public static class MemorySuite
{
    public const int Batch = 128;

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
        var clock = new Stopwatch();
        void EpochEnded()
        {
            rss.Add(ResidentMemory.CurrentMb());
            seconds.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
        }
        double startMb;
        if (side == "compiled")
        {
            // The data as an application holds it for Fit: arrays, not tensors.
            var (rows, classes) = ArrayData(examples);
            using var network = FnnFile.Load(Path.Combine(repository, "bench", "networks", "mlp.fnn")).Compile("BenchMlp", new NetworkOptions { Seed = 1 });
            using var dataset = new InMemoryDataset(rows, classes, classCount: 10);
            startMb = Settle();
            clock.Start();
            network.Fit(dataset, null, new FitOptions
            {
                Epochs = epochs, BatchSize = Batch, Seed = 1, Loss = Loss.CrossEntropy,
                Optimizer = new OptimizerSpec(OptimizerSpec.Adam) { LearningRate = NetworkPair.LearningRate },
            }, new Recorder(EpochEnded));
        }
        else if (side == "handwritten")
        {
            var (features, labels) = TensorData(examples);
            manual_seed(1);
            using var model = new HandWrittenMlp();
            using var optimizer = optim.Adam(model.parameters(), lr: NetworkPair.LearningRate);
            model.train();
            startMb = Settle();
            clock.Start();
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                using (var epochScope = NewDisposeScope())
                {
                    var order = randperm(examples);
                    for (var startRow = 0; startRow < examples; startRow += Batch)
                    {
                        using var scope = NewDisposeScope();
                        var rows = order.narrow(0, startRow, Math.Min(Batch, examples - startRow));
                        optimizer.zero_grad();
                        var loss = nn.functional.cross_entropy(model.forward(features.index_select(0, rows)), labels.index_select(0, rows));
                        loss.backward();
                        optimizer.step();
                        _ = loss.ToDouble();
                    }
                }
                EpochEnded();
            }
        }
        else throw new ArgumentException($"memory: '{side}' is neither compiled nor handwritten", nameof(side));
        Console.WriteLine(JsonSerializer.Serialize(new MemoryResult(side, examples, epochs, Batch, startMb, rss.ToArray(), ResidentMemory.PeakMb(), seconds.ToArray())));
        return 0;
    }

    /// <summary>Collects what setting up left behind, so that the run starts from what it holds: its resident memory then.</summary>
    private static double Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ResidentMemory.CurrentMb();
    }

    /// <summary>Uniform pixels, labelled by a fixed random linear teacher (so that there is something to learn).</summary>
    private static (Tensor Features, Tensor Labels) TensorData(int examples)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(2);
        var teacher = randn(784, 10, generator: generator);
        var features = rand(examples, 784, generator: generator);
        var labels = features.matmul(teacher).argmax(1);
        return (features.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>The same examples as rows of arrays, made a thousand at a time so that no second full copy is held.</summary>
    private static (float[][] Rows, int[] Labels) ArrayData(int examples)
    {
        var rows = new float[examples][];
        var labels = new int[examples];
        var generator = new Generator(2);
        using var teacher = randn(784, 10, generator: generator);
        for (var start = 0; start < examples; start += 1000)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(1000, examples - start);
            var block = rand(count, 784, generator: generator);
            var flat = block.data<float>().ToArray();
            var classes = block.matmul(teacher).argmax(1).data<long>().ToArray();
            for (var i = 0; i < count; i++)
            {
                rows[start + i] = flat.AsSpan(i * 784, 784).ToArray();
                labels[start + i] = (int)classes[i];
            }
        }
        return (rows, labels);
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

    private static double Read(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal))
                   ?? throw new PlatformNotSupportedException($"/proc/self/status has no {field}");
        return long.Parse(line[field.Length..].Trim().Split(' ')[0]) / 1024.0;
    }
}
