namespace Functional.Checkpoints;

/// <summary>
/// Reads one of a checkpoint's files whole, bounded: never more bytes than the file says it has (a device such
/// as /dev/zero says 0 and gives without end), nor more than the bound its kind allows.
/// </summary>
internal static class CheckpointFile
{
    /// <summary>model.json and training.json are far smaller than this (a history of a million epochs is ~250 MB, so this bounds them too).</summary>
    public const long MaxJsonBytes = 256L << 20;

    /// <exception cref="FileNotFoundException">there is no such file</exception>
    /// <exception cref="CheckpointFormatException">it is larger than <paramref name="maxBytes"/>, or gives more bytes than its length</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such file", path);
        var length = info.Length;
        if (length > maxBytes)
            throw new CheckpointFormatException(path, $"it is {length} bytes long, more than the {maxBytes} such a file may have");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var bytes = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = stream.Read(bytes, read, (int)(length - read));
            if (n == 0) throw new CheckpointFormatException(path, $"it ended after {read} of its {length} bytes (it changed while it was read)");
            read += n;
        }
        if (stream.ReadByte() != -1)
            throw new CheckpointFormatException(path, $"it gives more than the {length} bytes it says it has: it is not a regular file (a device or a pipe?)");
        return bytes;
    }
}
