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

    /// <summary>The column with this header name.</summary>
    /// <exception cref="ArgumentException">the name is empty</exception>
    public static CsvColumn Named(string name) =>
        new(string.IsNullOrEmpty(name) ? throw new ArgumentException("a column name cannot be empty", nameof(name)) : name, 0);

    /// <summary>The column at this 0-based index; a negative one counts from the end (-1 is the last).</summary>
    public static CsvColumn At(int index) => new(null, index);

    /// <summary>A name chooses a column by header: <see cref="Named"/>.</summary>
    public static implicit operator CsvColumn(string name) => Named(name);

    /// <summary>A number chooses a column by index: <see cref="At"/>.</summary>
    public static implicit operator CsvColumn(int index) => At(index);

    /// <summary>The column as messages name it: <c>column 'price'</c> or <c>column index -1</c>.</summary>
    public override string ToString() => Name is null ? $"column index {Index}" : $"column '{Name}'";
}
