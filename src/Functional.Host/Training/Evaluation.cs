namespace Functional.Training;

/// <summary>A loss and metrics over a whole dataset: means over its examples (batch values weighted by batch size).</summary>
public sealed record Evaluation(double Loss, IReadOnlyDictionary<string, double> Metrics, int Examples);
