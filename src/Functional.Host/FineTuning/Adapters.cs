using Functional.Lang.Checking;
using Functional.Lang.Compilation;

namespace Functional.FineTuning;

/// <summary>LoRA options resolved against a checked model: its target patterns become the projections they match.</summary>
internal static class Adapters
{
    /// <summary>The language's adapter settings for <paramref name="options"/> on <paramref name="model"/>; null for none.</summary>
    /// <exception cref="ArgumentException">a target that matches no projection, named by <see cref="LoraOptions.Targets"/></exception>
    /// <exception cref="ArgumentOutOfRangeException">a setting out of range</exception>
    public static Lora.Settings? Resolve(Model model, LoraOptions? options)
    {
        if (options is null) return null;
        options.Validate();
        var projections = Compiler.projections(model).ToList();
        var byWeight = projections.ToDictionary(Lora.weightOf, p => p);
        var weights = projections.Select(Lora.weightOf).ToList();
        var chosen = new HashSet<string>();
        foreach (var pattern in options.Targets)
            foreach (var weight in ParameterPatterns.Select(pattern, weights, PathPatterns.projectionWhat, model.Name, nameof(LoraOptions.Targets)))
                chosen.Add(byWeight[weight]);
        return new Lora.Settings(options.Rank, options.Alpha, options.Dropout,
            Microsoft.FSharp.Collections.ListModule.OfSeq(projections.Where(chosen.Contains)));
    }

    /// <summary>The options that give <paramref name="settings"/> back (their targets: the projections' weights, exactly).</summary>
    public static LoraOptions Options(Lora.Settings settings) => new()
    {
        Rank = settings.Rank,
        Alpha = settings.Alpha,
        Dropout = settings.Dropout,
        Targets = settings.Projections.Select(Lora.weightOf).ToList(),
    };
}
