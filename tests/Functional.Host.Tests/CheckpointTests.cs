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
    public void A_network_records_the_class_names_it_was_trained_with_and_loads_them_back()
    {
        var csv = Path.Combine(directory, "points.csv");
        File.WriteAllText(csv, "a,b,label\n0,0,zero\n0,1,one\n1,0,one\n1,1,zero\n");
        var source = Path.Combine(directory, "two.fnn");
        File.WriteAllText(source, "model Two : [2] -> [2] =\n    dense 2\n");
        var saved = Path.Combine(directory, "saved");
        using var data = CsvDataset.Open(csv);
        var options = new TrainingOptions { Loss = Loss.CrossEntropy, Epochs = 1 };
        using (var network = FnnFile.Load(source).Compile("Two", new NetworkOptions { Seed = 1 }))
        {
            Assert.Null(network.ClassNames);
            network.Fit(data, null, options);
            Assert.Equal(["one", "zero"], network.ClassNames);
            network.Save(saved);
        }
        Assert.Equal(["one", "zero"], Checkpoint.ReadMetadata(saved).Classes);
        using var loaded = Network.Load(source, saved);
        Assert.Equal(["one", "zero"], loaded.ClassNames);

        // Validation data numbered on its own is refused: its indices would mean other classes.
        var other = Path.Combine(directory, "zeros.csv");
        File.WriteAllText(other, "a,b,label\n0,0,zero\n");
        using var zeros = CsvDataset.Open(other);
        var e = Assert.Throws<ArgumentException>(() => loaded.Fit(data, zeros, options));
        Assert.Contains("classes (zero) are not the training data's (one, zero)", e.Message);
        using var mapped = CsvDataset.Open(other, new CsvOptions { ClassNames = loaded.ClassNames });
        loaded.Fit(data, mapped, options);
    }

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

    private const string Wide = """
        /// XOR with a hidden layer of any width
        model Wide (hidden = 4, slope = 0.5) : [2] -> [1] =
            dense hidden >> sigmoid >> dense 1 >> sigmoid
        """;

    private string WriteSource(string text)
    {
        var path = Path.Combine(directory, "wide.fnn");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_network_trained_with_other_hyperparameters_loads_with_them_and_predicts_and_evaluates()
    {
        var source = WriteSource(Wide);
        var weights = Path.Combine(directory, "wide");
        var plan = XorFile.TrainingPlan("Xor") with { Epochs = 20 };
        float[][] expected;
        using (var network = FnnFile.Load(source, new Dictionary<string, string> { ["hidden"] = "8", ["slope"] = "0.25" })
                   .Compile(options: new NetworkOptions { Seed = 4 }))
        {
            network.Train(plan);
            network.Save(weights);
            expected = network.Predict(plan.Inputs);
        }

        using var loaded = Network.Load(source, weights);
        Assert.Equal([8L, 2L], loaded.Parameters.Single(p => p.Path == "0.weight").Shape);
        Assert.Equal("8", loaded.Model.Hyperparameters["hidden"]);
        Assert.Equal("0.25", loaded.Model.Hyperparameters["slope"]);
        Assert.Equal(expected, loaded.Predict(plan.Inputs));
        Assert.True(loaded.Evaluate(plan) >= 0);
        Assert.Empty(loaded.Warnings);

        // Values that agree with the checkpoint are fine, in any spelling of the same number.
        using (var agreeing = Network.Load(source, weights, new NetworkLoadOptions { Hyperparameters = new Dictionary<string, string> { ["hidden"] = "8", ["slope"] = "2.5e-1" } }))
            Assert.Equal(expected, agreeing.Predict(plan.Inputs));
        var contradicting = Assert.Throws<ArgumentException>(() => Network.Load(source, weights,
            new NetworkLoadOptions { Hyperparameters = new Dictionary<string, string> { ["hidden"] = "16" } }));
        Assert.Equal($"hidden = 16 contradicts the checkpoint: {weights} was trained with hidden = 8 (model.json)", contradicting.Message);
    }

    [Fact]
    public void A_source_changed_since_the_checkpoint_is_named_in_a_warning_or_refused()
    {
        var source = WriteSource(Wide);
        var weights = Path.Combine(directory, "wide");
        using (var network = FnnFile.Load(source).Compile(options: new NetworkOptions { Seed = 1 }))
            network.Save(weights);
        File.WriteAllText(source, Wide.Replace("sigmoid >> dense 1", "tanh >> dense 1"));
        var now = FnnFile.Load(source).SourceHash;
        var recorded = Checkpoint.ReadMetadata(weights).SourceSha256;

        using (var loaded = Network.Load(source, weights))
            Assert.Equal([$"{source} has changed since the checkpoint in {weights} was written (its SHA-256 is {now[..12]}..., model.json records {recorded[..12]}...)"],
                loaded.Warnings);
        var refused = Assert.Throws<SourceChangedException>(() => Network.Load(source, weights, new NetworkLoadOptions { RequireUnchangedSource = true }));
        Assert.Equal((source, weights, recorded, now), (refused.SourcePath, refused.CheckpointDirectory, refused.RecordedSha256, refused.CurrentSha256));
        Assert.Contains("has changed since the checkpoint", refused.Message);

        File.WriteAllText(source, Wide.Replace("(hidden = 4, slope = 0.5)", "(hidden = 4)"));
        var gone = Assert.Throws<CheckpointMismatchException>(() => Network.Load(source, weights));
        Assert.Contains("Wide was trained with the hyperparameter slope = 0.5, which " + source + " no longer declares", gone.Message);
    }

    [Fact]
    public void Loading_can_be_cancelled_and_follows_the_recorded_precision()
    {
        using (var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1, Precision = Precision.Float64 }))
            network.Save(directory);
        using (var loaded = Network.Load(Repository.XorSource, directory))
            Assert.Equal(Precision.Float64, loaded.Options.Precision);
        using (var asked = Network.Load(Repository.XorSource, directory, new NetworkLoadOptions { Precision = Precision.Float32 }))
            Assert.Equal(Precision.Float32, asked.Options.Precision);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Network.Load(Repository.XorSource, directory, cancellation: cancelled.Token));
    }
}
