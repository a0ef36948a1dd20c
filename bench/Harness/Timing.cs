using System.Diagnostics;

namespace Functional.Bench.Harness;

/// <summary>
/// How timings are taken: warm-up runs first (the allocator, the engine's kernels and the JIT settle),
/// then one timed run at a time. Two actions compared with each other alternate, and which runs first
/// swaps every round, so that drift in the machine (frequency, other processes) falls on both alike.
/// </summary>
public static class Timing
{
    /// <summary>Runs <paramref name="action"/> once and returns the milliseconds it took.</summary>
    public static double Once(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    public static Sample Measure(Action action, int warmup, int runs)
    {
        for (var i = 0; i < warmup; i++) action();
        var timings = new double[runs];
        for (var i = 0; i < runs; i++) timings[i] = Once(action);
        return new Sample(timings);
    }

    /// <summary>Measures two actions in one interleaved sequence: A B, B A, A B, ...</summary>
    public static (Sample A, Sample B) Alternate(Action a, Action b, int warmup, int runs)
    {
        for (var i = 0; i < warmup; i++)
        {
            a();
            b();
        }
        var first = new double[runs];
        var second = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            if (i % 2 == 0)
            {
                first[i] = Once(a);
                second[i] = Once(b);
            }
            else
            {
                second[i] = Once(b);
                first[i] = Once(a);
            }
        }
        return (new Sample(first), new Sample(second));
    }
}
