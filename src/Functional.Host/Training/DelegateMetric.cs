using TorchSharp;

namespace Functional.Training;

/// <summary><see cref="Metric.Create"/>: a metric from a function.</summary>
internal sealed class DelegateMetric(string name, Func<torch.Tensor, torch.Tensor, double> compute, bool higherIsBetter)
    : Metric(name)
{
    private readonly Func<torch.Tensor, torch.Tensor, double> compute = compute ?? throw new ArgumentNullException(nameof(compute));

    public override bool HigherIsBetter => higherIsBetter;

    public override double Compute(torch.Tensor output, torch.Tensor target) => compute(output, target);
}
