using Functional.Checkpoints;
using Functional.Data;
using Functional.FineTuning;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Callbacks;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>Fine-tuning: starting from a checkpoint by path, freezing, unfreezing, per-pattern rates, LoRA adapters and merging.</summary>
public sealed class FineTuningTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("functional-finetune-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // A labelled feature part with a batch norm (whose running statistics must not move when frozen), dropout and a head.
    private const string Source = """
        model Net : [2] -> [3] =
            (dense 8 >> batchNorm >> relu) as features
            >> dropout 0.2 >> dense 3 as head

        model Wide : [2] -> [4] =
            (dense 8 >> batchNorm >> relu) as features
            >> dropout 0.2 >> dense 4 as head

        model Tiny : [seq] int -> [seq; 12] =
            embed 12 8 >> positional 6
            >> residual (layerNorm >> attention 2 (causal = true))
            >> residual (layerNorm >> dense 16 >> gelu >> dense 8)
            >> layerNorm >> dense 12
        """;

    private static readonly FnnFile File = FnnFile.FromSource(Source, "finetune.fnn");

    private static Network Compile(string model, int seed, LoraOptions? lora = null) =>
        File.Compile(model, new NetworkOptions { Seed = seed, Lora = lora });

    private static TrainingOptions Options(int epochs) => new()
    {
        Loss = Loss.CrossEntropy,
        Epochs = epochs,
        BatchSize = 8,
        Seed = 3,
        Optimizer = Optimizer.AdamW(lr: 0.01, weightDecay: 0.1),
        Metrics = [Metric.Accuracy],
    };

    /// <summary>A trained Net, saved: what the fine-tuning runs start from.</summary>
    private string Base()
    {
        var path = Path.Combine(folder, "base");
        if (Directory.Exists(path)) return path;
        using var data = Clusters.Make(48, 1);
        using var network = Compile("Net", 1);
        network.Fit(data, null, Options(3));
        network.Save(path);
        return path;
    }

    private static Dictionary<string, byte[]> Bytes(Network network) =>
        network.Module.state_dict().ToDictionary(p => p.Key, p => p.Value.cpu().bytes.ToArray());

    private static void AssertSameWeights(Network expected, Network actual)
    {
        var want = Bytes(expected);
        foreach (var (name, bytes) in Bytes(actual))
            Assert.True(bytes.SequenceEqual(want[name]), $"{name} differs, byte for byte");
    }

    /// <summary>Keeps what the optimizer holds at the end of a run.</summary>
    private sealed class OptimizerProbe : TrainingCallback
    {
        public List<(string Path, bool HasState)> State { get; } = [];

        public override void OnTrainEnd(TrainingSession session)
        {
            var optimizer = session.Optimizer;
            for (var i = 0; i < optimizer.Parameters.Count; i++) State.Add((optimizer.ParameterNames![i], optimizer.HasState(i)));
        }
    }

    private sealed class StopAfterEpoch(int epoch) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingSession session, EpochReport report)
        {
            if (report.Epoch == epoch) session.RequestStop($"stopped after epoch {epoch}");
        }
    }

    [Fact]
    public void Starting_from_a_checkpoint_loads_every_matching_path_and_a_different_shape_is_an_error_naming_it()
    {
        var start = Base();
        using var trained = Network.Load(FnnSourcePath(), start);
        using var network = Compile("Net", 7);
        var mapping = network.StartFrom(start);
        Assert.Equal(network.Module.state_dict().Keys.Order(), mapping.Loaded.Order());
        Assert.Empty(mapping.New);
        Assert.Empty(mapping.LeftOut);
        AssertSameWeights(trained, network);

        using var wide = Compile("Wide", 7);
        var before = Bytes(wide);
        var e = Assert.Throws<CheckpointMismatchException>(() => wide.StartFrom(start));
        Assert.True(e.Message.Contains("'head.bias' is [3] in the checkpoint but [4] in Wide"), e.Message);
        Assert.Equal(before, Bytes(wide)); // nothing was loaded
    }

    private string FnnSourcePath()
    {
        var path = Path.Combine(folder, "finetune.fnn");
        if (!System.IO.File.Exists(path)) System.IO.File.WriteAllText(path, Source);
        return path;
    }

    [Fact]
    public void Frozen_parameters_and_batch_norm_statistics_stay_bit_identical_and_hold_no_optimizer_state()
    {
        var start = Base();
        using var data = Clusters.Make(48, 2);
        using var network = Compile("Net", 2);
        network.StartFrom(start);
        var before = Bytes(network);
        var probe = new OptimizerProbe();
        network.Fit(data, null, Options(2) with
        {
            FineTuning = new FineTuningOptions { Freeze = ["features.*"] },
            Callbacks = [probe],
        });
        var after = Bytes(network);
        foreach (var path in new[] { "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                     "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked" })
            Assert.True(after[path].SequenceEqual(before[path]), $"{path} changed");
        Assert.False(after["head.weight"].SequenceEqual(before["head.weight"]), "the head did not train");
        // Only the head is optimized; it holds moments, and nothing is held for a frozen parameter.
        Assert.Equal(["head.weight", "head.bias"], probe.State.Select(s => s.Path));
        Assert.All(probe.State, s => Assert.True(s.HasState));
        // Outside a run every parameter takes gradients again.
        Assert.All(network.Parameters, p => Assert.True(p.Trainable));
    }

    [Fact]
    public void A_frozen_batch_norm_can_be_told_to_keep_training_its_statistics()
    {
        var start = Base();
        using var data = Clusters.Make(48, 2);
        using var network = Compile("Net", 2);
        network.StartFrom(start);
        var before = Bytes(network);
        network.Fit(data, null, Options(1) with
        {
            FineTuning = new FineTuningOptions { Freeze = ["features.*"], FrozenBatchNormTrains = true },
        });
        var after = Bytes(network);
        Assert.True(after["features.1.weight"].SequenceEqual(before["features.1.weight"]));
        Assert.False(after["features.1.running_mean"].SequenceEqual(before["features.1.running_mean"]), "the running mean did not move");
    }

    [Fact]
    public void A_run_resumed_across_an_unfreeze_equals_the_uninterrupted_run_bit_for_bit()
    {
        var start = Base();
        using var data = Clusters.Make(48, 2);
        var fineTuning = new FineTuningOptions { Freeze = ["features.*"], UnfreezeAtEpoch = 3, LearningRates = [new("features.*", 0.001)] };
        using var whole = Compile("Net", 2);
        whole.StartFrom(start);
        var probe = new OptimizerProbe();
        var uninterrupted = whole.Fit(data, null, Options(4) with { FineTuning = fineTuning, Callbacks = [probe] });
        // After the unfreeze the features trained too, and hold moments.
        Assert.Contains(("features.0.weight", true), probe.State);

        foreach (var stopAt in new[] { 2, 3 }) // before the unfreeze, and after it
        {
            var checkpoint = Path.Combine(folder, $"run{stopAt}");
            using (var first = Compile("Net", 2))
            {
                first.StartFrom(start);
                var stopped = first.Fit(data, null, Options(4) with
                {
                    FineTuning = fineTuning, CheckpointDirectory = checkpoint, Callbacks = [new StopAfterEpoch(stopAt)],
                });
                Assert.Equal(stopAt, stopped.Epochs.Count);
            }
            using var resumed = Compile("Net", 99); // other first weights: the checkpoint's replace them
            var continued = resumed.Fit(data, null, Options(4) with { FineTuning = fineTuning, ResumeFrom = checkpoint });
            Assert.Equal(uninterrupted.Epochs.Select(e => e.Loss), continued.Epochs.Select(e => e.Loss));
            AssertSameWeights(whole, resumed);
        }
    }

    [Fact]
    public void A_learning_rate_for_a_pattern_scales_the_updates_of_what_it_matches()
    {
        var start = Base();
        using var data = Clusters.Make(16, 2);
        Dictionary<string, float[]> Step(FineTuningOptions? fineTuning)
        {
            using var network = Compile("Net", 2);
            network.StartFrom(start);
            var before = network.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
            network.Fit(data, null, Options(1) with { BatchSize = 16, Optimizer = Optimizer.Sgd(lr: 0.1), FineTuning = fineTuning, Shuffle = false });
            return network.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().Zip(before[p.name], (a, b) => a - b).ToArray());
        }
        var plain = Step(null);
        var faster = Step(new FineTuningOptions { LearningRates = [new("head.*", 0.3)] });
        for (var i = 0; i < plain["head.weight"].Length; i++)
            Assert.Equal(3 * plain["head.weight"][i], faster["head.weight"][i], 5);
        Assert.Equal(plain["features.0.weight"], faster["features.0.weight"]);
    }

    [Fact]
    public void Patterns_that_match_nothing_and_runs_that_train_nothing_are_errors_naming_them()
    {
        using var data = Clusters.Make(16, 2);
        using var network = Compile("Net", 2);
        var e = Assert.Throws<ArgumentException>(() => network.Fit(data, null, Options(1) with { FineTuning = new FineTuningOptions { Freeze = ["feature.*"] } }));
        Assert.Contains("'feature.*' matches no parameter of Net", e.Message);
        Assert.Equal(nameof(FineTuningOptions.Freeze), e.ParamName);
        var nothing = Assert.Throws<ArgumentException>(() => network.SelectTrainable(new FineTuningOptions { Freeze = ["*"] }));
        Assert.Contains("would train no parameter of Net", nothing.Message);
        var lora = Assert.Throws<ArgumentException>(() => Compile("Net", 2, new LoraOptions { Targets = ["*.query.weight"] }));
        Assert.Contains("'*.query.weight' matches no projection", lora.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => network.SelectTrainable(new FineTuningOptions { Freeze = ["features.*"], UnfreezeAtEpoch = 1 }, 4));
    }

    [Fact]
    public void With_adapters_only_the_adapters_and_the_named_parts_train()
    {
        var start = Base();
        using var data = Clusters.Make(48, 2);
        using var network = Compile("Net", 2, new LoraOptions { Rank = 2, Alpha = 4, Targets = ["features.0.weight"] });
        var mapping = network.StartFrom(start);
        Assert.Equal(["features.0.lora_A.weight", "features.0.lora_B.weight"], mapping.New);
        var selection = network.SelectTrainable(new FineTuningOptions { Train = ["head.*"] });
        Assert.Equal(["head.weight", "head.bias", "features.0.lora_A.weight", "features.0.lora_B.weight"], selection.Trained);
        var before = Bytes(network);
        network.Fit(data, null, Options(2) with { FineTuning = new FineTuningOptions { Train = ["head.*"] } });
        var after = Bytes(network);
        foreach (var path in before.Keys.Where(p => p.StartsWith("features.", StringComparison.Ordinal) && !p.Contains("lora")))
            Assert.True(after[path].SequenceEqual(before[path]), $"{path} changed");
        Assert.False(after["features.0.lora_B.weight"].SequenceEqual(before["features.0.lora_B.weight"]), "the adapter did not train");
        Assert.False(after["head.weight"].SequenceEqual(before["head.weight"]), "the head did not train");

        // Saved alone (with the head trained beside it) and loaded onto its base, it predicts as before.
        var adapter = Path.Combine(folder, "adapter");
        network.SaveAdapter(adapter);
        Assert.True(System.IO.File.Exists(Path.Combine(adapter, AdapterFile.WeightsFile)));
        using var loaded = Network.Load(FnnSourcePath(), start, new NetworkLoadOptions { Adapter = adapter });
        float[][] inputs = [[0.5f, 1], [-2, -1]];
        Assert.Equal(network.Predict(inputs), loaded.Predict(inputs));
        Assert.Throws<InvalidOperationException>(() => network.Save(Path.Combine(folder, "full")));
        var checkpointing = Assert.Throws<ArgumentException>(() => network.Fit(data, null, Options(1) with { CheckpointDirectory = Path.Combine(folder, "full") }));
        Assert.Contains("saved alone", checkpointing.Message);
    }

    [Fact]
    public void An_adapter_loaded_onto_other_weights_or_another_model_is_an_error()
    {
        var start = Base();
        using var network = Compile("Net", 2, new LoraOptions { Targets = ["head.weight"] });
        network.StartFrom(start);
        var adapter = Path.Combine(folder, "adapter-other");
        network.SaveAdapter(adapter);
        // Other weights of the same model.
        var other = Path.Combine(folder, "other");
        using (var retrained = Compile("Net", 5)) retrained.Save(other);
        var e = Assert.Throws<CheckpointMismatchException>(() => Network.Load(FnnSourcePath(), other, new NetworkLoadOptions { Adapter = adapter }));
        Assert.Contains("trained from other weights of Net", e.Message);
        // Another model.
        var wide = Path.Combine(folder, "wide");
        using (var w = Compile("Wide", 5)) w.Save(wide);
        var m = Assert.ThrowsAny<Exception>(() => Network.Load(FnnSourcePath(), wide, new NetworkLoadOptions { Adapter = adapter }));
        Assert.True(m.Message.Contains("'head.bias' is [4] in the checkpoint but [3] in Net"), m.Message);
    }

    [Fact]
    public void Fresh_adapters_change_nothing_and_leave_the_base_weights_as_drawn_without_them()
    {
        using var plain = Compile("Tiny", 4);
        using var adapted = Compile("Tiny", 4, new LoraOptions { Rank = 2, Targets = ["*"] });
        var want = Bytes(plain);
        var have = Bytes(adapted);
        Assert.Equal(want.Keys.Order(), have.Keys.Where(k => !k.Contains("lora_")).Order());
        foreach (var (name, bytes) in want) Assert.True(bytes.SequenceEqual(have[name]), $"{name} was drawn differently");
        Assert.Equal(2 * 7, have.Keys.Count(k => k.Contains("lora_"))); // 4 attention projections and 3 dense layers
        float[][] tokens = [[1, 4, 2, 7, 0, 3]];
        Assert.Equal(plain.Predict(tokens), adapted.Predict(tokens)); // B starts at zero
    }

    [Fact]
    public void A_train_blocks_fine_tuning_settings_apply_when_it_trains()
    {
        var start = Base();
        var source = Source + """

            model Two : [2] -> [2] =
                Net with head = dense 2

            train Two with
                freeze = ["features.*"]
                lrFor = ["head.*" => 0.05]
                loss = crossEntropy
                optimizer = adam (lr = 0.01)
                epochs = 2
            """;
        var file = FnnFile.FromSource(source, "two.fnn");
        var plan = file.TrainingPlan("Two");
        Assert.Equal(["features.*"], plan.FineTuning!.Freeze);
        using var network = file.Compile("Two", new NetworkOptions { Seed = 1 });
        var mapping = network.StartFrom(start);
        Assert.Equal(["head.weight", "head.bias"], mapping.New);
        Assert.Equal(["head.bias", "head.weight"], mapping.LeftOut.Select(p => p.Key).Order());
        Assert.All(mapping.LeftOut, p => Assert.Equal("replaced in Two", p.Value));
        var before = Bytes(network);
        using var data = new InMemoryDataset([[0f, 3f], [3f, -2f], [0.2f, 2.8f], [2.9f, -2.1f]], [0, 1, 0, 1], 2);
        network.Train(plan, data, null);
        var after = Bytes(network);
        Assert.True(after["features.0.weight"].SequenceEqual(before["features.0.weight"]));
        Assert.False(after["head.weight"].SequenceEqual(before["head.weight"]));
    }

    [Fact]
    public void Merged_and_unmerged_logits_agree_within_1e_4()
    {
        using var network = Compile("Tiny", 4, new LoraOptions { Rank = 4, Alpha = 8, Targets = ["*.query.weight", "*.value.weight", "*.output.weight", "3.*", "5.weight"] });
        // Adapters as training leaves them: B no longer zero.
        using (torch.no_grad())
        using (var g = new torch.Generator(11))
            foreach (var (path, tensor) in network.Module.state_dict().Where(p => p.Key.EndsWith("lora_B.weight", StringComparison.Ordinal)))
                tensor.copy_(torch.randn(tensor.shape, generator: g).mul(0.5));
        using var merged = network.MergeAdapter(out var report);
        Assert.False(merged.HasAdapters);
        Assert.True(report.Projections.Count >= 3);
        Assert.InRange(report.MaxDifference, 0, 1e-4);
        // The outputs moved: the adapters do something, and the merged network does it too.
        using var plain = Compile("Tiny", 4);
        float[][] tokens = [[1, 4, 2, 7, 0, 3]];
        var adapted = network.Predict(tokens)[0];
        var fused = merged.Predict(tokens)[0];
        Assert.True(adapted.Zip(plain.Predict(tokens)[0], (a, b) => Math.Abs(a - b)).Max() > 1e-2, "the adapters changed nothing");
        Assert.True(adapted.Zip(fused, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }
}
