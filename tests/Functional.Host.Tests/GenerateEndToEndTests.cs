using System.Text.Json;
using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary>A tiny GPT trained once with <c>fnn train --text</c>, for the <c>fnn generate</c> tests.</summary>
public sealed class TrainedTextModel : IDisposable
{
    public TrainedTextModel()
    {
        var source = Path.Combine(Directory, "gpt.fnn");
        File.WriteAllText(source, """
            model Gpt (vocab = 64, dim = 32, context = 16) : [seq] int -> [seq; vocab] =
                embed vocab dim >> positional context
                >> residual (layerNorm >> attention 4 (causal = true))
                >> residual (layerNorm >> dense (4 * dim) >> gelu >> dense dim)
                >> layerNorm >> dense vocab

            train Gpt with
                loss = crossEntropy
                optimizer = adam (lr = 0.003)
                epochs = 3
                batch = 16
            """);
        var text = Path.Combine(Directory, "fortunes");
        File.WriteAllText(text, TextDataTests.Fortunes(50));
        var train = Processes.Fnn("train", source, "--text", text, "--out", Weights);
        if (train.ExitCode != 0) throw new InvalidOperationException(train.Error + train.Output);
        Source = source;
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("functional-generate-e2e-").FullName;
    public string Source { get; }
    public string Weights => Path.Combine(Directory, "run");

    /// <summary>The characters of the checkpoint's tokenizer.json.</summary>
    public IReadOnlyList<string> Vocabulary()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Weights, "tokenizer.json")));
        return [.. json.RootElement.GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()!)];
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary><c>fnn generate</c> as a user runs it: standard output holds the prompt and the text alone.</summary>
public sealed class GenerateEndToEndTests(TrainedTextModel model) : IClassFixture<TrainedTextModel>
{
    private ProcessResult Generate(params string[] more) =>
        Processes.Fnn(["generate", model.Source, "--weights", model.Weights, .. more]);

    private string Text(params string[] more)
    {
        var result = Generate(more);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result.Output;
    }

    [Fact]
    public void The_same_seed_prints_the_same_text_and_a_different_seed_other_text()
    {
        var first = Text("--prompt", "the ", "--tokens", "40", "--seed", "7");
        Assert.StartsWith("the ", first);
        Assert.Equal(4 + 40, first.EnumerateRunes().Count()); // a character per token, and nothing else on standard output
        Assert.Equal(first, Text("--prompt", "the ", "--tokens", "40", "--seed", "7"));
        Assert.NotEqual(first, Text("--prompt", "the ", "--tokens", "40", "--seed", "8"));
        var run = Generate("--prompt", "the ", "--tokens", "40", "--seed", "7");
        Assert.Contains("40 tokens in ", run.Error);
        Assert.Contains("seed 7", run.Error);
    }

    [Fact]
    public void Greedy_text_is_the_same_with_and_without_the_cache()
    {
        var cached = Text("--prompt", "a", "--tokens", "40", "--temperature", "0");
        var recomputed = Text("--prompt", "a", "--tokens", "40", "--temperature", "0", "--no-cache");
        Assert.Equal(cached, recomputed);
        Assert.Contains("; no cache;", Generate("--prompt", "a", "--tokens", "3", "--no-cache").Error);
    }

    [Fact]
    public void A_stop_text_ends_the_output_just_before_its_first_occurrence()
    {
        var whole = Text("--prompt", "a", "--tokens", "60", "--temperature", "0");
        var continuation = whole[1..];
        var at = 10;
        while (char.IsLowSurrogate(continuation[at])) at++;
        var stop = continuation.Substring(at, char.IsHighSurrogate(continuation[at + 1]) ? 3 : 2); // whole characters
        var expected = "a" + continuation[..continuation.IndexOf(stop, StringComparison.Ordinal)];
        var stopped = Generate("--prompt", "a", "--tokens", "60", "--temperature", "0", "--stop", stop);
        Assert.Equal(0, stopped.ExitCode);
        Assert.Equal(expected, stopped.Output);
        Assert.Contains("ended at a stop text", stopped.Error);
    }

    [Fact]
    public void The_checkpoints_tokenizer_is_the_one_used()
    {
        var vocabulary = model.Vocabulary().ToHashSet();
        var text = Text("--prompt", "a", "--tokens", "200", "--seed", "3", "--temperature", "1.5");
        Assert.All(text.EnumerateRunes(), r => Assert.Contains(r.ToString(), vocabulary));
        // A character the text never had is not in it: a clear error naming the flag, the character and the vocabulary's size.
        var missing = Generate("--prompt", "a☃");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"--prompt: the character '☃' (U+2603) is not in the char tokenizer's vocabulary of {vocabulary.Count} characters", missing.Error);
        Assert.Equal("", missing.Output);
    }

    [Theory]
    [InlineData("--tokens", "0", "--tokens 0: the number of new tokens must be at least 1")]
    [InlineData("--temperature", "-1", "--temperature -1: the temperature must be a finite number of at least 0")]
    [InlineData("--top-p", "1.5", "--top-p 1.5: top-p must be above 0 and at most 1")]
    [InlineData("--top-k", "0", "--top-k 0: top-k must be at least 1")]
    [InlineData("--stop", "", "--stop \"\": a stop text must not be empty")]
    public void Settings_out_of_range_are_clear_errors(string flag, string value, string message)
    {
        var result = Generate(flag, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void A_checkpoint_without_a_tokenizer_or_a_model_that_is_not_a_language_model_is_named()
    {
        var xor = Path.Combine(model.Directory, "xor");
        var train = Processes.Fnn("train", Repository.XorSource, "--model", "Xor", "--epochs", "1", "--out", xor);
        Assert.Equal(0, train.ExitCode);
        var result = Processes.Fnn("generate", Repository.XorSource, "--weights", xor);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("model Xor takes [2] and outputs [1]; generating text needs token ids", result.Error);
    }
}
