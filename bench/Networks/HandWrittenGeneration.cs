using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Bench.Networks;

/// <summary>
/// Greedy generation with the hand-written GPT, as one writes the loop against TorchSharp: one token per
/// step, each step in its own dispose scope without gradients, the next token the argmax of the last
/// position's logits. With a cache, the first step runs the prompt and each later one the newest token
/// alone; without one, every step runs the whole window. The window is the last <see cref="HandWrittenGpt.Context"/>
/// tokens; once the text outgrows it the cache starts again over the window (what recomputing it sees).
/// </summary>
public static class HandWrittenGeneration
{
    /// <summary>The <paramref name="count"/> tokens after <paramref name="prompt"/> (the network in evaluation mode).</summary>
    public static int[] Generate(HandWrittenGpt gpt, IReadOnlyList<int> prompt, int count, bool useCache)
    {
        var text = new List<int>(prompt);
        using var cache = useCache ? new KeyValueCache() : null;
        var produced = new int[count];
        for (var n = 0; n < count; n++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var window = Math.Min(text.Count, gpt.Context);
            var from = text.Count - window;
            if (cache is not null)
            {
                if (cache.Offset > 0 && cache.Offset == text.Count - 1 && text.Count == window) from = text.Count - 1;
                else cache.Clear();
            }
            var ids = new long[text.Count - from];
            for (var i = 0; i < ids.Length; i++) ids[i] = text[from + i];
            var logits = gpt.Forward(tensor(ids, [1, ids.Length]), cache);
            cache?.Advance(ids.Length);
            var next = (int)logits[0, -1].argmax().ToInt64();
            produced[n] = next;
            text.Add(next);
        }
        return produced;
    }
}
