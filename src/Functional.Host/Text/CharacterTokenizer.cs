using System.Security.Cryptography;
using System.Text;

namespace Functional.Text;

/// <summary>One id per character (Unicode scalar value): the vocabulary is a text's distinct characters, sorted by code point.</summary>
internal sealed class CharacterTokenizer : Tokenizer
{
    private readonly Rune[] vocabulary;
    private readonly Dictionary<Rune, int> ids;

    /// <summary>A tokenizer over <paramref name="vocabulary"/>, which must be distinct and sorted by code point.</summary>
    public CharacterTokenizer(Rune[] vocabulary)
    {
        this.vocabulary = vocabulary;
        ids = new Dictionary<Rune, int>(vocabulary.Length);
        for (var i = 0; i < vocabulary.Length; i++) ids.Add(vocabulary[i], i);
        VocabularyHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(vocabulary.Select(r => r.ToString())))));
    }

    public static CharacterTokenizer Of(string text)
    {
        // A set of code points, sorted once at the end (a sorted set per character is several times slower).
        var distinct = new HashSet<int>();
        foreach (var rune in text.EnumerateRunes()) distinct.Add(rune.Value);
        return new CharacterTokenizer([.. distinct.Order().Select(v => new Rune(v))]);
    }

    public override string Kind => "char";

    public override int VocabularySize => vocabulary.Length;

    internal override string VocabularyHash { get; }

    /// <summary>The characters, in id order.</summary>
    internal IReadOnlyList<Rune> Vocabulary => vocabulary;

    public override int[] Encode(string text)
    {
        var result = new List<int>(text.Length);
        HashSet<Rune>? missing = null;
        Rune first = default;
        foreach (var rune in text.EnumerateRunes())
        {
            if (ids.TryGetValue(rune, out var id)) result.Add(id);
            else if ((missing ??= []).Add(rune) && missing.Count == 1) first = rune;
        }
        if (missing is not null)
        {
            var others = missing.Count > 1 ? $" ({missing.Count} distinct characters are missing)" : "";
            throw new ArgumentException(
                $"the character '{Excerpt.@short(first.ToString())}' (U+{first.Value:X4}) is not in the char tokenizer's vocabulary of {vocabulary.Length} characters{others}",
                nameof(text));
        }
        return [.. result];
    }

    public override string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder(ids.Length);
        foreach (var id in ids) text.Append(RuneOf(id).ToString());
        return text.ToString();
    }

    private Rune RuneOf(int id) =>
        (uint)id < (uint)vocabulary.Length ? vocabulary[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the char tokenizer's vocabulary (ids 0 to {vocabulary.Length - 1})");

    public override TokenDecoder NewDecoder() => new CharacterDecoder(this);

    private sealed class CharacterDecoder(CharacterTokenizer tokenizer) : TokenDecoder
    {
        public override string Push(int id) => tokenizer.RuneOf(id).ToString();

        public override string Flush() => "";
    }
}
