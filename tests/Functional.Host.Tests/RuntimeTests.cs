using Functional.Data;
using Functional.Devices;
using Functional.Lang.Compilation;
using CheckedLoss = Functional.Lang.Checking.Loss;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>
/// The runtime under every network: weights that move between element types as a whole (the optimizer's
/// state following them), and seeded networks that own their randomness, so that several train at once.
/// </summary>
public class RuntimeTests
{
    private const string Classifier = "model Cls : [2] -> [3] =\n    dense 8 >> tanh >> dropout 0.2 >> dense 3\n";

    /// <summary>Three clusters in the plane, labels 0..2, from a seed.</summary>
    private static (float[][] Features, int[] Labels) Clusters(int count, int seed)
    {
        var random = new Random(seed);
        float[][] centres = [[0, 3], [3, -2], [-3, -2]];
        var features = new float[count][];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            var c = centres[labels[i]];
            features[i] = [c[0] + 2 * (float)(random.NextDouble() - 0.5), c[1] + 2 * (float)(random.NextDouble() - 0.5)];
        }
        return (features, labels);
    }

    private static Network Compile(long seed) => FnnFile.FromSource(Classifier).Compile(options: new NetworkOptions { Seed = seed });

    /// <summary>Every weight's bytes, by path.</summary>
    private static Dictionary<string, byte[]> Weights(Network network) =>
        network.Compiled.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().contiguous().bytes.ToArray());

    /// <summary>The element types of the state tensors an optimizer saves (moments, buffers), read from its saved state.</summary>
    private static List<torch.ScalarType> StateTypes(TrainingOptimizer optimizer)
    {
        using var reader = new BinaryReader(new MemoryStream(optimizer.SaveState()));
        reader.ReadString(); // magic
        reader.ReadInt32(); // version
        reader.ReadString(); // name
        reader.ReadDouble(); // learning rate
        var count = reader.ReadInt32();
        var slots = reader.ReadInt32();
        for (var s = 0; s < slots; s++) reader.ReadString();
        var types = new List<torch.ScalarType>();
        for (var i = 0; i < count; i++)
        {
            reader.ReadString(); // the parameter's path
            reader.ReadInt64(); // steps
            for (var s = 0; s < slots; s++)
            {
                if (!reader.ReadBoolean()) continue;
                types.Add((torch.ScalarType)reader.ReadInt32());
                var rank = reader.ReadInt32();
                for (var d = 0; d < rank; d++) reader.ReadInt64();
                reader.ReadBytes(reader.ReadInt32());
            }
        }
        return types;
    }

    /// <summary>Adam steps on the whole batch in the network's current precision; the loss before each step.</summary>
    private static List<double> Steps(Network network, TrainingOptimizer optimizer, float[][] features, int[] labels, int count)
    {
        var losses = new List<double>();
        var placement = network.Compiled.Placement;
        using var loss = Losses.compile(placement, CheckedLoss.CrossEntropy);
        network.Compiled.eval(); // no dropout: the two runs compared must compute the same function
        for (var step = 0; step < count; step++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(features.SelectMany(f => f).ToArray(), [features.Length, 2]).to(placement.DType);
            var y = torch.tensor(labels.Select(l => (long)l).ToArray());
            optimizer.ZeroGrad();
            var value = loss.Compute(network.Compiled.forward(x), y);
            losses.Add(value.ToDouble());
            value.backward();
            optimizer.Step();
        }
        return losses;
    }

    [Fact]
    public void A_network_moved_to_float64_and_back_computes_the_same_and_trains_on_with_its_optimizer_state()
    {
        var (features, labels) = Clusters(60, 1);
        using var network = Compile(3);
        var before = network.Predict(features);

        network.To(ComputeDevice.Cpu, Precision.Float64);
        Assert.Equal(Precision.Float64, network.Options.Precision);
        Assert.All(network.Compiled.parameters(), p => Assert.Equal(torch.ScalarType.Float64, p.dtype));
        var wide = network.Predict(features);
        for (var i = 0; i < features.Length; i++)
            for (var j = 0; j < 3; j++)
                Assert.Equal(before[i][j], wide[i][j], 1e-5);
        var weights64 = Weights(network);

        network.To(ComputeDevice.Cpu, Precision.Float32);
        var back = network.Predict(features);
        for (var i = 0; i < features.Length; i++) Assert.Equal(before[i], back[i]); // exactly: float32 -> float64 -> float32 is lossless

        // Training: 15 Adam steps in float32, a move to float64, 15 more; against a twin that never moves.
        using var twin = Compile(3);
        var spec = Optimizer.Adam(lr: 0.05);
        using var optimizer = spec.Create(network.Compiled.parameters());
        using var twinOptimizer = spec.Create(twin.Module.parameters());
        var first = Steps(network, optimizer, features, labels, 15);
        Assert.All(StateTypes(optimizer), t => Assert.Equal(torch.ScalarType.Float32, t));

        network.To(ComputeDevice.Cpu, Precision.Float64);
        optimizer.Follow(network.Compiled.parameters());
        var types = StateTypes(optimizer);
        Assert.Equal(2 * 4, types.Count); // exp_avg and exp_avg_sq of four parameters
        Assert.All(types, t => Assert.Equal(torch.ScalarType.Float64, t));
        var second = Steps(network, optimizer, features, labels, 15);

        var reference = Steps(twin, twinOptimizer, features, labels, 30);
        var moved = first.Concat(second).ToList();
        Assert.True(moved[^1] < moved[0] / 2, $"the loss went from {moved[0]} to {moved[^1]}");
        // Had the moments been lost in the move, Adam's next steps would be far from the twin's.
        for (var i = 0; i < moved.Count; i++) Assert.Equal(reference[i], moved[i], 1e-4);

        // A moved network also trains through Fit, and its checkpoint says float64.
        using var data = new InMemoryDataset(features, labels, 3);
        var fit = network.Fit(data, null, new TrainingOptions { Epochs = 5, BatchSize = 20, Seed = 1, Loss = Loss.CrossEntropy, Optimizer = spec });
        Assert.True(fit.FinalLoss < moved[^1] + 0.05, $"Fit after the move ended at {fit.FinalLoss}");
        Assert.NotEqual(weights64["0.weight"], Weights(network)["0.weight"]);
    }

    /// <summary>Compiles, trains (with dropout and shuffling) and returns the weights of the network of one seed.</summary>
    private static Dictionary<string, byte[]> Trained(int seed, float[][] features, int[] labels)
    {
        using var network = Compile(seed);
        using var data = new InMemoryDataset(features, labels, 3);
        network.Fit(data, null, new TrainingOptions
        {
            Epochs = 4, BatchSize = 8, Seed = seed, Loss = Loss.CrossEntropy,
            Optimizer = Optimizer.Adam(lr: 0.02),
        });
        return Weights(network);
    }

    [Fact]
    public void Four_seeded_networks_trained_on_four_threads_at_once_equal_the_same_four_trained_one_after_another()
    {
        var (features, labels) = Clusters(48, 2);
        int[] seeds = [11, 12, 13, 14];
        var alone = seeds.Select(s => Trained(s, features, labels)).ToList();

        using var start = new Barrier(seeds.Length);
        var together = new Dictionary<string, byte[]>[seeds.Length];
        var threads = seeds.Select((seed, i) => new Thread(() =>
        {
            start.SignalAndWait();
            together[i] = Trained(seed, features, labels);
        })).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();

        for (var i = 0; i < seeds.Length; i++)
        {
            Assert.Equal(alone[i].Keys, together[i].Keys);
            foreach (var (name, bytes) in alone[i])
                Assert.True(bytes.AsSpan().SequenceEqual(together[i][name]), $"seed {seeds[i]}: {name} differs");
        }
        // Different seeds gave different networks: the comparison is not of four copies of one.
        Assert.False(alone[0]["0.weight"].AsSpan().SequenceEqual(alone[1]["0.weight"]));
    }
}
