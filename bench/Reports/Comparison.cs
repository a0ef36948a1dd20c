using System.Text.Json.Serialization;
using Functional.Bench.Harness;
using Functional.Bench.Networks;

namespace Functional.Bench.Reports;

/// <summary>One row of summary.json: a network's phase, compiled against hand-written (medians, milliseconds).</summary>
public sealed record Comparison(
    [property: JsonPropertyName("network")] string Network,
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("compiled_ms")] double CompiledMs,
    [property: JsonPropertyName("handwritten_ms")] double HandWrittenMs,
    [property: JsonPropertyName("ratio")] double Ratio,
    [property: JsonPropertyName("ratio_ci95_low")] double RatioLow,
    [property: JsonPropertyName("ratio_ci95_high")] double RatioHigh,
    [property: JsonPropertyName("compiled_p25_ms")] double CompiledP25Ms,
    [property: JsonPropertyName("compiled_p75_ms")] double CompiledP75Ms,
    [property: JsonPropertyName("handwritten_p25_ms")] double HandWrittenP25Ms,
    [property: JsonPropertyName("handwritten_p75_ms")] double HandWrittenP75Ms,
    [property: JsonPropertyName("runs")] int Runs,
    [property: JsonPropertyName("batch")] long Batch,
    [property: JsonPropertyName("description")] string Description)
{
    /// <summary>Multiply-add FLOP/s of the compiled training step, where the network's FLOPs are counted.</summary>
    [JsonPropertyName("compiled_gflops")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? CompiledGflops { get; init; }

    /// <summary><see cref="CompiledGflops"/> as a fraction of the machine's measured matmul ceiling.</summary>
    [JsonPropertyName("fraction_of_matmul_ceiling")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? FractionOfCeiling { get; init; }

    /// <summary>Tokens a second of the compiled side (tokens a run / median time), for the rows that process tokens (the GPT's).</summary>
    [JsonPropertyName("tokens_per_second_compiled")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TokensPerSecondCompiled { get; init; }

    /// <summary>Tokens a second of the hand-written side.</summary>
    [JsonPropertyName("tokens_per_second_handwritten")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TokensPerSecondHandWritten { get; init; }

    /// <summary>On the cached generation row: the compiled side's time without the cache / with it (medians).</summary>
    [JsonPropertyName("cache_speedup_compiled")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? CompiledCacheSpeedup { get; init; }

    /// <summary>On the cached generation row: the hand-written side's time without the cache / with it.</summary>
    [JsonPropertyName("cache_speedup_handwritten")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? HandWrittenCacheSpeedup { get; init; }

    /// <summary>A training or inference row of <paramref name="pair"/> (its batch: tokens for the GPT, batch × context).</summary>
    public static Comparison Of(NetworkPair pair, string phase, Sample compiled, Sample handWritten) =>
        Of(pair.Name, phase, compiled, handWritten, pair.BatchSize, pair.Description, pair.TokensPerBatch) with
        {
            CompiledGflops = phase == "train" && pair.TrainingFlops > 0 ? pair.TrainingFlops / compiled.Median / 1e6 : null,
        };

    /// <summary>A row of one run each of <paramref name="batch"/> examples and <paramref name="tokens"/> tokens (0: not a token model).</summary>
    public static Comparison Of(string network, string phase, Sample compiled, Sample handWritten, long batch, string description, long tokens)
    {
        var (low, high) = RatioInterval.OfMedians(compiled, handWritten);
        return new(network, phase, compiled.Median, handWritten.Median, compiled.Median / handWritten.Median, low, high,
            compiled.P25, compiled.P75, handWritten.P25, handWritten.P75, compiled.Count, batch, description)
        {
            TokensPerSecondCompiled = tokens > 0 ? tokens / (compiled.Median / 1000) : null,
            TokensPerSecondHandWritten = tokens > 0 ? tokens / (handWritten.Median / 1000) : null,
        };
    }
}
