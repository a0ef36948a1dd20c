using Functional.Data;
using Functional.Generation;
using Functional.Networks;
using Functional.Text;
using Functional.Training;
using Functional.Training.Optimization;

namespace Functional.Host.Tests;

/// <summary>Text generation: the cache against recomputing, the context crop, sampling, stop texts, seeds and errors.</summary>
public class GenerationTests
{
    private const string Period = "the cat sat on the mat. ";

    /// <summary>A one-block GPT with a context of 8 over the characters of <see cref="Period"/> (a vocabulary of 12 in an embed of 16).</summary>
    private const string Source = """
        model Gpt : [seq] int -> [seq; 16] =
            embed 16 32 >> positional 8
            >> residual (layerNorm >> attention 4 (causal = true))
            >> residual (layerNorm >> dense 64 >> gelu >> dense 32)
            >> layerNorm >> dense 16
        """;

    private static readonly Lazy<(Network Network, Tokenizer Tokenizer)> Trained = new(Train);

    /// <summary>The GPT trained on windows of the repeating sentence until it continues it.</summary>
    private static (Network, Tokenizer) Train()
    {
        var tokenizer = Tokenizer.Characters(Period);
        var text = tokenizer.Encode(string.Concat(Enumerable.Repeat(Period, 12)));
        const int context = 8;
        var windows = Enumerable.Range(0, text.Length - context - 1).ToArray();
        var network = FnnFile.FromSource(Source).Compile(options: new NetworkOptions { Seed = 3 });
        using var data = new InMemoryDataset(
            windows.Select(s => text[s..(s + context)]).ToArray(),
            windows.Select(s => text[(s + 1)..(s + context + 1)]).ToArray(),
            classCount: 16);
        network.Fit(data, null, new TrainingOptions
        {
            Loss = Loss.CrossEntropy, Epochs = 12, BatchSize = 16, Seed = 5,
            Optimizer = Optimizer.Adam(lr: 0.01),
        });
        network.Tokenizer = tokenizer;
        return (network, tokenizer);
    }

    private static TextGenerator Generator() => new(Trained.Value.Network);

