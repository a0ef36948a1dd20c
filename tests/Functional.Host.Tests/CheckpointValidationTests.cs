using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Functional.Checkpoints;
using Functional.Host.Tests.Support;
using Functional.Networks;
using Functional.Training;
using Functional.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Host.Tests;

/// <summary>
/// A checkpoint's files read from hostile bytes: every field is checked against the bytes left and what the
/// model (or optimizer) has, before anything is allocated from it; every failure names the place and what was expected.
/// </summary>
public sealed class CheckpointValidationTests : IDisposable
{
    private static readonly FnnFile XorFile = FnnFile.Load(Repository.XorSource);
    private readonly string directory = Directory.CreateTempSubdirectory("functional-validation-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static Data.InMemoryDataset XorData() =>
        new([[0f, 0f], [0f, 1f], [1f, 0f], [1f, 1f]], new[] { new[] { 0f }, new[] { 1f }, new[] { 1f }, new[] { 0f } });

    private static TrainingOptions Options(int epochs, string? checkpoint = null, string? resume = null) => new()
    {
        Loss = Training.Loss.MeanSquaredError, Epochs = epochs, Seed = 1, BatchSize = 2, CheckpointDirectory = checkpoint, ResumeFrom = resume,
    };

    /// <summary>A checkpoint of two epochs of Xor, written by Fit.</summary>
    private string Trained()
    {
        var checkpoint = Path.Combine(directory, "run");
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        network.Fit(data, null, Options(2, checkpoint));
        return checkpoint;
    }

    // ---- optimizer.bin ----

    private static Parameter Weights() => new(tensor(new[] { 1.0, -2.0, 3.0 }, dtype: ScalarType.Float64), requires_grad: true);

    private static void OneStep(TrainingOptimizer optimizer, Parameter w)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        (w * tensor(new[] { 0.5, -1.0, 2.0 }, dtype: ScalarType.Float64)).sum().backward();
        optimizer.Step();
    }

    /// <summary>
    /// adam over one float64 [3] parameter after one step. Its layout: magic 0-26, version 27, name 31, learning
    /// rate 36, parameter count 44, state tensor count 48, their names 52 and 60, the parameter's path 71 ("#0": it
    /// has no name), step count 74; exp_avg: flag 82, element type 83, rank 87, size 91, byte length 99, data
    /// 103-126; exp_avg_sq: flag 127, ... data 148-171.
    /// </summary>
    private static byte[] AdamState()
    {
        using var w = Weights();
        using var adam = Optimizer.Adam(lr: 0.01).Create([w]);
        OneStep(adam, w);
        var state = adam.SaveState();
        Assert.Equal(172, state.Length); // the layout above
        return state;
    }

    private static InvalidDataException Refused(byte[] state, string optimizer = "adam(lr=0.01)")
    {
        using var w = Weights();
        using var target = Optimizer.Parse(optimizer).Create([w]);
        return Assert.Throws<InvalidDataException>(() => target.LoadState(state));
    }

