namespace Functional.Data;

/// <summary>Reading a dataset in batches, and normalised.</summary>
public static class DatasetExtensions
{
    /// <summary>
    /// A view of <paramref name="data"/> whose features are normalised as batches are read. It does not own
    /// <paramref name="data"/>: dispose that as before.
    /// </summary>
    public static IDataset Normalize(this IDataset data, Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        return new NormalizedDataset(data, normalization);
    }

    /// <summary>
    /// A view of <paramref name="data"/> (class labels, one per example) with only the examples of
    /// <paramref name="selection"/>'s source classes, relabelled to its new classes, which its
    /// <see cref="ClassNames"/> names (and so a network trained on it records). The labels are read once, here.
    /// It does not own <paramref name="data"/>: dispose that as before.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// the targets are not one class label per example, a listed class is out of range for the data's classes, or
    /// no example is of a selected class; the message names the data's file
    /// </exception>
    public static IDataset SelectClasses(this IDataset data, ClassSelection selection)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(selection);
        return new ClassSelectedDataset(data, selection);
    }

    /// <summary>
    /// The name of each class index of <paramref name="data"/> (a <see cref="CsvDataset"/>'s
    /// <see cref="CsvDataset.ClassNames"/>, or a class selection's new names, also through a normalised view); null
    /// when its classes have no names.
    /// </summary>
    public static IReadOnlyList<string>? ClassNames(this IDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data is IClassNamed named ? named.ClassNames : null;
    }

    /// <summary>Examples <paramref name="start"/> .. start + count - 1 as one batch (the caller disposes it).</summary>
    public static Batch ReadRange(this IDataset data, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var indices = new int[count];
        for (var i = 0; i < count; i++) indices[i] = start + i;
        return data.ReadBatch(indices);
    }

    /// <summary>
    /// Epoch <paramref name="epoch"/>'s batches, read one at a time as the sequence is enumerated. Each batch
    /// belongs to the caller: dispose it (or read it in a dispose scope) before taking the next.
    /// </summary>
    public static IEnumerable<Batch> ReadBatches(this IDataset data, BatchOrder order, int epoch = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(order);
        if (order.Count != data.Count)
            throw new ArgumentException($"the batch order is for {order.Count} examples but the dataset has {data.Count}", nameof(order));
        return Read(data, order, epoch);

        static IEnumerable<Batch> Read(IDataset data, BatchOrder order, int epoch)
        {
            foreach (var indices in order.Batches(epoch)) yield return data.ReadBatch(indices);
        }
    }
}
