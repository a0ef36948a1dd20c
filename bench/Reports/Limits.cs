namespace Functional.Bench.Reports;

/// <summary>What the suite promises (the benchmark issue's "must show"), and which of it a run missed.</summary>
public static class Limits
{
    /// <summary>Compiled / hand-written median time of a training step, of an inference batch and of a generation, at most.</summary>
    public const double Ratio = 1.05;

    /// <summary>The MLP training step's FLOP/s as a fraction of the matmul ceiling, at least.</summary>
    public const double CeilingFraction = 0.55;

    /// <summary>Source to network for the generated 100-layer model, below (milliseconds).</summary>
    public const double CompileMs = 200;

    /// <summary>
    /// The compiled side's resident memory growth over the second half of the full run's memory run (60,000
    /// examples, 10 epochs), below (a fraction). Not applied to the quick and smoke runs: their smaller data
    /// makes the same megabytes a larger fraction.
    /// </summary>
    public const double MemoryGrowth = 0.02;

    /// <summary>The compiled GPT's generation without the cache / with it (median times), at least.</summary>
    public const double CacheSpeedup = 3;

    /// <summary>One line per limit the run did not meet; empty when it met them all.</summary>
    public static IReadOnlyList<string> Missed(BenchResults r)
    {
        var missed = new List<string>();
        foreach (var c in r.Comparisons.Where(c => c.Ratio > Ratio))
            missed.Add($"{c.Network} {c.Phase}: compiled / hand-written is {c.Ratio:0.000}, above {Ratio}");
        if (r.Comparisons.FirstOrDefault(c => c.FractionOfCeiling is not null) is { FractionOfCeiling: { } fraction } mlp && fraction < CeilingFraction)
            missed.Add($"{mlp.Network} train: {fraction:P1} of the matmul ceiling, below {CeilingFraction:P0}");
        if (r.Compile.TotalMs >= CompileMs)
            missed.Add($"compiling the {r.Compile.Layers}-layer model took {r.Compile.TotalMs:0.0} ms, not below {CompileMs} ms");
        foreach (var m in r.Memory.Where(m => r.Environment.Mode == "full" && m.Side == "compiled" && !(m.Growth < MemoryGrowth)))
            missed.Add($"memory: the compiled side grew by {m.Growth:+0.0%;-0.0%} from epoch {m.HalfwayEpoch} to {m.Epochs}, not below {MemoryGrowth:P0}");
        if (r.Generation.Cached.CompiledCacheSpeedup is { } speedup && !(speedup >= CacheSpeedup))
            missed.Add($"gpt generation: the cache makes the compiled side {speedup:0.00} times faster, below {CacheSpeedup}");
        return missed;
    }
}
