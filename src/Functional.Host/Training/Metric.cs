using TorchSharp;

namespace Functional.Training;

/// <summary>
/// A number measured on a batch from the network's output and the targets, e.g. accuracy. Fit and Evaluate
/// call <see cref="Compute"/> under no_grad inside a dispose scope, and average the batch values weighted by
/// batch size, so a metric that is a mean over examples comes out exact over a dataset.
/// </summary>
/// <remarks>Add your own by subclassing or with <see cref="Create"/>.</remarks>
public abstract class Metric
{
    /// <summary>A metric reported as <paramref name="name"/> (not "loss", nor starting "val_").</summary>
    protected Metric(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name is "loss" || name.StartsWith("val_", StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' cannot name a metric: 'loss' and names starting 'val_' are reserved", nameof(name));
        Name = name;
    }

    /// <summary>The name in reports and history files; "val_" + Name for validation.</summary>
    public string Name { get; }

    /// <summary>Which way is better, for early stopping.</summary>
    public virtual bool HigherIsBetter => true;

    /// <summary>
    /// The metric's mean over the batch. <paramref name="output"/> is the network's output <c>[batch, ...]</c>;
    /// <paramref name="target"/> is int64 class indices <c>[batch]</c> or values shaped as the output.
    /// </summary>
    public abstract double Compute(torch.Tensor output, torch.Tensor target);

    /// <summary>The fraction of examples whose highest score is the target class (one-hot targets: their highest
    /// value; a single output: both sides of 0.5).</summary>
    public static Metric Accuracy { get; } = new AccuracyMetric();

    /// <summary>The fraction of examples whose target class is among the <paramref name="k"/> highest scores; named "top{k}".</summary>
    public static Metric TopK(int k) => new TopKMetric(k);

    /// <summary>
    /// A metric that is a function of the mean loss over the data (not a mean of batch values): computed from the epoch's
    /// training loss and from the validation loss, so that, say, perplexity is exactly exp(loss).
    /// </summary>
    /// <param name="name">its name in reports</param>
    /// <param name="ofMeanLoss">the value for a mean loss</param>
    /// <param name="higherIsBetter">which way is better, for early stopping (default: lower, as for a loss)</param>
    public static Metric FromLoss(string name, Func<double, double> ofMeanLoss, bool higherIsBetter = false) =>
        new LossMetric(name, ofMeanLoss, higherIsBetter);

    /// <summary>Perplexity, exp(loss) of a cross-entropy loss in nats; named "ppl".</summary>
    public static Metric Perplexity { get; } = FromLoss("ppl", Math.Exp);

    /// <summary>For a metric made by <see cref="FromLoss"/>: its value for a mean loss; null for a batch metric.</summary>
    internal virtual Func<double, double>? OfMeanLoss => null;

    /// <summary>The metric over data whose mean loss is <paramref name="loss"/> and whose batch values sum to
    /// <paramref name="weightedSum"/> over <paramref name="examples"/> examples.</summary>
    internal double Mean(double loss, double weightedSum, int examples) => OfMeanLoss is { } f ? f(loss) : weightedSum / examples;

    /// <summary>A metric from a function of (output, target) giving the batch mean.</summary>
    public static Metric Create(string name, Func<torch.Tensor, torch.Tensor, double> compute, bool higherIsBetter = true) =>
        new DelegateMetric(name, compute, higherIsBetter);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>The target as class indices <c>[batch, ...]</c>: as is when integer, else the argmax of one-hot rows.</summary>
    internal static torch.Tensor ClassIndices(torch.Tensor output, torch.Tensor target) =>
        target.dtype is torch.ScalarType.Int64 or torch.ScalarType.Int32
            ? target.reshape(output.shape[..^1]).to(torch.ScalarType.Int64)
            : target.reshape(output.shape).argmax(-1);
}
