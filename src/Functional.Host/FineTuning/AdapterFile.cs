using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Functional.Checkpoints;
using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.FineTuning;

/// <summary>
/// A LoRA adapter on disk, in Hugging Face PEFT's format and naming: <c>adapter_model.safetensors</c> holds
/// <c>base_model.model.PATH.lora_A.weight</c> and <c>lora_B.weight</c> for each adapted projection (and
/// <c>base_model.model.PATH</c> for each base parameter trained beside them, such as a new head), and
/// <c>adapter_config.json</c> PEFT's fields (<c>peft_type</c>, <c>r</c>, <c>lora_alpha</c>, <c>lora_dropout</c>,
/// <c>target_modules</c>, <c>bias</c>, <c>base_model_name_or_path</c>, ...) plus a <c>functional</c> object naming the
/// base: its model, source hash, weights hash and the shapes of the adapted weights, so that loading onto another
/// base is an error rather than a silently different model.
/// </summary>
public static class AdapterFile
{
    /// <summary>PEFT's name for the adapter's tensors.</summary>
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>PEFT's name for the adapter's settings.</summary>
    public const string ConfigFile = "adapter_config.json";

    private const string Prefix = "base_model.model.";
    private const long ConfigLimit = 16L << 20;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>What an adapter's config says about it and its base.</summary>
    internal sealed record Config(Lora.Settings Settings, IReadOnlyList<string> TargetPatterns, string Model, string SourceSha256,
        string? BaseWeightsSha256, IReadOnlyDictionary<string, long[]> BaseShapes, IReadOnlyList<string> TrainedBase);

