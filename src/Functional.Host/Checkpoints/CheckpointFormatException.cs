namespace Functional.Checkpoints;

/// <summary>
/// A checkpoint file is malformed, truncated or hostile. The message names the file and what is wrong with it.
/// </summary>
/// <remarks>
/// An <see cref="IOException"/>, like a missing or unreadable file, so one catch can handle every way a
/// checkpoint fails to load.
/// </remarks>
public sealed class CheckpointFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a description of the problem.</summary>
    public CheckpointFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file as the caller named it.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }
}
