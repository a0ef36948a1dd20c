namespace Functional.Data;

/// <summary>How <see cref="CsvDataset.Open"/> reads a CSV file. The defaults read "features..., label" with or without a header.</summary>
public sealed record CsvOptions
{
    /// <summary>The field separator; null: a tab for <c>.tsv</c> files, else a comma.</summary>
    public char? Separator { get; init; }

    /// <summary>
    /// Whether the first row names the columns; null: detect it (the first row is a header when one of its
    /// fields is not a number where the second row's is, or when columns are chosen by name).
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>The feature columns, in order; null: every column that is not a target.</summary>
    public IReadOnlyList<CsvColumn>? Features { get; init; }

    /// <summary>The target columns; null: the last column.</summary>
    public IReadOnlyList<CsvColumn>? Targets { get; init; }

    /// <summary>Class labels (the default) or regression values.</summary>
    public CsvLabels Labels { get; init; } = CsvLabels.Classes;

    /// <summary>
    /// For <see cref="CsvLabels.Classes"/>: the class names in index order (e.g. a training set's
    /// <see cref="CsvDataset.ClassNames"/>); a label not among them is an error. Null: taken from the file.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Bounds on fields, records, columns and the file's size (see <see cref="CsvLimits"/> for the defaults).</summary>
    public CsvLimits Limits { get; init; } = new();
}
