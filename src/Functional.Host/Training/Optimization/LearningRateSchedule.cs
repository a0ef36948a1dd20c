namespace Functional.Training.Optimization;

/// <summary>
/// A running <see cref="ScheduleSpec"/>: the training loop calls <see cref="OnBatchEnd"/> after every optimizer
/// step and <see cref="OnEpochEnd"/> after every epoch, and the rate for what follows is
/// <see cref="CurrentLearningRate"/>, which it also sets on the optimizer it was made for.
/// </summary>
/// <remarks>
/// The rate is computed in closed form from counters rather than by TorchSharp's schedulers, which update
/// the optimizer's rate multiplicatively step by step, count only one kind of step (batches or epochs), and
/// have no state to save: here the state is a few numbers (<see cref="GetState"/>), a restored schedule is
/// exactly where it was, and every rate can be checked against its formula.
/// </remarks>
public sealed class LearningRateSchedule
{
    private readonly TrainingOptimizer? _optimizer;
    private double? _plateauRate;
    private double? _best;
    private int _badEpochs;
    private int _cooldownLeft;

    internal LearningRateSchedule(ScheduleSpec spec, double baseLearningRate, TrainingOptimizer? optimizer)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (!(baseLearningRate > 0) || double.IsInfinity(baseLearningRate))
            throw new ArgumentException($"the learning rate must be positive, but it is {SpecOptions.Show(baseLearningRate)}");
        if (spec.Name == ScheduleSpec.Cosine && spec.EffectiveMinLearningRate > baseLearningRate)
            throw new ArgumentException(
                $"the cosine schedule's min_lr ({SpecOptions.Show(spec.EffectiveMinLearningRate)}) is above the learning rate ({SpecOptions.Show(baseLearningRate)})");
        Spec = spec;
        BaseLearningRate = baseLearningRate;
        _optimizer = optimizer;
        if (spec.Name == ScheduleSpec.Plateau) _plateauRate = baseLearningRate;
        Update();
    }

    public ScheduleSpec Spec { get; }

    /// <summary>The rate the schedule scales (the optimizer's rate when it was made).</summary>
    public double BaseLearningRate { get; }

    /// <summary>Epochs completed.</summary>
    public int Epochs { get; private set; }

    /// <summary>Batches (optimizer steps) completed.</summary>
    public long Steps { get; private set; }

    /// <summary>The rate for the next step.</summary>
    public double CurrentLearningRate { get; private set; }

    /// <summary>After each optimizer step: advances a warm-up counted in steps.</summary>
    public void OnBatchEnd()
    {
        Steps++;
        Update();
    }

    /// <summary>
    /// After each epoch. <paramref name="monitoredValue"/> (e.g. the validation loss) drives a plateau
    /// schedule, which requires it after every epoch past its warm-up; other schedules ignore it.
    /// </summary>
    public void OnEpochEnd(double? monitoredValue = null)
    {
        var plateau = Spec.Name == ScheduleSpec.Plateau && Epochs >= Spec.EffectiveWarmupEpochs;
        if (plateau && monitoredValue is null)
            throw new InvalidOperationException(
                "the plateau schedule needs the monitored value (e.g. the validation loss) at the end of every epoch");
        Epochs++;
        if (plateau) Observe(monitoredValue!.Value);
        Update();
    }

    /// <summary>The counters and plateau state, for a checkpoint.</summary>
    public ScheduleState GetState() => new(Epochs, Steps, _plateauRate, _best, _badEpochs, _cooldownLeft);

    /// <summary>Continues from a state that <see cref="GetState"/> returned (for the same spec), and sets the rate.</summary>
    public void SetState(ScheduleState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Epochs < 0 || state.Steps < 0 || state.BadEpochs < 0 || state.CooldownLeft < 0)
            throw new ArgumentException($"not a schedule state: counters must not be negative ({state})", nameof(state));
        if ((Spec.Name == ScheduleSpec.Plateau) != (state.PlateauLearningRate is not null))
            throw new ArgumentException($"the state is not one of a {Spec.Name} schedule ({state})", nameof(state));
        Epochs = state.Epochs;
        Steps = state.Steps;
        _plateauRate = state.PlateauLearningRate;
        _best = state.Best;
        _badEpochs = state.BadEpochs;
        _cooldownLeft = state.CooldownLeft;
        Update();
    }

    /// <summary>PyTorch's ReduceLROnPlateau step, with an absolute threshold (min_delta).</summary>
    private void Observe(double value)
    {
        var minimise = Spec.EffectiveMode == PlateauMode.Min;
        var best = _best ?? (minimise ? double.PositiveInfinity : double.NegativeInfinity);
        var better = minimise ? value < best - Spec.EffectiveMinDelta : value > best + Spec.EffectiveMinDelta;
        if (better)
        {
            _best = value;
            _badEpochs = 0;
        }
        else
        {
            _badEpochs++;
        }
        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _badEpochs = 0;
        }
        if (_badEpochs > Spec.EffectivePatience)
        {
            var old = _plateauRate!.Value;
            var reduced = Math.Max(old * Spec.EffectiveFactor, Spec.EffectiveMinLearningRate);
            if (reduced < old) _plateauRate = reduced;
            _cooldownLeft = Spec.EffectiveCooldown;
            _badEpochs = 0;
        }
    }

    private void Update()
    {
        CurrentLearningRate = WarmupFactor(out var mainEpochs) * MainRate(mainEpochs);
        if (_optimizer is not null) _optimizer.LearningRate = CurrentLearningRate;
    }

    private double WarmupFactor(out int mainEpochs)
    {
        var start = Spec.EffectiveWarmupStartFactor;
        mainEpochs = Epochs;
        if (Spec.EffectiveWarmupEpochs is var epochs and > 0)
        {
            if (Epochs < epochs)
            {
                mainEpochs = 0;
                return start + (1 - start) * Epochs / epochs;
            }
            mainEpochs = Epochs - epochs;
            return 1;
        }
        if (Spec.EffectiveWarmupSteps is var steps and > 0 && Steps < steps)
            return start + (1 - start) * Steps / steps;
        return 1;
    }

    private double MainRate(int e)
    {
        var lr0 = BaseLearningRate;
        switch (Spec.Name)
        {
            case ScheduleSpec.Step:
                return lr0 * Math.Pow(Spec.EffectiveGamma, e / Spec.Every!.Value);
            case ScheduleSpec.Exponential:
                return lr0 * Math.Pow(Spec.Gamma!.Value, e);
            case ScheduleSpec.Cosine:
                var length = Spec.Epochs!.Value;
                var min = Spec.EffectiveMinLearningRate;
                return min + (lr0 - min) * (1 + Math.Cos(Math.PI * Math.Min(e, length) / length)) / 2;
            case ScheduleSpec.Plateau:
                return _plateauRate!.Value;
            default:
                return lr0;
        }
    }
}
