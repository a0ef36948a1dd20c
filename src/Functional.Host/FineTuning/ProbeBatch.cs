using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using Functional.Networks;
using TorchSharp;

namespace Functional.FineTuning;

/// <summary>A seeded batch of inputs any model accepts: standard normal values, or token ids drawn uniformly from its
/// vocabulary; a symbolic length is the model's context (at most 32) or 8.</summary>
internal static class ProbeBatch
{
    public static torch.Tensor Make(CompiledModel module, int count, long seed)
    {
        var input = module.Model.Input;
        var context = TokenContext.Of(module);
        var dims = input.Dims.Select(d => d is Dim.Known k ? (long)k.Item : Math.Min(context ?? 8, 32)).ToArray();
        var shape = new long[] { count }.Concat(dims).ToArray();
        using var generator = Randomness.create(torch.CPU, seed);
        var p = module.Placement;
        if (input.Tokens)
        {
            var vocabulary = TokenVocabulary.Of(module) ?? 2;
            return torch.randint(vocabulary, shape, generator: generator, dtype: torch.ScalarType.Int64).to(p.Device);
        }
        return torch.randn(shape, generator: generator, dtype: torch.ScalarType.Float32).to(p.DType, p.Device);
    }
}
