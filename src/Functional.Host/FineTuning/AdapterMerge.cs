namespace Functional.FineTuning;

/// <summary>
/// What merging LoRA adapters into their base did (<see cref="Networks.Network.MergeAdapter"/>): W ← W + (alpha / rank) · B A
/// for each adapted projection, computed in <see cref="Precision"/> and cast to the weights' type, and the largest
/// difference between the adapted network's outputs and the merged one's on a probe batch.
/// </summary>
public sealed record AdapterMerge
{
    /// <summary>The projections whose weights took up their adapters, by path.</summary>
    public required IReadOnlyList<string> Projections { get; init; }

    /// <summary>What the merge was computed in: <c>float64</c> or <c>float32</c>.</summary>
    public required string Precision { get; init; }

    /// <summary>The largest absolute difference between an output of the adapted network and the merged one's.</summary>
    public required double MaxDifference { get; init; }

    /// <summary>How many examples the probe batch held (seeded: the same every time).</summary>
    public required int ProbeExamples { get; init; }

    /// <summary>The report as <c>fnn merge</c> prints it.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"merged {Projections.Count} adapters in {Precision}; largest difference between merged and adapted outputs on {ProbeExamples} probe examples: {MaxDifference:G3}");
}
