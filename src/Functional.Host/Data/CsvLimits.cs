namespace Functional.Data;

/// <summary>
/// Bounds on what <see cref="CsvDataset.Open"/> reads from a CSV file, checked while reading, so a hostile file
/// (a field of a gigabyte, a line that never ends) is refused after at most the bound is read, never held whole
/// in memory. The defaults are far above any real data set (MNIST as CSV: 785 columns, lines of 4 KB).
/// </summary>
public sealed record CsvLimits
{
    /// <summary>The default <see cref="MaxFieldLength"/>: 65,536 characters.</summary>
    public const int DefaultMaxFieldLength = 1 << 16;

    /// <summary>The default <see cref="MaxRecordLength"/>: 16 Mi (16,777,216) characters.</summary>
    public const int DefaultMaxRecordLength = 1 << 24;

    /// <summary>The default <see cref="MaxColumns"/>: 100,000.</summary>
    public const int DefaultMaxColumns = 100_000;

    /// <summary>The default <see cref="MaxFileBytes"/>: 16 GiB.</summary>
    public const long DefaultMaxFileBytes = 16L << 30;

    /// <summary>The most characters one field may hold (a number, a label or a column name; quotes not counted).</summary>
    public int MaxFieldLength { get; init; } = DefaultMaxFieldLength;

    /// <summary>The most characters one record (a line, or several when a quoted field holds line breaks) may hold.</summary>
    public int MaxRecordLength { get; init; } = DefaultMaxRecordLength;

    /// <summary>The most fields one record may hold.</summary>
    public int MaxColumns { get; init; } = DefaultMaxColumns;

    /// <summary>The largest file, in bytes, checked before anything is read.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;
}
