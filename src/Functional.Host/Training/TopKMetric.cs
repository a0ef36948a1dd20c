using TorchSharp;

namespace Functional.Training;

/// <summary><see cref="Metric.TopK"/>.</summary>
internal sealed class TopKMetric : Metric
{
    private readonly int k;

    public TopKMetric(int k) : base($"top{k}")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        this.k = k;
    }

    public override double Compute(torch.Tensor output, torch.Tensor target)
    {
        var classes = output.shape[^1];
        if (k > classes)
            throw new ArgumentException($"top{k} needs at least {k} classes, but the output has {classes} scores");
        var best = output.topk(k, -1).indexes;
        var hit = (best == ClassIndices(output, target).unsqueeze(-1)).any(-1);
        return hit.to(torch.ScalarType.Float64).mean().ToDouble();
    }
}
