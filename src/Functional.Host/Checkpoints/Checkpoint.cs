using System.Text.Json;
using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training;
using TorchSharp;

namespace Functional.Checkpoints;

/// <summary>
/// A checkpoint folder: <c>weights.safetensors</c> (readable by PyTorch and Hugging Face tools) and
/// <c>model.json</c> (which model, which source, how it was trained).
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
        IReadOnlyList<string>? classes)
    {
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
        try
        {
            var metadata = JsonSerializer.Deserialize<CheckpointMetadata>(Functional.Files.readText(MetadataLimit, path), Json)
                           ?? throw new CheckpointFormatException(path, "it is empty");
            if (metadata.Format != CheckpointMetadata.CurrentFormat)
                throw new CheckpointFormatException(path, $"unknown format '{metadata.Format}' (expected {CheckpointMetadata.CurrentFormat})");
            return metadata;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"it is not valid checkpoint metadata: {e.Message}", e);
        }
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
            throw new CheckpointMismatchException(weightsPath, $"these weights belong to model {metadata.Model}, not {model}");

        cancellation.ThrowIfCancellationRequested();
        using var file = SafeTensors.Load(weightsPath);
        var state = module.state_dict();
        var missing = state.Keys.Where(k => !file.Tensors.ContainsKey(k)).ToList();
        var extra = file.Tensors.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new CheckpointMismatchException(weightsPath,
                $"these weights are for a different network: missing {Describe(missing)}, unexpected {Describe(extra)}");
        foreach (var (name, target) in state)
        {
            var source = file.Tensors[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new CheckpointMismatchException(weightsPath,
                    $"'{name}' has shape [{string.Join(", ", source.shape)}] in the file but [{string.Join(", ", target.shape)}] in {model}");
            if (!source.is_floating_point() && target.is_floating_point())
                throw new CheckpointMismatchException(weightsPath, $"'{name}' holds {source.dtype} values, but {model} needs floating-point ones");
        }
        cancellation.ThrowIfCancellationRequested(); // the last moment at which no weight has changed
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in state)
            target.copy_(file.Tensors[name]);
    }

    private static string Describe(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + CheckpointFolder.TemporarySuffix;
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