    /// <summary>SHA-256 of a weights file, in lowercase hex (what an adapter records of its base).</summary>
    internal static string HashOf(string path)
    {
        using var stream = Functional.Files.openRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Writes the adapter of <paramref name="module"/> to <paramref name="directory"/> (created if needed; a folder
    /// holding other files is refused, so nothing else is overwritten).</summary>
    internal static void Save(CompiledModel module, Networks.FnnFile source, string? baseWeightsSha256, IReadOnlyList<string> targetPatterns,
        IReadOnlyCollection<string> trainedBase, string directory)
    {
        var lora = module.Lora?.Value ?? throw new InvalidOperationException($"{module.Model.Name} carries no LoRA adapters to save");
        CheckpointFolder.RequireWritable(directory);
        Directory.CreateDirectory(directory);
        var store = module.Store;
        var tensors = new List<KeyValuePair<string, torch.Tensor>>();
        foreach (var projection in lora.Projections)
        {
            tensors.Add(KeyValuePair.Create(Prefix + Lora.aOf(projection), store[Lora.aOf(projection)].Tensor));
            tensors.Add(KeyValuePair.Create(Prefix + Lora.bOf(projection), store[Lora.bOf(projection)].Tensor));
        }
        var trained = trainedBase.Where(p => !Lora.isAdapter(p)).Order(StringComparer.Ordinal).ToList();
        foreach (var path in trained) tensors.Add(KeyValuePair.Create(Prefix + path, store[path].Tensor));
        SafeTensors.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var shapes = new JsonObject();
        foreach (var projection in lora.Projections)
            shapes[Lora.weightOf(projection)] = new JsonArray(store[Lora.weightOf(projection)].Tensor.shape.Select(d => (JsonNode)d).ToArray());
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = null,
            ["r"] = lora.Rank,
            ["lora_alpha"] = lora.Alpha,
            ["lora_dropout"] = lora.Dropout,
            ["target_modules"] = new JsonArray(lora.Projections.Select(p => (JsonNode)p).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["use_rslora"] = false,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["modules_to_save"] = trained.Count == 0 ? null : new JsonArray(trained.Select(p => (JsonNode)p).ToArray()),
            ["base_model_name_or_path"] = module.Model.Name,
            ["functional"] = new JsonObject
            {
                ["format"] = 1,
                ["model"] = module.Model.Name,
                ["source"] = Path.GetFileName(source.Path),
                ["source_sha256"] = source.SourceHash,
                ["base_weights_sha256"] = baseWeightsSha256,
                ["target_patterns"] = new JsonArray(targetPatterns.Select(p => (JsonNode)p).ToArray()),
                ["base_shapes"] = shapes,
            },
        };
        Checkpoint.WriteAtomically(Path.Combine(directory, ConfigFile), config.ToJsonString(Indented));
    }

    /// <summary>Reads and checks an adapter folder's config (every field, before anything is compiled from it).</summary>
    /// <exception cref="FileNotFoundException">the folder has no adapter_config.json</exception>
    /// <exception cref="CheckpointFormatException">a field is missing or out of range (named by its JSON path)</exception>
    internal static Config ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{directory} holds no {ConfigFile}: it is not a LoRA adapter folder (written by fnn finetune --lora or Network.SaveAdapter)", path);
        var (json, root) = CheckedJson.Read(path, ConfigLimit);
        var type = json.Text(root, "", "peft_type");
        if (type != "LORA") throw json.Error("peft_type", $"expected \"LORA\", found {Excerpt.@short(type)}");
        var bias = json.Text(root, "", "bias");
        if (bias != "none") throw json.Error("bias", $"only adapters without bias terms are read (\"none\"), found {Excerpt.@short(bias)}");
        // Settings under which PEFT computes something else than this reader would: refused rather than misread.
        foreach (var flag in new[] { "fan_in_fan_out", "use_rslora", "use_dora" })
            if (CheckedJson.Optional(root, flag) is { } set && set.ValueKind != JsonValueKind.False)
                throw json.Error(flag, $"only adapters with {flag} false are read, found {CheckedJson.Found(set)}");
        var rank = json.Int(root, "", "r", 1, 4096);
        var alpha = json.Number(root, "", "lora_alpha", double.Epsilon, double.MaxValue);
        var dropout = json.Number(root, "", "lora_dropout", 0, 1, d => d < 1);
        var targets = Strings(json, json.Array(root, "", "target_modules"), "target_modules");
        if (targets.Count == 0) throw json.Error("target_modules", "expected at least one projection");
        var trained = CheckedJson.Optional(root, "modules_to_save") is { } saved ? Strings(json, json.Array(root, "", "modules_to_save"), "modules_to_save") : [];
        var ours = json.Object(root, "", "functional");
        json.Int(ours, "functional", "format", 1, 1); // the only format there is
        var model = json.Text(ours, "functional", "model");
        var sourceHash = json.Text(ours, "functional", "source_sha256");
        var weightsHash = CheckedJson.Optional(ours, "base_weights_sha256") is { } h ? json.Text(h, "functional.base_weights_sha256") : null;
        var patterns = Strings(json, json.Array(ours, "functional", "target_patterns"), "functional.target_patterns");
        var shapesObject = json.Object(ours, "functional", "base_shapes");
        var shapes = new Dictionary<string, long[]>();
        foreach (var property in shapesObject.EnumerateObject())
        {
            var at = $"functional.base_shapes.{property.Name}";
            if (property.Value.ValueKind != JsonValueKind.Array) throw json.Error(at, $"expected a shape (an array of sizes), found {CheckedJson.Found(property.Value)}");
            shapes[property.Name] = property.Value.EnumerateArray().Select((d, i) => json.Integer(d, $"{at}[{i}]", 1, int.MaxValue)).ToArray();
        }
        return new Config(new Lora.Settings(rank, alpha, dropout, Microsoft.FSharp.Collections.ListModule.OfSeq(targets)),
            patterns, model, sourceHash, weightsHash, shapes, trained);
    }

    /// <summary>
    /// Loads the adapter's tensors into <paramref name="module"/>, compiled with the config's adapters over the base it
    /// names: every tensor the adapter should hold must be there, of its shape and finite, before any is copied.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">the adapter is of another base (model, shapes or weights), or its tensors do not fit</exception>
    internal static void LoadInto(CompiledModel module, Config config, string directory, string? baseWeightsSha256)
    {
        var path = Path.Combine(directory, WeightsFile);
        var configPath = Path.Combine(directory, ConfigFile);
        var model = module.Model.Name;
        if (config.Model != model)
            throw new CheckpointMismatchException(configPath, $"this adapter was trained on model {Excerpt.@short(config.Model)}, not {model}");
        var store = module.Store;
        foreach (var projection in config.Settings.Projections)
            if (!config.BaseShapes.ContainsKey(Lora.weightOf(projection)))
                throw new CheckpointFormatException(configPath,
                    $"functional.base_shapes: holds no shape for '{Excerpt.@short(Lora.weightOf(projection))}', which target_modules adapts: the adapter cannot be checked against its base");
        foreach (var (weight, shape) in config.BaseShapes)
        {
            var slot = store.TryFind(weight);
            if (slot is null || !slot.Value.Tensor.shape.SequenceEqual(shape))
                throw new CheckpointMismatchException(configPath,
                    $"this adapter was trained on a {model} whose '{Excerpt.@short(weight)}' is [{string.Join(", ", shape)}], but this one's is " +
                    (slot is null ? "missing" : $"[{string.Join(", ", slot.Value.Tensor.shape)}]"));
        }
        if (config.BaseWeightsSha256 is { } wanted && baseWeightsSha256 is { } actual && wanted != actual)
            throw new CheckpointMismatchException(configPath,
                $"this adapter was trained from other weights of {model} (their weights.safetensors has SHA-256 {wanted[..12]}…, these {actual[..12]}…): load it onto the checkpoint it was fine-tuned from");
        var expected = new Dictionary<string, torch.Tensor>();
        foreach (var projection in config.Settings.Projections)
        {
            expected[Prefix + Lora.aOf(projection)] = store[Lora.aOf(projection)].Tensor;
            expected[Prefix + Lora.bOf(projection)] = store[Lora.bOf(projection)].Tensor;
        }
        foreach (var trained in config.TrainedBase)
        {
            var slot = store.TryFind(trained);
            if (slot is null) throw new CheckpointMismatchException(configPath, $"modules_to_save: {model} has no parameter '{Excerpt.@short(trained)}'");
            expected[Prefix + trained] = slot.Value.Tensor;
        }
        var header = SafeTensors.ReadHeader(path);
        var held = header.Entries.Select(e => e.Name).Where(n => !expected.ContainsKey(n)).ToList();
        if (held.Count > 0)
            throw new CheckpointFormatException(configPath,
                $"target_modules and modules_to_save do not list '{Excerpt.@short(held[0])}', which {WeightsFile} holds: the config is not this adapter's");
        Checkpoint.RequireFits(header, expected, path, model + "'s adapter");
        using var file = SafeTensors.Load(path);
        using (torch.NewDisposeScope())
            foreach (var (name, tensor) in file.Tensors)
                if (tensor.is_floating_point() && !torch.isfinite(tensor).all().item<bool>())
                    throw new CheckpointFormatException(path, $"'{Excerpt.@short(name)}' holds NaN or infinite values");
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in expected) target.copy_(file.Tensors[name]);
    }

    private static List<string> Strings(CheckedJson json, JsonElement array, string at) =>
        array.EnumerateArray().Select((e, i) => json.Text(e, $"{at}[{i}]")).ToList();
}
