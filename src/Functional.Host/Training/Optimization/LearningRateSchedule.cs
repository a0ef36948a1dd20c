using Functional.Lang.Checking;

namespace Functional.Training.Optimization;

/// <summary>
/// A running <see cref="Schedule"/>: the training loop calls <see cref="OnBatchEnd"/> after every optimizer
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
    private readonly ScheduleRule _rule;
    private double? _plateauRate;
    private double? _best;
    private int _badEpochs;
    private int _cooldownLeft;

    internal LearningRateSchedule(Schedule spec, double baseLearningRate, TrainingOptimizer? optimizer)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var rate = TrainSettings.checkRate("the learning rate", baseLearningRate);
        if (rate.IsError) throw new ArgumentException(rate.ErrorValue);
        var fits = TrainSettings.fitsRate(baseLearningRate, spec.Settings);
        if (fits.IsError) throw new ArgumentException(fits.ErrorValue.Head.Message);
        Spec = spec;
        BaseLearningRate = baseLearningRate;
        _optimizer = optimizer;
        _rule = spec.Settings.Rule;
        if (_rule.IsPlateau) _plateauRate = baseLearningRate;
        Update();
    }

    /// <summary>The schedule it runs.</summary>
    public Schedule Spec { get; }

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
        var plateau = _rule.IsPlateau && Epochs >= WarmupEpochs;
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
        if (_rule.IsPlateau != (state.PlateauLearningRate is not null))
            throw new ArgumentException($"the state is not one of a {Spec.Name} schedule ({state})", nameof(state));
        // Only reduce-on-plateau keeps a best value and counters: any other schedule's must be empty.
        if (!_rule.IsPlateau && (state.Best is not null || state.BadEpochs != 0 || state.CooldownLeft != 0))
            throw new ArgumentException($"the state holds reduce-on-plateau's best value or counters, but the schedule is {Spec.Name} ({state})", nameof(state));
        Epochs = state.Epochs;
        Steps = state.Steps;
        _plateauRate = state.PlateauLearningRate;
        _best = state.Best;
        _badEpochs = state.BadEpochs;
        _cooldownLeft = state.CooldownLeft;
        Update();
    }

    /// <summary>Epochs of a warm-up counted in epochs; 0 without one.</summary>
    private int WarmupEpochs =>
        Spec.Settings.Warmup?.Value is { Length: WarmupLength.WarmupEpochs { Epochs: var epochs } } ? epochs : 0;

    /// <summary>PyTorch's ReduceLROnPlateau step, with an absolute threshold (minDelta).</summary>
    private void Observe(double value)
    {
        var p = ((ScheduleRule.Plateau)_rule).Item;
        var minimise = p.Mode.IsMin;
        var best = _best ?? (minimise ? double.PositiveInfinity : double.NegativeInfinity);
        var better = minimise ? value < best - p.MinDelta : value > best + p.MinDelta;
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
        if (_badEpochs > p.Patience)
        {
            var old = _plateauRate!.Value;
            var reduced = Math.Max(old * p.Factor, p.MinLr);
            if (reduced < old) _plateauRate = reduced;
            _cooldownLeft = p.Cooldown;
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
        mainEpochs = Epochs;
        if (Spec.Settings.Warmup?.Value is not { } warmup) return 1;
        var start = warmup.Start;
        switch (warmup.Length)
        {
            case WarmupLength.WarmupEpochs { Epochs: var epochs }:
                if (Epochs < epochs)
                {
                    mainEpochs = 0;
                    return start + (1 - start) * Epochs / epochs;
                }
                mainEpochs = Epochs - epochs;
                return 1;
            case WarmupLength.WarmupSteps { Steps: var steps } when Steps < steps:
                return start + (1 - start) * Steps / steps;
            default:
                return 1;
        }
    }

    private double MainRate(int e)
    {
        var lr0 = BaseLearningRate;
        return _rule switch
        {
            ScheduleRule.StepDecay s => lr0 * Math.Pow(s.Gamma, e / s.Every),
            ScheduleRule.Exponential x => lr0 * Math.Pow(x.Gamma, e),
            ScheduleRule.Cosine c => c.MinLr + (lr0 - c.MinLr) * (1 + Math.Cos(Math.PI * Math.Min(e, c.Epochs) / c.Epochs)) / 2,
            ScheduleRule.Plateau => _plateauRate!.Value,
            _ => lr0,
        };
    }
}
