using TorchSharp;

namespace Functional.Training;

/// <summary><see cref="Metric.Accuracy"/>.</summary>
internal sealed class AccuracyMetric() : Metric("accuracy")
{
    public override double Compute(torch.Tensor output, torch.Tensor target)
    {
        var integer = target.dtype is torch.ScalarType.Int64 or torch.ScalarType.Int32;
        if (!integer && output.shape[^1] == 1)
            return (output.ge(0.5) == target.reshape(output.shape).ge(0.5)).to(torch.ScalarType.Float64).mean().ToDouble();
        var predicted = output.argmax(-1);
        return (predicted == ClassIndices(output, target)).to(torch.ScalarType.Float64).mean().ToDouble();
    }
}
