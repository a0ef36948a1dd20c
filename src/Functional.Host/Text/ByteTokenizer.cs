using System.Text;

namespace Functional.Text;

/// <summary>One id per UTF-8 byte: 256 ids, any text.</summary>
internal sealed class ByteTokenizer : Tokenizer
{
    public static readonly ByteTokenizer Instance = new();

    // Each id's one byte, so a decoder can hand out a slice without allocating.
    private static readonly byte[] Values = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];

    private ByteTokenizer() { }

    public override string Kind => "byte";

    public override int VocabularySize => 256;

    internal override string VocabularyHash => "utf-8 bytes";

    public override int[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) ids[i] = bytes[i];
        return ids;
    }

    public override string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new byte[ids.Length];
        for (var i = 0; i < ids.Length; i++) bytes[i] = Values[Check(ids[i])];
        return Encoding.UTF8.GetString(bytes);
    }

    private static int Check(int id) =>
        (uint)id < 256 ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the byte tokenizer's vocabulary (ids 0 to 255)");

    public override TokenDecoder NewDecoder() => new Utf8TokenDecoder(id => Values.AsMemory(Check(id), 1));
}
