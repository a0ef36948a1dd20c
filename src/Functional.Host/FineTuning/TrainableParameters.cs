using Functional.Lang.Compilation;
using TorchSharp.Modules;

namespace Functional.FineTuning;

/// <summary>
/// Which of a network's parameters a run trains, epoch by epoch: everything but the frozen ones (until the unfreeze
/// epoch), or, when the network carries LoRA adapters, the adapters and the parts named to train besides them. A
/// frozen parameter takes no gradient (<c>requires_grad</c> off), so it gets no optimizer state, no weight decay and
/// no change at all. The optimizer is built over every parameter that trains in some epoch of the run, by path.
/// </summary>
internal sealed class TrainableParameters
{
    private readonly IReadOnlyList<(string Path, Parameter Parameter)> all;
    private readonly HashSet<string> frozen;
    private readonly int? unfreezeAt;

    private TrainableParameters(IReadOnlyList<(string, Parameter)> all, IReadOnlyList<KeyValuePair<string, Parameter>> optimized,
        HashSet<string> frozen, int? unfreezeAt, IReadOnlyDictionary<string, double> rates)
    {
        this.all = all;
        Optimized = optimized;
        this.frozen = frozen;
        this.unfreezeAt = unfreezeAt;
        Rates = rates;
    }

    /// <summary>What the optimizer updates: every parameter that trains in some epoch, by path, in the store's order.</summary>
    public IReadOnlyList<KeyValuePair<string, Parameter>> Optimized { get; }

    /// <summary>The parameters with a learning rate of their own, by path.</summary>
    public IReadOnlyDictionary<string, double> Rates { get; }

    /// <summary>The frozen parameters' paths (until the unfreeze epoch, if any).</summary>
    public IReadOnlyCollection<string> Frozen => frozen;

    /// <summary>
    /// Resolves <paramref name="options"/> against <paramref name="module"/>'s parameters for a run of
    /// <paramref name="epochs"/> epochs.
    /// </summary>
    /// <exception cref="ArgumentException">a pattern that matches nothing (named by its option), an option that does not
    /// apply, or a run that would train no parameter</exception>
    public static TrainableParameters Resolve(CompiledModel module, FineTuningOptions? options, int epochs)
    {
        options ??= FineTuningOptions.None;
        var model = module.Model.Name;
        var all = module.Store.Parameters.Select(p => (p.Item1, p.Item2)).ToList();
        var paths = all.Select(p => p.Item1).ToList();
        var adapters = paths.Where(Lora.isAdapter).ToHashSet();
        var basePaths = paths.Where(p => !adapters.Contains(p)).ToList();
        var frozen = new HashSet<string>();
        if (module.Lora is not null)
        {
            if (options.Freeze.Count > 0)
                throw new ArgumentException($"{model} carries LoRA adapters, which freeze its whole base: name the base parameters that train besides them in Train, not Freeze",
                    nameof(FineTuningOptions.Freeze));
            if (options.UnfreezeAtEpoch is not null)
                throw new ArgumentException($"{model} carries LoRA adapters: its base stays frozen (merge the adapters, then fine-tune the merged network to train it all)",
                    nameof(FineTuningOptions.UnfreezeAtEpoch));
            var trained = options.Train.SelectMany(p => ParameterPatterns.Select(p, basePaths, "parameter", model, nameof(FineTuningOptions.Train))).ToHashSet();
            frozen.UnionWith(basePaths.Where(p => !trained.Contains(p)));
        }
        else
        {
            if (options.Train.Count > 0)
                throw new ArgumentException($"Train names the parts that train besides LoRA adapters, but {model} carries none: freeze the others with Freeze",
                    nameof(FineTuningOptions.Train));
            foreach (var pattern in options.Freeze)
                frozen.UnionWith(ParameterPatterns.Select(pattern, paths, "parameter", model, nameof(FineTuningOptions.Freeze)));
            if (options.UnfreezeAtEpoch is { } at)
            {
                if (options.Freeze.Count == 0)
                    throw new ArgumentException("UnfreezeAtEpoch needs frozen parameters (Freeze)", nameof(FineTuningOptions.UnfreezeAtEpoch));
                if (at < 2 || at > epochs)
                    throw new ArgumentOutOfRangeException(nameof(FineTuningOptions.UnfreezeAtEpoch), at,
                        $"the unfreeze epoch must be from 2 to the run's {epochs} epochs (at 1 nothing would be frozen)");
            }
        }
        var unfreezeAt = module.Lora is null ? options.UnfreezeAtEpoch : null;
        var optimized = all.Where(p => unfreezeAt is not null || !frozen.Contains(p.Item1))
            .Select(p => KeyValuePair.Create(p.Item1, p.Item2)).ToList();
        if (optimized.Count == 0)
            throw new ArgumentException($"this run would train no parameter of {model}: every one is frozen (unfreeze some, or add adapters)",
                nameof(FineTuningOptions.Freeze));
        var trainable = optimized.Select(p => p.Key).ToList();
        var rates = new Dictionary<string, double>();
        foreach (var rule in options.LearningRates)
        {
            ArgumentNullException.ThrowIfNull(rule);
            if (!(rule.Rate > 0) || double.IsInfinity(rule.Rate))
                throw new ArgumentOutOfRangeException(nameof(FineTuningOptions.LearningRates), rule.Rate,
                    $"the learning rate for '{Excerpt.@short(rule.Pattern)}' must be a positive finite number");
            foreach (var path in ParameterPatterns.Select(rule.Pattern, trainable, "trained parameter", model, nameof(FineTuningOptions.LearningRates)))
                rates[path] = rule.Rate;
        }
        return new TrainableParameters(all, optimized, frozen, unfreezeAt, rates);
    }

    /// <summary>Turns gradients on for what trains in <paramref name="epoch"/> and off for what is frozen in it.</summary>
    public void Apply(int epoch)
    {
        var thawed = unfreezeAt is { } at && epoch >= at;
        foreach (var (path, parameter) in all)
            parameter.requires_grad = thawed || !frozen.Contains(path);
    }

    /// <summary>Every parameter takes gradients again (the network's state outside a run).</summary>
    public void Restore()
    {
        foreach (var (_, parameter) in all) parameter.requires_grad = true;
    }
}
