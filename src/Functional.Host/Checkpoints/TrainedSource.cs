using System.Globalization;
using Functional.Networks;

namespace Functional.Checkpoints;

/// <summary>
/// The source a checkpoint was trained from, checked again as it was then: with the hyperparameters its
/// <c>model.json</c> records, and compared with the SHA-256 it records.
/// </summary>
internal static class TrainedSource
{
    public static FnnFile Load(string path, string checkpointDirectory, IReadOnlyDictionary<string, string> given, bool requireUnchanged)
    {
        var directory = CheckpointFolder.Newest(checkpointDirectory);
        var metadata = Checkpoint.ReadMetadata(directory);
        var metadataPath = Path.Combine(directory, Checkpoint.MetadataFile);
        var file = FnnFile.Load(path, given);
        var warnings = new List<string>();
        if (file.SourceHash != metadata.SourceSha256)
        {
            var changed = new SourceChangedException(path, checkpointDirectory, metadata.SourceSha256, file.SourceHash);
            if (requireUnchanged) throw changed;
            warnings.Add(changed.Message);
        }
        if (!file.HasModel(metadata.Model))
            throw new CheckpointMismatchException(metadataPath, $"these weights belong to model {metadata.Model}, which {path} does not have (its models are {string.Join(", ", file.ModelNames)})");

        var model = file.CheckedModel(metadata.Model);
        var current = model.Hyperparameters.ToDictionary(h => h.Item1, h => h.Item2);
        foreach (var (name, value) in given)
        {
            if (!current.TryGetValue(name, out var now))
                throw new ArgumentException($"{model.Name} has no hyperparameter '{name}'; its hyperparameters are {Names(current.Keys)}");
            if (metadata.Hyperparameters.TryGetValue(name, out var recorded) && recorded != now)
                throw new ArgumentException($"{name} = {value} contradicts the checkpoint: {checkpointDirectory} was trained with {name} = {recorded} ({Checkpoint.MetadataFile})");
        }
        var missing = metadata.Hyperparameters.Keys.Where(n => !current.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new CheckpointMismatchException(metadataPath,
                $"{model.Name} was trained with the hyperparameter {missing[0]} = {metadata.Hyperparameters[missing[0]]}, which {path} no longer declares");

        // The values training used that differ from the source's defaults are what --set gave then: give them again.
        var differing = metadata.Hyperparameters.Where(h => current[h.Key] != h.Value).ToList();
        if (differing.Count > 0)
        {
            var overrides = new Dictionary<string, string>(given);
            foreach (var (name, value) in differing) overrides[name] = AsSourceText(value);
            file = FnnFile.Load(path, overrides);
            var rebuilt = file.CheckedModel(metadata.Model).Hyperparameters.ToDictionary(h => h.Item1, h => h.Item2);
            var unlike = differing.FirstOrDefault(h => rebuilt[h.Key] != h.Value);
            if (unlike.Key is not null)
                throw new CheckpointMismatchException(metadataPath,
                    $"{model.Name} was trained with {unlike.Key} = {unlike.Value}, but {path} gives it {rebuilt[unlike.Key]} with that value");
        }
        return warnings.Count == 0 ? file : file.WithWarnings(warnings);
    }

    private static string Names(IEnumerable<string> names) => names.Any() ? string.Join(", ", names) : "none";

    /// <summary>A recorded value as <c>--set</c> takes it: numbers and booleans as they are, anything else as a string.</summary>
    private static string AsSourceText(string value) =>
        value is "true" or "false" || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? value
            : "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\t", "\\t") + "\"";
}
