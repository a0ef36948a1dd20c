namespace Functional.Data;

/// <summary>
/// A view of a dataset whose batches' features are normalised as they are read. It does not own its source:
/// disposing it leaves the source open.
/// </summary>
internal sealed class NormalizedDataset(IDataset source, Normalization normalization) : IDataset, IClassNamed
{
    /// <summary>The examples before normalisation.</summary>
    public IDataset Source => source;

    public IReadOnlyList<string>? ClassNames => source.ClassNames();
    public int Count => source.Count;
    public int[] FeatureShape => source.FeatureShape;
    public TargetKind TargetKind => source.TargetKind;
    public int[] TargetShape => source.TargetShape;
    public int? ClassCount => source.ClassCount;

    public Batch ReadBatch(ReadOnlySpan<int> indices)
    {
        if (source is INormalizingReader reader) return reader.ReadBatch(indices, normalization);
        var batch = source.ReadBatch(indices);
        try
        {
            normalization.ApplyInPlace(batch.Features); // the batch is ours and fresh: no copy needed
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    public void Dispose() { }
}
