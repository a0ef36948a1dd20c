using TorchSharp;

namespace Functional.Data;

/// <summary>
/// Examples held in managed arrays: features from <c>float[][]</c> with class labels (<c>int[]</c>) or regression
/// targets (<c>float[][]</c>), or sequences of token ids with a label per position (<c>int[][]</c>, for a model
/// such as <c>[seq] int -> [seq; vocab]</c>). The arrays are validated and copied, so later changes to them do not leak in.
/// </summary>
public sealed class InMemoryDataset : IDataset, INormalizingReader
{
    private readonly float[] features; // Count x featureSize, row-major
    private readonly int featureSize;
    private readonly int[] featureShape;
    private readonly long[]? labels;
    private readonly float[]? targets; // Count x targetSize
    private readonly int targetSize;
    private readonly int[] targetShape;

    /// <summary>Labelled examples for classification.</summary>
    /// <param name="features">one array per example, all the same length, finite numbers</param>
    /// <param name="labels">one class index per example, from 0</param>
    /// <param name="classCount">the number of classes; null: the largest label + 1</param>
    /// <param name="featureShape">each example's shape (its element count must be the rows' length); null: [length]</param>
    /// <exception cref="ArgumentException">lengths differ, a number is not finite, a label is out of range</exception>
    public InMemoryDataset(float[][] features, int[] labels, int? classCount = null, int[]? featureShape = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        (this.features, featureSize, this.featureShape) = Flatten(features, featureShape, "features", nameof(features));
        if (labels.Length != features.Length)
            throw new ArgumentException($"there are {features.Length} examples but {labels.Length} labels", nameof(labels));
        if (classCount is < 1) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "there must be at least one class");
        var max = -1;
        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (label < 0)
                throw new ArgumentException($"example {i + 1}'s label is {label}; class indices start at 0", nameof(labels));
            if (label >= classCount)
                throw new ArgumentException($"example {i + 1}'s label is {label}, out of range for {classCount} classes (0 to {classCount - 1})", nameof(labels));
            max = Math.Max(max, label);
        }
        this.labels = labels.Select(l => (long)l).ToArray();
        ClassCount = classCount ?? max + 1;
        targetShape = [];
        targetSize = 1;
        Count = features.Length;
    }

    /// <summary>Examples with values to predict (regression).</summary>
    /// <param name="features">one array per example, all the same length, finite numbers</param>
    /// <param name="targets">one array per example, all the same length, finite numbers</param>
    /// <param name="featureShape">each example's feature shape; null: [length]</param>
    /// <param name="targetShape">each example's target shape; null: [length]</param>
    /// <exception cref="ArgumentException">lengths differ or a number is not finite</exception>
    public InMemoryDataset(float[][] features, float[][] targets, int[]? featureShape = null, int[]? targetShape = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        (this.features, featureSize, this.featureShape) = Flatten(features, featureShape, "features", nameof(features));
        if (targets.Length != features.Length)
            throw new ArgumentException($"there are {features.Length} examples but {targets.Length} targets", nameof(targets));
        (this.targets, targetSize, this.targetShape) = Flatten(targets, targetShape, "target", nameof(targets));
        Count = features.Length;
    }

    /// <summary>
    /// Sequences of token ids with a class index for every position (a language model's next tokens):
    /// <c>tokens[i]</c> and <c>labels[i]</c> have one length, the same for every example.
    /// </summary>
    /// <param name="tokens">one array of token ids per example (whole numbers from 0)</param>
    /// <param name="labels">one array of class indices per example, as long as its tokens</param>
    /// <param name="classCount">the number of classes (the vocabulary); null: the largest label + 1</param>
    /// <exception cref="ArgumentException">no examples, lengths differ, a token id or label is negative or out of range</exception>
    public InMemoryDataset(int[][] tokens, int[][] labels, int? classCount = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != tokens.Length)
            throw new ArgumentException($"there are {tokens.Length} examples but {labels.Length} label sequences", nameof(labels));
        if (classCount is < 1) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "there must be at least one class");
        var rows = new float[tokens.Length][];
        for (var i = 0; i < tokens.Length; i++)
        {
            var row = tokens[i] ?? throw new ArgumentException($"example {i + 1}'s tokens are null", nameof(tokens));
            rows[i] = new float[row.Length];
            for (var j = 0; j < row.Length; j++)
            {
                if (row[j] < 0) throw new ArgumentException($"example {i + 1}'s token {j + 1} is {row[j]}; token ids start at 0", nameof(tokens));
                rows[i][j] = row[j];
            }
        }
        (features, featureSize, featureShape) = Flatten(rows, null, "tokens", nameof(tokens));
        var flat = new long[tokens.Length * featureSize];
        var max = -1;
        for (var i = 0; i < labels.Length; i++)
        {
            var row = labels[i] ?? throw new ArgumentException($"example {i + 1}'s labels are null", nameof(labels));
            if (row.Length != featureSize)
                throw new ArgumentException($"example {i + 1} has {featureSize} tokens but {row.Length} labels; every position needs one", nameof(labels));
            for (var j = 0; j < row.Length; j++)
            {
                var label = row[j];
                if (label < 0 || label >= classCount)
                    throw new ArgumentException($"example {i + 1}'s label {j + 1} is {label}, out of range for {(classCount is { } c ? $"{c} classes (0 to {c - 1})" : "class indices (from 0)")}", nameof(labels));
                max = Math.Max(max, label);
                flat[i * featureSize + j] = label;
            }
        }
        this.labels = flat;
        ClassCount = classCount ?? max + 1;
        targetShape = [featureSize];
        targetSize = featureSize;
        Count = tokens.Length;
    }

    /// <summary>From already validated flat arrays (the CSV reader's), without copying.</summary>
    internal InMemoryDataset(float[] features, int[] featureShape, long[]? labels, int? classCount, float[]? targets, int[] targetShape)
    {
        this.features = features;
        this.featureShape = featureShape;
        featureSize = (int)BatchTensors.Elements(featureShape);
        Count = features.Length / featureSize;
        this.labels = labels;
        ClassCount = classCount;
        this.targets = targets;
        this.targetShape = targetShape;
        targetSize = (int)BatchTensors.Elements(targetShape);
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public int[] FeatureShape => [.. featureShape];
    /// <inheritdoc/>
    public TargetKind TargetKind => labels is null ? TargetKind.Values : TargetKind.ClassIndex;
    /// <inheritdoc/>
    public int[] TargetShape => [.. targetShape];
    /// <inheritdoc/>
    public int? ClassCount { get; }

    /// <inheritdoc/>
    public Batch ReadBatch(ReadOnlySpan<int> indices) => Read(indices, Normalization.None);

    Batch INormalizingReader.ReadBatch(ReadOnlySpan<int> indices, Normalization normalization) => Read(indices, normalization);

    internal Batch Read(ReadOnlySpan<int> indices, Normalization normalization)
    {
        BatchTensors.CheckIndices(indices, Count);
        var xs = BatchTensors.EmptyFloats(indices.Length, featureShape);
        try
        {
            var x = BatchTensors.Values(xs);
            for (var i = 0; i < indices.Length; i++)
                features.AsSpan(indices[i] * featureSize, featureSize).CopyTo(x.Slice(i * featureSize, featureSize));
            normalization.ApplyInPlace(x, featureSize);
            if (labels is not null)
            {
                var y = new long[indices.Length * targetSize];
                for (var i = 0; i < indices.Length; i++)
                    Array.Copy(labels, (long)indices[i] * targetSize, y, (long)i * targetSize, targetSize);
                return new Batch(xs, torch.tensor(y, BatchTensors.Dims(indices.Length, targetShape), torch.ScalarType.Int64));
            }
            var t = new float[indices.Length * targetSize];
            for (var i = 0; i < indices.Length; i++)
                Array.Copy(targets!, (long)indices[i] * targetSize, t, (long)i * targetSize, targetSize);
            return new Batch(xs, BatchTensors.Floats(t, indices.Length, targetShape));
        }
        catch
        {
            xs.Dispose();
            throw;
        }
    }

    /// <summary>Nothing to free: the examples are managed arrays.</summary>
    public void Dispose() { }

    private static (float[] Flat, int Size, int[] Shape) Flatten(float[][] rows, int[]? shape, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(rows, parameter);
        if (rows.Length == 0) throw new ArgumentException("there are no examples", parameter);
        var first = rows[0] ?? throw new ArgumentException($"example 1's {what} is null", parameter);
        int[] exampleShape;
        if (shape is null) exampleShape = [first.Length];
        else
        {
            var elements = BatchTensors.Elements(shape);
            if (elements != first.Length)
                throw new ArgumentException(
                    $"the {what} shape {BatchTensors.ShapeText(shape)} takes {(elements < 0 ? "an impossible number of" : elements.ToString())} values, but example 1 has {first.Length}", parameter);
            exampleShape = [.. shape];
        }
        if (first.Length == 0) throw new ArgumentException($"example 1's {what} has no values", parameter);
        var size = first.Length;
        var flat = new float[checked(rows.Length * size)];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"example {i + 1}'s {what} is null", parameter);
            if (row.Length != size)
                throw new ArgumentException($"example {i + 1}'s {what} has {row.Length} values but example 1's has {size}", parameter);
            for (var j = 0; j < size; j++)
                if (!float.IsFinite(row[j]))
                    throw new ArgumentException($"example {i + 1}'s {what} value {j + 1} is {row[j]}; only finite numbers can be used", parameter);
            row.CopyTo(flat, i * size);
        }
        return (flat, size, exampleShape);
    }
}
