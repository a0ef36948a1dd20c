namespace Functional.Text;

/// <summary>Which windows of a text make a <see cref="TextDataset"/>'s examples.</summary>
public enum TextSampling
{
    /// <summary>Every start offset is an example (<c>tokens - context</c> of them): with the session's seeded shuffle,
    /// random windows every step, resumed exactly. Cap an epoch with <see cref="Training.TrainingOptions.StepsPerEpoch"/>
    /// (<see cref="TextDataset.ExamplesPerEpoch"/> suggests how many).</summary>
    Random,

    /// <summary>Non-overlapping windows, one after another (<c>(tokens - 1) / context</c> of them): for validation.</summary>
    Sequential,
}
