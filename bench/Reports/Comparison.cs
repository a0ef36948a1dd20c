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

    public static Comparison Of(NetworkPair pair, string phase, Sample compiled, Sample handWritten)
    {
        var (low, high) = RatioInterval.OfMedians(compiled, handWritten);
        return new(pair.Name, phase, compiled.Median, handWritten.Median, compiled.Median / handWritten.Median, low, high,
            compiled.P25, compiled.P75, handWritten.P25, handWritten.P75, compiled.Count, pair.BatchSize, pair.Description)
        {
            CompiledGflops = phase == "train" && pair.TrainingFlops > 0 ? pair.TrainingFlops / compiled.Median / 1e6 : null,
        };
    }
}
