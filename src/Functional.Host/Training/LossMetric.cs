using TorchSharp;

namespace Functional.Training;

/// <summary>A metric computed from the mean loss (<see cref="Metric.FromLoss"/>), not from batches.</summary>
internal sealed class LossMetric(string name, Func<double, double> ofMeanLoss, bool higherIsBetter) : Metric(name)
{
    public override bool HigherIsBetter => higherIsBetter;

    internal override Func<double, double>? OfMeanLoss => ofMeanLoss;

    /// <summary>Not a batch value: the callers use <see cref="Metric.Mean"/>. NaN, so a caller that averages it shows that it is wrong.</summary>
    public override double Compute(torch.Tensor output, torch.Tensor target) => double.NaN;
}
