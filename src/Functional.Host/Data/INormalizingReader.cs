namespace Functional.Data;

/// <summary>
/// A dataset that can normalise features in managed memory while it builds a batch, before the tensor exists:
/// no extra native kernels per batch (which cost the most when libtorch's threads compete for few cores).
/// </summary>
internal interface INormalizingReader
{
    /// <summary>Like <see cref="IDataset.ReadBatch"/>, with <paramref name="normalization"/> applied to the features.</summary>
    Batch ReadBatch(ReadOnlySpan<int> indices, Normalization normalization);
}
