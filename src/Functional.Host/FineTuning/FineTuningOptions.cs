namespace Functional.FineTuning;

/// <summary>
/// Which parameters a training run changes, and how fast: Keras's <c>trainable = False</c> by path pattern,
/// fastai's freeze-then-unfreeze, and PyTorch's parameter groups with their own learning rates. Patterns are
/// globs over parameter paths (<c>*</c> any characters, dots included; <c>?</c> one): <c>features.*</c>,
/// <c>*.bias</c>, <c>head.weight</c>. A pattern that matches no parameter is an error naming it.
/// </summary>
public sealed record FineTuningOptions
{
    /// <summary>Parameters that get no gradient, no optimizer state and no weight decay, and stay bit-identical.</summary>
    public IReadOnlyList<string> Freeze { get; init; } = [];

    /// <summary>From this epoch (1-based, at least 2) the frozen parameters train too; null keeps them frozen.</summary>
    public int? UnfreezeAtEpoch { get; init; }

    /// <summary>Learning rates of their own for the parameters a pattern matches (a later rule wins over an earlier
    /// one); the schedule scales them as it scales the optimizer's.</summary>
    public IReadOnlyList<LearningRateRule> LearningRates { get; init; } = [];

    /// <summary>With LoRA adapters (which freeze the whole base): base parameters that train besides them, such as a new head.</summary>
    public IReadOnlyList<string> Train { get; init; } = [];

    /// <summary>
    /// Whether a batch normalisation whose parameters are frozen still normalises with each batch's statistics and
    /// updates its running ones while training. False (the default, Keras's rule): it uses its running statistics and
    /// leaves them as they are, so a frozen part computes exactly what it computed before.
    /// </summary>
    public bool FrozenBatchNormTrains { get; init; }

    /// <summary>Nothing frozen, no own rates: every parameter trains at the optimizer's rate.</summary>
    public static FineTuningOptions None { get; } = new();
}

/// <summary>A learning rate for the parameters whose paths <paramref name="Pattern"/> matches.</summary>
/// <param name="Pattern">a glob over parameter paths (<c>head.*</c>)</param>
/// <param name="Rate">the rate those parameters start from</param>
public sealed record LearningRateRule(string Pattern, double Rate);
