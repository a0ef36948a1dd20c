using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Functional.Checkpoints;

/// <summary>
/// Reads and validates a safetensors header with the reference reader's rules, so that nothing is allocated
/// for the data until the whole layout is known to be sound.
/// </summary>
internal static class SafeTensorsHeaderReader
{
    /// <summary>The reference reader's limit on N; it bounds the one allocation made before validation.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    // The header nests three levels deep; a small limit stops hostile nesting early.
    private static readonly JsonDocumentOptions jsonOptions = new() { MaxDepth = 16 };

    /// <summary>
    /// Reads the size prefix and header from the start of <paramref name="stream"/> (a seekable file) and
    /// validates them against its length. Leaves the stream at the start of the data buffer.
    /// </summary>
    public static SafeTensorsHeader Read(Stream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Fail(path, $"file is {fileLength} bytes long, too short for the 8-byte header size");

        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(stream, prefix, path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderLength)
            throw Fail(path, $"header size {n} bytes exceeds the limit of {MaxHeaderLength} bytes");
        if (8 + (long)n > fileLength)
            throw Fail(path, $"header size {n} bytes runs past the end of the file ({fileLength} bytes): truncated header");

        var header = new byte[n];
        ReadExactly(stream, header, path);
        return Parse(header, fileLength - 8 - (long)n, path);
    }

