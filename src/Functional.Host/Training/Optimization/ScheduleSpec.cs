using static Functional.Training.Optimization.SpecOptions;

namespace Functional.Training.Optimization;

/// <summary>
/// How the learning rate changes during training: a main schedule, optionally after a linear warm-up.
/// With <c>e</c> the epochs completed (by the main schedule, see below) and <c>lr0</c> the optimizer's rate:
/// <list type="bullet">
/// <item><c>constant</c>: <c>lr0</c>.</item>
/// <item><c>step</c>: <c>lr0 * gamma^floor(e / every)</c> (PyTorch's StepLR; gamma defaults to 0.1).</item>
/// <item><c>exponential</c>: <c>lr0 * gamma^e</c> (ExponentialLR).</item>
/// <item><c>cosine</c>: <c>min_lr + (lr0 - min_lr) * (1 + cos(π e / epochs)) / 2</c>, then <c>min_lr</c> once
/// <c>e ≥ epochs</c> (CosineAnnealingLR, which instead would climb back up).</item>
/// <item><c>plateau</c>: reduce-on-plateau, driven by the value passed to
/// <see cref="LearningRateSchedule.OnEpochEnd"/>, as PyTorch's ReduceLROnPlateau with an absolute threshold:
/// an epoch improves when its value beats the best by more than <c>min_delta</c>; once more than
/// <c>patience</c> epochs in a row have not, the rate is multiplied by <c>factor</c> (not below
/// <c>min_lr</c>) and the next <c>cooldown</c> epochs count no bad epochs.</item>
/// <item><c>warmup</c>: constant, after a warm-up (which every schedule can have).</item>
/// </list>
/// Warm-up: a factor rising linearly from <c>warmup_start</c> (default 0.1) to 1.
/// <list type="bullet">
/// <item>In epochs (<c>warmup_epochs = W</c>): it runs first, <c>start + (1 - start) * k / W</c> in epoch
/// <c>k + 1</c>, and the main schedule starts after it, counting its epochs from 0 (PyTorch's SequentialLR
/// of LinearLR then the main one). A plateau schedule ignores the values of warm-up epochs.</item>
/// <item>In steps (<c>warmup_steps = S</c>): the factor <c>start + (1 - start) * min(s, S) / S</c>, with
/// <c>s</c> the batches completed, multiplies the main schedule, which counts epochs from the start of
/// training (a warm-up of a few hundred batches rarely fills whole epochs; PyTorch's ChainedLR).</item>
/// </list>
/// </summary>
/// <param name="Name">constant, step, exponential, cosine, plateau or warmup.</param>
public sealed record ScheduleSpec(string Name)
{
    public const string Constant = "constant";
    public const string Step = "step";
    public const string Exponential = "exponential";
    public const string Cosine = "cosine";
    public const string Plateau = "plateau";
    public const string Warmup = "warmup";

    public static IReadOnlyList<string> Names { get; } = [Constant, Step, Exponential, Cosine, Plateau, Warmup];

    /// <summary>A constant learning rate.</summary>
    public static ScheduleSpec None { get; } = new(Constant);

    /// <summary>step: epochs between decays.</summary>
    public int? Every { get; init; }

    /// <summary>step: the decay (default 0.1); exponential: the factor per epoch (required).</summary>
    public double? Gamma { get; init; }

    /// <summary>cosine: its length T in epochs.</summary>
    public int? Epochs { get; init; }

    /// <summary>cosine: the rate it ends at; plateau: the floor of the reductions. Default 0.</summary>
    public double? MinLearningRate { get; init; }

    /// <summary>plateau: the factor of a reduction (default 0.1).</summary>
    public double? Factor { get; init; }

    /// <summary>plateau: bad epochs tolerated before a reduction (default 10).</summary>
    public int? Patience { get; init; }

    /// <summary>plateau: how much a value must beat the best by to count as an improvement (default 0).</summary>
    public double? MinDelta { get; init; }

    /// <summary>plateau: epochs after a reduction during which bad epochs are not counted (default 0).</summary>
    public int? Cooldown { get; init; }

    /// <summary>plateau: whether lower (default) or higher values are better.</summary>
    public PlateauMode? Mode { get; init; }

