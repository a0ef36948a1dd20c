namespace Functional.Data;

/// <summary>How <see cref="Normalization"/> changes features.</summary>
public enum NormalizationKind
{
    /// <summary>Features are used as read.</summary>
    None,

    /// <summary>Features are divided by a constant (255 for byte images).</summary>
    Scale,

    /// <summary>Features have a mean subtracted and are divided by a standard deviation, per feature or over all values.</summary>
    Standardize,
}
