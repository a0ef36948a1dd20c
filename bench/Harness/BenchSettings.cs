namespace Functional.Bench.Harness;

/// <summary>
/// How many warm-up and timed runs each measurement gets: a full run; a quick one (well under two
/// minutes: its memory run has a sixth of the full run's examples, and as many epochs); or a smoke run, for the test suite, which runs every part once or twice (its numbers mean nothing).
/// </summary>
public sealed record BenchSettings(string Mode, int Warmup, int MlpRuns, int CnnRuns, int GptRuns, int CeilingRuns,
    int EpochExamples, int EpochRuns, int CompileRuns, int StartupRuns, int MemoryExamples, int MemoryEpochs, int GenerationRuns)
{
    public static BenchSettings Full { get; } = new("full", Warmup: 5, MlpRuns: 1000, CnnRuns: 200, GptRuns: 100, CeilingRuns: 30,
        EpochExamples: 60_000, EpochRuns: 12, CompileRuns: 50, StartupRuns: 10, MemoryExamples: 60_000, MemoryEpochs: 10, GenerationRuns: 40);

    public static BenchSettings Quick { get; } = new("quick", Warmup: 3, MlpRuns: 150, CnnRuns: 40, GptRuns: 20, CeilingRuns: 10,
        EpochExamples: 10_000, EpochRuns: 20, CompileRuns: 15, StartupRuns: 3, MemoryExamples: 10_000, MemoryEpochs: 10, GenerationRuns: 10);

    public static BenchSettings Smoke { get; } = new("smoke", Warmup: 1, MlpRuns: 3, CnnRuns: 3, GptRuns: 3, CeilingRuns: 2,
        EpochExamples: 1024, EpochRuns: 2, CompileRuns: 2, StartupRuns: 2, MemoryExamples: 1024, MemoryEpochs: 3, GenerationRuns: 2);
}
