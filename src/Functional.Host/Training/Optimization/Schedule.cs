using Functional.Lang;
using Functional.Lang.Checking;
using Functional.Networks;
using static Functional.Training.Optimization.SettingChecks;

namespace Functional.Training.Optimization;

/// <summary>
/// How the learning rate changes during training, checked by the language's rules: the same as a train
/// block's <c>schedule = cosine (epochs = 20, warmupEpochs = 1)</c>, with the same option names
/// (<c>Schedule.Cosine(epochs: 20, warmupEpochs: 1)</c>). With <c>e</c> the epochs the main schedule has
/// completed and <c>lr0</c> the optimizer's rate:
/// <list type="bullet">
/// <item><see cref="Constant"/>: <c>lr0</c>.</item>
/// <item><see cref="StepDecay"/>: <c>lr0 * gamma^floor(e / every)</c> (PyTorch's StepLR).</item>
/// <item><see cref="Exponential"/>: <c>lr0 * gamma^e</c> (ExponentialLR).</item>
/// <item><see cref="Cosine"/>: <c>minLr + (lr0 - minLr) * (1 + cos(π e / epochs)) / 2</c>, then <c>minLr</c> once
/// <c>e ≥ epochs</c> (CosineAnnealingLR, which instead would climb back up).</item>
/// <item><see cref="Plateau"/>: reduce-on-plateau, driven by the value passed to
/// <see cref="LearningRateSchedule.OnEpochEnd"/>, as PyTorch's ReduceLROnPlateau with an absolute threshold:
/// an epoch improves when its value beats the best by more than <c>minDelta</c>; once more than
/// <c>patience</c> epochs in a row have not, the rate is multiplied by <c>factor</c> (not below
/// <c>minLr</c>) and the next <c>cooldown</c> epochs count no bad epochs.</item>
/// <item><see cref="Warmup"/>: constant, after a warm-up (which every schedule can have).</item>
/// </list>
/// Warm-up: a factor rising linearly from <c>warmupStart</c> (default 0.1) to 1.
/// <list type="bullet">
/// <item>In epochs (<c>warmupEpochs = W</c>): it runs first, <c>start + (1 - start) * k / W</c> in epoch
/// <c>k + 1</c>, and the main schedule starts after it, counting its epochs from 0 (PyTorch's SequentialLR
/// of LinearLR then the main one). A plateau schedule ignores the values of warm-up epochs.</item>
/// <item>In steps (<c>warmupSteps = S</c>): the factor <c>start + (1 - start) * min(s, S) / S</c>, with
/// <c>s</c> the batches completed, multiplies the main schedule, which counts epochs from the start of
/// training (a warm-up of a few hundred batches rarely fills whole epochs; PyTorch's ChainedLR).</item>
/// </list>
/// </summary>
public sealed class Schedule : IEquatable<Schedule>
{
    internal Schedule(ScheduleSettings settings) => Settings = settings;

    /// <summary>The checked settings, every one given or defaulted.</summary>
    internal ScheduleSettings Settings { get; }

    /// <summary>A constant learning rate: no schedule.</summary>
    public static Schedule Constant { get; } = new(TrainSettings.constant);

    /// <summary>The language's name for it: constant, stepDecay, exponential, cosine, plateau or warmup.</summary>
    public string Name => TrainSettings.scheduleName(Settings);

    /// <summary>The rate multiplied by <paramref name="gamma"/> every <paramref name="every"/> epochs.</summary>
    /// <param name="every">Epochs between decays, positive.</param>
    /// <param name="gamma">The factor of a decay, in (0, 1] (default 0.1).</param>
    /// <param name="warmupSteps">A linear warm-up over this many batches first (default none).</param>
    /// <param name="warmupEpochs">A linear warm-up over this many epochs first (default none; not with <paramref name="warmupSteps"/>).</param>
    /// <param name="warmupStart">The warm-up's first factor, in [0, 1] (default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Schedule StepDecay(int every, double? gamma = null, int? warmupSteps = null, int? warmupEpochs = null, double? warmupStart = null) =>
        Make("stepDecay", [Integer("every", every), Real("gamma", gamma), .. Warmups(warmupSteps, warmupEpochs, warmupStart)]);

    /// <summary>The rate multiplied by <paramref name="gamma"/> every epoch.</summary>
    /// <param name="gamma">The factor per epoch, in (0, 1].</param>
    /// <param name="warmupSteps">A linear warm-up over this many batches first (default none).</param>
    /// <param name="warmupEpochs">A linear warm-up over this many epochs first (default none; not with <paramref name="warmupSteps"/>).</param>
    /// <param name="warmupStart">The warm-up's first factor, in [0, 1] (default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Schedule Exponential(double gamma, int? warmupSteps = null, int? warmupEpochs = null, double? warmupStart = null) =>
        Make("exponential", [Real("gamma", gamma), .. Warmups(warmupSteps, warmupEpochs, warmupStart)]);

