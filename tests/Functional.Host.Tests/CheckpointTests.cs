using System.Text.Json;
using Functional.Checkpoints;
using Functional.Data;
using Loss = Functional.Training.Loss;
using Functional.Lang.Checking;
using Functional.Host.Tests.Support;
using Functional.Networks;
using Functional.Training;

namespace Functional.Host.Tests;

public sealed class CheckpointTests : IDisposable
{
    private static readonly FnnFile XorFile = FnnFile.Load(Repository.XorSource);
    private readonly string directory = Directory.CreateTempSubdirectory("functional-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_saved_network_loads_back_with_identical_predictions()
    {
        var plan = XorFile.TrainingPlan("XorByHand") with { Epochs = 30 };
        float[][] expected;
        using (var network = XorFile.Compile("XorByHand", new NetworkOptions { Seed = 5 }))
        {
            var result = network.Train(plan);
            network.Save(directory, new TrainingSummary(5, result.EpochsRun, "sgd", 0.5, "mse", result.FinalLoss));
            expected = network.Predict(plan.Inputs);
        }
        using var loaded = Network.Load(Repository.XorSource, directory);
        Assert.Equal("XorByHand", loaded.Name);
        Assert.Equal(expected, loaded.Predict(plan.Inputs));
    }

    [Fact]
    public void The_checkpoint_holds_safetensors_weights_and_readable_metadata()
    {
        using (var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 }))
            network.Save(directory);

        var header = SafeTensors.ReadHeader(Path.Combine(directory, Checkpoint.WeightsFile));
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight"], header.Entries.Select(e => e.Name).Order());
        Assert.Equal([4L, 2L], header.Entries.Single(e => e.Name == "0.weight").Shape);
        Assert.All(header.Entries, e => Assert.Equal("F32", e.DType));
        Assert.Equal("pt", header.Metadata["format"]);

