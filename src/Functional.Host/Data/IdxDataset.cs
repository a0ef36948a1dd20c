using System.Buffers;
using System.Text.RegularExpressions;

namespace Functional.Data;

/// <summary>
/// Examples from a pair of IDX files in the MNIST layout (images <c>00 00 08 03</c>, labels <c>00 00 08 01</c>),
/// raw or gzipped. Images are read from disk a batch at a time; labels, small, are read and checked at open.
/// </summary>
/// <remarks>
/// Any IDX element type (ubyte, sbyte, int16, int32, float32, float64) and rank is accepted for the examples.
/// A labels file of an integer type and rank 1 gives class indices; any other gives regression targets.
/// </remarks>
public sealed partial class IdxDataset : IDataset, INormalizingReader, IFromFile
{
    private readonly IdxFile images;
    private readonly long[]? labels;
    private readonly float[]? targets;
    private readonly int[] targetShape;
    private bool disposed;

    private IdxDataset(IdxFile images, string labelsPath, long[]? labels, float[]? targets, int[] targetShape, int? classCount)
    {
        this.images = images;
        LabelsPath = labelsPath;
        this.labels = labels;
        this.targets = targets;
        this.targetShape = targetShape;
        ClassCount = classCount;
    }

    /// <summary>The images file as given.</summary>
    public string ImagesPath => images.Path;

    string IFromFile.SourcePath => ImagesPath;

    /// <summary>The labels file, as given or as found beside the images.</summary>
    public string LabelsPath { get; }

    /// <inheritdoc/>
    public int Count => images.Header.Count;
    /// <inheritdoc/>
    public int[] FeatureShape => images.Header.ExampleShape;
    /// <inheritdoc/>
    public TargetKind TargetKind => labels is null ? TargetKind.Values : TargetKind.ClassIndex;
    /// <inheritdoc/>
    public int[] TargetShape => [.. targetShape];
    /// <inheritdoc/>
    public int? ClassCount { get; }

