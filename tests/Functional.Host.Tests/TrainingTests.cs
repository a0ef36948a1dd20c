using Functional.Data;
using Functional.Host.Tests.Support;
using Functional.Networks;
using Functional.Training;

namespace Functional.Host.Tests;

public class TrainingTests
{
    private static readonly FnnFile XorFile = FnnFile.Load(Repository.XorSource);

    public static TheoryData<string, long> ModelsAndSeeds()
    {
        var data = new TheoryData<string, long>();
        foreach (var model in new[] { "Xor", "XorByHand" })
            for (var seed = 1L; seed <= 5; seed++)
                data.Add(model, seed);
        return data;
    }

    /// <summary>The issue's promise: both forms of XOR learn, for seeds 1 to 5, with the file's settings.</summary>
    [Theory]
    [MemberData(nameof(ModelsAndSeeds))]
    public void Xor_learns_with_the_train_block_settings(string model, long seed)
    {
        var plan = XorFile.TrainingPlan(model);
        using var network = XorFile.Compile(model, new NetworkOptions { Seed = seed });
        var before = network.Evaluate(plan);
        var result = network.Train(plan, new TrainingOptions { Seed = (int)seed });

        Assert.Equal(3000, result.EpochsRun);
        Assert.False(result.Cancelled);
        var after = network.Evaluate(plan);
        Assert.True(after < 0.01, $"final MSE {after} (before training {before})");
        var outputs = network.Predict(plan.Inputs);
        for (var i = 0; i < outputs.Length; i++)
            Assert.True(plan.Targets[i][0] == 1 ? outputs[i][0] > 0.5 : outputs[i][0] < 0.5,
                $"[{string.Join("; ", plan.Inputs[i])}] -> {outputs[i][0]}, target {plan.Targets[i][0]}");
    }

    [Fact]
    public void The_same_seed_trains_to_the_same_weights()
    {
        var plan = XorFile.TrainingPlan("Xor") with { Epochs = 50 };
        float[] Run()
        {
            using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 9 });
            network.Train(plan, new TrainingOptions { Seed = 9 });
            return network.Predict(plan.Inputs).SelectMany(x => x).ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public async Task TrainAsync_reports_every_epoch_in_order_and_gives_the_same_result_as_Train()
    {
        var plan = XorFile.TrainingPlan("XorByHand") with { Epochs = 20 };
        var reports = new List<EpochReport>();
        var progress = new Recorder(reports);
        using var a = XorFile.Compile("XorByHand", new NetworkOptions { Seed = 4 });
        var asyncResult = await a.TrainAsync(plan, new TrainingOptions { Seed = 4 }, progress, TestContext.Current.CancellationToken);
        using var b = XorFile.Compile("XorByHand", new NetworkOptions { Seed = 4 });
        var syncResult = b.Train(plan, new TrainingOptions { Seed = 4 });

        Assert.Equal(Enumerable.Range(1, 20), reports.Select(r => r.Epoch));
        Assert.All(reports, r => Assert.Equal(20, r.Epochs));
        Assert.Equal(syncResult.Epochs.Select(r => r.Loss), asyncResult.Epochs.Select(r => r.Loss));
        Assert.Equal(asyncResult.Epochs.Select(r => r.Loss), reports.Select(r => r.Loss));
    }

    [Fact]
    public void The_train_block_chooses_the_optimizer_and_schedule_and_options_replace_them()
    {
        var file = FnnFile.FromSource("""
            model Line : [1] -> [1] =
                dense 1

            train Line with
                data = [ [1] => [2]; [2] => [4]; [3] => [6] ]
                optimizer = adamw (lr = 0.1, weightDecay = 0.0)
                schedule = cosine (epochs = 300)
                epochs = 300
            """, "line.fnn");
        var plan = file.TrainingPlan();
        Assert.Equal("adamw", plan.Optimizer.Name);
        Assert.Equal(0.1, plan.LearningRate);
        Assert.Equal("cosine", plan.Schedule!.Name);
        using var network = file.Compile(options: new NetworkOptions { Seed = 1 });
        var before = network.Evaluate(plan);
        network.Train(plan);
        Assert.True(network.Evaluate(plan) < before / 10, "adamw with a cosine schedule learns the line");

        using var other = file.Compile(options: new NetworkOptions { Seed = 1 });
        var sgd = Functional.Training.Optimization.Optimizer.Sgd(lr: 0.01, momentum: 0.9);
        var result = other.Train(plan, new TrainingOptions { Optimizer = sgd, Epochs = 3 });
        Assert.Equal(3, result.EpochsRun);
    }

    [Fact]
    public void Options_override_the_plan()
    {
        var plan = XorFile.TrainingPlan("Xor");
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        var result = network.Train(plan, new TrainingOptions { Epochs = 7, BatchSize = 4, Seed = 1 });
        Assert.Equal(7, result.EpochsRun);
    }

