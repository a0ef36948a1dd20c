using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Checkpoints;

/// <summary>
/// Reads and writes safetensors files (Hugging Face's checkpoint format): an 8-byte little-endian header size N,
/// an N-byte JSON header, then every tensor's raw little-endian row-major bytes.
/// </summary>
/// <remarks>
/// Files written here match the reference writer's layout (tensors ordered by descending dtype alignment, then
/// name; header padded with spaces to a multiple of 8). Files read here are validated with the reference
/// reader's rules before any tensor is allocated; a bad file raises <see cref="CheckpointFormatException"/>.
/// </remarks>
public static class SafeTensors
{
    /// <summary>The metadata key and value that Hugging Face transformers needs to accept a PyTorch file.</summary>
    private const string FormatKey = "format";
    private const string FormatValue = "pt";
    private const string MetadataKey = "__metadata__";

    // Tensors move in chunks so no single span passes int.MaxValue bytes (the limit of Tensor.bytes).
    private const long ChunkBytes = 64L << 20;

    // serde_json, the reference writer, escapes only quotes, backslashes and control characters; the relaxed
    // encoder keeps names like "a+b" or non-ASCII readable in the header. ("Unsafe" refers to HTML embedding.)
    private static readonly JsonWriterOptions jsonWriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> as a safetensors file.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Named tensors on any device; each is copied to CPU as contiguous bytes. Names must be unique.</param>
    /// <param name="metadata">
    /// Optional string metadata for "__metadata__". "format": "pt" is added unless the caller gives a "format".
    /// </param>
    /// <remarks>
    /// Atomic: the file is written to a temporary file ("&lt;name&gt;.&lt;guid&gt;.tmp") in the same folder, flushed to
    /// disk, then renamed over <paramref name="path"/>, so a failure or crash mid-write never leaves a partial file
    /// at <paramref name="path"/>; any previous file stays intact. A failure deletes the temporary file; a killed
    /// process may leave it behind. The tensors are read, never modified or disposed.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// A duplicate or reserved name, a null tensor, a disposed or sparse tensor, or an element type safetensors
    /// cannot hold (complex, quantized, ...).
    /// </exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
                            IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        EnsureLittleEndian();

