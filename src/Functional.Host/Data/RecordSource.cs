using Microsoft.Win32.SafeHandles;

namespace Functional.Data;

/// <summary>The data region of an IDX file, read by offset; safe to read from several threads at once.</summary>
internal abstract class RecordSource : IDisposable
{
    /// <summary>Fills <paramref name="destination"/> with the data bytes from <paramref name="offset"/> on.</summary>
    public abstract void Read(long offset, Span<byte> destination);

    public virtual void Dispose() { }
}

/// <summary>Data held in memory (a decompressed gzip file, or a small labels file).</summary>
internal sealed class MemoryRecordSource(byte[] data) : RecordSource
{
    public byte[] Data { get; } = data;

    public override void Read(long offset, Span<byte> destination) =>
        Data.AsSpan(checked((int)offset), destination.Length).CopyTo(destination);
}

/// <summary>
/// Data read from a file with positional reads (pread): nothing is cached by us, the OS page cache does that,
/// and concurrent reads need no lock because no file position is shared.
/// </summary>
internal sealed class FileRecordSource(SafeFileHandle handle, long start, string path, IDisposable? owner = null) : RecordSource
{
    public override void Read(long offset, Span<byte> destination)
    {
        var at = start + offset;
        while (!destination.IsEmpty)
        {
            var n = RandomAccess.Read(handle, destination, at);
            if (n == 0)
                throw new DataFormatException(path, $"the file ended at byte {IdxHeader.Bytes(at)} while being read: was it changed since it was opened?");
            destination = destination[n..];
            at += n;
        }
    }

    public override void Dispose()
    {
        if (owner is null) handle.Dispose();
        else owner.Dispose();
    }
}