    /// <summary>Validates header bytes given the length of the data buffer that follows them.</summary>
    public static SafeTensorsHeader Parse(byte[] header, long dataLength, string path)
    {
        // The reference requires '{' first; checking it also rules out a top-level array, string or number.
        if (header.Length == 0 || header[0] != (byte)'{')
            throw Fail(path, "header does not start with '{': not a safetensors file");
        if (!Utf8.IsValid(header))
            throw Fail(path, "header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, jsonOptions);
        }
        catch (JsonException e)
        {
            throw Fail(path, $"header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            // JsonDocument keeps duplicate keys; an ambiguous header must not load one way here and another elsewhere.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var entries = new List<SafeTensorsEntry>();
            IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Fail(path, $"header has a duplicate key {Quote(property.Name)}");
                if (property.Name == MetadataKey)
                    metadata = ParseMetadata(property.Value, path);
                else
                    entries.Add(ParseEntry(property.Name, property.Value, path));
            }

            var ordered = CheckLayout(entries, dataLength, path);
            return new SafeTensorsHeader(ordered, metadata, header.Length, dataLength);
        }
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"{MetadataKey} must be an object mapping strings to strings, not {Describe(value)}");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
                throw Fail(path, $"{MetadataKey} value for {Quote(property.Name)} is not a string: {Describe(property.Value)}");
            if (!metadata.TryAdd(property.Name, property.Value.GetString()!))
                throw Fail(path, $"{MetadataKey} has a duplicate key {Quote(property.Name)}");
        }
        return metadata;
    }

    private static SafeTensorsEntry ParseEntry(string name, JsonElement value, string path)
    {
        string tensor = $"tensor {Quote(name)}";
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"{tensor} must be an object with \"dtype\", \"shape\" and \"data_offsets\", not {Describe(value)}");

        JsonElement? dtypeValue = null, shapeValue = null, offsetsValue = null;
        foreach (var field in value.EnumerateObject())
        {
            // Unknown fields are ignored, as the reference reader does.
            switch (field.Name)
            {
                case "dtype": Assign(ref dtypeValue, field); break;
                case "shape": Assign(ref shapeValue, field); break;
                case "data_offsets": Assign(ref offsetsValue, field); break;
            }
        }

        void Assign(ref JsonElement? slot, JsonProperty field)
        {
            if (slot is not null)
                throw Fail(path, $"{tensor} has a duplicate key \"{field.Name}\"");
            slot = field.Value;
        }

        if (dtypeValue is not { } dtypeElement)
            throw Fail(path, $"{tensor} has no \"dtype\"");
        if (shapeValue is not { } shapeElement)
            throw Fail(path, $"{tensor} has no \"shape\"");
        if (offsetsValue is not { } offsetsElement)
            throw Fail(path, $"{tensor} has no \"data_offsets\"");

        if (dtypeElement.ValueKind != JsonValueKind.String)
            throw Fail(path, $"{tensor} has a dtype that is not a string: {Describe(dtypeElement)}");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDType.TryFromName(dtypeName, out var dtype))
            throw Fail(path, $"{tensor} has unknown dtype {Quote(dtypeName)} (supported: {SafeTensorsDType.SupportedNames})");

        var shape = ReadIntegers(shapeElement, expectedCount: null)
            ?? throw Fail(path, $"{tensor} has shape {Describe(shapeElement)}: it must be a list of integers from 0 to 2^63 - 1");
        var offsets = ReadIntegers(offsetsElement, expectedCount: 2)
            ?? throw Fail(path, $"{tensor} has data_offsets {Describe(offsetsElement)}: they must be two integers [begin, end] from 0 to 2^63 - 1");
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw Fail(path, $"{tensor} has data_offsets [{begin}, {end}] whose end is before its begin");

        // Multiplied in order and refused at the first overflow, as the reference reader and libtorch do.
        long elements = 1;
        foreach (long dim in shape)
        {
            if (!TryMultiply(elements, dim, out elements))
                throw Fail(path, $"{tensor} has shape {FormatShape(shape)} whose element count overflows 64-bit integers");
        }
        if (!TryMultiply(elements, dtype.Size, out long bytes))
            throw Fail(path, $"{tensor} has shape {FormatShape(shape)} of {dtype} whose byte size overflows 64-bit integers");
        if (end - begin != bytes)
            throw Fail(path, $"{tensor} has data_offsets [{begin}, {end}] ({end - begin} bytes) but shape {FormatShape(shape)} of {dtype} needs {bytes} bytes");

        return new SafeTensorsEntry(name, dtype, shape, elements, begin, end);
    }

    /// <summary>
    /// Checks that the tensors, sorted by offset, tile the data buffer exactly: from 0, no gaps, no overlaps,
    /// nothing after the last. Returns them in that order.
    /// </summary>
    private static List<SafeTensorsEntry> CheckLayout(List<SafeTensorsEntry> entries, long dataLength, string path)
    {
        var ordered = entries
            .OrderBy(e => e.DataBegin)
            .ThenBy(e => e.DataEnd)
            .ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();

        long expected = 0;
        SafeTensorsEntry? previous = null;
        foreach (var entry in ordered)
        {
            if (entry.DataBegin != expected)
            {
                string offsets = $"data_offsets [{entry.DataBegin}, {entry.DataEnd}]";
                if (previous is null)
                    throw Fail(path, $"tensor {Quote(entry.Name)} comes first in the data but has {offsets}, not starting at 0: data is not contiguous");
                if (entry.DataBegin < expected)
                    throw Fail(path, $"tensor {Quote(entry.Name)} has {offsets}, which overlaps tensor {Quote(previous.Name)} ending at {expected}: data is not contiguous");
                throw Fail(path, $"tensor {Quote(entry.Name)} has {offsets}, leaving a gap of {entry.DataBegin - expected} bytes after tensor {Quote(previous.Name)} ending at {expected}: data is not contiguous");
            }
            expected = entry.DataEnd;
            previous = entry;
        }

        if (expected < dataLength)
            throw Fail(path, $"file has {dataLength - expected} trailing bytes after the tensors' data (the tensors cover {expected} bytes, the data buffer holds {dataLength})");
        if (expected > dataLength)
            throw Fail(path, $"file is truncated: the tensors need {expected} data bytes but only {dataLength} follow the header");
        return ordered;
    }

    /// <summary>The values of a JSON array of non-negative integers that fit in a long; null if it is anything else.</summary>
    private static long[]? ReadIntegers(JsonElement element, int? expectedCount)
    {
        if (element.ValueKind != JsonValueKind.Array) return null;
        int count = element.GetArrayLength();
        if (expectedCount is { } expected && count != expected) return null;
        var values = new long[count];
        int i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                return null;
            values[i++] = value;
        }
        return values;
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        Int128 wide = (Int128)a * b;
        product = wide <= long.MaxValue ? (long)wide : 0;
        return wide <= long.MaxValue;
    }

    internal static void ReadExactly(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            // Only when the file shrinks between the length check and the read.
            throw Fail(path, "file ended early while reading (was it truncated while being read?)", e);
        }
    }

    internal static CheckpointFormatException Fail(string path, string problem, Exception? inner = null) =>
        new(path, problem, inner);

    private static string FormatShape(long[] shape) => $"[{string.Join(", ", shape)}]";

    // A name can be anything up to the header's size; keep messages readable.
    private static string Quote(string text) =>
        text.Length <= 200 ? $"'{text}'" : $"'{text[..200]}…' ({text.Length} characters)";

    private static string Describe(JsonElement element)
    {
        string raw = element.GetRawText();
        return raw.Length <= 200 ? raw : $"{raw[..200]}… ({element.ValueKind}, {raw.Length} characters)";
    }
}
