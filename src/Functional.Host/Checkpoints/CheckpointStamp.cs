namespace Functional.Checkpoints;

/// <summary>
/// What identifies the files of a checkpoint folder as they are now (the complete copy a load would read, its
/// weights' size and write time, its model.json's write time), so that a server notices when training or a
/// deployment has replaced them. Equal stamps: the same files.
/// </summary>
/// <param name="Folder">the complete copy a load reads (the folder, or a <c>.next</c>/<c>.previous</c> copy after a crash)</param>
/// <param name="WeightsLength">the weights file's size in bytes</param>
/// <param name="WeightsWritten">the weights file's last write time (UTC)</param>
/// <param name="MetadataWritten">model.json's last write time (UTC)</param>
public sealed record CheckpointStamp(string Folder, long WeightsLength, DateTime WeightsWritten, DateTime MetadataWritten)
{
    /// <summary>The stamp of <paramref name="checkpointDirectory"/> now; null when it holds no readable checkpoint
    /// (being replaced, say).</summary>
    public static CheckpointStamp? Read(string checkpointDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointDirectory);
        try
        {
            var folder = Path.GetFullPath(CheckpointFolder.Newest(checkpointDirectory));
            var weights = new FileInfo(Path.Combine(folder, Checkpoint.WeightsFile));
            var metadata = new FileInfo(Path.Combine(folder, Checkpoint.MetadataFile));
            if (!weights.Exists || !metadata.Exists) return null;
            return new CheckpointStamp(folder, weights.Length, weights.LastWriteTimeUtc, metadata.LastWriteTimeUtc);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
