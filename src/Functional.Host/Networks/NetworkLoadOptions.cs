using Functional.Devices;

namespace Functional.Networks;

/// <summary>How <see cref="Network.Load"/> rebuilds a trained network from its source and its checkpoint folder.</summary>
public sealed record NetworkLoadOptions
{
    /// <summary>Where the weights go; the CPU by default.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>The element type of the weights; null: the one the checkpoint records.</summary>
    public Precision? Precision { get; init; }

    /// <summary>
    /// Hyperparameters as name and value text (<c>"hidden" = "8"</c>, as <c>--set</c> gives them). Loading uses the
    /// values the checkpoint records without them; one given here must agree with the recorded value.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Hyperparameters { get; init; }

    /// <summary>
    /// Refuse a source that has changed since the checkpoint was written (its SHA-256 differs from the one
    /// <c>model.json</c> records) with a <see cref="Checkpoints.SourceChangedException"/>, instead of loading it
    /// with a warning in <see cref="Network.Warnings"/>.
    /// </summary>
    public bool RequireUnchangedSource { get; init; }

    /// <summary>
    /// A LoRA adapter folder (<c>adapter_model.safetensors</c> and <c>adapter_config.json</c>, written by
    /// <see cref="Network.SaveAdapter"/> or <c>fnn finetune --lora</c>) to load onto the checkpoint's weights; it must
    /// have been trained from that model and those weights. Null: none.
    /// </summary>
    public string? Adapter { get; init; }
}
