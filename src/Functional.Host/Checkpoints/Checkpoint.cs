using System.Text.Json;
using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training;
using TorchSharp;

namespace Functional.Checkpoints;

/// <summary>
/// A checkpoint folder: <c>weights.safetensors</c> (readable by PyTorch and Hugging Face tools),
/// <c>model.json</c> (which model, which source, how it was trained) and, for a network trained on text,
/// <c>tokenizer.json</c> (<see cref="Text.Tokenizer.Save"/>).
/// </summary>
public static class Checkpoint
{
    /// <summary>The weights, in safetensors format, keyed by parameter path.</summary>
    public const string WeightsFile = "weights.safetensors";

    /// <summary>The metadata: <see cref="CheckpointMetadata"/> as JSON.</summary>
    public const string MetadataFile = "model.json";

    /// <summary>
    /// Throws unless checkpoints may be saved into <paramref name="directory"/> by <see cref="Network.Save"/> and by
    /// <see cref="Network.Fit"/>: it is absent, empty, or holds only a checkpoint's files (which saving replaces), as do
    /// the <c>DIR.next</c> and <c>DIR.previous</c> folders beside it that replacing uses; and it is not the current
    /// folder. Call it before a long run, to fail before the work.
    /// </summary>
    /// <exception cref="IOException">a folder holds other files or folders (the message names them), or is a file,
    /// or is the current folder</exception>
    public static void RequireWritableFolder(string directory) => CheckpointFolder.RequireReplaceable(directory);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    internal static void Save(CompiledModel module, FnnFile source, NetworkOptions options, string directory, TrainingSummary? training,
        IReadOnlyList<string>? classes, Text.Tokenizer? tokenizer)
    {
        if (module.Lora is not null)
            throw new InvalidOperationException(
                $"{module.Model.Name} carries LoRA adapters: save them alone with SaveAdapter (fnn finetune --lora does), or merge them into the base first (MergeAdapter, fnn merge)");
        CheckpointFolder.RequireWritable(directory);
        Directory.CreateDirectory(directory);
        var model = module.Model;
        SafeTensors.Save(Path.Combine(directory, WeightsFile), module.state_dict(),
            new Dictionary<string, string> { ["model"] = model.Name, ["source_sha256"] = source.SourceHash });
        var metadata = new CheckpointMetadata
        {
            Model = model.Name,
            Source = Path.GetFileName(source.Path),
            SourceSha256 = source.SourceHash,
            Hyperparameters = model.Hyperparameters.ToDictionary(h => h.Item1, h => h.Item2),
            Input = model.Input.ToString(),
            Output = model.Output.ToString(),
            Parameters = module.named_parameters().Select(p => new CheckpointMetadata.ParameterInfo(p.name, p.parameter.shape)).ToList(),
            Precision = options.Precision == Precision.Float64 ? "float64" : "float32",
            Classes = classes?.ToList(),
            Training = training,
        };
        WriteAtomically(Path.Combine(directory, MetadataFile), JsonSerializer.Serialize(metadata, Json));
        // Beside model.json, in the same folder write; a tokenizer.json of an earlier checkpoint in this folder must not outlive it.
        if (tokenizer is not null) tokenizer.Save(directory);
        else File.Delete(Path.Combine(directory, Text.Tokenizer.FileName));
    }

    // Far above any model.json (the source it records is at most 16 MB): only a bound on what is read.
    private const long MetadataLimit = 64L << 20;

