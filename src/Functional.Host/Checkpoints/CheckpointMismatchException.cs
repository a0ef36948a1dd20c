namespace Functional.Checkpoints;

/// <summary>A checkpoint that is well-formed but belongs to a different network.</summary>
public sealed class CheckpointMismatchException(string path, string problem)
    : IOException($"{path}: {problem}")
{
    /// <summary>The checkpoint file, as the caller named it.</summary>
    public string FilePath { get; } = path;
}
