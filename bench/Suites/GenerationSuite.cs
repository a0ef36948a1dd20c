using Functional.Bench.Harness;
using Functional.Bench.Networks;
using Functional.Bench.Reports;
using Functional.Generation;
using Functional.Text;

namespace Functional.Bench.Suites;

/// <summary>
/// Greedy generation of <see cref="GenerationSuite.NewTokens"/> tokens after a one-token prompt, with the
/// cache and without it: the compiled GPT through <see cref="TextGenerator.GenerateIds"/>, the hand-written one
/// through <see cref="HandWrittenGeneration"/>. <c>Tokens</c> is what all four ways produced (checked equal before timing).
/// The cached row carries each side's cache speedup (uncached median time / cached median time).
/// </summary>
public sealed record GenerationResult(int PromptTokens, int NewTokens, IReadOnlyList<int> Tokens, Comparison Cached, Comparison Uncached);

/// <summary>
/// Tokens per second of generation, compiled against hand-written, on the GPT pair's weights (evaluation mode):
/// first both sides generate with and without the cache and must produce the same tokens, then each way is
/// timed alternating, one whole generation per run.
/// </summary>
public static class GenerationSuite
{
    public const int NewTokens = 128;

    /// <summary>The prompt: one token (a line break, as an empty prompt starts in nanoGPT's sampling).</summary>
    private static readonly int[] Prompt = [0];

    /// <summary>A line break and the 95 printable ASCII characters: 96 tokens, the tour GPT's vocabulary.</summary>
    private static Tokenizer Characters() =>
        Tokenizer.Characters("\n" + new string(Enumerable.Range(32, 95).Select(c => (char)c).ToArray()));

    /// <exception cref="InvalidOperationException">the model cannot cache, or the ways do not produce the same tokens</exception>
    public static GenerationResult Run(NetworkPair gpt, int warmup, int runs)
    {
        var hand = (HandWrittenGpt)gpt.HandWritten;
        var generator = new TextGenerator(gpt.Compiled, Characters());
        if (generator.CacheUnavailableReason is { } why)
            throw new InvalidOperationException($"{gpt.Name}: the compiled model cannot use the generation cache: {why}");
        GenerationOptions Options(bool cache) => new() { MaxTokens = NewTokens, Temperature = 0, UseCache = cache };
        var (cached, uncached) = (Options(true), Options(false));
        gpt.Compiled.Module.eval();
        hand.eval();

        IReadOnlyList<int> CompiledCached() => generator.GenerateIds(Prompt, cached);
        IReadOnlyList<int> CompiledUncached() => generator.GenerateIds(Prompt, uncached);
        IReadOnlyList<int> HandCached() => HandWrittenGeneration.Generate(hand, Prompt, NewTokens, useCache: true);
        IReadOnlyList<int> HandUncached() => HandWrittenGeneration.Generate(hand, Prompt, NewTokens, useCache: false);

        var expected = CompiledCached();
        if (expected.Count != NewTokens)
            throw new InvalidOperationException($"{gpt.Name}: the compiled generator produced {expected.Count} tokens, not {NewTokens}");
        foreach (var (name, tokens) in new[] { ("compiled without the cache", CompiledUncached()),
                     ("hand-written with the cache", HandCached()), ("hand-written without the cache", HandUncached()) })
        {
            var at = Enumerable.Range(0, NewTokens).FirstOrDefault(i => i >= tokens.Count || tokens[i] != expected[i], -1);
            if (at >= 0)
                throw new InvalidOperationException(
                    $"{gpt.Name} generation: {name} differs from the compiled generator with the cache at new token {at + 1} " +
                    $"({(at < tokens.Count ? tokens[at].ToString() : "none")} instead of {expected[at]})");
        }

        const string description = "GPT of examples/language-tour/tour.fnn, greedy, 1-token prompt";
        var (compiledCached, handCached) = Timing.Alternate(() => CompiledCached(), () => HandCached(), warmup, runs);
        var (compiledUncached, handUncached) = Timing.Alternate(() => CompiledUncached(), () => HandUncached(), warmup, runs);
        var cachedRow = Comparison.Of(gpt.Name, "generate-cache", compiledCached, handCached, 1,
            $"{description}, {NewTokens} new tokens with the cache", NewTokens) with
        {
            CompiledCacheSpeedup = compiledUncached.Median / compiledCached.Median,
            HandWrittenCacheSpeedup = handUncached.Median / handCached.Median,
        };
        var uncachedRow = Comparison.Of(gpt.Name, "generate-nocache", compiledUncached, handUncached, 1,
            $"{description}, {NewTokens} new tokens without the cache", NewTokens);
        return new GenerationResult(Prompt.Length, NewTokens, expected, cachedRow, uncachedRow);
    }
}