    /// <summary>Reads model.json of a checkpoint folder.</summary>
    /// <exception cref="FileNotFoundException">the folder has no model.json</exception>
    /// <exception cref="CheckpointFormatException">it is not valid checkpoint metadata, or of an unknown format</exception>
    public static CheckpointMetadata ReadMetadata(string directory)
    {
        var path = Path.Combine(directory, MetadataFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file; is {directory} a checkpoint folder written by 'fnn train --out'?", path);
        return ReadMetadataFile(path);
    }

    /// <summary>Reads model.json, every field required and checked; the message names a wrong field (its JSON path) and what was expected.</summary>
    internal static CheckpointMetadata ReadMetadataFile(string path)
    {
        var (json, root) = CheckedJson.Read(path, MetadataLimit);
        var format = json.Text(root, "", "format", 256);
        if (format != CheckpointMetadata.CurrentFormat)
            throw new CheckpointFormatException(path, $"unknown format '{Excerpt.@short(format)}' (expected {CheckpointMetadata.CurrentFormat})");
        var hash = json.Text(root, "", "sourceSha256", 64);
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            throw json.Error("sourceSha256", $"expected 64 hexadecimal digits (a SHA-256), found \"{Excerpt.@short(hash)}\"");
        var hyperparameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in json.Object(root, "", "hyperparameters").EnumerateObject())
        {
            if (h.Value.ValueKind != JsonValueKind.String)
                throw json.Error($"hyperparameters.{Excerpt.@short(h.Name)}", $"expected the value as a string, found {CheckedJson.Found(h.Value)}");
            if (!hyperparameters.TryAdd(h.Name, json.String(h.Value, $"hyperparameters.{Excerpt.@short(h.Name)}")))
                throw json.Error("hyperparameters", $"'{Excerpt.@short(h.Name)}' is given twice");
        }
        var parameters = new List<CheckpointMetadata.ParameterInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var p in json.Array(root, "", "parameters").EnumerateArray())
        {
            var at = $"parameters[{index++}]";
            if (p.ValueKind != JsonValueKind.Object) throw json.Error(at, $"expected an object (a parameter's name and shape), found {CheckedJson.Found(p)}");
            var name = json.Text(p, at, "name");
            if (!names.Add(name)) throw json.Error($"{at}.name", $"'{Excerpt.@short(name)}' is listed twice");
            var sizes = json.Array(p, at, "shape");
            if (sizes.GetArrayLength() > 16) throw json.Error($"{at}.shape", $"expected at most 16 sizes, found {sizes.GetArrayLength()}");
            var shape = sizes.EnumerateArray().Select((d, i) => json.Integer(d, $"{at}.shape[{i}]", 0, int.MaxValue)).ToArray();
            parameters.Add(new CheckpointMetadata.ParameterInfo(name, shape));
        }
        TrainingSummary? training = null;
        if (CheckedJson.Optional(root, "training") is { } t)
        {
            if (t.ValueKind != JsonValueKind.Object) throw json.Error("training", $"expected an object or null, found {CheckedJson.Found(t)}");
            training = new TrainingSummary(
                CheckedJson.Optional(t, "seed") is { } seed ? json.Integer(seed, "training.seed", long.MinValue, long.MaxValue) : null,
                json.Int(t, "training", "epochs", 0, int.MaxValue),
                json.Text(t, "training", "optimizer", 256),
                json.Number(t, "training", "learningRate", 0, double.MaxValue),
                json.Text(t, "training", "loss", 1024),
                json.Number(t, "training", "finalLoss", double.MinValue, double.MaxValue, _ => true));
        }
        // Optional: only data with named classes (CSV labels) records them.
        List<string>? classes = null;
        if (CheckedJson.Optional(root, "classes") is { } c)
        {
            if (c.ValueKind != JsonValueKind.Array) throw json.Error("classes", $"expected an array of class names or null, found {CheckedJson.Found(c)}");
            if (c.GetArrayLength() > 1 << 20) throw json.Error("classes", $"expected at most {1 << 20} class names, found {c.GetArrayLength()}");
            classes = c.EnumerateArray().Select((n, i) => json.Text(n, $"classes[{i}]", Data.CsvLimits.DefaultMaxFieldLength)).ToList();
            var twice = classes.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null) throw json.Error("classes", $"'{Excerpt.@short(twice.Key)}' is listed twice");
        }
        var created = json.Field(root, "", "created");
        if (created.ValueKind != JsonValueKind.String || !created.TryGetDateTimeOffset(out var when))
            throw json.Error("created", $"expected a date and time (ISO 8601), found {CheckedJson.Found(created)}");
        var metadata = new CheckpointMetadata
        {
            Format = format,
            Model = json.Text(root, "", "model", 256),
            Source = json.Text(root, "", "source"),
            SourceSha256 = hash,
            Hyperparameters = hyperparameters,
            Input = json.Text(root, "", "input"),
            Output = json.Text(root, "", "output"),
            Parameters = parameters,
            Precision = json.Text(root, "", "precision", 16),
            Classes = classes,
            Training = training,
            Created = when,
            FunctionalVersion = json.Text(root, "", "functionalVersion", 64),
        };
        PrecisionOf(metadata, path);
        return metadata;
    }

    /// <summary>The element type a checkpoint's model.json records.</summary>
    internal static Precision PrecisionOf(CheckpointMetadata metadata, string path) => metadata.Precision switch
    {
        "float32" => Precision.Float32,
        "float64" => Precision.Float64,
        var other => throw new CheckpointFormatException(path, $"unknown precision '{other}' (expected float32 or float64)"),
    };

    internal static void LoadInto(CompiledModel module, string directory, CancellationToken cancellation = default)
    {
        var metadata = ReadMetadata(directory);
        var weightsPath = Path.Combine(directory, WeightsFile);
        var model = module.Model.Name;
        if (metadata.Model != model)
            throw new CheckpointMismatchException(weightsPath, $"these weights belong to model {Excerpt.@short(metadata.Model)}, not {model}");

        cancellation.ThrowIfCancellationRequested();
        // A checkpoint holds the base: adapters come from their own folder.
        var state = module.state_dict().Where(p => !Lora.isAdapter(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        // From the header alone, before any tensor's data is read or allocated: a tensor the model lacks (of any size) is refused here.
        RequireFits(SafeTensors.ReadHeader(weightsPath), state, weightsPath, model);
        RequireListedParameters(metadata, module, Path.Combine(directory, MetadataFile));
        using var file = SafeTensors.Load(weightsPath);
        // Weights that are NaN or infinite would make every prediction NaN: refuse them, naming the first.
        using (torch.NewDisposeScope())
            foreach (var (name, tensor) in file.Tensors)
                if (tensor.is_floating_point() && !torch.isfinite(tensor).all().item<bool>())
                    throw new CheckpointFormatException(weightsPath, $"'{Excerpt.@short(name)}' holds NaN or infinite values: these weights cannot predict anything");
        cancellation.ThrowIfCancellationRequested(); // the last moment at which no weight has changed
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in state)
            target.copy_(file.Tensors[name]);
    }

    /// <summary>
    /// Throws unless a weights file's header holds exactly <paramref name="state"/>'s tensors, of the same shapes and
    /// of floating-point types where the model's are: checked before any of the file's data is read.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">names missing and unexpected tensors, or the first of another shape or type</exception>
    internal static void RequireFits(SafeTensorsHeader header, IReadOnlyDictionary<string, torch.Tensor> state, string path, string model)
    {
        var missing = state.Keys.Where(k => !header.TryGetEntry(k, out _)).ToList();
        var extra = header.Entries.Select(e => e.Name).Where(k => !state.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new CheckpointMismatchException(path,
                $"these weights are for a different network: missing {Describe(missing)}, unexpected {Describe(extra)}");
        foreach (var (name, target) in state)
        {
            header.TryGetEntry(name, out var entry);
            if (!entry!.ShapeUnsafe.SequenceEqual(target.shape))
                throw new CheckpointMismatchException(path,
                    $"'{Excerpt.@short(name)}' has shape [{string.Join(", ", entry.ShapeUnsafe)}] in the file but [{string.Join(", ", target.shape)}] in {model}");
            if (!torch.is_floating_point(entry.ScalarType) && target.is_floating_point())
                throw new CheckpointMismatchException(path, $"'{Excerpt.@short(name)}' holds {entry.DType} values, but {model} needs floating-point ones");
        }
    }

    /// <summary>model.json lists the model's parameters, by name and shape, in order.</summary>
    private static void RequireListedParameters(CheckpointMetadata metadata, CompiledModel module, string path)
    {
        var actual = module.named_parameters().Where(p => !Lora.isAdapter(p.name)).Select(p => (p.name, p.parameter.shape)).ToList();
        var listed = metadata.Parameters;
        for (var i = 0; i < Math.Max(actual.Count, listed.Count); i++)
        {
            if (i >= listed.Count)
                throw new CheckpointMismatchException(path, $"parameters: lists {listed.Count} parameters, but {module.Model.Name} has {actual.Count} (the first not listed is '{actual[i].name}')");
            if (i >= actual.Count)
                throw new CheckpointMismatchException(path, $"parameters[{i}]: '{Excerpt.@short(listed[i].Name)}' is listed, but {module.Model.Name} has only {actual.Count} parameters");
            if (listed[i].Name != actual[i].name || !listed[i].Shape.SequenceEqual(actual[i].shape))
                throw new CheckpointMismatchException(path,
                    $"parameters[{i}]: expected '{actual[i].name}' [{string.Join(", ", actual[i].shape)}] (as {module.Model.Name} has it), found '{Excerpt.@short(listed[i].Name)}' [{string.Join(", ", listed[i].Shape)}]");
        }
    }

    private static string Describe(List<string> names) =>
        names.Count == 0 ? "none" : string.Join(", ", names.Take(5).Select(n => Excerpt.@short(n))) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    /// <summary>Writes <paramref name="path"/> whole or not at all: a temporary file of its own, then a rename.</summary>
    internal static void WriteAtomically(string path, string text)
    {
        // A name of its own: two savers into one folder never write the same temporary file.
        var temp = $"{path}.{Guid.NewGuid():N}{CheckpointFolder.TemporarySuffix}";
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
