using Functional.Lang.Compilation;
using Functional.Networks;
using TorchSharp;
using DeviceType = TorchSharp.DeviceType;

namespace Functional.Generation;

/// <summary>
/// Produces tokens one at a time from a language model. With a cache, the first pass runs the model over
/// the prompt and each later pass over the one new token (each causal attention extends its cached keys and
/// values; positional tables continue from the cache's offset). Without one, every token recomputes the
/// window. The window is the last <see cref="LanguageModelShape.Context"/> tokens: once the text is longer,
/// the cache is started again over that window for each token, which is what recomputing it gives (nanoGPT's
/// crop), so both ways see the same positions and, greedily, give the same tokens.
/// </summary>
internal sealed class TokenLoop(Network network, LanguageModelShape shape, int vocabulary)
{
    /// <summary>The tokens after <paramref name="prompt"/> (non-empty, ids checked), one per step, until
    /// <paramref name="sampler"/>'s caller stops asking or <paramref name="cancellation"/> is cancelled.</summary>
    public IEnumerable<int> Tokens(int[] prompt, TokenSampler sampler, bool useCache, CancellationToken cancellation)
    {
        var text = new List<int>(prompt);
        using var cache = useCache && shape.CanCache ? new GenerationCache() : null;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var next = network.Infer(module => Step(module, text, cache, sampler));
            text.Add(next);
            yield return next;
        }
    }

    private int Step(CompiledModel module, List<int> text, GenerationCache? cache, TokenSampler sampler)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var window = shape.Context is { } positions ? Math.Min(text.Count, positions) : text.Count;
        int from;
        if (cache is null) from = text.Count - window;
        else if (cache.Offset > 0 && cache.Offset == text.Count - 1 && text.Count == window) from = text.Count - 1; // only the newest token is new
        else
        {
            // First pass, or the window moved past position 0: start the cache again over the window.
            cache.Clear();
            from = text.Count - window;
        }
        var ids = text.GetRange(from, text.Count - from).Select(t => (long)t).ToArray();
        var input = torch.tensor(ids, [1, ids.Length], dtype: torch.ScalarType.Int64, device: module.Placement.Device);
        var output = module.Run(module.GenerationContext(cache), input);
        cache?.Advance(ids.Length);
        // The last position's scores for the tokens the tokenizer knows, with as few passes into libtorch as
        // it takes (each costs about as much as a layer does on one position).
        var last = output[0, -1];
        if (last.shape[0] > vocabulary) last = last.narrow(0, 0, vocabulary);
        if (last.dtype != torch.ScalarType.Float32) last = last.to(torch.ScalarType.Float32);
        if (last.device_type != DeviceType.CPU) last = last.cpu();
        return sampler.Next(last.data<float>().ToArray());
    }
}
