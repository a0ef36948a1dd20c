namespace Functional.Serving;

/// <summary>
/// Gathering concurrent <see cref="Predictor.PredictAsync(float[], CancellationToken)"/> calls into one forward pass:
/// the first call waits up to <see cref="Window"/> for others, and a pass takes at most <see cref="MaxBatchSize"/>
/// examples. It trades a little latency for throughput when many callers ask at once; measure it on your model
/// (examples/service/README.md has the numbers for the Fashion-MNIST MLP).
/// </summary>
public sealed record MicroBatchingOptions
{
    /// <summary>How long the first call of a batch waits for others; above zero, at most one second. 2 ms by default.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The most examples one pass takes (a call's examples are never split); at least 2. 64 by default.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>Checks the ranges; the exception names the property.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of range</exception>
    public void Validate()
    {
        if (Window <= TimeSpan.Zero || Window > TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(Window), Window, "the batching window must be above 0 and at most 1 second");
        if (MaxBatchSize < 2)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "a batch must be able to hold at least 2 examples");
    }
}
