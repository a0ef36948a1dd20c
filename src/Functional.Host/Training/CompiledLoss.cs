using TorchSharp;

namespace Functional.Training;

/// <summary>A <see cref="Loss"/> made ready for one device and dtype; disposing it frees what it holds.</summary>
internal sealed class CompiledLoss(string name, Func<torch.Tensor, torch.Tensor, torch.Tensor> compute, IDisposable? resources) : IDisposable
{
    /// <summary>The loss of <paramref name="output"/> against <paramref name="target"/>: a scalar tensor.</summary>
    /// <exception cref="InvalidOperationException">a custom loss gave no tensor or more than one number</exception>
    public torch.Tensor Compute(torch.Tensor output, torch.Tensor target)
    {
        var value = compute(output, target)
                    ?? throw new InvalidOperationException($"the loss '{name}' returned no tensor");
        if (value.numel() != 1)
            throw new InvalidOperationException(
                $"the loss '{name}' gave a tensor of shape [{string.Join(", ", value.shape)}]; a loss must give one number (take its mean)");
        return value.dim() == 0 ? value : value.reshape([]);
    }

    public void Dispose() => resources?.Dispose();
}
