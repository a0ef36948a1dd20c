using static TorchSharp.torch;

namespace Functional.Bench.Networks;

/// <summary>
/// The hand-written GPT's generation cache: each block's keys and values ([batch, heads, positions, head
/// size]) for the positions already seen, and how many those are. It keeps its tensors outside any dispose
/// scope: dispose it.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly List<(Tensor Keys, Tensor Values)> blocks = [];

    /// <summary>The positions already cached: where the next pass's positions start.</summary>
    public long Offset { get; private set; }

    /// <summary>Block <paramref name="block"/>'s keys and values over every position so far: the cached ones followed by the new ones.</summary>
    public (Tensor Keys, Tensor Values) Extend(int block, Tensor keys, Tensor values)
    {
        if (block == blocks.Count)
        {
            blocks.Add((keys.DetachFromDisposeScope(), values.DetachFromDisposeScope()));
            return blocks[block];
        }
        var (oldKeys, oldValues) = blocks[block];
        var joined = (cat([oldKeys, keys], 2).DetachFromDisposeScope(), cat([oldValues, values], 2).DetachFromDisposeScope());
        oldKeys.Dispose();
        oldValues.Dispose();
        blocks[block] = joined;
        return joined;
    }

    /// <summary>Ends a pass over <paramref name="positions"/> new positions.</summary>
    public void Advance(long positions) => Offset += positions;

    /// <summary>Forgets every position (the window moved).</summary>
    public void Clear()
    {
        foreach (var (keys, values) in blocks)
        {
            keys.Dispose();
            values.Dispose();
        }
        blocks.Clear();
        Offset = 0;
    }

    public void Dispose() => Clear();
}
