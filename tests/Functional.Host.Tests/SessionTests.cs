using Functional.Data;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Callbacks;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>The training session: callbacks, and checkpoints that resume a cancelled or early-stopped run exactly.</summary>
public sealed class SessionTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("functional-session-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // Dropout (the random generator), adamw's moments and a cosine schedule all have to continue exactly.
    private const string Dropout = "model Drop : [2] -> [3] =\n    dense 16 >> relu >> dropout 0.3 >> dense 3\n";

    private static Network Compile(string source, int seed) =>
        FnnFile.FromSource(source).Compile(options: new NetworkOptions { Seed = seed });

    private static TrainingOptions Options(int epochs) => new()
    {
        Loss = Loss.CrossEntropy,
        Epochs = epochs,
        BatchSize = 8,
        Seed = 3,
        Optimizer = Optimizer.AdamW(lr: 0.01),
        Schedule = Schedule.Cosine(epochs: 6),
        Metrics = [Metric.Accuracy],
    };

    private static void AssertSameWeights(Network expected, Network actual)
    {
        var want = expected.Module.state_dict();
        foreach (var (name, tensor) in actual.Module.state_dict())
            Assert.True(tensor.bytes.SequenceEqual(want[name].bytes), $"{name} differs, byte for byte");
    }

    [Fact]
    public void A_run_cancelled_at_a_random_step_and_resumed_ends_with_the_weights_of_the_uninterrupted_run()
    {
        using var data = Clusters.Make(60, 5);
        using var valid = Clusters.Make(15, 6);
        using var whole = Compile(Dropout, 3);
        var uninterrupted = whole.Fit(data, valid, Options(6));
        var steps = (int)uninterrupted.Steps; // 8 batches an epoch
        Assert.Equal(48, steps);

        var resumedRuns = 0;
        foreach (var choice in new[] { 1, 2, 3 })
        {
            var at = new Random(choice).Next(1, steps); // cancelled after this step
            var checkpoint = Path.Combine(folder, $"run{choice}");
            using var cancel = new CancellationTokenSource();
            using (var first = Compile(Dropout, 3))
            {
                var stopped = first.Fit(data, valid, Options(6) with
                {
                    CheckpointDirectory = checkpoint,
                    Callbacks = [new CancelAtStep(at, cancel)],
                }, cancellation: cancel.Token);
                Assert.True(stopped.Cancelled);
                Assert.Equal(at, stopped.Steps);
                Assert.Equal(at / 8, stopped.EpochsRun);
                Assert.Equal(at >= 8 ? at / 8 : null, stopped.CheckpointEpoch);
            }
            if (at < 8)
            {
                Assert.False(Directory.Exists(checkpoint)); // no whole epoch: nothing written
                continue;
            }
            using var resumed = Compile(Dropout, 99); // other first weights: the checkpoint's replace them
            var continued = resumed.Fit(data, valid, Options(6) with { CheckpointDirectory = checkpoint, ResumeFrom = checkpoint });
            Assert.False(continued.Cancelled);
            Assert.Equal(uninterrupted.Epochs.Select(e => e.Loss), continued.Epochs.Select(e => e.Loss));
            AssertSameWeights(whole, resumed);
            resumedRuns++;
        }
        Assert.True(resumedRuns > 0, "no seeded choice fell after the first epoch");
    }

    [Fact]
    public void After_early_stopping_the_checkpoint_is_the_best_epochs_and_resuming_it_continues_as_the_uninterrupted_run()
    {
        using var data = Clusters.Make(60, 5);
        using var valid = Clusters.Make(15, 6);
        // A patience of 0 stops at the first epoch whose validation loss does not improve.
        var stopping = new EarlyStopping("val_accuracy", Patience: 0, RestoreBestWeights: true);
        var checkpoint = Path.Combine(folder, "run");
        TrainingResult stopped;
        using (var first = Compile(Dropout, 3))
        {
            stopped = first.Fit(data, valid, Options(20) with { EarlyStopping = stopping, CheckpointDirectory = checkpoint });
            Assert.True(stopped.StoppedEarly, "the run should stop early");
            Assert.True(stopped.RestoredBestWeights);
            Assert.Equal(stopped.BestEpoch, stopped.CheckpointEpoch);
            using var reloaded = Compile(Dropout, 7);
            reloaded.LoadWeights(checkpoint);
            AssertSameWeights(first, reloaded); // the folder holds the weights the run ended with
        }

        using var whole = Compile(Dropout, 3);
        var uninterrupted = whole.Fit(data, valid, Options(20));
        using var resumed = Compile(Dropout, 99);
        var continued = resumed.Fit(data, valid, Options(20) with { ResumeFrom = checkpoint });
        Assert.Equal(uninterrupted.Epochs.Select(e => e.Loss), continued.Epochs.Select(e => e.Loss));
        AssertSameWeights(whole, resumed);

        // Resumed with the same early stopping, it stops where the first run did.
        using var again = Compile(Dropout, 99);
        var same = again.Fit(data, valid, Options(20) with { ResumeFrom = checkpoint, EarlyStopping = stopping });
        Assert.Equal(stopped.Epochs.Select(e => e.Loss), same.Epochs.Select(e => e.Loss));
        Assert.Equal(stopped.BestEpoch, same.BestEpoch);
    }

    [Fact]
    public void A_run_with_early_stopping_cancelled_after_its_best_epoch_resumes_to_the_uninterrupted_runs_end()
    {
        // Early stopping's count and its best weights (kept beside the checkpoint) travel with the checkpoint.
        using var data = Clusters.Make(60, 5);
        using var valid = Clusters.Make(15, 6);
        var stopping = new EarlyStopping("val_loss", Patience: 3, RestoreBestWeights: true);
        TrainingOptions Stopping() => Options(20) with { EarlyStopping = stopping, Optimizer = Optimizer.AdamW(lr: 0.2) };
        using var whole = Compile(Dropout, 3);
        var uninterrupted = whole.Fit(data, valid, Stopping());
        Assert.NotNull(uninterrupted.BestEpoch);

        // Cancelled after the best epoch and at least one epoch without improvement, before the stop.
        var best = uninterrupted.BestEpoch!.Value;
        var cancelAfterEpoch = Math.Min(best + 1, uninterrupted.EpochsRun - 1);
        Assert.True(cancelAfterEpoch > best, $"best epoch {best} of {uninterrupted.EpochsRun}: no epoch to cancel after it");
        var checkpoint = Path.Combine(folder, "run");
        using var cancel = new CancellationTokenSource();
        using (var first = Compile(Dropout, 3))
        {
            var stopped = first.Fit(data, valid, Stopping() with
            {
                CheckpointDirectory = checkpoint,
                Callbacks = [new CancelAtStep(cancelAfterEpoch * 8 + 3, cancel)],
            }, cancellation: cancel.Token);
            Assert.True(stopped.Cancelled);
            Assert.Equal(cancelAfterEpoch, stopped.CheckpointEpoch);
        }
        Assert.True(File.Exists(Path.Combine(checkpoint, "best.safetensors")));

        using var resumed = Compile(Dropout, 99);
        var continued = resumed.Fit(data, valid, Stopping() with { ResumeFrom = checkpoint });
        Assert.Equal(uninterrupted.Epochs.Select(e => e.Loss), continued.Epochs.Select(e => e.Loss));
        Assert.Equal(uninterrupted.StoppedEarly, continued.StoppedEarly);
        Assert.Equal(uninterrupted.BestEpoch, continued.BestEpoch);
        Assert.Equal(uninterrupted.RestoredBestWeights, continued.RestoredBestWeights);
        AssertSameWeights(whole, resumed);
    }

    [Fact]
    public void Resuming_from_a_folder_that_does_not_exist_is_a_clear_error()
    {
        using var data = Clusters.Make(12, 1);
        using var network = Compile(Dropout, 1);
        var missing = Path.Combine(folder, "nowhere");
        var e = Assert.Throws<DirectoryNotFoundException>(() => network.Fit(data, null, Options(2) with { ResumeFrom = missing }));
        Assert.Contains($"{missing}: no such folder to resume from", e.Message);
    }

    [Fact]
    public void Callbacks_see_every_epoch_and_batch_in_order_and_can_stop_the_run()
    {
        using var data = Clusters.Make(24, 1); // three batches of 8
        using var network = Compile(Dropout, 1);
        var recorder = new Recorder(stopAfterEpoch: 2);
        var result = network.Fit(data, null, Options(5) with { Callbacks = [recorder] });

        Assert.Equal(
        [
            "train begin",
            "epoch 1 begin", "batch 1 begin", "batch 1 end", "batch 2 begin", "batch 2 end", "batch 3 begin", "batch 3 end", "epoch 1 end",
            "epoch 2 begin", "batch 1 begin", "batch 1 end", "batch 2 begin", "batch 2 end", "batch 3 begin", "batch 3 end", "epoch 2 end",
            "train end",
        ], recorder.Events);
        Assert.True(result.StoppedEarly);
        Assert.Equal("enough", result.StopReason);
        Assert.Equal(2, result.EpochsRun);
        Assert.Equal(6, result.Steps);
    }

    [Fact]
    public void A_custom_loss_written_over_tensors_trains_and_a_loss_of_many_numbers_is_refused()
    {
        var xs = Enumerable.Range(0, 16).Select(i => new[] { i / 8f - 1 }).ToArray();
        using var data = new InMemoryDataset(xs, xs.Select(x => new[] { 2 * x[0] }).ToArray());
        using var network = Compile("model Line : [1] -> [1] =\n    dense 1\n", 1);
        var squares = Loss.Custom("squares", (output, target) => (output - target).square().mean());
        var options = new TrainingOptions { Loss = squares, Epochs = 30, BatchSize = 4, Optimizer = Optimizer.Sgd(lr: 0.1) };
        var before = network.Evaluate(data, Loss.MeanSquaredError).Loss;
        var result = network.Fit(data, null, options);
        Assert.Equal("squares", squares.Name);
        Assert.True(network.Evaluate(data, Loss.MeanSquaredError).Loss < before / 10);
        Assert.Equal(network.Evaluate(data, Loss.MeanSquaredError).Loss, network.Evaluate(data, squares).Loss, 6);
        Assert.Equal(30, result.EpochsRun);

        var perExample = Loss.Custom("perExample", (output, target) => (output - target).square());
        var e = Assert.Throws<InvalidOperationException>(() => network.Fit(data, null, options with { Loss = perExample }));
        Assert.Contains("the loss 'perExample' gave a tensor of shape [4, 1]; a loss must give one number", e.Message);
    }

    [Fact]
    public void Training_without_a_loss_says_where_to_give_one()
    {
        using var data = Clusters.Make(6, 1);
        using var network = Compile(Dropout, 1);
        Assert.Contains("there is no loss: set TrainingOptions.Loss",
            Assert.Throws<ArgumentException>(() => network.Fit(data, null, new TrainingOptions())).Message);
    }

    [Fact]
    public async Task FitAsync_honours_a_token_cancelled_before_it_starts()
    {
        using var data = Clusters.Make(6, 1);
        using var network = Compile(Dropout, 1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => network.FitAsync(data, null, Options(2), cancellation: cancel.Token));
    }

    private sealed class CancelAtStep(int step, CancellationTokenSource cancel) : TrainingCallback
    {
        public override void OnBatchEnd(TrainingSession session, BatchReport batch)
        {
            if (session.Step == step) cancel.Cancel();
        }
    }

    private sealed class Recorder(int stopAfterEpoch) : TrainingCallback
    {
        public List<string> Events { get; } = [];
        public override void OnTrainBegin(TrainingSession session) => Events.Add("train begin");
        public override void OnEpochBegin(TrainingSession session) => Events.Add($"epoch {session.Epoch} begin");
        public override void OnBatchBegin(TrainingSession session) => Events.Add($"batch {session.Batch + 1} begin");
        public override void OnBatchEnd(TrainingSession session, BatchReport batch) => Events.Add($"batch {batch.Batch} end");

        public override void OnEpochEnd(TrainingSession session, EpochReport report)
        {
            Events.Add($"epoch {report.Epoch} end");
            if (report.Epoch == stopAfterEpoch) session.RequestStop("enough");
        }

        public override void OnTrainEnd(TrainingSession session) => Events.Add("train end");
    }
}
