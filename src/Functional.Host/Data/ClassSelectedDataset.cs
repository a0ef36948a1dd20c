namespace Functional.Data;

/// <summary>
/// A view of a data set of class labels that keeps only the examples of a <see cref="ClassSelection"/>'s source
/// classes, relabelled to its new classes, whose names are the selection's. It does not own its source:
/// disposing it leaves the source open. Made by <see cref="DatasetExtensions.SelectClasses"/>.
/// </summary>
internal sealed class ClassSelectedDataset : IDataset, IClassNamed
{
    /// <summary>Labels are read this many examples at a time when the view is made.</summary>
    private const int ScanBatch = 1024;

    private readonly int[] kept;     // the source index of each example of the view
    private readonly long[] labels;  // its new class

    public ClassSelectedDataset(IDataset source, ClassSelection selection)
    {
        Source = source;
        Selection = selection;
        var file = DataNaming.Describe(source, "the data");
        if (source.TargetKind != TargetKind.ClassIndex || source.TargetShape.Length != 0 || source.ClassCount is not { } classes)
            throw new ArgumentException(
                $"{file}: classes can be selected only from class labels, one per example, but its targets are " +
                (source.TargetKind == TargetKind.Values ? $"values {BatchTensors.ShapeText(source.TargetShape)}" : $"a class label for each of {BatchTensors.ShapeText(source.TargetShape)} positions"));
        try
        {
            selection.RequireClasses(classes);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{file}: {e.Message}", e);
        }

        var keptList = new List<int>();
        var labelList = new List<long>();
        var indices = new int[Math.Min(ScanBatch, source.Count)];
        for (var start = 0; start < source.Count; start += ScanBatch)
        {
            var n = Math.Min(ScanBatch, source.Count - start);
            for (var i = 0; i < n; i++) indices[i] = start + i;
            using var batch = source.ReadBatch(indices.AsSpan(0, n));
            var targets = batch.Targets.data<long>().ToArray();
            for (var i = 0; i < n; i++)
                if (selection.TryMap((int)targets[i], out var label))
                {
                    keptList.Add(start + i);
                    labelList.Add(label);
                }
        }
        if (keptList.Count == 0)
            throw new ArgumentException(
                $"{file}: none of its {source.Count} examples is of the selected classes ({selection}): there is nothing to use");
        kept = [.. keptList];
        labels = [.. labelList];
    }

    /// <summary>The examples before selection.</summary>
    public IDataset Source { get; }

    /// <summary>The classes kept and what they became.</summary>
    public ClassSelection Selection { get; }

    public IReadOnlyList<string>? ClassNames => Selection.Names;
    public int Count => kept.Length;
    public int[] FeatureShape => Source.FeatureShape;
    public TargetKind TargetKind => TargetKind.ClassIndex;
    public int[] TargetShape => [];
    public int? ClassCount => Selection.Names.Count;

    public Batch ReadBatch(ReadOnlySpan<int> indices)
    {
        BatchTensors.CheckIndices(indices, Count);
        var sources = new int[indices.Length];
        var y = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            sources[i] = kept[indices[i]];
            y[i] = labels[indices[i]];
        }
        using var batch = Source.ReadBatch(sources);
        // The features go on in a batch of their own; the source's targets are freed with its batch.
        var features = batch.Features.alias();
        try
        {
            return new Batch(features, BatchTensors.ClassIndices(y));
        }
        catch
        {
            features.Dispose();
            throw;
        }
    }

    public void Dispose() { }
}
