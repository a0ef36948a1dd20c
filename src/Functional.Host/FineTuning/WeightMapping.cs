namespace Functional.FineTuning;

/// <summary>
/// What starting from a checkpoint did (<see cref="Networks.Network.StartFrom"/>): which of the network's tensors were
/// loaded (by path, after the key map), which are new (freshly initialised: a replaced head, adapters, parts the
/// checkpoint lacks), and which of the checkpoint's tensors were left out (mapped to nothing, to a replaced part, or
/// to a path the network does not have).
/// </summary>
public sealed record WeightMapping
{
    /// <summary>The checkpoint folder the weights came from.</summary>
    public required string Directory { get; init; }

    /// <summary>The network's tensors that were loaded, by path.</summary>
    public required IReadOnlyList<string> Loaded { get; init; }

    /// <summary>The network's tensors that keep their fresh values, by path.</summary>
    public required IReadOnlyList<string> New { get; init; }

    /// <summary>The checkpoint's tensors that were not loaded, by their name in the checkpoint, each with why.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> LeftOut { get; init; }

    /// <summary>The SHA-256 of the checkpoint's weights file: an adapter trained from these weights records it.</summary>
    public required string WeightsSha256 { get; init; }

    /// <summary>One line per group, as <c>fnn finetune</c> prints it.</summary>
    public override string ToString() =>
        $"loaded {Loaded.Count} tensors from {Directory}; new: {Describe(New)}; left out of the checkpoint: {Describe(LeftOut.Select(p => $"{p.Key} ({p.Value})").ToList())}";

    private static string Describe(IReadOnlyList<string> names) =>
        names.Count == 0 ? "none" : string.Join(", ", names.Take(8)) + (names.Count > 8 ? $" and {names.Count - 8} more" : "");
}
