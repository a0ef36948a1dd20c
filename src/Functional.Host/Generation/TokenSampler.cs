using Functional.Data;

namespace Functional.Generation;

/// <summary>
/// Picks the next token from a position's logits by <see cref="GenerationOptions"/>: greedy at temperature 0,
/// else temperature, top-k, top-p, then one draw from a seeded SplitMix64 stream (so a seed gives the same
/// tokens on every machine and .NET version). Computed in float64 over the tokens the tokenizer knows.
/// </summary>
internal sealed class TokenSampler(GenerationOptions options, int seed)
{
    private ulong state = SplitMix64.Mix((ulong)(uint)seed | 0x5EED_0000_0000_0000UL);

    /// <summary>The next token among ids 0 .. logits.Length - 1.</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (options.Temperature == 0) return ArgMax(logits);
        var count = logits.Length;
        var ids = new int[count];
        var scaled = new double[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = i;
            scaled[i] = logits[i] / options.Temperature;
        }

        var kept = count;
        var cut = options.TopK is { } k && k < count;
        var nucleus = options.TopP is { } p && p < 1;
        if (cut || nucleus)
        {
            // Most likely first; ties by id, so the order is the same everywhere.
            Array.Sort(ids, (a, b) => scaled[b] != scaled[a] ? scaled[b].CompareTo(scaled[a]) : a.CompareTo(b));
            if (cut) kept = options.TopK!.Value;
        }

        // Softmax over the kept tokens, from the largest logit for stability.
        var max = double.NegativeInfinity;
        for (var i = 0; i < kept; i++) max = Math.Max(max, scaled[ids[i]]);
        if (double.IsNaN(max) || double.IsNegativeInfinity(max))
            throw new InvalidOperationException("the model's scores for the next token are not finite numbers (NaN or -infinity everywhere)");
        var weights = new double[kept];
        var total = 0.0;
        for (var i = 0; i < kept; i++) total += weights[i] = Math.Exp(scaled[ids[i]] - max);

        if (nucleus)
        {
            // The smallest set of the most likely tokens whose probability reaches p (at least one token).
            var reach = options.TopP!.Value * total;
            var sum = 0.0;
            var n = 0;
            while (n < kept && sum < reach) sum += weights[n++];
            kept = Math.Max(1, n);
            total = sum;
        }

        var u = SplitMix64.NextDouble(ref state) * total;
        for (var i = 0; i < kept; i++)
        {
            u -= weights[i];
            if (u < 0) return ids[i];
        }
        return ids[kept - 1]; // rounding left u at or a hair above 0: the last kept token
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best] || float.IsNaN(logits[best])) best = i;
        if (float.IsNaN(logits[best]))
            throw new InvalidOperationException("the model's scores for the next token are not numbers (NaN)");
        return best;
    }
}
