using System.Globalization;
using System.Text;
using Functional.Bench.Suites;

namespace Functional.Bench.Reports;

/// <summary>results.md: the tables of bench/README.md.</summary>
public static class MarkdownReport
{
    public static string Render(BenchResults r)
    {
        var s = new StringBuilder();
        var e = r.Environment;
        s.AppendLine($"Run {e.Date} ({e.Mode} mode, {e.Configuration}): {e.Cpu}, {e.Cores} cores, libtorch on {e.TorchThreads} threads, " +
                     $"TorchSharp {e.TorchSharp}, .NET {e.Runtime}.");
        s.AppendLine();
        s.AppendLine("### Compiled from .fnn against hand-written TorchSharp (same process, alternating)");
        s.AppendLine();
        s.AppendLine("Medians in milliseconds, with the interquartile range; ratio = compiled / hand-written (limit 1.05), " +
                     "with its 95% bootstrap interval; the last column is the largest difference between the two networks' outputs " +
                     "with the same weights (checked before timing; for generation, that all four ways produce the same tokens); " +
                     "tokens/s is the GPT's tokens a run (batch × context for a step, the new tokens for a generation) over the median time.");
        s.AppendLine();
        s.AppendLine("| network | phase | compiled ms | hand-written ms | ratio | 95% interval | runs | outputs differ by | tokens/s compiled / hand-written |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in r.Comparisons)
            s.AppendLine($"| {c.Network} | {c.Phase} | {F(c.CompiledMs)} ({F(c.CompiledP25Ms)}–{F(c.CompiledP75Ms)}) | " +
                         $"{F(c.HandWrittenMs)} ({F(c.HandWrittenP25Ms)}–{F(c.HandWrittenP75Ms)}) | **{c.Ratio:0.000}**{Mark(c.Ratio <= Limits.Ratio)} | " +
                         $"{c.RatioLow:0.000}–{c.RatioHigh:0.000} | " +
                         $"{c.Runs} | {(c.Phase.StartsWith("generate", StringComparison.Ordinal) ? "same tokens" : r.Verification[c.Network].ToString("0.0e+0"))} | " +
                         $"{(c.TokensPerSecondCompiled is { } tc && c.TokensPerSecondHandWritten is { } th ? $"{tc:N0} / {th:N0}" : "")} |");
        s.AppendLine();
        foreach (var c in r.Comparisons.Select(c => c.Description).Distinct())
            s.AppendLine($"- {c}");
        s.AppendLine();

        var g = r.Generation;
        s.AppendLine($"### Generation: {g.NewTokens} new tokens, greedy, after a {g.PromptTokens}-token prompt (GPT of the tour, batch 1)");
        s.AppendLine();
        s.AppendLine("| side | with the cache tokens/s | without tokens/s | cache speedup |");
        s.AppendLine("|---|---:|---:|---:|");
        s.AppendLine($"| compiled (`TextGenerator.GenerateIds`) | {g.Cached.TokensPerSecondCompiled:N0} | {g.Uncached.TokensPerSecondCompiled:N0} | " +
                     $"**{g.Cached.CompiledCacheSpeedup:0.00}×**{Mark(g.Cached.CompiledCacheSpeedup >= Limits.CacheSpeedup)} |");
        s.AppendLine($"| hand-written loop | {g.Cached.TokensPerSecondHandWritten:N0} | {g.Uncached.TokensPerSecondHandWritten:N0} | {g.Cached.HandWrittenCacheSpeedup:0.00}× |");
        s.AppendLine();
        s.AppendLine("With the cache, the first pass runs the prompt and each later one the newest token alone, attending over every block's kept keys and values; " +
                     $"without it every token runs the whole window. Cache speedup = time without / time with (medians; compiled side at least {Limits.CacheSpeedup:0}×). " +
                     "Each token is a pass in its own dispose scope without gradients, in evaluation mode.");
        s.AppendLine();

        var ep = r.Epochs;
        s.AppendLine("### Whole epochs: `Network.Fit` against a hand-written loop (MLP, Adam, batch 128)");
        s.AppendLine();
        s.AppendLine("| examples | Network.Fit s | hand-written loop s | ratio | 95% interval | runs |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|");
        s.AppendLine($"| {ep.Examples:N0} | {ep.CompiledSeconds:0.000} | {ep.HandWrittenSeconds:0.000} | **{ep.Ratio:0.000}** | {ep.RatioLow:0.000}–{ep.RatioHigh:0.000} | {ep.Runs} |");
        s.AppendLine();
        s.AppendLine("`Network.Fit` reads each batch from arrays (an `InMemoryDataset`) and keeps the loop's books (shuffled " +
                     "order, loss sums, the epoch report); the hand-written loop indexes one data tensor. Alternating, a fresh Adam each epoch on both sides.");
        s.AppendLine();

        s.AppendLine("### The machine's ceiling: libtorch matmul, float32");
        s.AppendLine();
        s.AppendLine("| n×n · n×n | median ms | GFLOP/s |");
        s.AppendLine("|---:|---:|---:|");
        foreach (var m in r.Matmul) s.AppendLine($"| {m.Size} | {F(m.MedianMs)} | {m.Gflops:0.0} |");
        s.AppendLine();
        var mlp = r.Comparisons.FirstOrDefault(c => c.Network == "mlp" && c.Phase == "train");
        if (mlp?.CompiledGflops is { } gflops)
        {
            var fraction = gflops / r.CeilingGflops;
            s.AppendLine($"MLP training step (compiled): {gflops:0.0} GFLOP/s of matrix products = **{fraction:P1}** of the ceiling " +
                         $"({r.CeilingGflops:0.0} GFLOP/s; floor {Limits.CeilingFraction:P0}){Mark(fraction >= Limits.CeilingFraction)}. " +
                         "Only the products are counted (forward, the weights' gradients, the inputs' gradients but the first layer's); " +
                         "activations, the loss and Adam's update are extra work done in the same time.");
            s.AppendLine();
        }

        var k = r.Compile;
        s.AppendLine($"### Compile time: a generated {k.Layers}-layer model (medians of {k.Runs} after warm-up)");
        s.AppendLine();
        s.AppendLine("| step | ms |");
        s.AppendLine("|---|---:|");
        s.AppendLine($"| check (parse, names, shapes) | {F(k.CheckMs)} |");
        s.AppendLine($"| compile the checked model (modules, initialised weights) | {F(k.CompileMs)} |");
        s.AppendLine($"| **source to network** (limit {Limits.CompileMs:0} ms) | **{F(k.TotalMs)}**{Mark(k.TotalMs < Limits.CompileMs)} |");
        s.AppendLine($"| for scale: the same network built by hand (TorchSharp Sequential) | {F(k.HandBuiltMs)} |");
        s.AppendLine();

        var st = r.Startup;
        s.AppendLine("### Process start to first prediction (CLI)");
        s.AppendLine();
        s.AppendLine($"`{st.Command}`: first run {st.FirstMs:0} ms, then median {st.MedianMs:0} ms (best {st.MinMs:0} ms) over {st.Runs - 1} more runs.");
        s.AppendLine();

        s.AppendLine("### Resident memory over a training run (benchmark MLP, Adam, batch 128, synthetic data; each side in a process of its own)");
        s.AppendLine();
        var halfway = r.Memory[0].HalfwayEpoch;
        s.AppendLine($"| side | examples × epochs | before training MB | after epoch 1 | after epoch 2 | after the last | steady | growth epoch {halfway} → last | of it .NET heap / rest MB | peak MB | .NET heap MB | s / epoch |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in r.Memory)
            s.AppendLine($"| {m.Side} | {m.Examples:N0} × {m.Epochs} | {m.StartMb:0.0} | {m.AfterEpochMb[0]:0.0} | {m.AfterEpochMb[Math.Min(1, m.AfterEpochMb.Length - 1)]:0.0} | " +
                         $"{m.AfterEpochMb[^1]:0.0} | {m.SteadyMb:0.0} | {m.Growth:+0.0%;-0.0%}{(m.Side == "compiled" && r.Environment.Mode == "full" ? Mark(m.Growth < Limits.MemoryGrowth) : "")} | " +
                         $"{m.ManagedGrowthMb:+0.0;-0.0} / {m.NativeGrowthMb:+0.0;-0.0} | {m.PeakMb:0.0} | {m.ManagedCommittedMb[^1]:0.0} | {new Harness.Sample(m.EpochSeconds).Median:0.00} |");
        s.AppendLine();
        s.AppendLine($"Before training, each side holds its data ({r.Memory[0].DataMb:0} MB of float32): the compiled side in an `InMemoryDataset` " +
                     "(its own copy; the arrays it was made from are dropped), the hand-written side in one tensor. " +
                     $"Steady is the median after epochs 3 to the last. The compiled side's growth over the second half is limited to {Limits.MemoryGrowth:P0} in the full run; " +
                     "it is split into what the garbage collector committed more (the .NET heap) and the rest (libtorch's and the C runtime's allocations). " +
                     "The .NET heap column is what the garbage collector had committed after the last epoch. " +
                     "The two runs follow each other, so their seconds per epoch are indicative only.");
        return s.ToString();
    }

    private static string F(double ms) => ms.ToString(ms < 10 ? "0.000" : ms < 100 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
    private static string Mark(bool ok) => ok ? " ✓" : " ✗";
}
