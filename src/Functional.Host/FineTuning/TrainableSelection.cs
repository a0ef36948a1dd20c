namespace Functional.FineTuning;

/// <summary>
/// Which parameters a run with given <see cref="FineTuningOptions"/> trains (<see cref="Networks.Network.SelectTrainable"/>):
/// what <c>fnn summary</c> shows, and what a C# program can check before it trains.
/// </summary>
public sealed record TrainableSelection
{
    /// <summary>The parameters trained from the first epoch (adapters included), by path.</summary>
    public required IReadOnlyList<string> Trained { get; init; }

    /// <summary>The frozen parameters (until <see cref="UnfreezeAtEpoch"/>, if any), by path.</summary>
    public required IReadOnlyList<string> Frozen { get; init; }

    /// <summary>The LoRA adapters' matrices, by path (empty without adapters).</summary>
    public required IReadOnlyList<string> Adapters { get; init; }

    /// <summary>The epoch from which the frozen parameters train too; null: never.</summary>
    public int? UnfreezeAtEpoch { get; init; }

    /// <summary>The parameters with a learning rate of their own, by path.</summary>
    public required IReadOnlyDictionary<string, double> LearningRates { get; init; }

    /// <summary>The values in the trained parameters.</summary>
    public required long TrainedCount { get; init; }

    /// <summary>The values in all parameters (adapters included).</summary>
    public required long TotalCount { get; init; }

    /// <summary>The trained share of all values, from 0 to 1.</summary>
    public double TrainedShare => TotalCount == 0 ? 0 : (double)TrainedCount / TotalCount;
}
