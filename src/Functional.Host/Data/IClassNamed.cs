namespace Functional.Data;

/// <summary>
/// A dataset whose class indices have names (a CSV file's labels), or a view of one: what
/// <see cref="DatasetExtensions.ClassNames"/> reads, so a network records the names it was trained with.
/// </summary>
internal interface IClassNamed
{
    /// <summary>The name of each class index, or null when the classes have none.</summary>
    IReadOnlyList<string>? ClassNames { get; }
}
