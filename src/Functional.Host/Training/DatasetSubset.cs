using Functional.Data;

namespace Functional.Training;

/// <summary>Some of a dataset's examples, by index (for a validation split). It does not own the dataset.</summary>
internal sealed class DatasetSubset(IDataset data, int[] indices) : IDataset, IClassNamed
{
    public IReadOnlyList<string>? ClassNames => data.ClassNames();
    public int Count => indices.Length;
    public int[] FeatureShape => data.FeatureShape;
    public TargetKind TargetKind => data.TargetKind;
    public int[] TargetShape => data.TargetShape;
    public int? ClassCount => data.ClassCount;

    public Batch ReadBatch(ReadOnlySpan<int> which)
    {
        var mapped = new int[which.Length];
        for (var i = 0; i < which.Length; i++)
        {
            if ((uint)which[i] >= (uint)indices.Length)
                throw new ArgumentOutOfRangeException(nameof(which), which[i], $"example index {which[i]} is outside the {indices.Length} examples");
            mapped[i] = indices[which[i]];
        }
        return data.ReadBatch(mapped);
    }

    public void Dispose() { }

    /// <summary>
    /// Splits off the last <paramref name="fraction"/> of <paramref name="data"/> for validation: in index order
    /// without a seed, else of a permutation drawn from <paramref name="seed"/>.
    /// </summary>
    public static (IDataset Train, IDataset Validation) Split(IDataset data, double fraction, int? seed)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the validation split must be between 0 and 1");
        var held = (int)Math.Round(data.Count * fraction);
        if (held < 1 || held >= data.Count)
            throw new ArgumentException($"a validation split of {fraction} of {data.Count} examples leaves {held} for validation and {data.Count - held} for training; each needs at least one");
        var order = new BatchOrder(data.Count, 1, seed).Order(0);
        var cut = data.Count - held;
        return (new DatasetSubset(data, order[..cut]), new DatasetSubset(data, order[cut..]));
    }
}
