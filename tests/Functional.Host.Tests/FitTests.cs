using System.Text.Json;
using Functional.Data;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>Network.Fit over datasets: metrics, validation, early stopping, history files, cancellation, memory.</summary>
public class FitTests
{
    private static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    private const string Classifier = "model Cls : [2] -> [3] =\n    dense 3\n";
    private const string Line = "model Line : [1] -> [1] =\n    dense 1\n";

    private static Network Compile(string source, int seed) =>
        FnnFile.FromSource(source).Compile(options: new NetworkOptions { Seed = seed });

    /// <summary>y = slope * x for x spread over [-1, 1].</summary>
    private static InMemoryDataset Slope(int count, float slope)
    {
        var xs = Enumerable.Range(0, count).Select(i => new[] { -1f + 2f * i / (count - 1) }).ToArray();
        return new InMemoryDataset(xs, xs.Select(x => new[] { slope * x[0] }).ToArray());
    }

    private static TrainingOptions ClassifierOptions(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        Seed = 7,
        Loss = Loss.CrossEntropy,
        Optimizer = Optimizer.Adam(lr: 0.05),
        Metrics = [Metric.Accuracy, Metric.TopK(2)],
    };

    [Fact]
    public void A_diverging_run_stops_with_the_step_named_and_keeps_the_last_good_checkpoint()
    {
        var folder = Directory.CreateTempSubdirectory("functional-diverge-").FullName;
        try
        {
            var xs = Enumerable.Range(0, 16).Select(i => new[] { (float)i }).ToArray();
            using var data = new InMemoryDataset(xs, xs.Select(x => new[] { 3f * x[0] }).ToArray());
            using var network = Compile(Line, 1);
            var options = new TrainingOptions
            {
                Loss = Loss.MeanSquaredError, Epochs = 50, BatchSize = 16, Seed = 1, Shuffle = false,
                Optimizer = Optimizer.Sgd(lr: 0.05), CheckpointDirectory = folder,
            };
            var e = Assert.Throws<TrainingDivergedException>(() => network.Fit(data, null, options));
            Assert.True(e.Epoch > 1, $"diverged at epoch {e.Epoch}");
            var state = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "training.json")));
            Assert.Equal(e.Epoch - 1, state.RootElement.GetProperty("epoch").GetInt32());
            using var reloaded = Compile(Line, 2);
            reloaded.LoadWeights(folder);
            Assert.All(reloaded.Module.parameters(), p => Assert.True(torch.isfinite(p).all().item<bool>()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_run_resumed_from_its_checkpoint_reaches_exactly_the_weights_of_an_uninterrupted_run()
    {
        // Dropout (the random generator), adamw's moments and a cosine schedule all have to continue exactly.
        const string source = "model Drop : [2] -> [3] =\n    dense 16 >> relu >> dropout 0.3 >> dense 3\n";
        var folder = Directory.CreateTempSubdirectory("functional-resume-").FullName;
        try
        {
            using var data = Clusters.Make(60, 5);
            using var valid = Clusters.Make(15, 6);
            TrainingOptions Options(int epochs) => new()
            {
                Loss = Loss.CrossEntropy,
                Epochs = epochs,
                BatchSize = 8,
                Seed = 3,
                Optimizer = Optimizer.AdamW(lr: 0.01),
                Schedule = Schedule.Cosine(epochs: 4),
                Metrics = [Metric.Accuracy],
            };

            using var whole = Compile(source, 3);
            var uninterrupted = whole.Fit(data, valid, Options(4));

            var checkpoint = Path.Combine(folder, "run");
            using (var first = Compile(source, 3))
                first.Fit(data, valid, Options(2) with { CheckpointDirectory = checkpoint });
            Assert.True(File.Exists(Path.Combine(checkpoint, "training.json")));
            Assert.False(Directory.Exists(checkpoint + ".next") || Directory.Exists(checkpoint + ".previous"));

            using var resumed = Compile(source, 99); // other first weights: the checkpoint's replace them
            var continued = resumed.Fit(data, valid, Options(4) with { ResumeFrom = checkpoint, CheckpointDirectory = checkpoint });

            Assert.Equal(uninterrupted.Epochs.Select(e => e.Loss), continued.Epochs.Select(e => e.Loss));
            var expected = whole.Module.state_dict();
            foreach (var (name, tensor) in resumed.Module.state_dict())
                Assert.True(torch.allclose(tensor, expected[name], 0, 0), $"{name} differs after resuming");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Resuming_with_another_optimizer_names_the_optimizer_state_file_and_both_optimizers()
    {
        var folder = Directory.CreateTempSubdirectory("functional-resume-").FullName;
        try
        {
            using var data = Clusters.Make(30, 5);
            var checkpoint = Path.Combine(folder, "run");
            using (var first = Compile(Classifier, 3))
                first.Fit(data, null, ClassifierOptions(1) with { CheckpointDirectory = checkpoint });
            using var second = Compile(Classifier, 3);
            var error = Assert.Throws<Functional.Checkpoints.CheckpointFormatException>(() => second.Fit(data, null,
                ClassifierOptions(2) with { ResumeFrom = checkpoint, Optimizer = Optimizer.Sgd() }));
            Assert.Equal($"{Path.Combine(checkpoint, "optimizer.bin")}: at byte 31 (optimizer name): the optimizer state is of adam, not of sgd", error.Message);

            File.WriteAllBytes(Path.Combine(checkpoint, "optimizer.bin"), [1, 2, 3]);
            error = Assert.Throws<Functional.Checkpoints.CheckpointFormatException>(() => second.Fit(data, null,
                ClassifierOptions(2) with { ResumeFrom = checkpoint }));
            Assert.Contains("optimizer.bin: ", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_separable_three_class_problem_trains_with_adam_and_writes_one_json_line_per_epoch()
    {
        using var train = Clusters.Make(120, 1);
        using var validation = Clusters.Make(60, 2);
        using var network = Compile(Classifier, 3);
        var path = Path.Combine(Path.GetTempPath(), $"fit-{Guid.NewGuid():N}", "history.jsonl");
        var reports = new List<EpochReport>();
        var result = network.Fit(train, validation, ClassifierOptions(20) with { HistoryPath = path }, new Sync<EpochReport>(reports.Add));

        Assert.Equal(20, result.EpochsRun);
        Assert.False(result.Cancelled);
        Assert.Equal(Enumerable.Range(1, 20), reports.Select(r => r.Epoch));
        var last = result.Epochs[^1];
        Assert.True(last.Metrics["val_accuracy"] > 0.9, $"validation accuracy {last.Metrics["val_accuracy"]}");
        Assert.True(last.Loss < result.Epochs[0].Loss);
        Assert.Equal(last.Metrics["val_loss"], last.ValidationLoss);
        Assert.All(reports, r => Assert.Equal(0.05, r.LearningRate, 12));
        Assert.All(reports, r => Assert.True(r.ExamplesPerSecond > 0));

        var lines = File.ReadAllLines(path);
        Assert.Equal(20, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            Assert.Equal(i + 1, root.GetProperty("epoch").GetInt32());
            Assert.Equal(reports[i].Loss, root.GetProperty("loss").GetDouble());
            foreach (var name in new[] { "accuracy", "top2", "val_loss", "val_accuracy", "val_top2" })
                Assert.Equal(reports[i].Metrics[name], root.GetProperty(name).GetDouble());
            Assert.Equal(0.05, root.GetProperty("lr").GetDouble(), 12);
            Assert.True(root.GetProperty("seconds").GetDouble() >= 0);
        }
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Fact]
    public void A_csv_history_has_a_header_and_one_row_per_epoch()
    {
        using var train = Clusters.Make(30, 1);
        using var network = Compile(Classifier, 3);
        var path = Path.Combine(Path.GetTempPath(), $"fit-{Guid.NewGuid():N}.csv");
        network.Fit(train, null, ClassifierOptions(3) with { HistoryPath = path, ValidationSplit = 0.2 });
        var lines = File.ReadAllLines(path);
        File.Delete(path);
        Assert.Equal("epoch,loss,accuracy,top2,val_loss,val_accuracy,val_top2,lr,seconds", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("3,", lines[3]);
    }

    [Fact]
    public void Accuracy_and_top_k_are_computed_on_known_outputs()
    {
        using var scope = torch.NewDisposeScope();
        var output = torch.tensor(new float[] { 0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.3f, 0.5f, 0.6f, 0.1f, 0.3f }, [4, 3]);
        var labels = torch.tensor(new long[] { 1, 1, 0, 0 }, [4]);
        var oneHot = torch.nn.functional.one_hot(labels, 3).to(torch.ScalarType.Float32);

        // Predicted classes 1, 0, 2, 0: right, wrong, wrong, right.
        Assert.Equal(0.5, Metric.Accuracy.Compute(output, labels), 12);
        Assert.Equal(0.5, Metric.Accuracy.Compute(output, oneHot), 12);
        // The two best: {1,2} has 1, {0,1} has 1, {2,1} lacks 0, {0,2} has 0.
        Assert.Equal(0.75, Metric.TopK(2).Compute(output, labels), 12);
        Assert.Equal(0.75, Metric.TopK(2).Compute(output, oneHot), 12);
        Assert.Equal(1.0, Metric.TopK(3).Compute(output, labels), 12);
        Assert.Equal(Metric.Accuracy.Compute(output, labels), Metric.TopK(1).Compute(output, labels), 12);
        Assert.Equal("top5", Metric.TopK(5).Name);
        Assert.Throws<ArgumentException>(() => Metric.TopK(4).Compute(output, labels));

        // One output: both sides of 0.5.
        var single = torch.tensor(new float[] { 0.8f, 0.3f, 0.1f, 0.6f }, [4, 1]);
        var targets = torch.tensor(new float[] { 1, 1, 0, 0 }, [4, 1]);
        Assert.Equal(0.5, Metric.Accuracy.Compute(single, targets), 12);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_epochs_without_improvement_and_restores_the_best_weights()
    {
        // Trained towards slope 3 but validated against slope 2.5: the validation loss falls, then rises.
        using var train = Slope(32, 3);
        using var validation = Slope(16, 2.5f);
        using var network = Compile(Line, 5);
        float[][] probe = [[-1f], [0.5f], [1f]];
        var predictions = new Dictionary<int, float[][]>();
        var options = new TrainingOptions
        {
            Epochs = 200,
            BatchSize = 8,
            Seed = 1,
            Loss = Loss.MeanSquaredError,
            Optimizer = Optimizer.Sgd(lr: 0.05),
            EarlyStopping = new EarlyStopping("val_loss", Patience: 3, RestoreBestWeights: true),
        };
        var result = network.Fit(train, validation, options, new Sync<EpochReport>(r => predictions[r.Epoch] = network.Predict(probe)));

        Assert.True(result.StoppedEarly);
        var losses = result.Epochs.Select(r => r.ValidationLoss!.Value).ToList();
        var best = losses.IndexOf(losses.Min()) + 1;
        Assert.True(best > 1, "the validation loss should fall before it rises");
        Assert.Equal(best, result.BestEpoch);
        Assert.Equal(best + 3, result.EpochsRun);
        Assert.True(result.RestoredBestWeights);
        Assert.Equal(predictions[best].SelectMany(p => p), network.Predict(probe).SelectMany(p => p));
        Assert.NotEqual(predictions[result.EpochsRun].SelectMany(p => p), network.Predict(probe).SelectMany(p => p));
    }

    [Fact]
    public void Early_stopping_watching_validation_without_validation_data_is_a_clear_error()
    {
        using var train = Slope(8, 1);
        using var network = Compile(Line, 1);
        var e = Assert.Throws<ArgumentException>(() => network.Fit(train, null,
            new TrainingOptions { Loss = Loss.MeanSquaredError, EarlyStopping = new EarlyStopping() }));
        Assert.Contains("no validation data", e.Message);
    }

    [Fact]
    public void The_validation_split_is_the_same_for_the_same_seed()
    {
        using var data = Clusters.Make(40, 3);
        double[] ValidationLosses(int seed)
        {
            using var network = Compile(Classifier, 2);
            var result = network.Fit(data, null, ClassifierOptions(3) with { Seed = seed, ValidationSplit = 0.25 });
            return result.Epochs.Select(r => r.Metrics["val_loss"]).ToArray();
        }
        Assert.Equal(ValidationLosses(11), ValidationLosses(11));
        Assert.NotEqual(ValidationLosses(11), ValidationLosses(12));
    }

    [Fact]
    public void Without_a_seed_the_validation_split_is_the_last_examples()
    {
        using var data = Clusters.Make(40, 3);
        using var network = Compile(Classifier, 2);
        var options = ClassifierOptions(1) with { Seed = null, Shuffle = false, ValidationSplit = 0.25, Optimizer = Optimizer.Sgd(lr: 1e-12) };
        var report = network.Fit(data, null, options).Epochs[0];
        var features = Enumerable.Range(30, 10).Select(i => ReadFeatures(data, i)).ToArray();
        var labels = Enumerable.Range(30, 10).Select(i => i % 3).ToArray();
        using var last = new InMemoryDataset(features, labels, 3);
        Assert.Equal(network.Evaluate(last, Loss.CrossEntropy).Loss, report.Metrics["val_loss"], 5);
    }

    private static float[] ReadFeatures(IDataset data, int index)
    {
        using var batch = data.ReadRange(index, 1);
        return batch.Features.data<float>().ToArray();
    }

    [Fact]
    public void A_user_metric_is_reported_for_training_and_validation_and_can_drive_early_stopping()
    {
        using var train = Clusters.Make(30, 1);
        using var validation = Clusters.Make(15, 2);
        using var network = Compile(Classifier, 3);
        var spread = Metric.Create("spread", (output, _) => output.std().ToDouble(), higherIsBetter: false);
        var result = network.Fit(train, validation, ClassifierOptions(4) with
        {
            Metrics = [spread],
            EarlyStopping = new EarlyStopping("val_spread", Patience: 10),
        });
        Assert.All(result.Epochs, r =>
        {
            Assert.True(r.Metrics.ContainsKey("spread"));
            Assert.True(r.Metrics["val_spread"] > 0);
        });
        Assert.NotNull(result.BestEpoch);
        Assert.Throws<ArgumentException>(() => Metric.Create("val_x", (_, _) => 0));
    }

    [Fact]
    public void Cancelling_mid_epoch_stops_after_the_current_step_with_the_weights_intact()
    {
        using var train = Clusters.Make(64, 1);
        using var network = Compile(Classifier, 3);
        using var cancel = new CancellationTokenSource();
        var batches = new List<BatchReport>();
        var options = ClassifierOptions(5) with
        {
            BatchProgress = new Sync<BatchReport>(b =>
            {
                batches.Add(b);
                if (b.Epoch == 2 && b.Batch == 2) cancel.Cancel();
            }),
        };
        var result = network.Fit(train, null, options, cancellation: cancel.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(1, result.EpochsRun);
        Assert.Equal(6, batches.Count); // four in epoch 1, two in epoch 2
        Assert.Equal(4, batches[0].Batches);
        Assert.All(network.Predict([[0f, 3f]])[0], v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Evaluate_is_the_mean_of_batch_losses_weighted_by_batch_size()
    {
        using var data = Clusters.Make(10, 4);
        using var network = Compile(Classifier, 6);
        var batched = network.Evaluate(data, Loss.CrossEntropy, [Metric.Accuracy], batchSize: 4);

        double expected = 0, accuracy = 0;
        foreach (var (start, rows) in new[] { (0, 4), (4, 4), (8, 2) })
        {
            var features = Enumerable.Range(start, rows).Select(i => ReadFeatures(data, i)).ToArray();
            using var part = new InMemoryDataset(features, Enumerable.Range(start, rows).Select(i => i % 3).ToArray(), 3);
            var one = network.Evaluate(part, Loss.CrossEntropy, [Metric.Accuracy], batchSize: rows);
            expected += one.Loss * rows;
            accuracy += one.Metrics["accuracy"] * rows;
        }
        Assert.Equal(expected / 10, batched.Loss, 10);
        Assert.Equal(accuracy / 10, batched.Metrics["accuracy"], 10);
        Assert.Equal(10, batched.Examples);
        Assert.Equal(network.Evaluate(data, Loss.CrossEntropy, batchSize: 10).Loss, batched.Loss, 5);
    }

    [Fact]
    public async Task FitAsync_gives_the_same_epochs_as_Fit()
    {
        using var train = Clusters.Make(30, 1);
        using var a = Compile(Classifier, 3);
        using var b = Compile(Classifier, 3);
        var asynchronous = await a.FitAsync(train, null, ClassifierOptions(3), cancellation: TestContext.Current.CancellationToken);
        var synchronous = b.Fit(train, null, ClassifierOptions(3));
        Assert.Equal(synchronous.Epochs.Select(r => r.Loss), asynchronous.Epochs.Select(r => r.Loss));
    }

    [Fact]
    public void Fitting_leaves_no_native_tensors_behind()
    {
        using var train = Clusters.Make(48, 1);
        using var validation = Clusters.Make(12, 2);
        using var network = Compile(Classifier, 3);
        var options = ClassifierOptions(1) with
        {
            EarlyStopping = new EarlyStopping("val_accuracy", Patience: 2, RestoreBestWeights: true),
            Schedule = Schedule.Cosine(epochs: 6),
        };
        network.Fit(train, validation, options); // warm up

        var before = LiveTensors;
        network.Fit(train, validation, options with { Epochs = 6 });
        network.Evaluate(validation, Loss.CrossEntropy, [Metric.Accuracy, Metric.TopK(2)]);
        Assert.Equal(before, LiveTensors);
    }

    /// <summary>Reports on the calling thread at once (Progress&lt;T&gt; would post to a thread pool).</summary>
    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
