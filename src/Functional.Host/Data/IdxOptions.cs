namespace Functional.Data;

/// <summary>How <see cref="IdxDataset.Open"/> reads a pair of IDX files.</summary>
public sealed record IdxOptions
{
    /// <summary>The number of classes; labels at or above it are an error. Null: the largest label + 1.</summary>
    public int? ClassCount { get; init; }

    /// <summary>
    /// Gzipped files whose data decompresses to at most this many bytes are held in memory (a gzip stream cannot
    /// be read from the middle); larger ones are decompressed once to a temporary file that is deleted on
    /// <see cref="IdxDataset.Dispose"/>. Default 1 GiB; Fashion-MNIST's training images take 47 MB.
    /// </summary>
    public long GzipInMemoryLimit { get; init; } = 1L << 30;
}