    private static byte[] WithInt32(byte[] state, int at, int value)
    {
        var copy = (byte[])state.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(at), value);
        return copy;
    }

    private static byte[] WithInt64(byte[] state, int at, long value)
    {
        var copy = (byte[])state.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(at), value);
        return copy;
    }

    /// <summary>A moment no run could make (NaN, infinite, a negative average of squares) is refused where it is, not
    /// found later as a diverged loss with advice to lower the learning rate.</summary>
    [Theory]
    [InlineData(103, double.NaN, "at byte 103 (parameter 0's exp_avg data): expected finite values, found NaN or infinity")]
    [InlineData(111, double.PositiveInfinity, "at byte 103 (parameter 0's exp_avg data): expected finite values")]
    [InlineData(148, -1.0, "at byte 148 (parameter 0's exp_avg_sq data): expected values of at least 0")]
    public void An_impossible_moment_value_is_refused_naming_its_offset(int at, double value, string expected)
    {
        var state = AdamState();
        BinaryPrimitives.WriteDoubleLittleEndian(state.AsSpan(at), value);
        Assert.Contains(expected, Refused(state).Message);
    }

    [Theory]
    [InlineData(44, -1, "at byte 44 (parameter count): the optimizer state is for -1 parameters, but this optimizer has 1")]
    [InlineData(44, int.MaxValue, "at byte 44 (parameter count): the optimizer state is for 2147483647 parameters")]
    [InlineData(48, 1_000_000_000, "at byte 48 (state tensor count): expected 2, found 1000000000")]
    [InlineData(83, 12345, "at byte 83 (parameter 0's exp_avg element type): expected a floating-point type code")]
    [InlineData(87, int.MaxValue, "at byte 87 (parameter 0's exp_avg rank): expected 1, found 2147483647")]
    [InlineData(87, -1, "at byte 87 (parameter 0's exp_avg rank): expected 1, found -1")]
    [InlineData(99, -1, "at byte 99 (parameter 0's exp_avg byte length): expected 24, found -1")]
    [InlineData(99, int.MaxValue, "at byte 99 (parameter 0's exp_avg byte length): expected 24, found 2147483647")]
    public void A_changed_count_rank_or_length_in_optimizer_state_names_its_offset(int at, int value, string expected) =>
        Assert.StartsWith(expected, Refused(WithInt32(AdamState(), at, value)).Message);

    [Fact]
    public void A_changed_size_step_count_or_rate_in_optimizer_state_names_its_offset()
    {
        var state = AdamState();
        Assert.StartsWith("at byte 91 (parameter 0's exp_avg size 0): expected 3 (the parameter is [3]), found 1099511627776",
            Refused(WithInt64(state, 91, 1L << 40)).Message);
        Assert.StartsWith("at byte 74 (parameter 0's step count): expected a number >= 0, found -5", Refused(WithInt64(state, 74, -5)).Message);
        Assert.StartsWith("at byte 36 (learning rate): expected a finite number >= 0, found NaN",
            Refused(WithInt64(state, 36, BitConverter.DoubleToInt64Bits(double.NaN))).Message);
        var huge = (byte[])state.Clone();
        huge[0] = 0xFF; // the magic's length, 7-bit encoded: now it goes on
        Assert.StartsWith("at byte 0 (magic):", Refused(huge).Message);
        Assert.StartsWith("at byte 31 (optimizer name): the optimizer state is of adam, not of sgd",
            Refused(state, "sgd(lr=0.1, momentum=0.9)").Message);
    }

    [Fact]
    public void An_optimizer_state_cut_short_anywhere_is_refused_as_cut_short()
    {
        var state = AdamState();
        for (var length = 0; length < state.Length; length++)
        {
            var e = Refused(state[..length]);
            Assert.Contains("cut short", e.Message);
        }
    }

    [Fact]
    public void A_missing_moment_is_an_error_not_an_inexact_resume()
    {
        var state = AdamState();
        var missing = state[..128];
        missing[127] = 0; // exp_avg_sq: not saved
        Assert.StartsWith("at byte 127 (parameter 0's exp_avg_sq flag): parameter 0 has had 1 updates, so its exp_avg_sq must be saved, but it is missing",
            Refused(missing).Message);
        // Bytes after the state: not the state it claims to be.
        Assert.StartsWith("at byte 172 (end): expected the end of the state, but 3 more bytes follow", Refused([.. state, 1, 2, 3]).Message);
    }

    [Fact]
    public void Random_corruptions_of_optimizer_state_load_or_are_refused_and_never_half_load()
    {
        var state = AdamState();
        var random = new Random(7);
        using var w = Weights();
        using var target = Optimizer.Adam(lr: 0.01).Create([w]);
        var before = target.SaveState();
        for (var attempt = 0; attempt < 400; attempt++)
        {
            var bad = (byte[])state.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--) bad[random.Next(bad.Length)] = (byte)random.Next(256);
            try
            {
                target.LoadState(bad);
                target.LoadState(before); // back, for the next attempt
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("at byte ", e.Message);
                Assert.Equal(before, target.SaveState()); // nothing changed
            }
        }
    }

    // ---- training.json ----

    private string StatePath(string checkpoint) => Path.Combine(checkpoint, TrainingState.StateFile);

    /// <summary>The checkpoint's training.json after <paramref name="change"/>; returns its path.</summary>
    private string ChangedState(Action<JsonObject> change)
    {
        var path = StatePath(Trained());
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Fact]
    public void The_random_generator_state_has_the_size_libtorch_measures()
    {
        Assert.Equal(5056, SessionRandom.StateBytes); // libtorch 2.10's CPUGeneratorImplState
        var saved = TrainingState.Read(StatePath(Trained()));
        Assert.Null(SessionRandom.Check(saved.RandomState));
    }

    public static TheoryData<string, string> StateCorruptions => new()
    {
        { "epoch=missing", "epoch: missing (it is required)" },
        { "epoch=-5", "epoch: expected a whole number from 1 to 100000000, found -5" },
        { "epoch=2147483647", "epoch: expected a whole number from 1 to 100000000, found 2147483647" },
        { "epoch=1.5", "epoch: expected a whole number from 1 to 100000000, found 1.5" },
        { "epoch=3", "history: expected 3 entries, one for each epoch done (epoch is 3), found 2" },
        { "steps=-1", "steps: expected a whole number from 0 to" },
        { "schedule=null", "schedule: is null (it is required)" },
        { "schedule.epochs=7", "schedule.epochs: expected a whole number from 2 to 2, found 7" },
        { "history=null", "history: is null (it is required)" },
        { "history[0]=null", "history[0]: expected an object (an epoch's report), found null" },
        { "history[1]={}", "history[1].metrics: missing (it is required)" },
        { "history[1].epoch=5", "history[1].epoch: expected a whole number from 2 to 2, found 5" },
        { "history[1].elapsedSeconds=1e300", "history[1].elapsedSeconds: expected a number from 0 to 1000000000, found 1e300" },
        { "history[0].durationSeconds=\"Infinity\"", "history[0].durationSeconds: expected a number from 0 to 1000000000, found the string \"Infinity\"" },
        { "history[0].loss=\"NaN\"", "history[0].loss: expected a number" },
        { "randomState=\"\"", "randomState: is empty (expected a non-empty string)" },
        { "randomState=\"AAAA\"", "randomState: expected the random generator's state of 5056 bytes (libtorch's CPU generator), found 3 bytes" },
        { "randomState=\"!!\"", "randomState: expected the random generator's state in base64" },
        { "randomState=ff", "randomState: expected a random generator state whose indices lie in 1..624 (left) and 0..624 (next), found -1 and 18446744073709551615" },
        { "earlyStopping={}", "earlyStopping.best: missing (it is required)" },
        { "shuffleSeed=\"x\"", "shuffleSeed: expected a whole number from -2147483648 to 2147483647, found the string \"x\"" },
    };

    private static void Apply(JsonObject json, string change)
    {
        var (target, value) = (change[..change.IndexOf('=')], change[(change.IndexOf('=') + 1)..]);
        JsonNode parent = json;
        var parts = target.Split('.');
        foreach (var part in parts[..^1])
            parent = part.EndsWith(']') ? parent[part[..part.IndexOf('[')]]![int.Parse(part[(part.IndexOf('[') + 1)..^1])]! : parent[part]!;
        var last = parts[^1];
        JsonNode? node = value switch
        {
            "ff" => JsonValue.Create(Convert.ToBase64String(Enumerable.Repeat((byte)0xFF, 5056).ToArray())),
            "missing" => null,
            _ => JsonNode.Parse(value),
        };
        if (last.EndsWith(']'))
        {
            var name = last[..last.IndexOf('[')];
            var index = int.Parse(last[(last.IndexOf('[') + 1)..^1]);
            parent[name]!.AsArray()[index] = node;
        }
        else if (value == "missing") parent.AsObject().Remove(last);
        else parent[last] = node;
    }

    [Theory]
    [MemberData(nameof(StateCorruptions))]
    public void A_wrong_field_in_training_json_is_named_with_what_was_expected(string change, string expected)
    {
        var path = ChangedState(json => Apply(json, change));
        var e = Assert.Throws<CheckpointFormatException>(() => TrainingState.Read(path));
        Assert.True(e.Message.StartsWith($"{path}: {expected}", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void An_empty_or_non_json_training_state_is_named()
    {
        var path = StatePath(Trained());
        File.WriteAllText(path, "");
        Assert.Equal($"{path}: it is empty (expected a JSON object)", Assert.Throws<CheckpointFormatException>(() => TrainingState.Read(path)).Message);
        File.WriteAllText(path, "[1]");
        Assert.Equal($"{path}: expected a JSON object, found an array", Assert.Throws<CheckpointFormatException>(() => TrainingState.Read(path)).Message);
        File.WriteAllText(path, "{\"epoch\": 1, \"epoch\": 2}");
        Assert.StartsWith($"{path}: it is not valid JSON", Assert.Throws<CheckpointFormatException>(() => TrainingState.Read(path)).Message);
    }

    [Theory]
    [InlineData("randomState=ff", "randomState: expected a random generator state")]
    [InlineData("epoch=2147483647", "epoch: expected a whole number")]
    [InlineData("shuffleSeed=5", "shuffleSeed: the checkpoint's run shuffled with seed 5, but this run's seed is 1; resume with seed 5")]
    public void A_resumed_run_refuses_a_wrong_training_state_before_it_trains(string change, string expected)
    {
        var path = ChangedState(json => Apply(json, change));
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        var checkpoint = Path.GetDirectoryName(path)!;
        var e = Assert.Throws<CheckpointFormatException>(() => network.Fit(data, null, Options(4, checkpoint, checkpoint)));
        Assert.True(e.Message.StartsWith($"{path}: {expected}", StringComparison.Ordinal), e.Message);
    }

    // ---- model.json ----

    private string ChangedMetadata(Action<JsonObject> change)
    {
        var checkpoint = Trained();
        var path = Path.Combine(checkpoint, Checkpoint.MetadataFile);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Theory]
    [InlineData("model=null", "model: is null (it is required)")]
    [InlineData("model=missing", "model: missing (it is required)")]
    [InlineData("model=\"\"", "model: is empty (expected a non-empty string)")]
    [InlineData("model=5", "model: expected a string, found 5")]
    [InlineData("sourceSha256=\"abc\"", "sourceSha256: expected 64 hexadecimal digits (a SHA-256), found \"abc\"")]
    [InlineData("parameters=null", "parameters: is null (it is required)")]
    [InlineData("parameters[0]=null", "parameters[0]: expected an object (a parameter's name and shape), found null")]
    [InlineData("parameters[0].shape=[-4,2]", "parameters[0].shape[0]: expected a whole number from 0 to 2147483647, found -4")]
    [InlineData("hyperparameters=null", "hyperparameters: is null (it is required)")]
    [InlineData("precision=\"float16\"", "unknown precision 'float16' (expected float32 or float64)")]
    [InlineData("created=\"yesterday\"", "created: expected a date and time (ISO 8601), found the string \"yesterday\"")]
    [InlineData("training.epochs=-1", "training.epochs: expected a whole number from 0 to 2147483647, found -1")]
    public void A_wrong_field_in_model_json_is_named_with_what_was_expected(string change, string expected)
    {
        var path = ChangedMetadata(json => Apply(json, change));
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadMetadata(Path.GetDirectoryName(path)!));
        Assert.True(e.Message.StartsWith($"{path}: {expected}", StringComparison.Ordinal), e.Message);
        // And loading the network says the same, not "weights belong to model , not Xor".
        Assert.StartsWith($"{path}: {expected}", Assert.Throws<CheckpointFormatException>(() => Network.Load(Repository.XorSource, Path.GetDirectoryName(path)!)).Message);
    }

    [Fact]
    public void A_parameter_list_that_disagrees_with_the_model_is_named()
    {
        var path = ChangedMetadata(json => json["parameters"]!.AsArray().RemoveAt(3));
        using var network = XorFile.Compile("Xor");
        var e = Assert.Throws<CheckpointMismatchException>(() => network.LoadWeights(Path.GetDirectoryName(path)!));
        Assert.Equal($"{path}: parameters: lists 3 parameters, but Xor has 4 (the first not listed is '2.bias')", e.Message);
    }

    // ---- weights.safetensors, against the model ----

    /// <summary>The checkpoint's weights with one more tensor declared: <paramref name="bytes"/> long, in a sparse file.</summary>
    private string WithExtraTensor(long bytes)
    {
        var checkpoint = Trained();
        var path = Path.Combine(checkpoint, Checkpoint.WeightsFile);
        var original = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var header = JsonNode.Parse(original.AsSpan(8, headerLength))!.AsObject();
        var dataLength = original.Length - 8L - headerLength;
        header["huge"] = new JsonObject
        {
            ["dtype"] = "F32", ["shape"] = new JsonArray(bytes / 4), ["data_offsets"] = new JsonArray(dataLength, dataLength + bytes),
        };
        var text = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = text.Concat(Enumerable.Repeat((byte)' ', (8 - text.Length % 8) % 8)).ToArray();
        using var stream = File.Create(path);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded.Length);
        stream.Write(prefix);
        stream.Write(padded);
        stream.Write(original, 8 + headerLength, (int)dataLength);
        stream.SetLength(stream.Length + bytes); // sparse: no disk, and no memory unless something reads it
        return path;
    }

    [Fact]
    public void A_weights_file_declaring_an_extra_100_GB_tensor_is_refused_from_its_header()
    {
        var path = WithExtraTensor(100L << 30);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var network = XorFile.Compile("Xor");
        var e = Assert.Throws<CheckpointMismatchException>(() => network.LoadWeights(Path.GetDirectoryName(path)!));
        Assert.Equal($"{path}: these weights are for a different network: missing none, unexpected huge", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}"); // reading 100 GB would take minutes
        Assert.Equal(5, SafeTensors.ReadHeader(path).Entries.Count); // the header itself is sound: only the comparison refuses it
    }

    [Fact]
    public void Weights_holding_NaN_are_refused_naming_the_tensor()
    {
        var checkpoint = Trained();
        var path = Path.Combine(checkpoint, Checkpoint.WeightsFile);
        var header = SafeTensors.ReadHeader(path);
        var entry = header.Entries.Single(e => e.Name == "0.weight");
        var bytes = File.ReadAllBytes(path);
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, header.DataStart + entry.DataBegin);
        File.WriteAllBytes(path, bytes);
        using var network = XorFile.Compile("Xor");
        Assert.Equal($"{path}: '0.weight' holds NaN or infinite values: these weights cannot predict anything",
            Assert.Throws<CheckpointFormatException>(() => network.LoadWeights(checkpoint)).Message);
    }

    [Fact]
    public void An_optimizer_step_count_beyond_the_runs_steps_is_refused()
    {
        var checkpoint = Trained();
        var path = Path.Combine(checkpoint, TrainingState.OptimizerFile);
        var bytes = File.ReadAllBytes(path);
        // sgd's first step count: magic 27, version 4, "sgd" 4, rate 8, count 4, slot count 4, "momentum_buffer" 16,
        // the parameter's path "0.weight" 9.
        Assert.Equal(4L, BitConverter.ToInt64(bytes, 76)); // two epochs of two batches
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(76), 1L << 40);
        File.WriteAllBytes(path, bytes);
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        var e = Assert.Throws<CheckpointFormatException>(() => network.Fit(data, null, Options(4, checkpoint, checkpoint)));
        Assert.Equal($"{path}: at byte 76 (parameter 0's step count): expected a number from 0 to 4 (the run's steps), found 1099511627776", e.Message);
    }

    [Fact]
    public void A_plateau_best_value_in_another_schedules_state_is_refused()
    {
        var path = ChangedState(json => json["schedule"]!["best"] = 1.5);
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        var checkpoint = Path.GetDirectoryName(path)!;
        var e = Assert.Throws<CheckpointFormatException>(() => network.Fit(data, null, Options(4, checkpoint, checkpoint)));
        Assert.StartsWith($"{path}: schedule: the state holds reduce-on-plateau's best value or counters, but the schedule is", e.Message);
    }

    // ---- writing checkpoints, and finding them after a crash ----

    [Fact]
    public void A_checkpoint_folder_given_with_a_trailing_slash_is_written_in_place()
    {
        var checkpoint = Path.Combine(directory, "run");
        using var data = XorData();
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        network.Fit(data, null, Options(3, checkpoint + Path.DirectorySeparatorChar));
        Assert.Equal(3, TrainingState.Read(StatePath(checkpoint)).Epoch);
        Assert.Equal(["run"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(checkpoint, ".next")));
    }

    [Fact]
    public void Saving_never_writes_through_a_fixed_temporary_name()
    {
        // Another saver's temporary file (here a dangling link, which a write to that name would fail on) is not in the way.
        var checkpoint = Directory.CreateDirectory(Path.Combine(directory, "shared")).FullName;
        File.CreateSymbolicLink(Path.Combine(checkpoint, Checkpoint.MetadataFile + ".tmp"), Path.Combine(directory, "no-such-folder", "x"));
        using var network = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 });
        network.Save(checkpoint);
        Assert.Equal("Xor", Checkpoint.ReadMetadata(checkpoint).Model);
        // Two networks saving into one folder at once: neither fails.
        using var other = XorFile.Compile("Xor", new NetworkOptions { Seed = 2 });
        Parallel.For(0, 20, i => (i % 2 == 0 ? network : other).Save(checkpoint));
    }

    /// <summary>Leaves the folders as a crash in <see cref="CheckpointFolder.Replace"/> would: <paramref name="arrange"/> moves them.</summary>
    private (string Checkpoint, float[][] Expected) Crashed(Action<string> arrange)
    {
        var checkpoint = Trained();
        float[][] expected;
        using (var network = Network.Load(Repository.XorSource, checkpoint))
            expected = network.Predict([[0f, 1f], [1f, 1f]]);
        arrange(checkpoint);
        return (checkpoint, expected);
    }

    [Fact]
    public void After_a_crash_between_the_renames_the_newest_complete_checkpoint_is_found()
    {
        // Moved aside and the new one not yet moved in: DIR is missing, DIR.next holds the newest.
        var (checkpoint, expected) = Crashed(c => Directory.Move(c, c + ".next"));
        Assert.Equal(checkpoint + ".next", CheckpointFolder.Newest(checkpoint));
        using (var loaded = Network.Load(Repository.XorSource, checkpoint))
            Assert.Equal(expected, loaded.Predict([[0f, 1f], [1f, 1f]]));
        Assert.Equal(2, TrainingState.Load(checkpoint).State.Epoch);
        using (var data = XorData())
        using (var resumed = XorFile.Compile("Xor", new NetworkOptions { Seed = 1 }))
            Assert.Equal(4, resumed.Fit(data, null, Options(4, checkpoint, checkpoint)).EpochsRun);
        Assert.Equal(4, TrainingState.Read(StatePath(checkpoint)).Epoch);
        Assert.False(Directory.Exists(checkpoint + ".next"));
    }

    [Fact]
    public void An_incomplete_checkpoint_is_passed_over_for_a_complete_copy()
    {
        // DIR.next cut short (no training.json yet), DIR moved aside as DIR.previous: the previous one is whole.
        var (checkpoint, expected) = Crashed(c =>
        {
            Directory.Move(c, c + ".previous");
            Directory.CreateDirectory(c + ".next");
            File.Copy(Path.Combine(c + ".previous", Checkpoint.WeightsFile), Path.Combine(c + ".next", Checkpoint.WeightsFile));
            File.Copy(Path.Combine(c + ".previous", Checkpoint.MetadataFile), Path.Combine(c + ".next", Checkpoint.MetadataFile));
        });
        Assert.Equal(checkpoint + ".previous", CheckpointFolder.Newest(checkpoint));
        using (var loaded = Network.Load(Repository.XorSource, checkpoint))
            Assert.Equal(expected, loaded.Predict([[0f, 1f], [1f, 1f]]));

        // DIR there but its model.json cut short, and DIR.previous whole.
        (checkpoint, _) = (Path.Combine(directory, "second"), 0);
        Directory.Move(Path.Combine(directory, "run.previous"), checkpoint + ".previous");
        Directory.CreateDirectory(checkpoint);
        File.WriteAllText(Path.Combine(checkpoint, Checkpoint.MetadataFile), "{\"format\": ");
        Assert.Equal(checkpoint + ".previous", CheckpointFolder.Newest(checkpoint));
        Assert.Equal(2, TrainingState.Load(checkpoint).State.Epoch);
        // Nothing complete at all: the folder itself, whose error says why.
        Directory.Delete(checkpoint + ".previous", recursive: true);
        Assert.Equal(checkpoint, CheckpointFolder.Newest(checkpoint));
        Assert.StartsWith(Path.Combine(checkpoint, Checkpoint.MetadataFile), Assert.Throws<CheckpointFormatException>(() => Network.Load(Repository.XorSource, checkpoint)).Message);
    }

    [Fact]
    public void Fnn_train_resume_without_out_saves_into_the_folder_it_resumes_from_and_says_so()
    {
        var checkpoint = Path.Combine(directory, "run");
        var first = Processes.Fnn("train", Repository.XorSource, "--model", "XorByHand", "--epochs", "2", "--out", checkpoint + "/");
        Assert.True(first.ExitCode == 0, first.Error + first.Output);
        Assert.Equal(2, TrainingState.Read(StatePath(checkpoint)).Epoch);
        var resumed = Processes.Fnn("train", Repository.XorSource, "--model", "XorByHand", "--epochs", "4", "--resume", checkpoint);
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.Contains($"; resuming {checkpoint} and saving into it (no --out)", resumed.Output.Split('\n')[0]);
        Assert.Equal(4, TrainingState.Read(StatePath(checkpoint)).Epoch);
    }
}
