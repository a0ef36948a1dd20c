using Functional.Devices;
using Functional.Networks;

namespace Functional.Serving;

/// <summary>How a <see cref="Predictor"/> is loaded and what it accepts.</summary>
public sealed record PredictorOptions
{
    /// <summary>Where the weights live and the computation runs; the CPU by default.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>The element type of the weights; null: the one the checkpoint records.</summary>
    public Precision? Precision { get; init; }

    /// <summary>A LoRA adapter folder to load onto the checkpoint (see <see cref="NetworkLoadOptions.Adapter"/>); null: none.</summary>
    public string? Adapter { get; init; }

    /// <summary>Refuse a source that changed since the checkpoint was written, instead of loading it with a warning.</summary>
    public bool RequireUnchangedSource { get; init; }

    /// <summary>What to do with NaN and infinite inputs: refuse them (the default) or pass them to the model.</summary>
    public NonFiniteInputs NonFinite { get; init; } = NonFiniteInputs.Reject;

    /// <summary>The most examples one call may give; at least 1. 1024 by default.</summary>
    public int MaxExamplesPerCall { get; init; } = 1024;

    /// <summary>The name of each class, for a classifier whose checkpoint records none (an IDX data set's, say): as many as
    /// the model's output has scores. Null: the checkpoint's (<see cref="Network.ClassNames"/>).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Gather concurrent asynchronous calls into one forward pass; null (the default): every call runs its own.</summary>
    public MicroBatchingOptions? MicroBatching { get; init; }

    /// <summary>
    /// The most calls that compute at once; later ones wait (asynchronously when they can). Null (the default): no
    /// bound, every caller computes on its own thread over the shared weights. 1 serialises the calls, as one network
    /// behind a lock would.
    /// </summary>
    public int? MaxConcurrentCalls { get; init; }

    /// <summary>The longest prompt, in tokens, that generation accepts; null: the model's context (or 1024 when nothing
    /// bounds it). A longer prompt is an <see cref="InvalidInputException"/>.</summary>
    public int? MaxPromptTokens { get; init; }

    /// <summary>The most new tokens one generation may ask for (<see cref="Generation.GenerationOptions.MaxTokens"/>); 1024 by default.</summary>
    public int MaxNewTokens { get; init; } = 1024;

    /// <summary>Checks every setting's range; the exception names the property.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of range</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Device, nameof(Device));
        if (MaxExamplesPerCall < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxExamplesPerCall), MaxExamplesPerCall, "a call must be allowed at least 1 example");
        if (MaxConcurrentCalls is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentCalls), MaxConcurrentCalls, "at least 1 call must be able to run (null: no bound)");
        if (MaxPromptTokens is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxPromptTokens), MaxPromptTokens, "a prompt must be allowed at least 1 token");
        if (MaxNewTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "a generation must be allowed at least 1 new token");
        if (ClassNames is not null && (ClassNames.Count < 2 || ClassNames.Any(string.IsNullOrWhiteSpace)))
            throw new ArgumentOutOfRangeException(nameof(ClassNames), ClassNames.Count, "class names must be at least two, none of them empty");
        MicroBatching?.Validate();
    }
}
