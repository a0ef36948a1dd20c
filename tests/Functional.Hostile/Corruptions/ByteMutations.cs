using System.Buffers.Binary;

namespace Functional.Hostile.Corruptions;

/// <summary>Corruptions of a binary file: integer fields set to hostile values, truncations, flips, junk.</summary>
internal static class ByteMutations
{
    private static readonly (string Name, long Value)[] HostileIntegers =
        [("-1", -1), ("0", 0), ("int.MaxValue", int.MaxValue), ("2^40", 1L << 40), ("long.MaxValue", long.MaxValue), ("long.MinValue", long.MinValue)];

    /// <summary>The systematic ones: every 32- and 64-bit field in the first <paramref name="span"/> bytes set to each hostile
    /// integer (where that changes it), truncations at every tenth of the file and around the start, every byte 0 or 0xFF,
    /// junk appended. <c>Broken</c> is true when no reader could accept the result (a cut, a file of one byte value); a
    /// field set to another number may have hit a value that is still valid (a learning rate, a weight).</summary>
    public static IEnumerable<(string What, byte[] Bytes, bool Broken)> Systematic(byte[] original, int span, int stride)
    {
        for (var offset = 0; offset + 4 <= Math.Min(original.Length, span); offset += stride)
            foreach (var (name, value) in HostileIntegers)
            {
                if (value is >= int.MinValue and <= int.MaxValue && With32(original, offset, (int)value) is var narrow && !narrow.AsSpan().SequenceEqual(original))
                    yield return ($"int32 at byte {offset} set to {name}", narrow, false);
                if (offset + 8 <= original.Length && With64(original, offset, value) is var wide && !wide.AsSpan().SequenceEqual(original))
                    yield return ($"int64 at byte {offset} set to {name}", wide, false);
            }
        foreach (var length in new long[] { 0, 1, 3, 4, 7, 8, 9 }.Concat(Enumerable.Range(1, 9).Select(i => (long)original.Length * i / 10)).Append(original.Length - 1).Distinct())
            if (length >= 0 && length < original.Length)
                yield return ($"truncated to {length} bytes", original[..(int)length], true);
        yield return ("16 junk bytes appended", [.. original, .. Enumerable.Repeat((byte)0xA5, 16)], false);
        yield return ("every byte 0xFF", Enumerable.Repeat((byte)0xFF, original.Length).ToArray(), true);
        yield return ("every byte 0", new byte[original.Length], true);
    }

    /// <summary>One random corruption: a few flipped bytes, a random integer field, a cut, or an insertion.</summary>
    public static (string What, byte[] Bytes, bool Broken) Random(byte[] original, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
            {
                var bytes = (byte[])original.Clone();
                var flips = 1 + random.Next(4);
                var at = new List<int>();
                for (var i = 0; i < flips; i++)
                {
                    var position = random.Next(bytes.Length);
                    bytes[position] = (byte)random.Next(256);
                    at.Add(position);
                }
                return ($"bytes at {string.Join(", ", at)} replaced", bytes, false);
            }
            case 1:
            {
                var offset = random.Next(Math.Max(1, original.Length - 8));
                var (name, value) = HostileIntegers[random.Next(HostileIntegers.Length)];
                return ($"int64 at byte {offset} set to {name}", With64(original, offset, value), false);
            }
            case 2:
            {
                var length = random.Next(original.Length);
                return ($"truncated to {length} bytes", original[..length], true);
            }
            default:
            {
                var offset = random.Next(original.Length);
                var junk = new byte[1 + random.Next(16)];
                random.NextBytes(junk);
                return ($"{junk.Length} random bytes inserted at {offset}", [.. original[..offset], .. junk, .. original[offset..]], false);
            }
        }
    }

    private static byte[] With32(byte[] original, int offset, int value)
    {
        var bytes = (byte[])original.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), value);
        return bytes;
    }

    private static byte[] With64(byte[] original, int offset, long value)
    {
        var bytes = (byte[])original.Clone();
        if (offset + 8 <= bytes.Length) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), value);
        return bytes;
    }
}
