using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Functional.Hostile.Corruptions;

/// <summary>The JSON files of a checkpoint and of a LoRA adapter, each read by the command that needs it: model.json by
/// predict and eval, training.json by a resumed run, adapter_config.json by predict --adapter.</summary>
internal sealed class CheckpointJson(string file, int perPath) : ICorruptions
{
    public string Kind => file;

    private bool OfAdapter => file == "adapter_config.json";

    private string Folder(Fixture fixture) => OfAdapter ? fixture.Adapter : fixture.Checkpoint;

    // Fields that are informative only: changing them leaves a valid file. A checkpoint's: when it was written, by which
    // version, how it was trained (a network saved untrained has none). An adapter's: what PEFT writes that changes
    // nothing here, fan_in_fan_out and use_rslora removed (false, PEFT's default), no base weights hash (an adapter PEFT
    // wrote has none: it is read without that check), and the target patterns (a record of what was asked).
    private string[] Informative => OfAdapter
        ? ["$.task_type", "$.init_lora_weights", "$.inference_mode", "$.base_model_name_or_path", "$.functional.source", "$.modules_to_save",
           "$.fan_in_fan_out removed", "$.use_rslora removed", "$.functional.base_weights_sha256 removed", "$.functional.target_patterns"]
        : ["$.created", "$.functionalVersion", "$.training"];

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var original = File.ReadAllText(Path.Combine(Folder(fixture), file));
        foreach (var (what, text, invalid) in JsonMutations.Systematic(original, perPath))
            yield return Run(fixture, what, Encoding.UTF8.GetBytes(text), invalid);
        yield return Run(fixture, "invalid UTF-8 in a string", [.. Encoding.UTF8.GetBytes("{\"model\": \""), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\"}")], true);
        yield return Run(fixture, "not JSON", Encoding.UTF8.GetBytes("r = 8"), true);
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var original = File.ReadAllText(Path.Combine(Folder(fixture), file));
        var (what, text, invalid) = JsonMutations.Random(original, random);
        return Run(fixture, what, Encoding.UTF8.GetBytes(text), invalid);
    }

    private Attempt Run(Fixture fixture, string what, byte[] bytes, bool invalid)
    {
        var folder = fixture.CopyOf(Folder(fixture));
        File.WriteAllBytes(Path.Combine(folder, file), bytes);
        var mustFail = invalid && !Informative.Any(p => what.StartsWith(p, StringComparison.Ordinal));
        return file switch
        {
            "training.json" => Checkpoints.Resume(fixture, folder, file, what, mustFail),
            "adapter_config.json" => Checkpoints.PredictWithAdapter(fixture, folder, file, what, mustFail),
            _ => Checkpoints.Predict(fixture, folder, file, what, mustFail),
        };
    }
}

/// <summary>optimizer.bin: every length, rank and count field, truncations and random bytes; read by a resumed run.</summary>
internal sealed class OptimizerState(int stride) : ICorruptions
{
    public string Kind => "optimizer.bin";

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var original = File.ReadAllBytes(Path.Combine(fixture.Checkpoint, Kind));
        foreach (var (what, bytes, broken) in ByteMutations.Systematic(original, span: 96, stride))
            yield return Run(fixture, what, bytes, mustFail: broken);
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var original = File.ReadAllBytes(Path.Combine(fixture.Checkpoint, Kind));
        var (what, bytes, broken) = ByteMutations.Random(original, random);
        // A changed byte inside a moment's values is a different but valid state.
        return Run(fixture, what, bytes, mustFail: broken);
    }

    private static Attempt Run(Fixture fixture, string what, byte[] bytes, bool mustFail)
    {
        var checkpoint = fixture.CopyOf(fixture.Checkpoint);
        File.WriteAllBytes(Path.Combine(checkpoint, "optimizer.bin"), bytes);
        return Checkpoints.Resume(fixture, checkpoint, "optimizer.bin", what, mustFail);
    }
}

/// <summary>weights.safetensors: its header's length field, every field of its JSON header, tensors declared but not
/// there (up to a terabyte), truncations and flipped bytes; read by predict.</summary>
internal sealed class WeightsFile(int perPath, bool adapter = false) : ICorruptions
{
    public string Kind => adapter ? "adapter_model.safetensors" : "weights.safetensors";