    [Fact]
    public void Greedy_decoding_gives_the_same_tokens_with_and_without_the_cache_also_past_the_context()
    {
        var generator = Generator();
        var prompt = Trained.Value.Tokenizer.Encode("the c");
        var cached = generator.GenerateIds(prompt, new GenerationOptions { MaxTokens = 40, Temperature = 0 });
        var recomputed = generator.GenerateIds(prompt, new GenerationOptions { MaxTokens = 40, Temperature = 0, UseCache = false });
        Assert.Null(generator.CacheUnavailableReason);
        Assert.Equal(8, generator.ContextLength);
        Assert.Equal(40, cached.Count); // 45 tokens: the window moved 37 times
        Assert.Equal(recomputed, cached);
        // And the model learned the sentence: the greedy text continues it.
        var text = Trained.Value.Tokenizer.Decode(cached.ToArray());
        var expected = string.Concat(Enumerable.Repeat(Period, 3))[5..45];
        var same = text.Zip(expected).Count(p => p.First == p.Second);
        Assert.True(same >= 36, $"greedy continuation '{text}' matches the sentence in {same} of 40 characters");
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_seen_through_its_last_tokens()
    {
        var generator = Generator();
        var tokenizer = Trained.Value.Tokenizer;
        var greedy = new GenerationOptions { MaxTokens = 10, Temperature = 0 };
        var longPrompt = generator.GenerateIds(tokenizer.Encode("sat on the mat. the"), greedy);
        var lastEight = generator.GenerateIds(tokenizer.Encode("mat. the"), greedy);
        Assert.Equal(lastEight, longPrompt);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_text_and_different_seeds_different_text()
    {
        var generator = Generator();
        async Task<string> Sample(int seed)
        {
            var pieces = new List<string>();
            await foreach (var piece in generator.GenerateAsync("the", new GenerationOptions { MaxTokens = 60, Temperature = 2.0, Seed = seed }))
                pieces.Add(piece);
            return string.Concat(pieces);
        }
        var first = await Sample(1);
        Assert.Equal(60, first.Length);
        Assert.Equal(first, await Sample(1));
        Assert.NotEqual(first, await Sample(2));
    }

    [Fact]
    public void A_stop_text_ends_the_continuation_just_before_its_first_occurrence()
    {
        var generator = Generator();
        var options = new GenerationOptions { MaxTokens = 60, Temperature = 0, Stop = ["mat"] };
        var run = generator.Start("the cat ", options);
        var text = string.Concat(run.Pieces(default));
        Assert.Equal("sat on the ", text);
        Assert.Equal(GenerationEnd.StopText, run.End);
        Assert.Equal(14, run.GeneratedTokens); // "sat on the mat": the stop text's last character was produced
    }

    [Fact]
    public void Stop_texts_are_held_back_until_they_cannot_match_and_a_later_one_can_end_the_text()
    {
        var stop = new StopText(["ab", "xyz"]);
        Assert.Equal("", stop.Add("x"));          // could begin "xyz"
        Assert.Equal("", stop.Add("y"));
        Assert.Equal("xyq", stop.Add("q"));       // no longer can
        Assert.Equal("", stop.Add("a"));
        Assert.Equal("ac", stop.Add("c"));
        Assert.Equal("zx", stop.Add("zxa"));      // "a" held: it could begin "ab"
        Assert.False(stop.Stopped);
        Assert.Equal("", stop.Add("bab"));        // "ab" across the two pieces: nothing more
        Assert.True(stop.Stopped);
        Assert.Equal("", stop.Add("more"));
        Assert.Equal("", stop.Flush());

        var inOnePiece = new StopText(["ab"]);
        Assert.Equal("12", inOnePiece.Add("12ab34"));
        Assert.True(inOnePiece.Stopped);
        var never = new StopText(["ab"]);
        Assert.Equal("1", never.Add("1a"));
        Assert.Equal("a", never.Flush());         // the end of the text: what was held comes out
    }

    [Fact]
    public void Greedy_sampling_is_the_arg_max_and_top_k_of_one_is_greedy()
    {
        float[] logits = [0.5f, 2f, -1f, 2f, 1.9f];
        Assert.Equal(1, new TokenSampler(new GenerationOptions { Temperature = 0 }, 1).Next(logits)); // the lowest id of a tie
        var topOne = new TokenSampler(new GenerationOptions { TopK = 1 }, 7);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, topOne.Next(logits)));
        var nucleus = new TokenSampler(new GenerationOptions { TopP = 0.01 }, 7);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, nucleus.Next(logits)));
    }

    [Fact]
    public void Sampling_follows_the_softmax_and_top_k_and_top_p_cut_the_unlikely_tokens()
    {
        // Probabilities 0.1, 0.3, 0.6 at temperature 1.
        float[] logits = [MathF.Log(0.1f), MathF.Log(0.3f), MathF.Log(0.6f)];
        int[] Counts(GenerationOptions o)
        {
            var sampler = new TokenSampler(o, 11);
            var counts = new int[3];
            for (var i = 0; i < 20_000; i++) counts[sampler.Next(logits)]++;
            return counts;
        }
        var plain = Counts(new GenerationOptions());
        Assert.InRange(plain[0], 1_800, 2_200);
        Assert.InRange(plain[2], 11_700, 12_300);
        var topTwo = Counts(new GenerationOptions { TopK = 2 });   // 1/3 and 2/3
        Assert.Equal(0, topTwo[0]);
        Assert.InRange(topTwo[1], 6_300, 7_000);
        var nucleus = Counts(new GenerationOptions { TopP = 0.85 }); // 0.6 + 0.3 reaches 0.85: token 0 is cut
        Assert.Equal(0, nucleus[0]);
        var cold = Counts(new GenerationOptions { Temperature = 0.5 }); // squares: 0.01, 0.09, 0.36 of 0.46
        Assert.InRange(cold[2], 15_300, 16_000);
    }

    [Theory]
    [InlineData(0, 1.0, null, null, "MaxTokens")]
    [InlineData(5, -0.5, null, null, "Temperature")]
    [InlineData(5, double.NaN, null, null, "Temperature")]
    [InlineData(5, 1.0, 0, null, "TopK")]
    [InlineData(5, 1.0, null, 1.5, "TopP")]
    [InlineData(5, 1.0, null, 0.0, "TopP")]
    public void Settings_out_of_range_are_errors_naming_the_setting(int tokens, double temperature, int? topK, double? topP, string name)
    {
        var options = new GenerationOptions { MaxTokens = tokens, Temperature = temperature, TopK = topK, TopP = topP };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Generator().Start("the", options));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void A_prompt_with_characters_the_vocabulary_lacks_is_an_error_naming_them()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Generator().Start("the dog"));
        Assert.Contains("'d'", e.Message);
    }

    [Fact]
    public async Task Cancelling_stops_the_stream()
    {
        using var source = new CancellationTokenSource();
        var count = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Generator().GenerateAsync("the", new GenerationOptions { MaxTokens = 1000 }, source.Token))
                if (++count == 3) await source.CancelAsync();
        });
        Assert.Equal(3, count);
    }

    [Fact]
    public void A_model_that_is_not_a_language_model_or_mixes_positions_is_named()
    {
        using var classifier = FnnFile.FromSource("model Cls : [4] -> [3] =\n    dense 3\n").Compile();
        var e = Assert.Throws<ArgumentException>(() => new TextGenerator(classifier, Tokenizer.Bytes()));
        Assert.Contains("generating text needs token ids", e.Message);

        using var recurrent = FnnFile.FromSource("model Rnn : [seq] int -> [seq; 256] =\n    embed 256 8 >> lstm 8 >> dense 256\n").Compile();
        var generator = new TextGenerator(recurrent, Tokenizer.Bytes());
        Assert.Contains("lstm 8 (layer 1) at <source>:2:", generator.CacheUnavailableReason);
        // It still generates, recomputing the window.
        Assert.Equal(5, generator.GenerateIds([1, 2], new GenerationOptions { MaxTokens = 5, Seed = 1 }).Count);
    }
}