        // Everything is checked and the header built before the file system is touched.
        var pending = Plan(tensors);
        byte[] header = BuildHeader(pending, BuildMetadata(metadata));

        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        string tempPath = Path.Combine(folder, $"{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                                               bufferSize: 1 << 20))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var item in pending) WriteData(stream, item);
                stream.Flush(flushToDisk: true);
            }
            // rename(2) replaces the target atomically on POSIX (MoveFileEx on Windows). The folder itself is not
            // fsynced (.NET offers no way to fsync a directory), so after a power cut either the old or the new file is there.
            File.Move(tempPath, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(tempPath);
            throw;
        }
    }

    /// <summary>
    /// Reads a safetensors file into CPU tensors. The whole header and layout are validated before any tensor is
    /// allocated.
    /// </summary>
    /// <returns>
    /// The tensors, owned by the caller through the returned <see cref="SafeTensorsFile"/> (dispose it). They are
    /// detached from any dispose scope active at the call.
    /// </returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a valid safetensors file.</exception>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        EnsureLittleEndian();

        using var stream = OpenRead(path);
        var header = SafeTensorsHeaderReader.Read(stream, path);

        // Every tensor created here (views and chunks included) dies with the scope unless detached at the end,
        // so a failure part way leaks nothing.
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(header.Entries.Count, StringComparer.Ordinal);
        // The layout is contiguous and in offset order, so the data reads sequentially.
        foreach (var entry in header.Entries)
        {
            var tensor = torch.empty(entry.ShapeUnsafe, entry.ScalarType);
            ReadData(stream, tensor, entry, path);
            tensors.Add(entry.Name, tensor);
        }
        foreach (var tensor in tensors.Values) tensor.DetachFromDisposeScope();
        return new SafeTensorsFile(header, tensors);
    }

    /// <summary>
    /// Reads and validates only the header: names, dtypes, shapes, offsets and metadata, without the data.
    /// The layout is checked against the file's length, as <see cref="Load"/> does.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a valid safetensors file.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = OpenRead(path);
        return SafeTensorsHeaderReader.Read(stream, path);
    }

    /// <summary>A tensor queued for writing, with what its header entry needs.</summary>
    private sealed record Pending(string Name, Tensor Tensor, SafeTensorsDType DType, long[] Shape, long ByteLength)
    {
        // The reference orders names by their UTF-8 bytes, which differs from UTF-16 ordinal order around surrogates.
        public byte[] NameUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(Name);

        public long Begin { get; set; }
    }

    private static List<Pending> Plan(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var pending = new List<Pending>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name is null)
                throw new ArgumentException("A tensor name is null.", nameof(tensors));
            if (name == MetadataKey)
                throw new ArgumentException($"'{MetadataKey}' is reserved for metadata and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(tensors));
            if (tensor is null)
                throw new ArgumentException($"Tensor '{name}' is null.", nameof(tensors));
            if (tensor.IsInvalid)
                throw new ArgumentException($"Tensor '{name}' has been disposed.", nameof(tensors));
            if (!SafeTensorsDType.TryFromScalarType(tensor.dtype, out var dtype))
                throw new ArgumentException(
                    $"Tensor '{name}' has element type {tensor.dtype}, which safetensors cannot hold (supported: {SafeTensorsDType.SupportedNames}).",
                    nameof(tensors));
            if (tensor.is_sparse)
                throw new ArgumentException($"Tensor '{name}' is sparse; safetensors holds dense tensors only (call to_dense()).", nameof(tensors));

            long[] shape = tensor.shape;
            long byteLength = checked(tensor.numel() * dtype.Size);
            pending.Add(new Pending(name, tensor, dtype, shape, byteLength));
        }

        // The reference order: descending dtype (alignment), then name by UTF-8 bytes, so every tensor
        // starts aligned to its element size with no padding between tensors.
        pending.Sort((a, b) =>
        {
            int byDType = b.DType.Rank.CompareTo(a.DType.Rank);
            return byDType != 0 ? byDType : a.NameUtf8.AsSpan().SequenceCompareTo(b.NameUtf8);
        });
        long offset = 0;
        foreach (var item in pending)
        {
            item.Begin = offset;
            offset = checked(offset + item.ByteLength);
        }
        return pending;
    }

    private static SortedDictionary<string, string> BuildMetadata(IReadOnlyDictionary<string, string>? metadata)
    {
        // Sorted so the same input always gives the same bytes.
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                    throw new ArgumentException("Metadata keys and values must not be null.", nameof(metadata));
                result[key] = value;
            }
        }
        result.TryAdd(FormatKey, FormatValue);
        return result;
    }

    private static byte[] BuildHeader(List<Pending> pending, SortedDictionary<string, string> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, jsonWriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();
            foreach (var item in pending)
            {
                json.WriteStartObject(item.Name);
                json.WriteString("dtype", item.DType.Name);
                json.WriteStartArray("shape");
                foreach (long dim in item.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(item.Begin);
                json.WriteNumberValue(item.Begin + item.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }

        // Pad with spaces (valid JSON whitespace) so the data buffer starts 8-byte aligned.
        int length = buffer.WrittenCount;
        int padded = (length + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    private static void WriteData(FileStream stream, Pending item)
    {
        if (item.ByteLength == 0) return;
        // The copies (device to CPU, contiguous, flattened views, chunks) die with the scope; the caller's
        // tensor is not created here, so the scope leaves it alone. detach() keeps autograd out of the copies.
        using var scope = torch.NewDisposeScope();
        var flat = item.Tensor.detach().cpu().contiguous().reshape(-1);
        ForEachChunk(flat, item.DType, chunk => stream.Write(chunk.bytes));
    }

    private static void ReadData(FileStream stream, Tensor tensor, SafeTensorsEntry entry, string path)
    {
        if (entry.ByteLength == 0) return;
        var flat = tensor.view(-1);
        ForEachChunk(flat, entry.DTypeInfo, chunk => SafeTensorsHeaderReader.ReadExactly(stream, chunk.bytes, path));

        // libtorch assumes a bool is 0 or 1; other bytes would make comparisons and arithmetic misbehave.
        if (entry.DTypeInfo.ScalarType == ScalarType.Bool)
        {
            ForEachChunk(flat, entry.DTypeInfo, chunk =>
            {
                int bad = chunk.bytes.IndexOfAnyExcept((byte)0, (byte)1);
                if (bad >= 0)
                    throw SafeTensorsHeaderReader.Fail(path,
                        $"tensor '{entry.Name}' of dtype BOOL holds the byte {chunk.bytes[bad]}; booleans must be 0 or 1");
            });
        }
    }

    /// <summary>Calls <paramref name="action"/> with consecutive 1-D chunks of a contiguous flat tensor.</summary>
    private static void ForEachChunk(Tensor flat, SafeTensorsDType dtype, Action<Tensor> action)
    {
        long total = flat.numel();
        long perChunk = ChunkBytes / dtype.Size;
        for (long start = 0; start < total; start += perChunk)
        {
            using var chunk = flat.narrow(0, start, Math.Min(perChunk, total - start));
            action(chunk);
        }
    }

    private static FileStream OpenRead(string path) =>
        // Unbuffered: the data is read straight into the tensors' memory in large blocks.
        Functional.Files.openReadWith(0, FileOptions.SequentialScan, path);

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported.");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original error matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
