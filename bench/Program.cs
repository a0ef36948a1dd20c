using System.Diagnostics;
using System.Globalization;
using Functional.Bench.Harness;
using Functional.Bench.Networks;
using Functional.Bench.Reports;
using Functional.Bench.Suites;
using TorchSharp;

namespace Functional.Bench;

/// <summary>
/// The benchmark suite: `dotnet run -c Release --project bench [-- --quick] [--out DIR]` (see bench/README.md).
/// `--verify` only checks that the hand-written networks compute what the compiled ones do; `--smoke` runs
/// every part once or twice, for the test suite; `--check` exits with 3 when a limit (Reports/Limits.cs) is missed;
/// `generation RUNS` times generation alone.
/// </summary>
public static class Program
{
    private const string Usage = "usage: Functional.Bench [--quick | --smoke] [--out DIR] [--check] | --verify";

    /// <summary>Outputs of the two versions of a network may differ by rounding only.</summary>
    private const double Tolerance = 1e-4;

    public static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or FormatException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Run(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        var repository = Repository.Find();
        if (args is ["memory", var side, var examples, var epochs])
            return MemorySuite.RunChild(repository, side, int.Parse(examples), int.Parse(epochs));
        if (args is ["--verify"]) return Verify(repository) ? 0 : 1;
        if (args is ["generation", var generationRuns])
        {
            using var gpt = NetworkPair.Gpt(repository);
            Print(GenerationSuite.Run(gpt, BenchSettings.Quick.Warmup, int.Parse(generationRuns)));
            return 0;
        }

        var settings = BenchSettings.Full;
        var output = Path.Combine(repository, "bench", "results");
        var check = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": settings = BenchSettings.Quick; break;
                case "--smoke": settings = BenchSettings.Smoke; break;
                case "--check": check = true; break;
                case "--out" when i + 1 < args.Length: output = Path.GetFullPath(args[++i]); break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }
        var results = Run(repository, settings);
        Directory.CreateDirectory(output);
        var markdown = MarkdownReport.Render(results);
        File.WriteAllText(Path.Combine(output, "results.md"), markdown);
        JsonReport.Write(results, output);
        ChartReport.Write(results, Path.Combine(output, "chart.png"));
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"written: {Path.Combine(output, "results.md")}, summary.json, details.json, chart.png");
        if (!check) return 0;
        var missed = Limits.Missed(results);
        foreach (var line in missed) Console.Error.WriteLine($"limit missed: {line}");
        return missed.Count == 0 ? 0 : 3;
    }

    private static BenchResults Run(string repository, BenchSettings settings)
    {
        var clock = Stopwatch.StartNew();
        var environment = Describe(settings);
        Console.WriteLine($"Functional benchmarks, {settings.Mode} mode: {environment.Cpu}, {environment.Cores} cores, libtorch on {environment.TorchThreads} threads");
        if (environment.Configuration != "Release")
            Console.WriteLine($"warning: this is a {environment.Configuration} build; run with -c Release for timings that mean something");

        var comparisons = new List<Comparison>();
        var verification = new Dictionary<string, double>();
        foreach (var (make, runs) in Pairs(repository, settings))
        {
            using var pair = make();
            var difference = pair.Verify();
            if (difference > Tolerance)
                throw new InvalidOperationException($"{pair.Name}: the hand-written network's outputs differ from the compiled one's by {difference}");
            verification[pair.Name] = difference;
            foreach (var row in StepSuite.Run(pair, settings.Warmup, runs))
            {
                comparisons.Add(row);
                Console.WriteLine($"  {row.Network,-4} {row.Phase,-9} compiled {row.CompiledMs,9:0.000} ms  hand-written {row.HandWrittenMs,9:0.000} ms  ratio {row.Ratio:0.000}");
            }
        }

        GenerationResult generation;
        using (var gpt = NetworkPair.Gpt(repository))
            generation = GenerationSuite.Run(gpt, settings.Warmup, settings.GenerationRuns);
        comparisons.AddRange([generation.Cached, generation.Uncached]);
        Print(generation);

        EpochResult epochs;
        using (var mlp = NetworkPair.Mlp(repository))
            epochs = EpochSuite.Run(mlp, settings.EpochExamples, 1, settings.EpochRuns);
        Console.WriteLine($"  mlp  epoch     Network.Fit {epochs.CompiledSeconds,7:0.000} s   hand-written loop {epochs.HandWrittenSeconds,7:0.000} s   ratio {epochs.Ratio:0.000}");

        var matmul = MatmulCeiling.Run(settings.Warmup, settings.CeilingRuns);
        Console.WriteLine($"  matmul ceiling {matmul.Max(m => m.Gflops):0.0} GFLOP/s");
        var ceiling = matmul.Max(m => m.Gflops);
        comparisons = comparisons.Select(c => c.CompiledGflops is { } g ? c with { FractionOfCeiling = g / ceiling } : c).ToList();

        var compile = CompileSuite.Run(settings.Warmup, settings.CompileRuns);
        Console.WriteLine($"  compile {compile.Layers} layers: {compile.TotalMs:0.0} ms (check {compile.CheckMs:0.0} ms)");
        var startup = StartupSuite.Run(repository, settings.StartupRuns);
        Console.WriteLine($"  start to first prediction: {startup.MedianMs:0} ms");
        var memory = new[] { "compiled", "handwritten" }
            .Select(side => MemorySuite.Measure(side, settings.MemoryExamples, settings.MemoryEpochs)).ToList();
        foreach (var m in memory) Console.WriteLine($"  memory {m.Side}: peak {m.PeakMb:0} MB, last epoch {m.AfterEpochMb[^1]:0} MB");
        Console.WriteLine($"  ({clock.Elapsed.TotalSeconds:0} s)");
        return new BenchResults(environment, comparisons, verification, epochs, matmul, compile, startup, memory, generation);
    }

    private static void Print(GenerationResult generation)
    {
        foreach (var row in new[] { generation.Cached, generation.Uncached })
            Console.WriteLine($"  {row.Network,-4} {row.Phase,-16} compiled {row.TokensPerSecondCompiled,7:0} tokens/s  hand-written {row.TokensPerSecondHandWritten,7:0} tokens/s  " +
                              $"ratio {row.Ratio:0.000} ({row.RatioLow:0.000}–{row.RatioHigh:0.000})");
        Console.WriteLine($"  gpt  cache speedup: compiled {generation.Cached.CompiledCacheSpeedup:0.00}x, hand-written {generation.Cached.HandWrittenCacheSpeedup:0.00}x " +
                          $"(the same {generation.NewTokens} tokens all four ways)");
    }

    /// <summary>The three networks, each made only when its turn comes (and freed after).</summary>
    private static IEnumerable<(Func<NetworkPair> Make, int Runs)> Pairs(string repository, BenchSettings settings) =>
    [
        (() => NetworkPair.Mlp(repository), settings.MlpRuns),
        (() => NetworkPair.Cnn(repository), settings.CnnRuns),
        (() => NetworkPair.Gpt(repository), settings.GptRuns),
    ];

    private static bool Verify(string repository)
    {
        var ok = true;
        foreach (var (make, _) in Pairs(repository, BenchSettings.Smoke))
        {
            using var pair = make();
            var difference = pair.Verify();
            var same = difference <= Tolerance;
            ok &= same;
            Console.WriteLine($"{pair.Name}: hand-written and compiled outputs differ by at most {difference:0.0e+0} ({(same ? "same" : "DIFFERENT")})");
        }
        return ok;
    }

    private static Reports.Environment Describe(BenchSettings settings)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "?";
        return new Reports.Environment(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'"), settings.Mode, cpu ?? "unknown CPU",
            System.Environment.ProcessorCount, torch.get_num_threads(),
            typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?", System.Environment.Version.ToString(), configuration);
    }
}
