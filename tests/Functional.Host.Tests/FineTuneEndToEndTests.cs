using System.Globalization;
using System.Text.RegularExpressions;
using Functional.Checkpoints;
using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary>
/// Fine-tuning through the real CLI, on a train block's own tiny data: fnn finetune with freezing, a replaced head,
/// LoRA with its adapter, merge and predict, a PyTorch state_dict with a key map, and the errors of each.
/// </summary>
public sealed class FineTuneEndToEndTests : IDisposable
{
    private const string Source = """
        model Base : [2] -> [3] =
            (dense 4 >> tanh) as enc >> dense 3 as head

        train Base with
            data = [ [0; 0] => [1; 0; 0]; [0; 1] => [0; 1; 0]; [1; 0] => [0; 1; 0]; [1; 1] => [0; 0; 1] ]
            loss = mse
            optimizer = adam (lr = 0.05)
            epochs = 3
            batch = 2

        model Two : [2] -> [2] =
            Base with head = dense 2

        train Two with
            data = [ [0; 0] => [1; 0]; [0; 1] => [0; 1]; [1; 0] => [0; 1]; [1; 1] => [1; 0] ]
            loss = mse
            epochs = 2
            batch = 2

        model Other : [2] -> [2] =
            (dense 4 >> tanh) as enc >> dense 2 as head

        train Other with
            data = [ [0; 0] => [1; 0]; [1; 1] => [0; 1] ]
            loss = mse
            epochs = 1
        """;

    private static readonly string Torch = Path.Combine(Repository.Root, "tests", "fixtures", "torch");

    private readonly string folder = Directory.CreateTempSubdirectory("functional-finetune-e2e-").FullName;
    private readonly string source;

    public FineTuneEndToEndTests()
    {
        source = Path.Combine(folder, "models.fnn");
        File.WriteAllText(source, Source);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Base(string name = "base")
    {
        var dir = Path.Combine(folder, name);
        var result = Processes.Fnn("train", source, "--model", "Base", "--out", dir);
        Assert.True(result.ExitCode == 0, result.Error);
        return dir;
    }

    private string Out(string name) => Path.Combine(folder, name);

    [Fact]
    public void Finetune_with_freeze_prints_the_mapping_and_keeps_frozen_tensors_byte_for_byte()
    {
        var @base = Base();
        var result = Processes.Fnn("finetune", source, "--model", "Base", "--from", @base, "--out", Out("tuned"), "--freeze", "enc.*", "--epochs", "2");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"Starting Base from {@base}: loaded 4 tensors", result.Output);
        Assert.Contains("  new: none", result.Output);
        Assert.Contains("  left out of the checkpoint: none", result.Output);
        Assert.Matches(@"training 15 of 27 parameters \(55\.56%\); frozen: 2 tensors", result.Output);

        using var before = SafeTensors.Load(Path.Combine(@base, "weights.safetensors"));
        using var after = SafeTensors.Load(Path.Combine(Out("tuned"), "weights.safetensors"));
        foreach (var name in new[] { "enc.0.weight", "enc.0.bias" })
            Assert.Equal(Bytes(before, name), Bytes(after, name));
        Assert.NotEqual(Bytes(before, "head.weight"), Bytes(after, "head.weight")); // the comparison can fail
    }

    [Fact]
    public void A_replaced_head_starts_new_and_a_head_of_another_shape_without_with_is_a_clear_error()
    {
        var @base = Base();
        var two = Processes.Fnn("finetune", source, "--model", "Two", "--from", @base, "--out", Out("two"));
        Assert.True(two.ExitCode == 0, two.Error);
        Assert.Contains($"Starting Two from {@base}: loaded 2 tensors", two.Output);
        Assert.Matches(@"new: head\.(bias|weight), head\.(bias|weight)", two.Output);
        Assert.Matches(@"left out of the checkpoint: head\.\w+ \(", two.Output);

        var other = Processes.Fnn("finetune", source, "--model", "Other", "--from", @base, "--out", Out("other"));
        Assert.Equal(1, other.ExitCode);
        Assert.Matches(@"'head\.(weight|bias)'", other.Error);
        Assert.Matches(@"is \[3(, 4)?\] in the checkpoint but \[2(, 4)?\] in", other.Error);
        Assert.DoesNotContain("   at ", other.Error);
    }

