using System.Text;

namespace Functional.Training.Optimization;

/// <summary>
/// Reads an optimizer state (what <see cref="ParameterUpdate.Save"/> writes) field by field, each checked against
/// the bytes left and the bound its caller gives before anything is allocated from it. A bad field is an
/// <see cref="InvalidDataException"/> naming its byte offset, the field and what was expected.
/// </summary>
internal sealed class StateReader
{
    private readonly BinaryReader reader;
    private readonly long? length;

    public StateReader(BinaryReader reader)
    {
        this.reader = reader;
        var stream = reader.BaseStream;
        length = stream.CanSeek ? stream.Length - stream.Position : null;
    }

    /// <summary>The offset of the next field from the state's first byte.</summary>
    public long Offset { get; private set; }

    /// <summary>How many bytes are left, when the stream knows its length.</summary>
    private long? Left => length - Offset;

    /// <summary>An error at <paramref name="at"/>: "at byte N (field): problem".</summary>
    public static InvalidDataException Error(long at, string field, string problem) =>
        new($"at byte {at} ({field}): {problem}");

    private void Need(long count, string field)
    {
        if (Left is { } left && count > left)
            throw Error(Offset, field, $"expected {count} more bytes, but the file ends after {left} (it is cut short)");
    }

    private byte[] Take(int count, string field)
    {
        Need(count, field);
        var bytes = reader.ReadBytes(count);
        if (bytes.Length != count)
            throw Error(Offset, field, $"expected {count} more bytes, but the file ends after {bytes.Length} (it is cut short)");
        Offset += count;
        return bytes;
    }

    public int Int32(string field) => BitConverter.ToInt32(Take(4, field));

    public long Int64(string field) => BitConverter.ToInt64(Take(8, field));

    public double Double(string field) => BitConverter.ToDouble(Take(8, field));

    /// <summary>An int in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Int32(string field, int min, int max)
    {
        var at = Offset;
        var value = Int32(field);
        if (value < min || value > max)
            throw Error(at, field, min == max ? $"expected {min}, found {value}" : $"expected a number from {min} to {max}, found {value}");
        return value;
    }

    /// <summary>A flag written as one byte, 0 or 1.</summary>
    public bool Boolean(string field)
    {
        var at = Offset;
        var b = Take(1, field)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw Error(at, field, $"expected a flag (0 or 1), found {b}"),
        };
    }

    /// <summary>A string as BinaryWriter writes it (a 7-bit encoded byte length, then UTF-8), at most <paramref name="max"/> bytes.</summary>
    public string String(string field, int max)
    {
        var at = Offset;
        var byteCount = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (shift > 28) throw Error(at, field, "expected a string's length, found a malformed one");
            var b = Take(1, field)[0];
            byteCount |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (byteCount < 0 || byteCount > max)
            throw Error(at, field, $"expected a string of at most {max} bytes, found a length of {(uint)byteCount}");
        var bytes = Take(byteCount, field);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(at, field, "expected UTF-8 text, found invalid bytes");
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes (the caller knows how many the data must have).</summary>
    public byte[] Bytes(int count, string field) => Take(count, field);

    /// <summary>Throws unless the state ends here (a longer file is not the state it claims to be).</summary>
    public void End()
    {
        if (Left is > 0 and var left)
            throw Error(Offset, "end", $"expected the end of the state, but {left} more bytes follow");
    }
}