        var metadata = Checkpoint.ReadMetadata(directory);
        Assert.Equal("Xor", metadata.Model);
        Assert.Equal("xor.fnn", metadata.Source);
        Assert.Equal(XorFile.SourceHash, metadata.SourceSha256);
        Assert.Equal("[2]", metadata.Input);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, Checkpoint.MetadataFile)));
        Assert.Equal(CheckpointMetadata.CurrentFormat, json.RootElement.GetProperty("format").GetString());
    }

    [Fact]
    public void Weights_of_another_model_are_refused_with_the_reason()
    {
        using (var network = XorFile.Compile("Xor"))
            network.Save(directory);
        using var other = XorFile.Compile("XorByHand");
        var e = Assert.Throws<CheckpointMismatchException>(() => other.LoadWeights(directory));
        Assert.Contains("these weights belong to model Xor, not XorByHand", e.Message);
    }

    [Fact]
    public void Weights_of_a_changed_network_are_refused_naming_the_parameter()
    {
        using (var network = XorFile.Compile("Xor"))
            network.Save(directory);
        var wider = FnnFile.FromSource("model Xor : [2] -> [1] =\n    dense 8 >> sigmoid >> dense 1 >> sigmoid\n", "wider.fnn");
        using var changed = wider.Compile();
        var e = Assert.Throws<CheckpointMismatchException>(() => changed.LoadWeights(directory));
        Assert.Contains("'0.weight' has shape [4, 2] in the file but [8, 2] in Xor", e.Message);
    }

    [Fact]
    public void A_missing_or_truncated_checkpoint_is_a_clear_error()
    {
        Assert.Contains("is " + directory + " a checkpoint folder",
            Assert.Throws<FileNotFoundException>(() => Network.Load(Repository.XorSource, directory)).Message);

        using (var network = XorFile.Compile("Xor"))
            network.Save(directory);
        var weights = Path.Combine(directory, Checkpoint.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 5)]);
        using var fresh = XorFile.Compile("Xor");
        var e = Assert.Throws<CheckpointFormatException>(() => fresh.LoadWeights(directory));
        Assert.StartsWith(weights, e.Message);

        File.WriteAllText(Path.Combine(directory, Checkpoint.MetadataFile), "{ not json");
        Assert.IsType<CheckpointFormatException>(Assert.ThrowsAny<IOException>(() => Checkpoint.ReadMetadata(directory)));
    }

    /// <summary>Every file under <paramref name="root"/> with its bytes, to show that nothing changed.</summary>
    private static Dictionary<string, string> Contents(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToBase64String(File.ReadAllBytes(f)));

    private static InMemoryDataset XorData() =>
        new([[0f, 0f], [0f, 1f], [1f, 0f], [1f, 1f]], new[] { new[] { 0f }, new[] { 1f }, new[] { 1f }, new[] { 0f } });

    [Fact]
    public void Saving_into_a_folder_that_holds_other_files_is_refused_and_leaves_them_untouched()
    {
        var target = Directory.CreateDirectory(Path.Combine(directory, "mine")).FullName;
        File.WriteAllText(Path.Combine(target, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(target, Checkpoint.MetadataFile), "not a checkpoint's, but named like one");
        Directory.CreateDirectory(Path.Combine(target, "data"));
        File.WriteAllText(Path.Combine(target, "data", "train.csv"), "1,2,3");
        var before = Contents(target);

        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        var saved = Assert.Throws<IOException>(() => network.Save(target));
        Assert.Equal($"{target} is not a checkpoint folder: it holds data/, notes.txt. A checkpoint is saved only into a new or empty folder, " +
                     "or over an earlier checkpoint, so that no other file is overwritten or deleted: choose another folder", saved.Message);
        using var data = XorData();
        var fitted = Assert.Throws<IOException>(() => network.Fit(data, null,
            new TrainingOptions { Loss = Loss.MeanSquaredError, Epochs = 1, CheckpointDirectory = target }));
        Assert.Contains($"{target} is not a checkpoint folder: it holds data/, notes.txt.", fitted.Message);
        Assert.Equal(before, Contents(target));
    }

    [Fact]
    public void A_checkpoint_folder_is_replaced_by_the_next_run_and_nothing_is_left_beside_it()
    {
        var target = Path.Combine(directory, "run");
        using var data = XorData();
        var options = new TrainingOptions { Loss = Loss.MeanSquaredError, Epochs = 3, Seed = 1, CheckpointDirectory = target };
        using (var first = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 }))
            first.Fit(data, null, options);
        var firstWeights = File.ReadAllBytes(Path.Combine(target, Checkpoint.WeightsFile));
        using (var second = XorFile.Compile("Xor", new NetworkOptions { Seed = 2 }))
        {
            second.Fit(data, null, options with { Epochs = 2 });
            second.Save(target); // over the checkpoint Fit wrote, in place: the training state stays for --resume
        }
        Assert.Equal([Checkpoint.MetadataFile, "optimizer.bin", "training.json", Checkpoint.WeightsFile],
            Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.NotEqual(firstWeights, File.ReadAllBytes(Path.Combine(target, Checkpoint.WeightsFile)));
        Assert.Contains("\"epoch\": 2,", File.ReadAllText(Path.Combine(target, "training.json")));
        Assert.Equal(["run"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Fact]
    public void A_folder_beside_the_checkpoint_that_holds_other_files_is_not_deleted()
    {
        var target = Path.Combine(directory, "run");
        var next = Directory.CreateDirectory(target + ".next").FullName;
        File.WriteAllText(Path.Combine(next, "keep.txt"), "mine");
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        var e = Assert.Throws<IOException>(() => network.Fit(data, null,
            new TrainingOptions { Loss = Loss.MeanSquaredError, Epochs = 1, CheckpointDirectory = target }));
        Assert.StartsWith($"{next} is not a checkpoint folder: it holds keep.txt.", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(next, "keep.txt")));
    }

    [Fact]
    public void What_a_save_cut_short_left_beside_the_checkpoint_is_cleared()
    {
        var target = Path.Combine(directory, "run");
        var next = Directory.CreateDirectory(target + ".next").FullName;
        File.WriteAllText(Path.Combine(next, Checkpoint.WeightsFile + ".0123456789abcdef.tmp"), "half a file");
        File.WriteAllText(Path.Combine(next, Checkpoint.MetadataFile + ".tmp"), "{");
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        network.Fit(data, null, new TrainingOptions { Loss = Loss.MeanSquaredError, Epochs = 1, CheckpointDirectory = target });
        Assert.Equal(["run"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
        Assert.Equal("Xor", Checkpoint.ReadMetadata(target).Model);
    }
}
