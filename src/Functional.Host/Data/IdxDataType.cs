using System.Buffers.Binary;

namespace Functional.Data;

/// <summary>The element types an IDX file can declare (the third byte of its magic number).</summary>
internal enum IdxDataType : byte
{
    UInt8 = 0x08,
    Int8 = 0x09,
    Int16 = 0x0B,
    Int32 = 0x0C,
    Float32 = 0x0D,
    Float64 = 0x0E,
}

internal static class IdxDataTypes
{
    public const string Known = "08 ubyte, 09 sbyte, 0B int16, 0C int32, 0D float32, 0E float64";

    public static bool IsDefined(byte code) => Enum.IsDefined((IdxDataType)code);

    public static int Size(this IdxDataType type) => type switch
    {
        IdxDataType.UInt8 or IdxDataType.Int8 => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Float32 => 4,
        _ => 8,
    };

    public static bool IsInteger(this IdxDataType type) => type is not (IdxDataType.Float32 or IdxDataType.Float64);

    /// <summary>Decodes big-endian elements to floats. Returns the index of the first non-finite value, or -1.</summary>
    public static int Decode(this IdxDataType type, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (type)
        {
            case IdxDataType.UInt8:
                for (var i = 0; i < values.Length; i++) values[i] = bytes[i];
                return -1;
            case IdxDataType.Int8:
                for (var i = 0; i < values.Length; i++) values[i] = (sbyte)bytes[i];
                return -1;
            case IdxDataType.Int16:
                for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt16BigEndian(bytes[(2 * i)..]);
                return -1;
            case IdxDataType.Int32:
                for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 * i)..]);
                return -1;
            case IdxDataType.Float32:
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleBigEndian(bytes[(4 * i)..]);
                    if (!float.IsFinite(values[i])) return i;
                }
                return -1;
            default:
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(bytes[(8 * i)..]);
                    if (!float.IsFinite(values[i])) return i;
                }
                return -1;
        }
    }

    /// <summary>The integer element at <paramref name="index"/> (integer types only).</summary>
    public static long ReadInteger(this IdxDataType type, ReadOnlySpan<byte> bytes, int index) => type switch
    {
        IdxDataType.UInt8 => bytes[index],
        IdxDataType.Int8 => (sbyte)bytes[index],
        IdxDataType.Int16 => BinaryPrimitives.ReadInt16BigEndian(bytes[(2 * index)..]),
        IdxDataType.Int32 => BinaryPrimitives.ReadInt32BigEndian(bytes[(4 * index)..]),
        _ => throw new InvalidOperationException($"{type} is not an integer type"),
    };
}
