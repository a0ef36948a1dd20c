namespace Functional.Data;

/// <summary>
/// A CSV column, by header name or by 0-based index (negative counts from the end: -1 is the last column).
/// Strings and ints convert to it: <c>Targets = ["species"]</c>, <c>Features = [0, 1, 2]</c>.
/// </summary>
public readonly record struct CsvColumn
{
    private CsvColumn(string? name, int index)
    {
        Name = name;
        Index = index;
    }

    /// <summary>The header name, or null when the column is chosen by index.</summary>
    public string? Name { get; }

    /// <summary>The 0-based index (negative from the end) when <see cref="Name"/> is null.</summary>
    public int Index { get; }

    public static CsvColumn Named(string name) =>
        new(string.IsNullOrEmpty(name) ? throw new ArgumentException("a column name cannot be empty", nameof(name)) : name, 0);

    public static CsvColumn At(int index) => new(null, index);

    public static implicit operator CsvColumn(string name) => Named(name);

    public static implicit operator CsvColumn(int index) => At(index);

    public override string ToString() => Name is null ? $"column index {Index}" : $"column '{Name}'";
}
