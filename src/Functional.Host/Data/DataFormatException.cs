namespace Functional.Data;

/// <summary>
/// A data file (IDX, CSV) is malformed or truncated. The message names the file, where it can the line and
/// column, and what is wrong.
/// </summary>
/// <remarks>
/// An <see cref="IOException"/>, like a missing or unreadable file, so one catch handles every way a data file
/// fails to load.
/// </remarks>
public sealed class DataFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>; line and column are 1-based, as editors count.</summary>
    public DataFormatException(string filePath, string problem, int? line = null, int? column = null, Exception? innerException = null)
        : base(Describe(filePath, problem, line, column), innerException)
    {
        FilePath = filePath;
        Problem = problem;
        Line = line;
        Column = column;
    }

    /// <summary>The file as the caller named it.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name or position.</summary>
    public string Problem { get; }

    /// <summary>The 1-based line of a text file where the problem is, when there is one.</summary>
    public int? Line { get; }

    /// <summary>The 1-based column (field) of a CSV row where the problem is, when there is one.</summary>
    public int? Column { get; }

    private static string Describe(string filePath, string problem, int? line, int? column)
    {
        var at = line is { } l ? column is { } c ? $", line {l}, column {c}" : $", line {l}" : "";
        return $"{filePath}{at}: {problem}";
    }
}