    /// <summary>Warm-up length in batches (optimizer steps).</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>Warm-up length in epochs.</summary>
    public int? WarmupEpochs { get; init; }

    /// <summary>The warm-up's first factor, in [0, 1] (default 0.1).</summary>
    public double? WarmupStartFactor { get; init; }

    internal double EffectiveGamma => Gamma ?? 0.1;
    internal double EffectiveMinLearningRate => MinLearningRate ?? 0.0;
    internal double EffectiveFactor => Factor ?? 0.1;
    internal int EffectivePatience => Patience ?? 10;
    internal double EffectiveMinDelta => MinDelta ?? 0.0;
    internal int EffectiveCooldown => Cooldown ?? 0;
    internal PlateauMode EffectiveMode => Mode ?? PlateauMode.Min;
    internal int EffectiveWarmupSteps => WarmupSteps ?? 0;
    internal int EffectiveWarmupEpochs => WarmupEpochs ?? 0;
    internal double EffectiveWarmupStartFactor => WarmupStartFactor ?? 0.1;

    /// <summary>Throws an <see cref="ArgumentException"/> that says what is wrong, if anything is.</summary>
    public void Validate()
    {
        if (!Names.Contains(Name))
            throw new ArgumentException($"unknown schedule '{Name}': expected one of {string.Join(", ", Names)}");
        OnlyFor("every", Every is not null, Step);
        OnlyFor("gamma", Gamma is not null, Step, Exponential);
        OnlyFor("epochs", Epochs is not null, Cosine);
        OnlyFor("min_lr", MinLearningRate is not null, Cosine, Plateau);
        OnlyFor("factor", Factor is not null, Plateau);
        OnlyFor("patience", Patience is not null, Plateau);
        OnlyFor("min_delta", MinDelta is not null, Plateau);
        OnlyFor("cooldown", Cooldown is not null, Plateau);
        OnlyFor("mode", Mode is not null, Plateau);
        switch (Name)
        {
            case Step:
                if (Every is not { } every) throw new ArgumentException("the step schedule needs every (the epochs between decays)");
                if (every <= 0) throw new ArgumentException($"every must be positive, but it is {every}");
                PositiveNumber("gamma", EffectiveGamma);
                break;
            case Exponential:
                if (Gamma is not { } gamma) throw new ArgumentException("the exponential schedule needs gamma (the factor per epoch)");
                PositiveNumber("gamma", gamma);
                break;
            case Cosine:
                if (Epochs is not { } epochs) throw new ArgumentException("the cosine schedule needs epochs (its length)");
                if (epochs <= 0) throw new ArgumentException($"epochs must be positive, but it is {epochs}");
                NonNegativeNumber("min_lr", EffectiveMinLearningRate);
                break;
            case Plateau:
                if (!(EffectiveFactor is > 0 and < 1))
                    throw new ArgumentException($"factor must be in (0, 1), but it is {Show(EffectiveFactor)}");
                if (EffectivePatience < 0) throw new ArgumentException($"patience must not be negative, but it is {EffectivePatience}");
                if (EffectiveCooldown < 0) throw new ArgumentException($"cooldown must not be negative, but it is {EffectiveCooldown}");
                NonNegativeNumber("min_delta", EffectiveMinDelta);
                NonNegativeNumber("min_lr", EffectiveMinLearningRate);
                break;
        }
        if (WarmupSteps is not null && WarmupEpochs is not null)
            throw new ArgumentException("give warmup_steps or warmup_epochs, not both");
        if (EffectiveWarmupSteps < 0) throw new ArgumentException($"warmup_steps must not be negative, but it is {EffectiveWarmupSteps}");
        if (EffectiveWarmupEpochs < 0) throw new ArgumentException($"warmup_epochs must not be negative, but it is {EffectiveWarmupEpochs}");
        if (Name == Warmup && EffectiveWarmupSteps == 0 && EffectiveWarmupEpochs == 0)
            throw new ArgumentException("the warmup schedule needs warmup_steps or warmup_epochs");
        if (WarmupStartFactor is { } start)
        {
            if (WarmupSteps is null && WarmupEpochs is null)
                throw new ArgumentException("warmup_start needs warmup_steps or warmup_epochs");
            if (!(start is >= 0 and <= 1))
                throw new ArgumentException($"warmup_start must be in [0, 1], but it is {Show(start)}");
        }
    }

