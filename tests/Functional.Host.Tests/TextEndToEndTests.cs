using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary><c>fnn train --text</c>: a tiny GPT on a small generated fortune-format text, run as a user runs it.</summary>
public sealed class TextEndToEndTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("functional-text-e2e-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private const string Source = """
        let block (dim: int) (heads: int) =
            residual (layerNorm >> attention heads (causal = true))
            >> residual (layerNorm >> dense (4 * dim) >> gelu >> dense dim)

        model Gpt (vocab = 64, dim = 16, context = 16) : [context] int -> [context; vocab] =
            embed vocab dim >> positional context
            >> block dim 2
            >> layerNorm >> dense vocab

        train Gpt with
            loss = crossEntropy
            optimizer = adam (lr = 0.003)
            epochs = 3
            batch = 16
        """;

    private (string Source, string Text) Files()
    {
        var source = Path.Combine(directory, "gpt.fnn");
        File.WriteAllText(source, Source);
        var text = Path.Combine(directory, "fortunes");
        File.WriteAllText(text, TextDataTests.Fortunes(50));
        return (source, text);
    }

    private static string[] Losses(string history) =>
        [.. File.ReadAllLines(history).Skip(1).Select(l => l.Split(',')[1])];

    [Fact]
    public void Fnn_train_text_checkpoints_its_tokenizer_reuses_its_token_cache_and_resumes_exactly()
    {
        var (source, text) = Files();
        var whole = Process(source, text, "whole", "--epochs", "3");
        Assert.Contains("tokens: wrote ", whole.Error);
        Assert.Contains("char tokenizer of", whole.Output);
        Assert.Contains(" ppl ", whole.Output);
        Assert.Contains(" val_bpc ", whole.Output);
        Assert.True(File.Exists(Path.Combine(directory, "whole", "tokenizer.json")));
        var cache = Assert.Single(Directory.GetFiles(directory, "fortunes.char-*.tokens"));
        Assert.Contains($"tokens: wrote {cache}", whole.Error);
        var header = File.ReadLines(Path.Combine(directory, "whole.csv")).First();
        Assert.Equal("epoch,loss,ppl,bpc,val_loss,val_ppl,val_bpc,lr,seconds", header);

        // The same seed, the same losses; the tokens come from the cache.
        var part = Process(source, text, "part", "--epochs", "2");
        Assert.Contains($"tokens: reused {cache}", part.Error);
        Assert.Equal(Losses(Path.Combine(directory, "whole.csv"))[..2], Losses(Path.Combine(directory, "part.csv")));

        // Resumed with the checkpoint's tokenizer, the third epoch is the uninterrupted run's.
        var resumed = Processes.Fnn("train", source, "--text", text, "--resume", Path.Combine(directory, "part"), "--epochs", "3",
            "--history", Path.Combine(directory, "part.csv"));
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.Equal(Losses(Path.Combine(directory, "whole.csv")), Losses(Path.Combine(directory, "part.csv")));
    }

    private ProcessResult Process(string source, string text, string name, params string[] more)
    {
        var result = Processes.Fnn(["train", source, "--text", text, "--out", Path.Combine(directory, name),
            "--history", Path.Combine(directory, name + ".csv"), .. more]);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result;
    }

    [Fact]
    public void Fnn_train_text_explains_a_vocabulary_too_large_for_the_embedding_and_flags_that_do_not_fit()
    {
        var (source, text) = Files();
        var large = Processes.Fnn("train", source, "--text", text, "--tokenizer", "byte");
        Assert.Equal(1, large.ExitCode);
        Assert.Contains($"{source}:6:5: error: the byte tokenizer has 256 tokens but embed 64 16 holds 64; make embed's vocabulary at least 256", large.Error);
        Assert.Contains("  |     ^^^^^^^^^^^^^^^", large.Error);

        var both = Processes.Fnn("train", source, "--text", text, "--data", Path.Combine(directory, "x.csv"));
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("--data cannot be given with --text", both.Error);
        var unknown = Processes.Fnn("train", source, "--text", text, "--tokenizer", "words");
        Assert.Contains("--tokenizer words: expected char, byte or gpt2", unknown.Error);
        var context = Processes.Fnn("train", source, "--text", text, "--context", "8");
        Assert.Contains("--context 8: Gpt's input is [16] int, windows of 16 tokens", context.Error);
        var stray = Processes.Fnn("train", source, "--tokenizer", "char");
        Assert.Contains("--tokenizer applies to --text", stray.Error);
    }
}
