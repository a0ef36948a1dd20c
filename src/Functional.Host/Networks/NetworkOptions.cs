using Functional.Devices;

namespace Functional.Networks;

/// <summary>How a network is built: its device, its element type and the seed of its first weights.</summary>
public sealed record NetworkOptions
{
    /// <summary>
    /// Seed of the network's own random generator, which draws its initial weights (and, in training, the
    /// shuffling); null draws a random seed. torch's global generator is never used.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>Where the weights live and the computation runs; the CPU by default.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>float32 by default; float64 for numerical checks.</summary>
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>LoRA adapters beside the projections its targets match (drawn after every base weight, so the base
    /// weights are those of the same seed without them); null: none.</summary>
    public FineTuning.LoraOptions? Lora { get; init; }
}

/// <summary>The element type of a network's weights and computations.</summary>
public enum Precision
{
    /// <summary>32-bit floating point, torch's default.</summary>
    Float32,

    /// <summary>64-bit floating point, for numerical checks.</summary>
    Float64,
}
