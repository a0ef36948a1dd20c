using Functional.Bench.Harness;
using static TorchSharp.torch;

namespace Functional.Bench.Suites;

/// <summary>One product size: n×n times n×n in float32, and the FLOP/s libtorch reached (median run).</summary>
public sealed record MatmulResult(int Size, double MedianMs, double Gflops);

/// <summary>
/// The machine's ceiling for dense float32 work: libtorch's own matrix product on square matrices of a
/// few sizes, the best of which is the ceiling the MLP's training step is compared with.
/// </summary>
public static class MatmulCeiling
{
    public static IReadOnlyList<MatmulResult> Run(int warmup, int runs)
    {
        var results = new List<MatmulResult>();
        foreach (var n in new[] { 256, 512, 1024, 2048 })
        {
            using var a = rand(n, n);
            using var b = rand(n, n);
            var sample = Timing.Measure(() =>
            {
                using var scope = NewDisposeScope();
                mm(a, b);
            }, warmup, runs);
            results.Add(new MatmulResult(n, sample.Median, 2.0 * n * n * n / sample.Median / 1e6));
        }
        return results;
    }
}
