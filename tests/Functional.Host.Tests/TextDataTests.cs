using System.Text;
using Functional.Data;
using Functional.Text;
using Functional.Training;

namespace Functional.Host.Tests;

public sealed class TextDataTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("functional-text-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Open, with the fallback cache folder inside this test's folder (never the user's ~/.cache).</summary>
    private TextData Open(TextCorpus corpus, Tokenizer tokenizer, int context, double validSplit = 0.1, int seed = 0) =>
        TextData.Open(corpus, tokenizer, context, validSplit, seed, cacheFolder: Path.Combine(directory, "cache-home"));

    /// <summary>A small fortune-format text: entries separated by lines holding only %.</summary>
    internal static string Fortunes(int entries, int seed = 1)
    {
        var random = new Random(seed);
        string[] words = ["the", "cat", "sat", "on", "a", "mat", "café", "naïve", "日本", "🙂", "and", "ran"];
        var text = new StringBuilder();
        for (var e = 0; e < entries; e++)
        {
            var lines = 1 + random.Next(2);
            for (var l = 0; l < lines; l++)
                text.Append(string.Join(' ', Enumerable.Range(0, 3 + random.Next(5)).Select(_ => words[random.Next(words.Length)]))).Append('\n');
            text.Append("%\n");
        }
        return text.ToString();
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_fortune_file_is_cut_into_its_entries_and_streamed_with_their_separators()
    {
        var path = Write("f", "one\n%\ntwo\nlines\n%\n%\n\n%\nlast");
        var corpus = TextCorpus.Read(path);
        Assert.Equal(["one\n", "two\nlines\n", "last"], corpus.Documents.Select(d => d.Text));
        Assert.Equal([1, 3, 9], corpus.Documents.Select(d => d.Line));
        Assert.Equal("one\n%\ntwo\nlines\n%\nlast%\n", corpus.Text());
    }

    [Fact]
    public void A_file_without_percent_lines_is_cut_into_paragraphs()
    {
        var corpus = TextCorpus.Read(Write("p.txt", "first para\nstill first\n\n\nsecond\r\n  \nthird\n"));
        Assert.Equal(["first para\nstill first\n", "second\r\n", "third\n"], corpus.Documents.Select(d => d.Text));
        Assert.Equal("first para\nstill first\n\nsecond\r\n\nthird\n\n", corpus.Text());
    }

    [Fact]
    public void A_folder_reads_its_text_files_in_name_order_and_skips_index_files_links_and_caches()
    {
        var folder = Directory.CreateDirectory(Path.Combine(directory, "corpus")).FullName;
        File.WriteAllText(Path.Combine(folder, "b"), "bee\n%\n");
        File.WriteAllText(Path.Combine(folder, "a"), "ay\n%\n");
        File.WriteAllText(Path.Combine(folder, "a.dat"), "\0\0binary");
        File.WriteAllText(Path.Combine(folder, "a.u8"), "ay\n%\n");
        File.WriteAllText(Path.Combine(folder, "a.char-0123456789ab.tokens"), "FNNTOKS");
        File.WriteAllText(Path.Combine(folder, ".hidden"), "no\n");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "sub", "c"), "not read\n");
        var corpus = TextCorpus.Read(folder);
        Assert.Equal(["a", "b"], corpus.Files.Select(Path.GetFileName));
        Assert.Equal(["ay\n", "bee\n"], corpus.Documents.Select(d => d.Text));
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_an_error_naming_the_file_and_the_byte_offset()
    {
        var path = Path.Combine(directory, "latin1");
        File.WriteAllBytes(path, [.. "caf"u8, 0xE9, .. "\n"u8]);
        var error = Assert.Throws<DataFormatException>(() => TextCorpus.Read(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains("not valid UTF-8 at byte offset 3 (byte 0xE9)", error.Message);
        Assert.Throws<DataFormatException>(() => TextCorpus.Read(Write("empty", "\n\n")));
        Assert.ThrowsAny<IOException>(() => TextCorpus.Read(Write("big", new string('x', 100)), maxBytes: 10));
    }

    [Fact]
    public void The_split_is_seeded_by_document_and_the_same_seed_gives_the_same_split()
    {
        var corpus = TextCorpus.Read(Write("f", Fortunes(40)));
        var tokenizer = Tokenizer.Characters(corpus.Text());
        var a = Open(corpus, tokenizer, 8, 0.2, seed: 3);
        var b = Open(corpus, tokenizer, 8, 0.2, seed: 3);
        var c = Open(corpus, tokenizer, 8, 0.2, seed: 4);
        Assert.Equal((32, 8), (a.TrainDocuments, a.ValidationDocuments));
        Assert.Equal(Windows(a.Validation!), Windows(b.Validation!));
        Assert.NotEqual(Windows(a.Validation!), Windows(c.Validation!));
        Assert.Equal(a.Train.TokenCount + a.Validation!.TokenCount, tokenizer.Encode(corpus.Text()).Length);

        var one = TextCorpus.Read(Write("one", "only one entry\n"));
        var error = Assert.Throws<ArgumentException>(() => Open(one, Tokenizer.Bytes(), 4, 0.1));
        Assert.Contains("needs at least 2", error.Message);
        Assert.Null(Open(one, Tokenizer.Bytes(), 4, 0).Validation);
    }

    private static List<long> Windows(TextDataset data)
    {
        using var batch = data.ReadBatch([.. Enumerable.Range(0, data.Count)]);
        return [.. batch.Targets.data<long>()];
    }

    [Fact]
    public void Windows_are_the_tokens_and_the_next_tokens()
    {
        int[] tokens = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        var sequential = new TextDataset(tokens, 3, 10, TextSampling.Sequential);
        Assert.Equal(3, sequential.Count); // (10 - 1) / 3
        using (var batch = sequential.ReadBatch([2, 0]))
        {
            Assert.Equal([6f, 7f, 8f, 0f, 1f, 2f], batch.Features.data<float>().ToArray());
            Assert.Equal([7L, 8L, 9L, 1L, 2L, 3L], batch.Targets.data<long>().ToArray());
            Assert.Equal([2L, 3L], batch.Targets.shape);
        }
        var random = new TextDataset(tokens, 3, 10);
        Assert.Equal(7, random.Count); // every offset with a next token: 10 - 3
        Assert.Equal(3, random.ExamplesPerEpoch); // 10 / 3
        using (var batch = random.ReadBatch([6]))
            Assert.Equal([7L, 8L, 9L], batch.Targets.data<long>().ToArray());
        Assert.Equal(TargetKind.ClassIndex, random.TargetKind);
        Assert.Equal([3], random.TargetShape);
        Assert.Equal(10, random.ClassCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => random.ReadBatch([7]));
        Assert.Throws<ArgumentException>(() => new TextDataset([1, 2, 3], 3, 10));
        Assert.Throws<ArgumentException>(() => new TextDataset([1, 2, 30, 4], 2, 10));
    }

    [Fact]
    public void The_tokens_are_cached_beside_the_data_and_reused()
    {
        var path = Write("f", Fortunes(20));
        var corpus = TextCorpus.Read(path);
        var first = Open(corpus, Tokenizer.Bytes(), 8);
        var cache = Assert.Single(Directory.GetFiles(directory, "f.byte-*.tokens"));
        Assert.Equal($"wrote {cache}", first.CacheReport);
        var second = Open(TextCorpus.Read(path), Tokenizer.Bytes(), 8);
        Assert.Equal($"reused {cache}", second.CacheReport);
        Assert.Equal(Windows(first.Train), Windows(second.Train));

        // Another tokenizer, another file; a folder keeps its caches inside, in .fnn-tokens/.
        var chars = Open(corpus, Tokenizer.Characters(corpus.Text()), 8);
        Assert.StartsWith("wrote ", chars.CacheReport);
        Assert.Equal(2, Directory.GetFiles(directory, "f.*.tokens").Length);
        var folder = Directory.CreateDirectory(Path.Combine(directory, "folder")).FullName;
        File.WriteAllText(Path.Combine(folder, "a"), Fortunes(10));
        var inFolder = Open(TextCorpus.Read(folder), Tokenizer.Bytes(), 8);
        Assert.StartsWith($"wrote {Path.Combine(folder, ".fnn-tokens", "byte-")}", inFolder.CacheReport);
        Assert.StartsWith("reused", Open(TextCorpus.Read(folder), Tokenizer.Bytes(), 8).CacheReport);
    }

    public static TheoryData<string, string> CacheCorruptions => new()
    {
        { "truncate:10", "shorter than the 128-byte header" },
        { "truncate:140", "claims" },
        { "byte:8:2", "has version" },
        { "byte:12:0", "is of another text" },
        { "byte:44:0", "is of another tokenizer" },
        { "byte:76:7", "vocabulary" },
        { "byte:80:9", "documents, but the text has" },
        { "byte:95:127", "claims" },
        { "byte:131:255", "document 1 has" },
        { "byte:200:1", "do not match their SHA-256" },
        { "byte:100:1", "do not match their SHA-256" },
        { "last:255", "outside the vocabulary" },
        { "append:1", "but its header says" },
    };

    [Theory]
    [MemberData(nameof(CacheCorruptions))]
    public void A_corrupt_cache_is_reported_and_rebuilt_never_trusted(string corruption, string expected)
    {
        var path = Write("f", Fortunes(12));
        var corpus = TextCorpus.Read(path);
        var good = Open(corpus, Tokenizer.Bytes(), 8);
        var cache = Assert.Single(Directory.GetFiles(directory, "*.tokens"));
        var bytes = File.ReadAllBytes(cache).ToList();
        var parts = corruption.Split(':');
        switch (parts[0])
        {
            case "truncate": bytes = bytes[..int.Parse(parts[1])]; break;
            case "byte": bytes[int.Parse(parts[1])] ^= (byte)(int.Parse(parts[2]) == 0 ? 1 : int.Parse(parts[2])); break;
            case "last": bytes[^1] = (byte)int.Parse(parts[1]); break;
            case "append": bytes.Add(0); break;
        }
        File.WriteAllBytes(cache, [.. bytes]);
        var rebuilt = Open(corpus, Tokenizer.Bytes(), 8);
        Assert.Contains(expected, rebuilt.CacheReport);
        Assert.EndsWith($"wrote {cache}", rebuilt.CacheReport);
        Assert.Equal(Windows(good.Train), Windows(rebuilt.Train));
        Assert.StartsWith("reused", Open(corpus, Tokenizer.Bytes(), 8).CacheReport);
    }

    [Fact]
    public void A_file_at_the_cache_path_that_fnn_did_not_write_is_left_alone()
    {
        var path = Write("f", Fortunes(12));
        var corpus = TextCorpus.Read(path);
        var cache = Open(corpus, Tokenizer.Bytes(), 8).CacheReport["wrote ".Length..];
        File.WriteAllText(cache, "precious, not ours");
        var data = Open(corpus, Tokenizer.Bytes(), 8);
        Assert.Contains("not a token cache", data.CacheReport);
        Assert.Contains($"wrote {Path.Combine(directory, "cache-home")}", data.CacheReport);
        Assert.Equal("precious, not ours", File.ReadAllText(cache));
        Assert.Contains("reused", Open(corpus, Tokenizer.Bytes(), 8).CacheReport);
    }

    [Fact]
    public void StepsPerEpoch_takes_the_first_batches_of_each_epochs_order()
    {
        var all = new BatchOrder(100, 8, seed: 5);
        var capped = new BatchOrder(100, 8, seed: 5, maxBatches: 3);
        Assert.Equal(13, all.BatchesPerEpoch);
        Assert.Equal(3, capped.BatchesPerEpoch);
        Assert.Equal(all.Batches(2).Take(3), capped.Batches(2));
        Assert.NotEqual(capped.Batches(1).First(), capped.Batches(2).First());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { Loss = Loss.CrossEntropy, StepsPerEpoch = 0 }.WithPlan(null));
    }
}
