using Functional.Bench.Suites;

namespace Functional.Bench.Reports;

/// <summary>Where and how the benchmark ran.</summary>
public sealed record Environment(string Date, string Mode, string Cpu, int Cores, int TorchThreads, string TorchSharp,
    string Runtime, string Configuration);

/// <summary>Everything one run measured.</summary>
public sealed record BenchResults(
    Environment Environment,
    IReadOnlyList<Comparison> Comparisons,
    IReadOnlyDictionary<string, double> Verification,
    EpochResult Epochs,
    IReadOnlyList<MatmulResult> Matmul,
    CompileResult Compile,
    StartupResult Startup,
    IReadOnlyList<MemoryResult> Memory,
    GenerationResult Generation)
{
    public double CeilingGflops => Matmul.Max(m => m.Gflops);
}
