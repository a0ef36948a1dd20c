using System.Diagnostics.CodeAnalysis;

namespace Functional.Checkpoints;

/// <summary>A validated safetensors header: the tensors a file holds, where their bytes lie, and its metadata.</summary>
public sealed class SafeTensorsHeader
{
    private readonly Dictionary<string, SafeTensorsEntry> byName;

    internal SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata,
                               long headerLength, long dataLength)
    {
        Entries = entries;
        Metadata = metadata;
        HeaderLength = headerLength;
        DataLength = dataLength;
        byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The tensors in the order their bytes appear in the file.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>The "__metadata__" string map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>N, the JSON header's length in bytes, padding included.</summary>
    public long HeaderLength { get; }

    /// <summary>The file offset where the data buffer starts (8 + N); entry offsets are relative to it.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>The data buffer's length in bytes (the sum of all tensors' byte lengths).</summary>
    public long DataLength { get; }

    /// <summary>Finds a tensor's entry by name.</summary>
    public bool TryGetEntry(string name, [MaybeNullWhen(false)] out SafeTensorsEntry entry) =>
        byName.TryGetValue(name, out entry);
}