    [Fact]
    public void Cancelling_stops_after_the_current_step_and_keeps_the_weights()
    {
        var plan = XorFile.TrainingPlan("Xor");
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 2 });
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAt(5, cancel);
        var result = network.Train(plan, new TrainingOptions { Seed = 2 }, progress, cancel.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(5, result.EpochsRun);
        var afterCancel = network.Predict(plan.Inputs[0]);
        Assert.Equal(afterCancel, network.Predict(plan.Inputs[0])); // still usable, unchanged
    }

    [Fact]
    public void A_diverging_loss_stops_training_with_the_step_named()
    {
        var file = FnnFile.FromSource("""
            model Line : [1] -> [1] =
                dense 1

            train Line with
                data = [ [1] => [1e30]; [2] => [2e30] ]
                optimizer = sgd (lr = 1.0)
                epochs = 5
            """, "line.fnn");
        using var network = file.Compile(options: new NetworkOptions { Seed = 1 });
        var before = network.Predict([1f]);
        var e = Assert.Throws<TrainingDivergedException>(() => network.Train(file.TrainingPlan()));
        Assert.Equal(1, e.Step);
        Assert.Contains("the loss became ∞ at step 1 (epoch 1)", e.Message.Replace("Infinity", "∞"));
        Assert.Equal(before, network.Predict([1f])); // the weights of the last good step
    }

    [Fact]
    public void A_loss_libtorch_refuses_is_a_clear_error_not_a_crash()
    {
        // bce needs outputs in [0, 1]; a bare dense layer gives any number.
        var file = FnnFile.FromSource("""
            model Raw : [1] -> [1] =
                dense 1

            train Raw with
                data = [ [5] => [1]; [-5] => [0] ]
                loss = bce
            """, "raw.fnn");
        using var network = file.Compile(options: new NetworkOptions { Seed = 1 });
        var plan = file.TrainingPlan();
        var e = Assert.Throws<EngineException>(() => network.Train(plan));
        Assert.Contains("step 1 (epoch 1): computing the loss failed in libtorch:", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Contains("evaluating the loss failed in libtorch:", Assert.Throws<EngineException>(() => network.Evaluate(plan)).Message);
    }

    [Fact]
    public void BatchNorm_on_features_with_a_batch_of_one_example_is_refused_before_training()
    {
        var file = FnnFile.FromSource("""
            model Norm : [3] -> [3] =
                dense 3 >> batchNorm

            train Norm with
                data = [ [1; 2; 3] => [0; 0; 1]; [3; 2; 1] => [1; 0; 0]; [1; 1; 1] => [0; 1; 0] ]
                batch = 2
            """, "norm.fnn");
        using var network = file.Compile(options: new NetworkOptions { Seed = 1 });
        var plan = file.TrainingPlan();
        Assert.Contains("leave one example for the last batch", Assert.Throws<ArgumentException>(() => network.Train(plan)).Message);
        Assert.Contains("the batch size is 1", Assert.Throws<ArgumentException>(() => network.Train(plan, new TrainingOptions { BatchSize = 1 })).Message);
        var result = network.Train(plan, new TrainingOptions { BatchSize = 3, Epochs = 3 });
        Assert.True(double.IsFinite(result.FinalLoss));
    }

    /// <summary>PyTorch's rule: on [c; len] and [c; h; w] the statistics run over the positions too, so one example is enough.</summary>
    [Theory]
    [InlineData("model Seq : [2; 4] -> [8] =\n    batchNorm >> flatten\n", 8)]
    [InlineData("model Img : [2; 2; 2] -> [8] =\n    batchNorm >> flatten\n", 8)]
    public void BatchNorm_over_positions_trains_on_batches_of_one_example_as_PyTorch_does(string source, int size)
    {
        var file = FnnFile.FromSource(source, "norm.fnn");
        using var network = file.Compile(options: new NetworkOptions { Seed = 1 });
        var random = new Random(2);
        float[] Row() => Enumerable.Range(0, size).Select(_ => (float)random.NextDouble()).ToArray();
        var plan = new TrainingPlan { Inputs = [Row(), Row(), Row()], Targets = [Row(), Row(), Row()], Epochs = 3, BatchSize = 1 };
        var result = network.Train(plan, new TrainingOptions { Seed = 1 });
        Assert.Equal(3, result.EpochsRun);
        Assert.All(result.Epochs, e => Assert.True(double.IsFinite(e.Loss), $"epoch {e.Epoch}'s loss is {e.Loss}"));
        Assert.All(network.Predict(plan.Inputs).SelectMany(r => r), v => Assert.True(float.IsFinite(v)));
    }

    private const string TinyLanguageModel = """
        model Next (vocab = 5, dim = 8) : [seq] int -> [seq; vocab] =
            embed vocab dim >> dense vocab
        """;

    [Fact]
    public void A_model_of_token_sequences_predicts_from_arrays_of_token_ids_of_any_length()
    {
        using var network = FnnFile.FromSource(TinyLanguageModel, "next.fnn").Compile(options: new NetworkOptions { Seed = 1 });
        var three = network.Predict([[0f, 1f, 2f], [4f, 3f, 2f]]);
        Assert.Equal(2, three.Length);
        Assert.Equal(15, three[0].Length); // [3; 5]
        Assert.Equal(35, network.Predict([0f, 1f, 2f, 3f, 4f, 0f, 1f]).Length); // [7; 5]
        // Position by position, the embedding of a token gives the same scores wherever it stands.
        Assert.Equal(three[0].AsSpan(10, 5).ToArray(), three[1].AsSpan(10, 5).ToArray());

        Assert.Contains("example 2's input holds 5, but Next takes token ids (whole numbers from 0 to 4)",
            Assert.Throws<ArgumentException>(() => network.Predict([[0f, 1f], [5f, 1f]])).Message);
        Assert.Contains("example 1's input holds 1.5, but Next takes token ids",
            Assert.Throws<ArgumentException>(() => network.Predict([[1.5f, 1f]])).Message);
        Assert.Contains("example 1's input holds -1, but Next takes token ids",
            Assert.Throws<ArgumentException>(() => network.Predict([[-1f, 1f]])).Message);
        Assert.Contains("example 2's input has 3 values but example 1's has 2",
            Assert.Throws<ArgumentException>(() => network.Predict([[0f, 1f], [0f, 1f, 2f]])).Message);
    }

    [Fact]
    public void A_model_of_token_sequences_learns_the_next_token_from_arrays_of_ids()
    {
        // The next token is the current one plus one, modulo 5.
        int[][] tokens = [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 0], [3, 4, 0, 1], [4, 0, 1, 2]];
        var next = tokens.Select(row => row.Select(t => (t + 1) % 5).ToArray()).ToArray();
        var file = FnnFile.FromSource(TinyLanguageModel, "next.fnn");
        var options = new TrainingOptions
        {
            Loss = Loss.CrossEntropy, Epochs = 60, BatchSize = 5, Seed = 1, Metrics = [Metric.Accuracy],
            Optimizer = Functional.Training.Optimization.Optimizer.Adam(lr: 0.05),
        };
        using var data = new InMemoryDataset(tokens, next, classCount: 5);
        using var fromDataset = file.Compile(options: new NetworkOptions { Seed = 1 });
        var result = fromDataset.Fit(data, null, options);
        Assert.Equal(1.0, result.Epochs[^1].Metrics["accuracy"]);

        // The same examples as a plan of float arrays: class indices per position, the same run.
        var plan = new TrainingPlan
        {
            Inputs = tokens.Select(r => r.Select(t => (float)t).ToArray()).ToList(),
            Targets = next.Select(r => r.Select(t => (float)t).ToArray()).ToList(),
            Loss = Loss.CrossEntropy,
        };
        using var fromPlan = file.Compile(options: new NetworkOptions { Seed = 1 });
        var planned = fromPlan.Train(plan, options with { Loss = null });
        Assert.Equal(result.Epochs.Select(e => e.Loss), planned.Epochs.Select(e => e.Loss));

        var bad = plan with { Targets = [.. plan.Targets.Take(4), [0f, 1f, 7f, 2f]] };
        Assert.Contains("example 5's target holds 7, but Next outputs 5 classes a position",
            Assert.Throws<ArgumentException>(() => fromPlan.Train(bad)).Message);
    }

    [Fact]
    public void A_train_block_can_train_an_imported_model()
    {
        var folder = Directory.CreateTempSubdirectory("functional-import-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "lib.fnn"), "model Out : [2] -> [1] =\n    dense 1 >> sigmoid\n");
            File.WriteAllText(Path.Combine(folder, "main.fnn"), "import \"lib.fnn\"\n\ntrain Out with\n    data = [ [0; 1] => [1]; [1; 0] => [0] ]\n    epochs = 5\n");
            var file = FnnFile.Load(Path.Combine(folder, "main.fnn"));
            Assert.Equal(["Out"], file.TrainedModelNames);
            using var network = file.Compile("Out", new NetworkOptions { Seed = 1 });
            Assert.Equal(5, network.Train(file.TrainingPlan("Out")).EpochsRun);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Bad_settings_and_mismatched_data_are_rejected()
    {
        var plan = XorFile.TrainingPlan("Xor");
        using var network = XorFile.Compile("Xor");
        Assert.Throws<ArgumentOutOfRangeException>(() => network.Train(plan, new TrainingOptions { Epochs = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => network.Train(plan, new TrainingOptions { LearningRate = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => network.Train(plan, new TrainingOptions { BatchSize = 0 }));
        var wrongTargets = plan with { Targets = [[0f, 1f], [1f, 0f], [1f, 0f], [0f, 1f]] };
        Assert.Contains("example 1's target has 2 values, but Xor's target [1] takes 1",
            Assert.Throws<ArgumentException>(() => network.Train(wrongTargets)).Message);
        var fewerTargets = plan with { Targets = plan.Targets.Take(3).ToList() };
        Assert.Contains("there are 4 inputs but 3 targets", Assert.Throws<ArgumentException>(() => network.Train(fewerTargets)).Message);
    }

    private sealed class Recorder(List<EpochReport> reports) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => reports.Add(value);
    }

    private sealed class CancelAt(int epoch, CancellationTokenSource cancel) : IProgress<EpochReport>
    {
        public void Report(EpochReport value)
        {
            if (value.Epoch == epoch) cancel.Cancel();
        }
    }
}