    /// <summary>Half a cosine from the rate down to <paramref name="minLr"/> over <paramref name="epochs"/>, then <paramref name="minLr"/>.</summary>
    /// <param name="epochs">Its length in epochs, positive.</param>
    /// <param name="minLr">The rate it ends at, 0 or more and not above the optimizer's rate (default 0).</param>
    /// <param name="warmupSteps">A linear warm-up over this many batches first (default none).</param>
    /// <param name="warmupEpochs">A linear warm-up over this many epochs first (default none; not with <paramref name="warmupSteps"/>).</param>
    /// <param name="warmupStart">The warm-up's first factor, in [0, 1] (default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Schedule Cosine(int epochs, double? minLr = null, int? warmupSteps = null, int? warmupEpochs = null, double? warmupStart = null) =>
        Make("cosine", [Integer("epochs", epochs), Real("minLr", minLr), .. Warmups(warmupSteps, warmupEpochs, warmupStart)]);

    /// <summary>The rate multiplied by <paramref name="factor"/> when the monitored value stops improving.</summary>
    /// <param name="factor">The factor of a reduction, in (0, 1) (default 0.1).</param>
    /// <param name="patience">Epochs without improvement tolerated before a reduction, 0 or more (default 10).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement, 0 or more (default 0).</param>
    /// <param name="cooldown">Epochs after a reduction during which bad epochs are not counted, 0 or more (default 0).</param>
    /// <param name="minLr">The floor of the reductions, 0 or more (default 0).</param>
    /// <param name="mode">Whether lower (<see cref="PlateauMode.Min"/>, the default) or higher values are better.</param>
    /// <param name="warmupSteps">A linear warm-up over this many batches first (default none).</param>
    /// <param name="warmupEpochs">A linear warm-up over this many epochs first (default none; not with <paramref name="warmupSteps"/>).</param>
    /// <param name="warmupStart">The warm-up's first factor, in [0, 1] (default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Schedule Plateau(double? factor = null, int? patience = null, double? minDelta = null, int? cooldown = null,
        double? minLr = null, PlateauMode? mode = null, int? warmupSteps = null, int? warmupEpochs = null, double? warmupStart = null) =>
        Make("plateau",
        [
            Real("factor", factor), Integer("patience", patience), Real("minDelta", minDelta), Integer("cooldown", cooldown),
            Real("minLr", minLr), SettingChecks.Text("mode", mode switch { null => null, PlateauMode.Max => "max", _ => "min" }),
            .. Warmups(warmupSteps, warmupEpochs, warmupStart),
        ]);

    /// <summary>A constant rate after a linear warm-up over <paramref name="steps"/> batches or <paramref name="epochs"/> epochs (one of them).</summary>
    /// <param name="steps">The warm-up's length in batches, positive.</param>
    /// <param name="epochs">The warm-up's length in epochs, positive.</param>
    /// <param name="start">The warm-up's first factor, in [0, 1] (default 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    /// <exception cref="ArgumentException">neither a number of steps nor of epochs is given</exception>
    public static Schedule Warmup(int? steps = null, int? epochs = null, double? start = null) =>
        Make("warmup", [Integer("steps", steps), Integer("epochs", epochs), Real("start", start)]);

    /// <summary>
    /// Reads a schedule written in the language, as a train block's <c>schedule</c> setting is
    /// (<c>cosine(epochs=20, warmupEpochs=1)</c>).
    /// </summary>
    /// <param name="text">The schedule.</param>
    /// <param name="origin">What the diagnostics call the text, as they call a file (<c>--schedule:1:8: error: ...</c>).</param>
    /// <exception cref="FnnCompileException">the text is not a schedule, or a setting is out of its range</exception>
    public static Schedule Parse(string text, string origin = "schedule")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(origin);
        var result = Language.checkSchedule(origin, text);
        if (result.IsError)
            throw new FnnCompileException(Language.render(origin, text, result.ErrorValue), result.ErrorValue.ToList());
        return new Schedule(result.ResultValue);
    }

    /// <summary>A running schedule that sets <paramref name="optimizer"/>'s learning rate, starting from its rate.</summary>
    /// <exception cref="ArgumentException">the schedule does not suit the optimizer's rate (a cosine's minLr above it)</exception>
    public LearningRateSchedule Create(TrainingOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        return new LearningRateSchedule(this, optimizer.Spec.LearningRate, optimizer);
    }

    /// <summary>A running schedule that only computes the rate, from <paramref name="baseLearningRate"/>.</summary>
    /// <exception cref="ArgumentException">the rate is not positive, or the schedule does not suit it</exception>
    public LearningRateSchedule Create(double baseLearningRate) => new(this, baseLearningRate, null);

    /// <summary>The schedule as the language writes it, every setting spelled out: <c>cosine (epochs = 20, minLr = 0)</c>.</summary>
    public override string ToString() => TrainSettings.describeSchedule(Settings);

    /// <summary>Whether the two have the same settings (defaults included).</summary>
    public bool Equals(Schedule? other) => other is not null && Settings.Equals(other.Settings);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Schedule other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Settings.GetHashCode();

    private static Schedule Make(string name, IEnumerable<(string, SettingValue?)> options) =>
        new(Unwrap(TrainSettings.schedule(name, Given(options))));

    private static IEnumerable<(string, SettingValue?)> Warmups(int? steps, int? epochs, double? start) =>
        [Integer("warmupSteps", steps), Integer("warmupEpochs", epochs), Real("warmupStart", start)];
}
