namespace Functional.Data;

/// <summary>
/// The order of examples in each epoch and its batches: in order, or shuffled from a seed. Epoch k's order
/// depends only on the seed and k, so a resumed run sees the same batches as an uninterrupted one.
/// </summary>
/// <remarks>
/// The shuffle is a Fisher-Yates shuffle driven by SplitMix64, written here rather than taken from
/// <see cref="Random"/> (whose seeded sequence .NET does not promise to keep across versions) or torch's
/// generator (which would tie the order to the libtorch build).
/// </remarks>
public sealed class BatchOrder
{
    /// <param name="count">examples in the dataset</param>
    /// <param name="batchSize">examples per batch; the last batch of an epoch may be smaller</param>
    /// <param name="seed">null: every epoch in index order; else shuffled from this seed</param>
    /// <param name="dropLast">leave out the smaller last batch (for layers such as batchNorm that need full batches)</param>
    /// <param name="maxBatches">at most this many batches an epoch, the first of its order (null: all)</param>
    public BatchOrder(int count, int batchSize, int? seed = null, bool dropLast = false, int? maxBatches = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (maxBatches is < 1) throw new ArgumentOutOfRangeException(nameof(maxBatches), maxBatches, "at least one batch an epoch");
        MaxBatches = maxBatches;
        Count = count;
        BatchSize = batchSize;
        Seed = seed;
        DropLast = dropLast;
    }

    /// <summary>Examples in the dataset.</summary>
    public int Count { get; }

    /// <summary>Examples per batch (the last of an epoch may be smaller).</summary>
    public int BatchSize { get; }

    /// <summary>The shuffling seed; null: every epoch in index order.</summary>
    public int? Seed { get; }

    /// <summary>Whether the smaller last batch is left out.</summary>
    public bool DropLast { get; }

    /// <summary>At most this many batches an epoch (null: all of them).</summary>
    public int? MaxBatches { get; }

    /// <summary>Batches in each epoch.</summary>
    public int BatchesPerEpoch => Math.Min(MaxBatches ?? int.MaxValue, DropLast ? Count / BatchSize : (int)(((long)Count + BatchSize - 1) / BatchSize));

    /// <summary>Examples in each epoch's batches: all of them, less a dropped last batch or the batches beyond <see cref="MaxBatches"/>.</summary>
    public int ExamplesPerEpoch => (int)Math.Min(Count, (long)BatchesPerEpoch * BatchSize);

    /// <summary>Every example index once, in epoch <paramref name="epoch"/>'s order.</summary>
    public int[] Order(int epoch)
    {
        var order = new int[Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Seed is not { } seed) return order;
        var state = SplitMix64.Mix(((ulong)(uint)seed << 32) | (uint)epoch);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = (int)SplitMix64.Below(ref state, (ulong)i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Epoch <paramref name="epoch"/>'s batches of indices, in order.</summary>
    public IEnumerable<int[]> Batches(int epoch)
    {
        var order = Order(epoch);
        for (var b = 0; b < BatchesPerEpoch; b++)
        {
            var start = b * BatchSize;
            yield return order[start..Math.Min(start + BatchSize, order.Length)];
        }
    }
}
