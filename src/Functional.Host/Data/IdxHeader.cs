using System.Buffers.Binary;
using System.Globalization;

namespace Functional.Data;

/// <summary>
/// An IDX header, validated: magic number 00 00 TYPE RANK, then RANK big-endian 32-bit dimensions, the first
/// of which counts the examples. Everything a reader needs to allocate is checked here, before any allocation.
/// </summary>
internal sealed record IdxHeader(IdxDataType Type, int[] Dims)
{
    /// <summary>Bytes before the data: the magic number and the dimensions.</summary>
    public int HeaderBytes => 4 + 4 * Dims.Length;

    public int Count => Dims[0];

    /// <summary>Each example's shape: the dimensions after the first.</summary>
    public int[] ExampleShape => Dims[1..];

    public int ExampleElements { get; init; }

    /// <summary>Bytes of one example.</summary>
    public int ExampleBytes => ExampleElements * Type.Size();

    /// <summary>Bytes of data after the header.</summary>
    public long DataBytes => (long)Count * ExampleBytes;

    /// <summary>Reads and checks the header at the start of <paramref name="stream"/> (raw or decompressed).</summary>
    public static IdxHeader Read(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        var got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(path, $"the file is too short to be an IDX file: it holds {got} bytes, and the magic number alone takes 4");
        if (magic[0] != 0 || magic[1] != 0 || !IdxDataTypes.IsDefined(magic[2]) || magic[3] == 0)
            throw new DataFormatException(path,
                $"not an IDX file: it starts with {string.Join(" ", magic.ToArray().Select(b => b.ToString("X2")))}, but IDX files start with " +
                $"00 00, a type code ({IdxDataTypes.Known}) and the number of dimensions (images: 00 00 08 03, labels: 00 00 08 01)");
        var rank = magic[3];
        var dimBytes = new byte[4 * rank];
        got = stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length)
            throw new DataFormatException(path,
                $"the file ends inside its header: a header of {rank} dimensions takes {4 + dimBytes.Length} bytes but the file holds {4 + got}");

        var dims = new int[rank];
        long elements = 1;
        for (var i = 0; i < rank; i++)
        {
            var d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (d > int.MaxValue)
                throw new DataFormatException(path, $"dimension {i + 1} of the header is {d}, too large to be real");
            if (d == 0 && i > 0)
                throw new DataFormatException(path, $"dimension {i + 1} of the header is 0: examples would hold no values");
            dims[i] = (int)d;
            if (i > 0) elements *= d;
            if (elements > int.MaxValue / 8)
                throw new DataFormatException(path,
                    $"the header's dimensions {string.Join(" x ", dims[1..(i + 1)])} make examples of more than {int.MaxValue / 8:N0} values, more than this reader supports");
        }
        // The count times the example size fits a long: both are below 2^31.
        return new IdxHeader((IdxDataType)magic[2], dims) { ExampleElements = (int)elements };
    }

    /// <summary>What the header promises, for messages: "10000 images of 28x28 (7,840,000 bytes)".</summary>
    public string Describe(bool labels)
    {
        var shape = string.Join("x", ExampleShape);
        var what = (labels, Dims.Length) switch
        {
            (true, 1) => $"{Count} labels",
            (true, _) => $"{Count} targets of {shape}",
            (false, 1) => $"{Count} values",
            (false, 3) => $"{Count} images of {shape}",
            _ => $"{Count} examples of {shape}",
        };
        return $"the header says {what} ({Bytes(DataBytes)} bytes)";
    }

    public static string Bytes(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
