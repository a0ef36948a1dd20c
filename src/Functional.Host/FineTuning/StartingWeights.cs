using Functional.Checkpoints;
using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.FineTuning;

/// <summary>
/// Starting a network from another's trained weights, by path (PyTorch's <c>load_state_dict(strict=False)</c>, with
/// shapes checked): each checkpoint tensor whose name, after the key map, is a path of the network is loaded; parts the
/// network replaced (<c>Base with head = ...</c>), adapters and paths the checkpoint lacks keep their fresh values. A
/// path whose shape differs is an error naming it and both shapes; nothing changes unless everything fits.
/// </summary>
internal static class StartingWeights
{
    /// <summary>Whether <paramref name="path"/> names a safetensors file rather than a checkpoint folder.</summary>
    public static bool IsWeightsFile(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(path);

    public static WeightMapping Load(CompiledModel module, string directory, KeyMap? keyMap, CancellationToken cancellation)
    {
        // A checkpoint folder, or a weights file of its own (a PyTorch state_dict saved as safetensors).
        var alone = IsWeightsFile(directory);
        var folder = alone ? Path.GetDirectoryName(Path.GetFullPath(directory))! : CheckpointFolder.Newest(directory);
        var path = alone ? directory : Path.Combine(folder, Checkpoint.WeightsFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{directory} holds no {Checkpoint.WeightsFile}: start from a checkpoint folder (written by fnn train --out)", path);
        var model = module.Model.Name;
        var state = module.state_dict().Where(p => !Lora.isAdapter(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        var replaced = module.Model.Replaced.ToList();
        bool IsReplaced(string p) => replaced.Any(r => p == r || p.StartsWith(r + ".", StringComparison.Ordinal));
        var header = SafeTensors.ReadHeader(path);
        var pairs = new Dictionary<string, string>(); // network path -> checkpoint name
        var leftOut = new List<KeyValuePair<string, string>>();
        foreach (var entry in header.Entries)
        {
            var target = keyMap is null ? entry.Name : keyMap.Map(entry.Name);
            string? why = target switch
            {
                null => "the key map leaves it out",
                _ when IsReplaced(target) => $"replaced in {model}",
                _ when !state.ContainsKey(target) => target == entry.Name ? $"{model} has no such path" : $"{model} has no '{Excerpt.@short(target)}'",
                _ => null,
            };
            if (why is not null)
            {
                leftOut.Add(KeyValuePair.Create(entry.Name, why));
                continue;
            }
            var wanted = state[target!];
            var renamed = target == entry.Name ? "" : $" (the checkpoint's '{Excerpt.@short(entry.Name)}')";
            if (!entry.ShapeUnsafe.SequenceEqual(wanted.shape))
                throw new CheckpointMismatchException(path,
                    $"'{Excerpt.@short(target!)}'{renamed} is [{string.Join(", ", entry.ShapeUnsafe)}] in the checkpoint but [{string.Join(", ", wanted.shape)}] in {model}: " +
                    "replace that part in the model (Base with label = ...) or leave it out with a key map");
            if (!torch.is_floating_point(entry.ScalarType) && wanted.is_floating_point())
                throw new CheckpointMismatchException(path, $"'{Excerpt.@short(target!)}'{renamed} holds {entry.DType} values, but {model} needs floating-point ones");
            if (!pairs.TryAdd(target!, entry.Name))
                throw new CheckpointMismatchException(path, $"two of the checkpoint's tensors go to '{Excerpt.@short(target!)}': '{Excerpt.@short(pairs[target!])}' and '{Excerpt.@short(entry.Name)}'");
        }
        if (pairs.Count == 0)
            throw new CheckpointMismatchException(path,
                $"none of the checkpoint's {header.Entries.Count} tensors has a path of {model} (its first: " +
                $"{string.Join(", ", header.Entries.Take(3).Select(e => Excerpt.@short(e.Name)))}; {model}'s: {string.Join(", ", state.Keys.Take(3))}): give a key map");
        cancellation.ThrowIfCancellationRequested();
        using var file = SafeTensors.Load(path);
        using (torch.NewDisposeScope())
            foreach (var name in pairs.Values)
                if (file.Tensors[name].is_floating_point() && !torch.isfinite(file.Tensors[name]).all().item<bool>())
                    throw new CheckpointFormatException(path, $"'{Excerpt.@short(name)}' holds NaN or infinite values: these weights cannot start anything");
        cancellation.ThrowIfCancellationRequested(); // the last moment at which no weight has changed
        using (torch.no_grad())
            foreach (var (target, name) in pairs)
                state[target].copy_(file.Tensors[name]);
        var all = module.state_dict().Keys.ToList();
        return new WeightMapping
        {
            Directory = alone ? directory : folder,
            Loaded = all.Where(pairs.ContainsKey).ToList(),
            New = all.Where(p => !pairs.ContainsKey(p)).ToList(),
            LeftOut = leftOut,
            WeightsSha256 = AdapterFile.HashOf(path),
        };
    }
}
