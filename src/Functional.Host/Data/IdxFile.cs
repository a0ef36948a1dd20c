using System.IO.Compression;

namespace Functional.Data;

/// <summary>One opened IDX file, raw or gzipped: its checked header and its data, read by offset.</summary>
internal sealed class IdxFile : IDisposable
{
    // Deflate cannot expand data by more than about 1032:1; a header that promises more than that from the
    // compressed size is a lie we can catch before allocating anything.
    private const long MaxDeflateRatio = 1032;

    private IdxFile(string path, IdxHeader header, RecordSource data)
    {
        Path = path;
        Header = header;
        Data = data;
    }

    public string Path { get; }
    public IdxHeader Header { get; }
    public RecordSource Data { get; }

    /// <summary>Opens and checks <paramref name="path"/>: header, and that the data is exactly as long as it says.</summary>
    /// <param name="path">the file, as the caller named it</param>
    /// <param name="labels">whether it is a labels file (for messages)</param>
    /// <param name="inMemoryLimit">gzipped data up to this size is held in memory, larger data goes to a temporary file</param>
    /// <param name="intoMemory">read the data into memory even when the file is raw</param>
    public static IdxFile Open(string path, bool labels, long inMemoryLimit, bool intoMemory = false)
    {
        var stream = Functional.Files.openRead(path);
        try
        {
            var gzipped = stream.ReadByte() == 0x1F && stream.ReadByte() == 0x8B;
            stream.Position = 0;
            return gzipped
                ? OpenGzip(path, stream, labels, intoMemory ? Array.MaxLength : inMemoryLimit, intoMemory)
                : OpenRaw(path, stream, labels, intoMemory);
        }
        finally
        {
            stream.Dispose();
        }
    }

    private static IdxFile OpenRaw(string path, FileStream stream, bool labels, bool intoMemory)
    {
        var header = IdxHeader.Read(stream, path);
        var held = stream.Length - header.HeaderBytes;
        CheckLength(path, header, labels, held);
        if (intoMemory)
        {
            CheckFitsMemory(path, header, labels);
            var data = new byte[header.DataBytes];
            stream.ReadExactly(data);
            return new IdxFile(path, header, new MemoryRecordSource(data));
        }
        var file = Functional.Files.openReadWith(0, FileOptions.RandomAccess, path);
        return new IdxFile(path, header, new FileRecordSource(file.SafeFileHandle, header.HeaderBytes, path, owner: file));
    }

    // A gzip stream is not seekable, so reading record i means decompressing everything before it. We therefore
    // decompress once, at open: into memory when it is small enough (Fashion-MNIST's 60,000 training images
    // are 47 MB, a fine price for reads as fast as array copies), else into a temporary file read by offset.
    private static IdxFile OpenGzip(string path, FileStream stream, bool labels, long inMemoryLimit, bool intoMemory)
    {
        var compressed = stream.Length;
        try
        {
            using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            var header = IdxHeader.Read(gzip, path);
            if (header.DataBytes > compressed * MaxDeflateRatio + 4096)
                throw new DataFormatException(path,
                    $"{header.Describe(labels)} but a gzip file of {IdxHeader.Bytes(compressed)} bytes cannot hold that much");
            if (intoMemory) CheckFitsMemory(path, header, labels);

            if (header.DataBytes <= inMemoryLimit && header.DataBytes <= Array.MaxLength)
            {
                var data = new byte[header.DataBytes];
                var got = gzip.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
                CheckLength(path, header, labels, got + CountRest(gzip));
                return new IdxFile(path, header, new MemoryRecordSource(data));
            }

            var temp = new FileStream(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"functional-idx-{Guid.NewGuid():N}.bin"),
                FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            try
            {
                var copied = Copy(gzip, temp, header.DataBytes);
                CheckLength(path, header, labels, copied + CountRest(gzip));
                temp.Flush();
                return new IdxFile(path, header, new FileRecordSource(temp.SafeFileHandle, 0, path, owner: temp));
            }
            catch
            {
                temp.Dispose();
                throw;
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"the gzip data is damaged ({e.Message})", innerException: e);
        }
    }

    private static void CheckLength(string path, IdxHeader header, bool labels, long held)
    {
        if (held < header.DataBytes)
            throw new DataFormatException(path, $"{header.Describe(labels)} but the file holds {IdxHeader.Bytes(held)}");
        if (held > header.DataBytes)
            throw new DataFormatException(path,
                $"{header.Describe(labels)} but the file holds {IdxHeader.Bytes(held)}, {IdxHeader.Bytes(held - header.DataBytes)} more");
    }

    private static void CheckFitsMemory(string path, IdxHeader header, bool labels)
    {
        if (header.DataBytes > Array.MaxLength)
            throw new DataFormatException(path, $"{header.Describe(labels)}, more than this reader holds in memory");
    }

    private static long Copy(Stream from, Stream to, long limit)
    {
        var buffer = new byte[1 << 16];
        long copied = 0;
        while (copied < limit)
        {
            var n = from.Read(buffer, 0, (int)Math.Min(buffer.Length, limit - copied));
            if (n == 0) break;
            to.Write(buffer, 0, n);
            copied += n;
        }
        return copied;
    }

    private static long CountRest(Stream stream)
    {
        var buffer = new byte[1 << 14];
        long n = 0;
        int got;
        while ((got = stream.Read(buffer)) > 0) n += got;
        return n;
    }

    public void Dispose() => Data.Dispose();
}
