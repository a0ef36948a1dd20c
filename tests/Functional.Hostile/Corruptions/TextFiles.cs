using System.Text;

namespace Functional.Hostile.Corruptions;

/// <summary>A checkpoint's tokenizer.json: every field removed, nulled or set to hostile values; read by a resumed
/// <c>fnn train --text</c>.</summary>
internal sealed class TokenizerJson(int perPath) : ICorruptions
{
    public string Kind => "tokenizer.json";

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var original = File.ReadAllText(Path.Combine(fixture.TextCheckpoint, Kind));
        foreach (var (what, text, invalid) in JsonMutations.Systematic(original, perPath))
            yield return Run(fixture, what, Encoding.UTF8.GetBytes(text), invalid);
        (string What, string Text)[] cases =
        [
            ("a vocabulary larger than the model's embed", "{\"kind\": \"byte\", \"vocabulary_size\": 256}"),
            ("a GPT-2 vocabulary of another hash", "{\"kind\": \"gpt2\", \"vocabulary_size\": 50257, \"vocabulary_sha256\": \"" + new string('0', 64) + "\"}"),
            ("a vocabulary without the text's characters", "{\"kind\": \"char\", \"vocabulary\": [\"a\", \"b\"]}"),
            ("an escaped lone surrogate", "{\"kind\": \"char\", \"vocabulary\": [\"\\ud800\"]}"),
            ("a million vocabulary entries", "{\"kind\": \"char\", \"vocabulary\": [" + string.Join(",", Enumerable.Repeat("\"a\"", 1_000_000)) + "]}"),
        ];
        foreach (var (what, text) in cases) yield return Run(fixture, what, Encoding.UTF8.GetBytes(text), invalid: true);
        yield return Run(fixture, "invalid UTF-8 in a string", [.. Encoding.UTF8.GetBytes("{\"kind\": \"ch"), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\"}")], true);
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var original = File.ReadAllText(Path.Combine(fixture.TextCheckpoint, Kind));
        var (what, text, invalid) = JsonMutations.Random(original, random);
        return Run(fixture, what, Encoding.UTF8.GetBytes(text), invalid);
    }

    private Attempt Run(Fixture fixture, string what, byte[] bytes, bool invalid)
    {
        var checkpoint = fixture.CopyOf(fixture.TextCheckpoint);
        File.WriteAllBytes(Path.Combine(checkpoint, Kind), bytes);
        return new Attempt(Kind, what,
            ["train", fixture.Source, "--model", "Chars", "--text", fixture.Text, "--resume", checkpoint,
             "--out", Path.Combine(Path.GetDirectoryName(checkpoint)!, "resumed"), "--epochs", "2"], Kind, invalid);
    }
}

/// <summary>The token cache beside a text (<c>NAME.KIND-HASH.tokens</c>): every header field, cuts, flips and junk. A
/// corrupt cache is never an error: it is reported and rebuilt, so every attempt must train.</summary>
internal sealed class TokenCacheFiles(int stride) : ICorruptions
{
    public string Kind => "tokens";

    private static string Cache(Fixture fixture) =>
        Directory.GetFiles(Path.GetDirectoryName(fixture.Text)!, Path.GetFileName(fixture.Text) + ".*.tokens").Single();

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var original = File.ReadAllBytes(Cache(fixture));
        foreach (var (what, bytes, _) in ByteMutations.Systematic(original, span: 128, stride))
            yield return Run(fixture, what, bytes);
        yield return Run(fixture, "a file of another program at the cache's name", Encoding.UTF8.GetBytes("not a token cache, and not ours to replace\n"));
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var (what, bytes, _) = ByteMutations.Random(File.ReadAllBytes(Cache(fixture)), random);
        return Run(fixture, what, bytes);
    }

    private Attempt Run(Fixture fixture, string what, byte[] bytes)
    {
        var folder = fixture.NewFolder();
        var text = Path.Combine(folder, Path.GetFileName(fixture.Text));
        File.Copy(fixture.Text, text);
        File.WriteAllBytes(Path.Combine(folder, Path.GetFileName(Cache(fixture))), bytes);
        // A cache file that is not ours sends the new one to $XDG_CACHE_HOME, which Program.cs points into the work folder.
        return new Attempt(Kind, what, ["train", fixture.Source, "--model", "Chars", "--text", text, "--epochs", "1"], "tokens", MustFail: false);
    }
}