    /// <summary>A schedule that sets <paramref name="optimizer"/>'s learning rate, starting from its spec's rate.</summary>
    public LearningRateSchedule Create(TrainingOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return new LearningRateSchedule(this, optimizer.Spec.EffectiveLearningRate, optimizer);
    }

    /// <summary>A schedule that only computes the rate, from <paramref name="baseLearningRate"/>.</summary>
    public LearningRateSchedule Create(double baseLearningRate) => new(this, baseLearningRate, null);

    /// <summary>
    /// Reads a schedule from its name and <c>option=value</c> settings, e.g. <c>cosine</c> with
    /// <c>epochs=50, min_lr=1e-5, warmup_steps=500</c>. For <c>warmup</c>, <c>steps</c>, <c>epochs</c> and
    /// <c>start</c> mean warmup_steps, warmup_epochs and warmup_start.
    /// </summary>
    public static ScheduleSpec Parse(string name, IReadOnlyDictionary<string, string>? options)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalised = Normalise(name) switch
        {
            "none" => Constant,
            "reduce_on_plateau" or "reducelronplateau" => Plateau,
            "cos" or "cosine_annealing" => Cosine,
            var other => other,
        };
        if (!Names.Contains(normalised))
            throw new ArgumentException($"unknown schedule '{name}': expected one of {string.Join(", ", Names)}");
        string[] own = normalised switch
        {
            Step => ["every", "gamma"],
            Exponential => ["gamma"],
            Cosine => ["epochs", "min_lr"],
            Plateau => ["factor", "patience", "min_delta", "cooldown", "min_lr", "mode"],
            _ => [],
        };
        string[] valid = normalised == Warmup ? ["steps", "epochs", "start"] : [.. own, "warmup_steps", "warmup_epochs", "warmup_start"];
        var read = SpecOptions.Read(normalised, options, valid, Aliases);
        var mode = read.Text("mode") switch
        {
            null => (PlateauMode?)null,
            var text when text.Equals("min", StringComparison.OrdinalIgnoreCase) => PlateauMode.Min,
            var text when text.Equals("max", StringComparison.OrdinalIgnoreCase) => PlateauMode.Max,
            var text => throw new ArgumentException($"option 'mode' of plateau: '{text}' is not min or max"),
        };
        var warmup = normalised == Warmup;
        var spec = new ScheduleSpec(normalised)
        {
            Every = read.Int("every"),
            Gamma = read.Double("gamma"),
            Epochs = warmup ? null : read.Int("epochs"),
            MinLearningRate = read.Double("min_lr"),
            Factor = read.Double("factor"),
            Patience = read.Int("patience"),
            MinDelta = read.Double("min_delta"),
            Cooldown = read.Int("cooldown"),
            Mode = mode,
            WarmupSteps = read.Int(warmup ? "steps" : "warmup_steps"),
            WarmupEpochs = read.Int(warmup ? "epochs" : "warmup_epochs"),
            WarmupStartFactor = read.Double(warmup ? "start" : "warmup_start"),
        };
        spec.Validate();
        return spec;
    }

    /// <summary>Reads <c>cosine(epochs=50, warmup_steps=500)</c> or a bare name; see <see cref="Parse(string, IReadOnlyDictionary{string, string})"/>.</summary>
    public static ScheduleSpec Parse(string text)
    {
        var (name, options) = SplitCall(text, "a schedule");
        return Parse(name, options);
    }

    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["step_size"] = "every",
        ["t_max"] = "epochs",
        ["eta_min"] = "min_lr",
        ["warmup_start_factor"] = "warmup_start",
        ["start_factor"] = "start",
    };

    private void OnlyFor(string option, bool given, params string[] kinds)
    {
        if (given && !kinds.Contains(Name))
            throw new ArgumentException($"{option} does not apply to the {Name} schedule (only to {string.Join(" and ", kinds)})");
    }

    private static void PositiveNumber(string what, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentException($"{what} must be a positive number, but it is {Show(value)}");
    }

    private static void NonNegativeNumber(string what, double value)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentException($"{what} must be a finite number >= 0, but it is {Show(value)}");
    }
}
