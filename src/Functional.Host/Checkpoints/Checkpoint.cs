using System.Text.Json;
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
    public const string WeightsFile = "weights.safetensors";
    public const string MetadataFile = "model.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    internal static void Save(Network network, string directory, TrainingSummary? training)
    {
        Directory.CreateDirectory(directory);
        var state = network.Module.state_dict();
        SafeTensors.Save(Path.Combine(directory, WeightsFile), state,
            new Dictionary<string, string> { ["model"] = network.Name, ["source_sha256"] = network.Source.SourceHash });
        var metadata = new CheckpointMetadata
        {
            Model = network.Name,
            Source = Path.GetFileName(network.Source.Path),
            SourceSha256 = network.Source.SourceHash,
            Hyperparameters = network.Model.Hyperparameters.ToDictionary(h => h.Item1, h => h.Item2),
            Input = network.Model.Input.ToString(),
            Output = network.Model.Output.ToString(),
            Parameters = network.Parameters.Select(p => new CheckpointMetadata.ParameterInfo(p.Path, p.Shape)).ToList(),
            Precision = network.Options.Precision == Precision.Float64 ? "float64" : "float32",
            Training = training,
        };
        WriteAtomically(Path.Combine(directory, MetadataFile), JsonSerializer.Serialize(metadata, Json));
    }

    /// <summary>Reads model.json of a checkpoint folder.</summary>
    public static CheckpointMetadata ReadMetadata(string directory)
    {
        var path = Path.Combine(directory, MetadataFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file; is {directory} a checkpoint folder written by 'fnn train --out'?", path);
        try
        {
            var metadata = JsonSerializer.Deserialize<CheckpointMetadata>(File.ReadAllText(path), Json)
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

    internal static void LoadInto(Network network, string directory)
    {
        var metadata = ReadMetadata(directory);
        var weightsPath = Path.Combine(directory, WeightsFile);
        if (metadata.Model != network.Name)
            throw new CheckpointMismatchException(weightsPath, $"these weights belong to model {metadata.Model}, not {network.Name}");

        using var file = SafeTensors.Load(weightsPath);
        var state = network.Module.state_dict();
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
                    $"'{name}' has shape [{string.Join(", ", source.shape)}] in the file but [{string.Join(", ", target.shape)}] in {network.Name}");
            if (!source.is_floating_point() && target.is_floating_point())
                throw new CheckpointMismatchException(weightsPath, $"'{name}' holds {source.dtype} values, but {network.Name} needs floating-point ones");
        }
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in state)
            target.copy_(file.Tensors[name]);
    }

    private static string Describe(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