    private string Folder(Fixture fixture) => adapter ? fixture.Adapter : fixture.Checkpoint;

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var original = File.ReadAllBytes(Path.Combine(Folder(fixture), Kind));
        var (header, data) = Split(original);
        foreach (var (name, value) in new (string, ulong)[] { ("0", 0), ("1", 1), ("2^40", 1UL << 40), ("2^64-1", ulong.MaxValue), ("the file's length", (ulong)original.Length), ("one more than it is", (ulong)header.Length + 1) })
        {
            var bytes = (byte[])original.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
            yield return Run(fixture, $"header length set to {name}", bytes, mustFail: true);
        }
        foreach (var (what, text, invalid) in JsonMutations.Systematic(header, perPath))
            yield return Run(fixture, "header " + what, Join(text, data), mustFail: invalid && !what.StartsWith("$.__metadata__", StringComparison.Ordinal));
        foreach (var (label, elements) in new (string, long)[] { ("100 GB", 25L << 30), ("1 TB", 256L << 30) })
        {
            var root = JsonNode.Parse(header)!.AsObject();
            root["extra"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(elements), ["data_offsets"] = new JsonArray(data.Length, data.Length + elements * 4) };
            yield return Run(fixture, $"an extra tensor of {label} declared", Join(root.ToJsonString(), data), mustFail: true);
        }
        foreach (var (what, bytes, broken) in ByteMutations.Systematic(original, span: 0, stride: 4))
            yield return Run(fixture, what, bytes, mustFail: broken);
        var nan = (byte[])original.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(nan.AsSpan(original.Length - 4), float.NaN);
        yield return Run(fixture, "a weight set to NaN", nan, mustFail: true);
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var original = File.ReadAllBytes(Path.Combine(Folder(fixture), Kind));
        if (random.Next(2) == 0)
        {
            var (header, data) = Split(original);
            var (what, text, invalid) = JsonMutations.Random(header, random);
            return Run(fixture, "header " + what, Join(text, data), mustFail: invalid && !what.StartsWith("$.__metadata__", StringComparison.Ordinal));
        }
        var (changed, bytes, _) = ByteMutations.Random(original, random);
        // A changed byte in the tensor data is usually another valid weight (or a NaN, which must be refused).
        return Run(fixture, changed, bytes, mustFail: false);
    }

    private static (string Header, byte[] Data) Split(byte[] file)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (Encoding.UTF8.GetString(file, 8, length), file[(8 + length)..]);
    }

    private static byte[] Join(string header, byte[] data)
    {
        var text = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)text.Length);
        text.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + text.Length);
        return bytes;
    }

    private Attempt Run(Fixture fixture, string what, byte[] bytes, bool mustFail)
    {
        var folder = fixture.CopyOf(Folder(fixture));
        File.WriteAllBytes(Path.Combine(folder, Kind), bytes);
        return adapter
            ? Checkpoints.PredictWithAdapter(fixture, folder, Kind, what, mustFail)
            : Checkpoints.Predict(fixture, folder, Kind, what, mustFail);
    }
}

/// <summary>The commands that read a checkpoint.</summary>
internal static class Checkpoints
{
    public static Attempt Predict(Fixture fixture, string checkpoint, string kind, string what, bool mustFail) =>
        new(kind, what, ["predict", fixture.Source, "--weights", checkpoint, "--input", "0,1"], kind, mustFail);

    public static Attempt PredictWithAdapter(Fixture fixture, string adapter, string kind, string what, bool mustFail) =>
        new(kind, what, ["predict", fixture.Source, "--weights", fixture.Checkpoint, "--adapter", adapter, "--input", "0,1"], kind, mustFail);

    public static Attempt Resume(Fixture fixture, string checkpoint, string kind, string what, bool mustFail) =>
        new(kind, what, ["train", fixture.Source, "--model", "Tiny", "--resume", checkpoint, "--out", Path.Combine(Path.GetDirectoryName(checkpoint)!, "resumed"), "--epochs", "6"], kind, mustFail);
}
