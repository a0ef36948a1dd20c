namespace Functional.Text;

/// <summary>
/// Turns token ids back into text one id at a time, as a generator produces them. A byte-level token can end
/// in the middle of a UTF-8 character: its bytes are held until the character is complete, so every piece
/// <see cref="Push"/> returns is whole text, and the pieces joined equal <see cref="Tokenizer.Decode"/> of all
/// the ids.
/// </summary>
public abstract class TokenDecoder
{
    /// <summary>The text that <paramref name="id"/> completes: empty while a character is still partial.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not one of the tokenizer's ids</exception>
    public abstract string Push(int id);

    /// <summary>What is left of the held bytes (bytes that never became a character are written as U+FFFD), after which
    /// the decoder starts afresh.</summary>
    public abstract string Flush();
}
