namespace Functional.Data;

/// <summary>
/// A dataset read from a file, or a view of one: messages about its examples name the file.
/// </summary>
internal interface IFromFile
{
    /// <summary>The file the examples come from (for IDX, the images).</summary>
    string SourcePath { get; }
}

internal static class DataNaming
{
    /// <summary>How a message names <paramref name="data"/>: its file, or <paramref name="role"/> ("the training data").</summary>
    public static string Describe(IDataset data, string role) => data switch
    {
        NormalizedDataset view => Describe(view.Source, role),
        ClassSelectedDataset view => Describe(view.Source, role),
        IFromFile file => file.SourcePath,
        _ => role,
    };
}
