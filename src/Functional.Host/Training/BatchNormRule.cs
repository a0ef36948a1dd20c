using Functional.Lang.Checking;
using Functional.Lang.Compilation;

namespace Functional.Training;

/// <summary>
/// PyTorch's rule for batch normalisation in training: each channel needs more than one value to
/// normalise. Its statistics run over the batch and, for <c>[c; len]</c> and <c>[c; h; w]</c> inputs, over
/// the positions too, so only a <c>[c]</c> input (or one whose positions number one) needs two examples in
/// every batch. PyTorch refuses such a batch in its Python wrapper; libtorch through TorchSharp silently
/// gives NaN, so the session refuses it before training starts.
/// </summary>
internal static class BatchNormRule
{
    public static void Check(CompiledModel module, int count, int batchSize)
    {
        var single = NodeModule.walk(module.Model.Body).FirstOrDefault(n => n.Op is Op.Primitive { Item.Traits.BatchStatistics: true } && PositionsPerExample(n.Input) == 1);
        if (single is null) return;
        var why = $"{module.Model.Name}'s batchNorm at {Where(single)} normalises {single.Input} inputs, whose channels have one value per example, so it needs at least two examples in each training batch";
        if (batchSize == 1 || count == 1)
            throw new ArgumentException($"{why}, but the batch size is {Math.Min(batchSize, count)}");
        if (count % batchSize == 1)
            throw new ArgumentException($"{why}, but {count} examples in batches of {batchSize} leave one example for the last batch: choose another batch size");
    }

    /// <summary>The values per channel in one example (the dimensions after the channel's); null when one is symbolic (then bound by the data, and taken to be more than one).</summary>
    private static long? PositionsPerExample(Shape input)
    {
        long positions = 1;
        foreach (var d in input.Dims.Skip(1))
        {
            if (d is not Dim.Known k) return null;
            positions *= k.Item;
        }
        return positions;
    }

    private static string Where(Node node) => node.Path == "" ? "the top" : $"path {node.Path}";
}
