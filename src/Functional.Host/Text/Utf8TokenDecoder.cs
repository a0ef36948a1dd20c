using System.Text;

namespace Functional.Text;

/// <summary>Streams the UTF-8 bytes of byte-level tokens into text, holding an incomplete character's bytes
/// (<see cref="System.Text.Decoder"/> keeps them between calls).</summary>
internal sealed class Utf8TokenDecoder(Func<int, ReadOnlyMemory<byte>> bytesOf) : TokenDecoder
{
    // Replacement, not exceptions: invalid bytes become U+FFFD exactly as Encoding.UTF8.GetString makes them.
    private readonly Decoder decoder = new UTF8Encoding(false, false).GetDecoder();

    public override string Push(int id) => Convert(bytesOf(id).Span, flush: false);

    public override string Flush() => Convert([], flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        var chars = new char[decoder.GetCharCount(bytes, flush)];
        var written = decoder.GetChars(bytes, chars, flush);
        return new string(chars, 0, written);
    }
}
