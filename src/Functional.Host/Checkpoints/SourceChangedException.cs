namespace Functional.Checkpoints;

/// <summary>
/// A source has changed since a checkpoint trained from it was written: its SHA-256 is not the one the
/// checkpoint's <c>model.json</c> records, so the weights may no longer mean what they did.
/// </summary>
public sealed class SourceChangedException : IOException
{
    /// <summary>Creates the exception for the source at <paramref name="sourcePath"/> and the checkpoint in <paramref name="checkpointDirectory"/>.</summary>
    public SourceChangedException(string sourcePath, string checkpointDirectory, string recordedSha256, string currentSha256)
        : base($"{sourcePath} has changed since the checkpoint in {checkpointDirectory} was written " +
               $"(its SHA-256 is {Short(currentSha256)}, {Checkpoint.MetadataFile} records {Short(recordedSha256)})")
    {
        SourcePath = sourcePath;
        CheckpointDirectory = checkpointDirectory;
        RecordedSha256 = recordedSha256;
        CurrentSha256 = currentSha256;
    }

    /// <summary>The source file, as the caller named it.</summary>
    public string SourcePath { get; }

    /// <summary>The checkpoint folder, as the caller named it.</summary>
    public string CheckpointDirectory { get; }

    /// <summary>The SHA-256 the checkpoint records (hex).</summary>
    public string RecordedSha256 { get; }

    /// <summary>The SHA-256 of the source now (hex).</summary>
    public string CurrentSha256 { get; }

    private static string Short(string sha256) => sha256.Length > 12 ? sha256[..12] + "..." : sha256;
}
