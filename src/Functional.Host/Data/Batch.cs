using TorchSharp;

namespace Functional.Data;

/// <summary>A batch of examples read from a dataset: features and targets, with the batch first. Disposing it frees both.</summary>
public sealed class Batch : IDisposable
{
    /// <summary>Takes ownership of both tensors, whose first dimensions must agree.</summary>
    public Batch(torch.Tensor features, torch.Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.dim() == 0 || targets.dim() == 0 || features.shape[0] != targets.shape[0])
            throw new ArgumentException(
                $"features [{string.Join(", ", features.shape)}] and targets [{string.Join(", ", targets.shape)}] must both start with the batch size");
        Features = features;
        Targets = targets;
    }

    /// <summary>float32 <c>[batch, ...FeatureShape]</c>.</summary>
    public torch.Tensor Features { get; }

    /// <summary>int64 <c>[batch]</c> class indices, or float32 <c>[batch, ...TargetShape]</c> values.</summary>
    public torch.Tensor Targets { get; }

    /// <summary>The number of examples.</summary>
    public int Count => (int)Features.shape[0];

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        Features.Dispose();
        Targets.Dispose();
    }
}
