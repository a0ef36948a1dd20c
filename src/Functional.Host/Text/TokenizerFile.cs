using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Functional.Checkpoints;

namespace Functional.Text;

/// <summary>tokenizer.json: the one place for its fields and their checks.</summary>
internal static class TokenizerFile
{
    // A char vocabulary of every Unicode scalar value, each escaped, fits in far less.
    private const long Limit = 64L << 20;

    // Unicode has 1,112,064 scalar values.
    private const int MostCharacters = 1_112_064;

    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(Tokenizer tokenizer)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("kind", tokenizer.Kind);
            if (tokenizer is CharacterTokenizer chars)
            {
                json.WriteStartArray("vocabulary");
                foreach (var rune in chars.Vocabulary) json.WriteStringValue(rune.ToString());
                json.WriteEndArray();
            }
            else
            {
                json.WriteNumber("vocabulary_size", tokenizer.VocabularySize);
                if (tokenizer is Gpt2Tokenizer) json.WriteString("vocabulary_sha256", tokenizer.VocabularyHash);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    public static Tokenizer Read(string path)
    {
        var (json, root) = CheckedJson.Read(path, Limit);
        var kind = json.Text(root, "", "kind", 16);
        switch (kind)
        {
            case "char":
                return new CharacterTokenizer(Characters(json, json.Array(root, "", "vocabulary")));
            case "byte":
                RequireSize(json, root, Tokenizer.Bytes());
                return Tokenizer.Bytes();
            case "gpt2":
                var gpt2 = Tokenizer.Gpt2();
                RequireSize(json, root, gpt2);
                var hash = json.Text(root, "", "vocabulary_sha256", 64);
                if (hash != gpt2.VocabularyHash)
                    throw json.Error("vocabulary_sha256",
                        $"the checkpoint's GPT-2 vocabulary ({Excerpt.@short(hash)}) is not the one this build carries ({gpt2.VocabularyHash}): its ids would mean other tokens");
                return gpt2;
            default:
                throw json.Error("kind", $"unknown tokenizer '{Excerpt.@short(kind)}' (expected char, byte or gpt2)");
        }
    }

    private static void RequireSize(CheckedJson json, JsonElement root, Tokenizer tokenizer)
    {
        var size = json.Int(root, "", "vocabulary_size", 1, int.MaxValue);
        if (size != tokenizer.VocabularySize)
            throw json.Error("vocabulary_size", $"expected {tokenizer.VocabularySize} (the {tokenizer.Kind} tokenizer's), found {size}");
    }

    private static Rune[] Characters(CheckedJson json, JsonElement array)
    {
        var count = array.GetArrayLength();
        if (count == 0) throw json.Error("vocabulary", "is empty (expected at least one character)");
        if (count > MostCharacters) throw json.Error("vocabulary", $"expected at most {MostCharacters} characters, found {count}");
        var runes = new Rune[count];
        var i = 0;
        foreach (var entry in array.EnumerateArray())
        {
            var at = $"vocabulary[{i}]";
            if (entry.ValueKind != JsonValueKind.String) throw json.Error(at, $"expected a one-character string, found {CheckedJson.Found(entry)}");
            var text = json.String(entry, at);
            if (Rune.DecodeFromUtf16(text, out var rune, out var used) != System.Buffers.OperationStatus.Done || used != text.Length)
                throw json.Error(at, $"expected exactly one character, found {CheckedJson.Found(entry)}");
            if (i > 0 && rune.Value <= runes[i - 1].Value)
                throw json.Error(at, $"'{Excerpt.@short(text)}' (U+{rune.Value:X4}) is out of order: the characters are distinct and sorted by code point");
            runes[i++] = rune;
        }
        return runes;
    }
}
