using System.Text;
using Functional.Checkpoints;
using Functional.Text;
using Tokenizer = Functional.Text.Tokenizer;
using TiktokenTokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace Functional.Host.Tests;

public sealed class TokenizerTests : IDisposable
{
    private const string Mixed = "naïve café — 日本語 🙂\u0001\t\n\u007f end";
    private readonly string directory = Directory.CreateTempSubdirectory("functional-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<string> Kinds => ["char", "byte", "gpt2"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_kind_round_trips_text(string kind)
    {
        var tokenizer = Tokenizer.Create(kind, Mixed);
        Assert.Equal(kind, tokenizer.Kind);
        var ids = tokenizer.Encode(Mixed);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabularySize - 1));
        Assert.Equal(Mixed, tokenizer.Decode(ids));
    }

    [Fact]
    public void The_char_vocabulary_is_the_texts_distinct_characters_sorted_by_code_point()
    {
        var tokenizer = Tokenizer.Characters("banana 🙂a");
        Assert.Equal(5, tokenizer.VocabularySize); // ' ', 'a', 'b', 'n', U+1F642 (one id, though two UTF-16 units)
        Assert.Equal([2, 1, 3], tokenizer.Encode("ban"));
        Assert.Equal([4], tokenizer.Encode("🙂"));
        Assert.Equal(256, Tokenizer.Bytes().VocabularySize);
        Assert.Equal(50257, Tokenizer.Gpt2().VocabularySize);
    }

    [Fact]
    public void Gpt2_round_trips_arbitrary_utf8_and_its_special_token()
    {
        var gpt2 = Tokenizer.Gpt2();
        Assert.Equal("a<|endoftext|>b", gpt2.Decode(gpt2.Encode("a<|endoftext|>b")));
        Assert.Equal([31373, 995], gpt2.Encode("hello world")); // GPT-2's published ids
        var random = new Random(11);
        for (var n = 0; n < 20; n++)
        {
            var text = RandomText(random, 1 + random.Next(60));
            Assert.Equal(text, gpt2.Decode(gpt2.Encode(text)));
        }
    }

    [Fact]
    public void Gpt2_decodes_each_token_as_the_library_does()
    {
        // Our decoding reads the token bytes from the same vocabulary data as the library's encoder: every id
        // whose bytes are whole UTF-8 must decode to the library's text for it.
        var library = TiktokenTokenizer.CreateForModel("gpt2");
        var ours = Tokenizer.Gpt2();
        var compared = 0;
        for (var id = 0; id < ours.VocabularySize; id++)
        {
            var text = ours.Decode([id]);
            if (text.Contains('\uFFFD')) continue;
            Assert.Equal(library.Decode([id]), text);
            compared++;
        }
        Assert.True(compared > 45_000, $"compared {compared}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_streaming_decoder_gives_whole_text_that_joins_into_Decode(string kind)
    {
        var tokenizer = Tokenizer.Create(kind, Mixed);
        var ids = tokenizer.Encode(Mixed);
        var decoder = tokenizer.NewDecoder();
        var pieces = new StringBuilder();
        foreach (var id in ids)
        {
            var piece = decoder.Push(id);
            // Never half a character: no lone surrogate, no replacement character.
            Assert.DoesNotContain('\uFFFD', piece);
            Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), $"'{piece}' ends in half a surrogate pair");
            pieces.Append(piece);
        }
        pieces.Append(decoder.Flush());
        Assert.Equal(tokenizer.Decode(ids), pieces.ToString());
        Assert.Equal(Mixed, pieces.ToString());
    }

    [Fact]
    public void The_byte_decoder_holds_a_split_character_and_flushes_invalid_bytes_as_replacement()
    {
        var decoder = Tokenizer.Bytes().NewDecoder();
        var smile = Encoding.UTF8.GetBytes("🙂");
        Assert.Equal("", decoder.Push(smile[0]));
        Assert.Equal("", decoder.Push(smile[1]));
        Assert.Equal("", decoder.Push(smile[2]));
        Assert.Equal("🙂", decoder.Push(smile[3]));
        Assert.Equal("", decoder.Push(0xE6)); // the first of a three-byte character, never finished
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal("", decoder.Flush());

        // Any bytes, valid or not: the pieces join into Decode's text.
        var random = new Random(5);
        var ids = Enumerable.Range(0, 500).Select(_ => random.Next(256)).ToArray();
        var streaming = Tokenizer.Bytes().NewDecoder();
        var joined = string.Concat(ids.Select(streaming.Push)) + streaming.Flush();
        Assert.Equal(Tokenizer.Bytes().Decode(ids), joined);
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_refused()
    {
        foreach (var tokenizer in new[] { Tokenizer.Characters("ab"), Tokenizer.Bytes(), Tokenizer.Gpt2() })
        {
            var size = tokenizer.VocabularySize;
            Assert.Throws<ArgumentOutOfRangeException>(() => { tokenizer.Decode([0, size]); });
            Assert.Throws<ArgumentOutOfRangeException>(() => { tokenizer.Decode([-1]); });
            Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.NewDecoder().Push(size));
        }
    }

    [Fact]
    public void A_character_outside_the_char_vocabulary_is_a_clear_error()
    {
        var tokenizer = Tokenizer.Characters("abc");
        var error = Assert.Throws<ArgumentException>(() => tokenizer.Encode("abXc\u0007Y"));
        Assert.Contains("'X' (U+0058)", error.Message);
        Assert.Contains("3 distinct characters are missing", error.Message);
        var control = Assert.Throws<ArgumentException>(() => tokenizer.Encode("\u001b"));
        Assert.Contains(@"'\x1b' (U+001B)", control.Message);
        Assert.Throws<ArgumentException>(() => Tokenizer.Characters(""));
        var unknown = Assert.Throws<ArgumentException>(() => Tokenizer.Create("words", "abc"));
        Assert.Contains("expected char, byte or gpt2", unknown.Message);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Save_and_Load_round_trip(string kind)
    {
        var tokenizer = Tokenizer.Create(kind, Mixed);
        tokenizer.Save(directory);
        var loaded = Tokenizer.Load(directory);
        Assert.NotNull(loaded);
        Assert.Equal(kind, loaded.Kind);
        Assert.Equal(tokenizer.VocabularySize, loaded.VocabularySize);
        Assert.Equal(tokenizer.Encode(Mixed), loaded.Encode(Mixed));
        Assert.Equal(Mixed, loaded.Decode(loaded.Encode(Mixed)));
        Assert.Empty(Directory.GetFiles(directory).Where(f => !f.EndsWith(Tokenizer.FileName)));
    }

    [Fact]
    public void Load_of_a_folder_without_a_tokenizer_gives_null()
    {
        Assert.Null(Tokenizer.Load(directory));
    }

    public static TheoryData<string, string> Corruptions => new()
    {
        { "", "empty" },
        { "[1, 2]", "expected a JSON object" },
        { "{\"kind\": \"char\"", "not valid JSON" },
        { "{\"vocabulary\": [\"a\"]}", "kind: missing" },
        { "{\"kind\": \"words\"}", "kind: unknown tokenizer 'words'" },
        { "{\"kind\": \"char\"}", "vocabulary: missing" },
        { "{\"kind\": \"char\", \"vocabulary\": \"ab\"}", "vocabulary: expected an array" },
        { "{\"kind\": \"char\", \"vocabulary\": []}", "vocabulary: is empty" },
        { "{\"kind\": \"char\", \"vocabulary\": [\"a\", 7]}", "vocabulary[1]: expected a one-character string" },
        { "{\"kind\": \"char\", \"vocabulary\": [\"a\", \"bc\"]}", "vocabulary[1]: expected exactly one character" },
        { "{\"kind\": \"char\", \"vocabulary\": [\"a\", \"\"]}", "vocabulary[1]: expected exactly one character" },
        { "{\"kind\": \"char\", \"vocabulary\": [\"\\ud800\"]}", "vocabulary[0]: holds an escaped lone surrogate" },
        { "{\"kind\": \"char\", \"vocabulary\": [\"b\", \"a\"]}", "vocabulary[1]: 'a' (U+0061) is out of order" },
        { "{\"kind\": \"char\", \"vocabulary\": [\"a\", \"a\"]}", "vocabulary[1]: 'a' (U+0061) is out of order" },
        { "{\"kind\": \"byte\"}", "vocabulary_size: missing" },
        { "{\"kind\": \"byte\", \"vocabulary_size\": 255}", "vocabulary_size: expected 256" },
        { "{\"kind\": \"byte\", \"vocabulary_size\": \"256\"}", "vocabulary_size: expected a whole number" },
        { "{\"kind\": \"gpt2\", \"vocabulary_size\": 50257}", "vocabulary_sha256: missing" },
        { "{\"kind\": \"gpt2\", \"vocabulary_size\": 50257, \"vocabulary_sha256\": \"00\"}", "vocabulary_sha256: the checkpoint's GPT-2 vocabulary" },
        { "{\"kind\": \"gpt2\", \"vocabulary_size\": 100, \"vocabulary_sha256\": \"00\"}", "vocabulary_size: expected 50257" },
        { "{\"kind\": \"char\", \"kind\": \"byte\", \"vocabulary_size\": 256}", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void A_corrupt_tokenizer_json_names_the_file_and_the_field(string text, string expected)
    {
        var path = Path.Combine(directory, Tokenizer.FileName);
        File.WriteAllText(path, text);
        var error = Assert.Throws<CheckpointFormatException>(() => Tokenizer.Load(directory));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_tokenizer_json_that_is_not_a_regular_file_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(directory, Tokenizer.FileName));
        var error = Assert.ThrowsAny<IOException>(() => Tokenizer.Load(directory));
        Assert.Contains("a folder, not a file", error.Message);
    }

    /// <summary>Random well-formed text: ASCII, control characters, accented letters, CJK and emoji.</summary>
    private static string RandomText(Random random, int length)
    {
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var rune = random.Next(5) switch
            {
                0 => new Rune(random.Next(0x20)),
                1 => new Rune(0x20 + random.Next(0x5f)),
                2 => new Rune(0xa0 + random.Next(0x200)),
                3 => new Rune(0x4e00 + random.Next(0x5000)),
                _ => new Rune(0x1f300 + random.Next(0x300)),
            };
            text.Append(rune.ToString());
        }
        return text.ToString();
    }
}
