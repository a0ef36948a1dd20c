namespace Functional.Checkpoints;

/// <summary>A checkpoint that is well-formed but belongs to a different network.</summary>
public sealed class CheckpointMismatchException(string path, string problem)
    : IOException($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
