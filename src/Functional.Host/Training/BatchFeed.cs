using Functional.Data;
using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.Training;

/// <summary>
/// The one way examples reach the model: a batch's features reshaped to its declared input (token ids
/// checked to be whole numbers within the vocabulary, then int64; else the model's dtype) and its targets
/// on its device (int64 class indices, or values in its dtype shaped as its output). Training, validation,
/// evaluation and prediction all feed through here.
/// </summary>
internal sealed class BatchFeed
{
    private readonly CompiledModel module;
    private readonly long[] inputDims;
    private readonly long[] targetDims;
    private readonly bool classes;
    private readonly long? vocabulary;

    /// <summary>A feed for <paramref name="data"/>'s examples.</summary>
    public BatchFeed(CompiledModel module, IDataset data) : this(module, data.FeatureShape)
    {
        targetDims = DatasetShapes.FitTargets(data, module.Model);
        classes = data.TargetKind == TargetKind.ClassIndex;
    }

    /// <summary>A feed for inputs alone, each of <paramref name="featureShape"/>.</summary>
    public BatchFeed(CompiledModel module, int[] featureShape)
    {
        this.module = module;
        inputDims = DatasetShapes.Fit(featureShape, module.Model);
        targetDims = [];
        vocabulary = module.Model.Input.Tokens ? Networks.TokenVocabulary.Of(module) : null;
    }

    /// <summary>The model's input for <paramref name="features"/> (<c>[batch, ...]</c>): a new tensor in the current dispose scope.</summary>
    /// <exception cref="ArgumentException">a token id is not a whole number from 0, or not within the vocabulary</exception>
    public torch.Tensor Inputs(torch.Tensor features)
    {
        var placement = module.Placement;
        var x = DatasetShapes.Reshape(features, inputDims);
        if (!module.Model.Input.Tokens) return x.to(placement.DType, placement.Device);
        CheckTokenIds(x);
        return x.to(torch.ScalarType.Int64, placement.Device);
    }

    /// <summary>The model's input and target for <paramref name="batch"/> (new tensors in the current dispose scope).</summary>
    public (torch.Tensor X, torch.Tensor Y) Prepare(Batch batch)
    {
        var placement = module.Placement;
        var x = Inputs(batch.Features);
        var y = classes
            ? batch.Targets.to(torch.ScalarType.Int64, placement.Device)
            : DatasetShapes.Reshape(batch.Targets, targetDims).to(placement.DType, placement.Device);
        return (x, y);
    }

    /// <summary>
    /// Checks every example's token ids before a run starts, so that a bad id is named by its example in the data
    /// (not by its place in a batch, halfway through an epoch). Nothing to do for a model that does not take tokens.
    /// </summary>
    /// <exception cref="ArgumentException">an id is fractional, negative or beyond the vocabulary</exception>
    /// <param name="data">the examples</param>
    /// <param name="role">how the message names them when they come from no file ("the training data")</param>
    public void CheckTokenIds(IDataset data, string role)
    {
        if (!module.Model.Input.Tokens) return;
        const int chunk = 1024;
        for (var start = 0; start < data.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var indices = Enumerable.Range(start, Math.Min(chunk, data.Count - start)).ToArray();
            using var batch = data.ReadBatch(indices);
            CheckTokenIds(DatasetShapes.Reshape(batch.Features, inputDims), start, DataNaming.Describe(data, role) + ": ");
        }
    }

    /// <summary>Token ids must be whole numbers from 0, below the vocabulary when the model embeds them: checked here, before libtorch sees them.</summary>
    /// <param name="x">the examples' inputs</param>
    /// <param name="first">the index of its first example in the data, for the message</param>
    /// <param name="where">what the message starts with: the file and a colon, or nothing</param>
    private void CheckTokenIds(torch.Tensor x, int first = 0, string where = "")
    {
        using var scope = torch.NewDisposeScope();
        var flat = x.reshape(x.shape[0], -1);
        // Scalars held for the operations' length (TorchSharp's temporaries can be collected mid-call).
        using var zero = 0L.ToScalar();
        using var limit = (vocabulary ?? long.MaxValue).ToScalar();
        var bad = flat.lt(zero).logical_or(flat.ge(limit));
        if (flat.is_floating_point()) bad = bad.logical_or(flat.ne(flat.floor())); // NaN too: it differs from its floor
        if (!bad.any().item<bool>()) return;
        var at = bad.reshape(-1).nonzero()[0][0].item<long>();
        var example = first + at / flat.shape[1];
        var value = flat.reshape(-1)[at].to(torch.ScalarType.Float64).item<double>();
        var range = vocabulary is { } n ? $"whole numbers from 0 to {n - 1}" : "whole numbers from 0";
        throw new ArgumentException(
            $"{where}example {example + 1}'s input holds {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}, but {module.Model.Name} takes token ids ({range})");
    }
}
