namespace Functional.Generation;

/// <summary>
/// How text is sampled from a language model (the settings of Hugging Face's <c>generate</c> and nanoGPT's
/// <c>sample.py</c>). The logits of the last position are divided by <see cref="Temperature"/>, cut to the
/// <see cref="TopK"/> most likely tokens, then to the smallest set whose probability reaches
/// <see cref="TopP"/>, and a token is drawn from what is left with a generator seeded by <see cref="Seed"/>.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>New tokens to produce at most (the prompt not counted); at least 1.</summary>
    public int MaxTokens { get; init; } = 200;

    /// <summary>Divides the logits: below 1 sharper, above 1 flatter; 0 is greedy decoding (always the most
    /// likely token, lowest id on a tie). At least 0, finite.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the K most likely tokens (at least 1; more than the vocabulary keeps all); null keeps all.</summary>
    public int? TopK { get; init; }

    /// <summary>Nucleus sampling: keep the most likely tokens until their probability reaches P (above 0, at most 1); null or 1 keeps all.</summary>
    public double? TopP { get; init; }

    /// <summary>Texts that end the continuation at their first occurrence in it; the text returned stops just before it.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Seeds the sampling: the same seed, model, weights and prompt give the same text. Null: a random seed.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// Keep each causal attention's keys and values between tokens, so that each new token runs the model
    /// over one position (when the model allows it: <see cref="TextGenerator.CacheUnavailableReason"/>).
    /// False recomputes the whole window for every token.
    /// </summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Checks every setting's range; the exception names the property.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of range</exception>
    /// <exception cref="ArgumentException">a stop text is empty</exception>
    public void Validate()
    {
        if (MaxTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "the number of new tokens must be at least 1");
        if (!double.IsFinite(Temperature) || Temperature < 0)
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "the temperature must be a finite number of at least 0 (0 is greedy)");
        if (TopK is < 1)
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be at least 1");
        if (TopP is { } p && !(p > 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be above 0 and at most 1");
        ArgumentNullException.ThrowIfNull(Stop, nameof(Stop));
        if (Stop.Any(string.IsNullOrEmpty))
            throw new ArgumentException("a stop text must not be empty", nameof(Stop));
    }
}
