using Functional.Training;

namespace Functional.Checkpoints;

/// <summary>
/// Where checkpoints may be written: a folder that is new, empty, or holds nothing but a checkpoint's files.
/// Saving never overwrites or deletes a file Functional did not write.
/// </summary>
internal static class CheckpointFolder
{
    /// <summary>What a file is called while it is written, before it takes its name (<c>NAME.tmp</c>, or
    /// <c>NAME.GUID.tmp</c> as <see cref="SafeTensors.Save"/> writes it).</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Every file a checkpoint folder holds (see <see cref="Checkpoint"/> and <see cref="TrainingState"/>).</summary>
    private static readonly string[] Files =
        [Checkpoint.WeightsFile, Checkpoint.MetadataFile, Text.Tokenizer.FileName, TrainingState.OptimizerFile, TrainingState.StateFile, TrainingState.BestWeightsFile,
         FineTuning.AdapterFile.WeightsFile, FineTuning.AdapterFile.ConfigFile];

    private static bool IsCheckpointFile(FileSystemInfo entry) =>
        entry is FileInfo && Files.Any(f => entry.Name == f || (entry.Name.StartsWith(f + ".", StringComparison.Ordinal) && entry.Name.EndsWith(TemporarySuffix, StringComparison.Ordinal)));

    /// <summary>Throws unless <paramref name="directory"/> is absent, empty or holds only a checkpoint's files.</summary>
    /// <exception cref="IOException">it is a file, or it holds other files or folders (the message names them)</exception>
    public static void RequireWritable(string directory)
    {
        if (File.Exists(directory))
            throw new IOException($"{directory} is a file, not a folder: a checkpoint is a folder (give a new or empty one)");
        if (!Directory.Exists(directory)) return;
        var others = new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .Where(e => !IsCheckpointFile(e))
            .Select(e => e is DirectoryInfo ? e.Name + "/" : e.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (others.Count == 0) return;
        var named = others.Count <= 3 ? string.Join(", ", others) : $"{string.Join(", ", others.Take(3))} and {others.Count - 3} more";
        throw new IOException(
            $"{directory} is not a checkpoint folder: it holds {named}. A checkpoint is saved only into a new or empty " +
            "folder, or over an earlier checkpoint, so that no other file is overwritten or deleted: choose another folder");
    }

    /// <summary>Throws unless <see cref="Replace"/> may replace <paramref name="directory"/>: it, and the folders
    /// beside it that replacing uses, are writable, and it is not the current folder.</summary>
    /// <exception cref="IOException">one of them holds other files than a checkpoint's, or it is (or holds) the
    /// current folder, which cannot be replaced</exception>
    public static void RequireReplaceable(string directory)
    {
        var full = FullPath(directory);
        var current = Path.GetFullPath(Environment.CurrentDirectory);
        if (current == full || current.StartsWith(Path.TrimEndingDirectorySeparator(full) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new IOException($"{directory} is the current folder or holds it: a checkpoint folder is replaced as a whole, " +
                                  $"so give it a folder of its own (e.g. {Path.Combine(directory, "checkpoint")})");
        RequireWritable(directory);
        RequireWritable(full + Next);
        RequireWritable(full + Previous);
    }

    private const string Next = ".next";
    private const string Previous = ".previous";

    /// <summary>
    /// Writes a checkpoint folder as one unit: <paramref name="write"/> fills a fresh folder beside it
    /// (<c>DIR.next</c>), which then takes its place; the old one waits as <c>DIR.previous</c> until the new one
    /// is in place, so a crash at any moment leaves one whole checkpoint.
    /// </summary>
    /// <exception cref="IOException">see <see cref="RequireReplaceable"/></exception>
    public static void Replace(string directory, Action<string> write)
    {
        RequireReplaceable(directory);
        var full = FullPath(directory);
        var next = full + Next;
        var previous = full + Previous;
        Remove(next);
        Directory.CreateDirectory(next);
        write(next);
        Remove(previous);
        if (Directory.Exists(full)) Directory.Move(full, previous);
        Directory.Move(next, full);
        Remove(previous);
    }

    /// <summary>The folder's full path without a trailing separator (<c>DIR/</c> is <c>DIR</c>), to which
    /// <c>.next</c> and <c>.previous</c> are added.</summary>
    public static string FullPath(string directory) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));

    /// <summary>
    /// The newest complete checkpoint among the folder and the copies <see cref="Replace"/> leaves after a crash
    /// between its steps: <c>DIR.next</c> (written whole, not yet moved in), <c>DIR</c>, then <c>DIR.previous</c>.
    /// Complete: its model.json and the weights' header parse, and its training state (required in <c>DIR.next</c>,
    /// which only a training run writes) is there and parses. When none is, the folder itself (whose errors then say why).
    /// The one rule <c>predict</c>, <c>eval</c>, <see cref="Networks.Network.Load"/> and <c>--resume</c> use.
    /// </summary>
    public static string Newest(string directory)
    {
        var full = FullPath(directory);
        foreach (var (candidate, needsState) in new[] { (full + Next, true), (full, false), (full + Previous, false) })
            if (IsComplete(candidate, needsState))
                return candidate == full ? directory : candidate;
        return directory;
    }

    private static bool IsComplete(string folder, bool needsState)
    {
        if (!Directory.Exists(folder)) return false;
        try
        {
            Checkpoint.ReadMetadataFile(Path.Combine(folder, Checkpoint.MetadataFile));
            SafeTensors.ReadHeader(Path.Combine(folder, Checkpoint.WeightsFile));
            var state = Path.Combine(folder, TrainingState.StateFile);
            var optimizer = Path.Combine(folder, TrainingState.OptimizerFile);
            if (needsState || File.Exists(state) || File.Exists(optimizer))
            {
                if (!File.Exists(optimizer)) return false;
                TrainingState.Read(state);
            }
            return true;
        }
        catch (IOException)
        {
            return false; // missing, cut short or malformed: not this one
        }
    }

    /// <summary>Deletes a checkpoint folder written by <see cref="Replace"/>, file by file: only what a checkpoint holds.</summary>
    private static void Remove(string folder)
    {
        RequireWritable(folder);
        if (!Directory.Exists(folder)) return;
        foreach (var file in Directory.EnumerateFiles(folder)) File.Delete(file);
        Directory.Delete(folder);
    }
}