    /// <summary>Opens and checks an images file and its labels file (found by the MNIST naming when not given).</summary>
    /// <exception cref="FileNotFoundException">a file is missing; for the labels, the message says where it looked</exception>
    /// <exception cref="DataFormatException">a file is truncated or malformed, the counts differ, or a label is out of range</exception>
    public static IdxDataset Open(string imagesPath, string? labelsPath = null, IdxOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        options ??= new IdxOptions();
        if (options.ClassCount is < 1) throw new ArgumentOutOfRangeException(nameof(options), options.ClassCount, "ClassCount must be at least 1");
        if (!File.Exists(imagesPath)) throw new FileNotFoundException($"{imagesPath}: no such file", imagesPath);
        labelsPath ??= FindLabels(imagesPath);

        // The labels first: they are small, and a mismatch found there should not cost decompressing the images.
        using var labelsFile = IdxFile.Open(labelsPath, labels: true, options.GzipInMemoryLimit, intoMemory: true);
        var images = IdxFile.Open(imagesPath, labels: false, options.GzipInMemoryLimit);
        try
        {
            if (labelsFile.Header.Count != images.Header.Count)
                throw new DataFormatException(labelsPath,
                    $"it holds {labelsFile.Header.Count} labels but {imagesPath} holds {images.Header.Count} examples: the counts must agree");
            var bytes = ((MemoryRecordSource)labelsFile.Data).Data;
            var header = labelsFile.Header;
            if (header.Type.IsInteger() && header.Dims.Length == 1)
            {
                var (classes, classCount) = ReadClasses(labelsPath, header, bytes, options.ClassCount);
                return new IdxDataset(images, labelsPath, classes, null, [], classCount);
            }
            var values = new float[header.Count * (long)header.ExampleElements];
            var bad = header.Type.Decode(bytes, values);
            if (bad >= 0)
                throw new DataFormatException(labelsPath,
                    $"example {bad / header.ExampleElements + 1}'s target is {values[bad]}; only finite numbers can be used");
            return new IdxDataset(images, labelsPath, null, values, header.ExampleShape, null);
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The labels file beside <paramref name="imagesPath"/> by the MNIST naming (<c>train-images-idx3-ubyte.gz</c>
    /// → <c>train-labels-idx1-ubyte.gz</c>), with or without <c>.gz</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">no such file exists, or the name does not follow the convention</exception>
    public static string FindLabels(string imagesPath)
    {
        var name = Path.GetFileName(imagesPath);
        if (!ImagesName().IsMatch(name))
            throw new FileNotFoundException(
                $"{imagesPath}: no labels file: the name does not follow the MNIST naming (train-images-idx3-ubyte -> train-labels-idx1-ubyte); give it with --labels");
        var labelsName = ImagesName().Replace(name, "labels-idx1", 1);
        var directory = Path.GetDirectoryName(imagesPath) ?? "";
        var first = Path.Combine(directory, labelsName);
        var second = labelsName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? first[..^3] : first + ".gz";
        if (File.Exists(first)) return first;
        if (File.Exists(second)) return second;
        throw new FileNotFoundException($"{imagesPath}: no labels file: looked for {first} and {second}; give it with --labels", first);
    }

    [GeneratedRegex("images-idx[0-9]+", RegexOptions.IgnoreCase)]
    private static partial Regex ImagesName();

    private static (long[] Labels, int ClassCount) ReadClasses(string path, IdxHeader header, byte[] bytes, int? classCount)
    {
        var labels = new long[header.Count];
        long max = -1;
        for (var i = 0; i < labels.Length; i++)
        {
            var label = header.Type.ReadInteger(bytes, i);
            if (label < 0)
                throw new DataFormatException(path, $"label {label} of example {i + 1} is negative: class indices start at 0");
            if (label >= classCount)
                throw new DataFormatException(path,
                    $"label {label} of example {i + 1} is out of range: the data has {classCount} classes (0 to {classCount - 1})");
            labels[i] = label;
            max = Math.Max(max, label);
        }
        if (classCount is null && max >= int.MaxValue)
            throw new DataFormatException(path, $"label {max} is too large to be a class index");
        return (labels, classCount ?? (int)(max + 1));
    }

    /// <inheritdoc/>
    public Batch ReadBatch(ReadOnlySpan<int> indices) => Read(indices, Normalization.None);

    Batch INormalizingReader.ReadBatch(ReadOnlySpan<int> indices, Normalization normalization) => Read(indices, normalization);

    private Batch Read(ReadOnlySpan<int> indices, Normalization normalization)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        BatchTensors.CheckIndices(indices, Count);
        var header = images.Header;
        var recordBytes = header.ExampleBytes;
        var elements = header.ExampleElements;
        var totalBytes = (long)indices.Length * recordBytes;
        if (totalBytes > Array.MaxLength || (long)indices.Length * elements > Array.MaxLength)
            throw new ArgumentException($"a batch of {indices.Length} examples of {elements} values is too large to read at once", nameof(indices));

        var features = BatchTensors.EmptyFloats(indices.Length, header.ExampleShape);
        try
        {
            var values = BatchTensors.Values(features);
            var raw = ArrayPool<byte>.Shared.Rent((int)totalBytes);
            try
            {
                // Consecutive indices (an unshuffled pass) are read as one run.
                for (var i = 0; i < indices.Length;)
                {
                    var end = i + 1;
                    while (end < indices.Length && indices[end] == indices[end - 1] + 1) end++;
                    images.Data.Read((long)indices[i] * recordBytes, raw.AsSpan(i * recordBytes, (end - i) * recordBytes));
                    i = end;
                }
                var bad = header.Type.Decode(raw.AsSpan(0, (int)totalBytes), values);
                if (bad >= 0)
                    throw new DataFormatException(ImagesPath,
                        $"example {indices[bad / elements] + 1} holds {values[bad]}; only finite numbers can be used");
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
            }
            normalization.ApplyInPlace(values, elements);
            if (labels is not null)
            {
                var y = new long[indices.Length];
                for (var i = 0; i < indices.Length; i++) y[i] = labels[indices[i]];
                return new Batch(features, BatchTensors.ClassIndices(y));
            }
            var size = (int)BatchTensors.Elements(targetShape);
            var t = new float[indices.Length * size];
            for (var i = 0; i < indices.Length; i++)
                Array.Copy(targets!, (long)indices[i] * size, t, (long)i * size, size);
            return new Batch(features, BatchTensors.Floats(t, indices.Length, targetShape));
        }
        catch
        {
            features.Dispose();
            throw;
        }
    }

    /// <summary>Closes the images file (and deletes its decompressed temporary copy, if any).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        images.Dispose();
    }
}