    [Fact]
    public void Lora_saves_a_small_adapter_that_predicts_as_its_merge_does()
    {
        var @base = Base();
        var tuned = Out("lora");
        var run = Processes.Fnn("finetune", source, "--model", "Base", "--from", @base, "--out", tuned, "--lora", "rank=1, alpha=2", "--lora-on", "head.weight");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(File.Exists(Path.Combine(tuned, "adapter_config.json")));
        var adapter = new FileInfo(Path.Combine(tuned, "adapter_model.safetensors"));
        Assert.True(adapter.Exists);
        Assert.False(File.Exists(Path.Combine(tuned, "weights.safetensors")));
        using (var file = SafeTensors.Load(adapter.FullName))
        using (var weights = SafeTensors.Load(Path.Combine(@base, "weights.safetensors")))
            Assert.True(Elements(file) * 3 < Elements(weights), $"adapter {Elements(file)} elements, base {Elements(weights)}");

        var merged = Out("merged");
        var merge = Processes.Fnn("merge", source, "--weights", @base, "--adapter", tuned, "--out", merged);
        Assert.True(merge.ExitCode == 0, merge.Error);
        var largest = Regex.Match(merge.Output, @"largest difference between merged and adapted outputs on \d+ probe examples: (\S+)");
        Assert.True(largest.Success, merge.Output);
        Assert.True(double.Parse(largest.Groups[1].Value, CultureInfo.InvariantCulture) < 1e-4, largest.Value);

        var adapted = Processes.Fnn("predict", source, "--weights", @base, "--adapter", tuned, "--input", "0,1", "--input", "1,1");
        var fromMerged = Processes.Fnn("predict", source, "--weights", merged, "--input", "0,1", "--input", "1,1");
        var plain = Processes.Fnn("predict", source, "--weights", @base, "--input", "0,1", "--input", "1,1");
        Assert.True(adapted.ExitCode == 0, adapted.Error);
        Assert.True(fromMerged.ExitCode == 0, fromMerged.Error);
        Assert.Equal(fromMerged.Output, adapted.Output);
        Assert.NotEqual(plain.Output, adapted.Output); // the adapter changed something: the comparison can fail

        // The adapter onto another checkpoint: a clear error.
        var another = Base("another");
        File.WriteAllText(source, Source.Replace("epochs = 3", "epochs = 4"));
        var anotherTrained = Processes.Fnn("train", source, "--model", "Base", "--out", another);
        Assert.True(anotherTrained.ExitCode == 0, anotherTrained.Error);
        File.WriteAllText(source, Source);
        var wrong = Processes.Fnn("predict", source, "--weights", another, "--adapter", tuned, "--input", "0,1");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("adapter", wrong.Error);
        Assert.DoesNotContain("   at ", wrong.Error);
    }

    [Fact]
    public void A_torch_state_dict_with_a_key_map_starts_a_finetune()
    {
        // The fixture's model, imported, with a train block of its own.
        var file = Path.Combine(folder, "torchy-train.fnn");
        File.WriteAllText(file, $"import \"{Path.Combine(Torch, "torchy.fnn")}\"\n\ntrain Torchy with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.01)\n");
        var result = Processes.Fnn("finetune", file, "--model", "Torchy", "--from", Path.Combine(Torch, "state_dict.safetensors"),
            "--key-map", "features.*=enc.*; classifier.*=head.*; version=", "--out", Out("torchy"), "--data", Csv(), "--epochs", "1", "--freeze", "enc.*");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("loaded 4 tensors", result.Output);
        Assert.Contains("new: none", result.Output);
    }

    [Fact]
    public void Flag_errors_are_clear_and_exit_1()
    {
        var @base = Base();
        var nothing = Processes.Fnn("finetune", source, "--model", "Base", "--from", @base, "--out", Out("x"), "--freeze", "encc.*");
        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("--freeze", nothing.Error);
        Assert.Contains("encc.*", nothing.Error);
        Assert.Contains("did you mean", nothing.Error);

        var noFrom = Processes.Fnn("finetune", source, "--model", "Base", "--out", Out("y"));
        Assert.Equal(1, noFrom.ExitCode);
        Assert.Contains("--from", noFrom.Error);

        var noTargets = Processes.Fnn("finetune", source, "--model", "Base", "--from", @base, "--out", Out("z"), "--lora", "rank=2");
        Assert.Equal(1, noTargets.ExitCode);
        Assert.Contains("--lora-on", noTargets.Error);
    }

    [Fact]
    public void Summary_shows_frozen_rows_and_the_trainable_share_and_refuses_a_pattern_matching_nothing()
    {
        var result = Processes.Fnn("summary", source, "--model", "Base", "--freeze", "enc.*");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("frozen", result.Output);
        Assert.Matches(@"15 of 27|55\.56%", result.Output);

        var bad = Processes.Fnn("summary", source, "--model", "Base", "--freeze", "nosuch.*");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("nosuch.*", bad.Error);
    }

    private string Csv()
    {
        var path = Path.Combine(folder, "torchy.csv");
        File.WriteAllText(path, "a,b,c,d,label\n" + string.Join("\n", Enumerable.Range(0, 9).Select(i => $"{i % 2},{i % 3},0.5,{i % 4},{i % 3}")) + "\n");
        return path;
    }

    private static byte[] Bytes(SafeTensorsFile file, string name) => file.Tensors[name].bytes.ToArray();

    private static long Elements(SafeTensorsFile file) => file.Tensors.Values.Sum(t => t.numel());
}
