using System.Text.Json;
using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary>The benchmark suite (bench/), run as a program: its checks of fairness and the files it writes.</summary>
public sealed class BenchTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("functional-bench-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static ProcessResult Bench(params string[] arguments)
    {
        var dll = Path.Combine(Repository.Root, "bench", "bin", Repository.Configuration, "net10.0", "Functional.Bench.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is not built: build the solution first (dotnet build)", dll);
        return Processes.Dotnet([dll, .. arguments]);
    }

    [Fact]
    public void The_hand_written_networks_compute_exactly_what_the_compiled_ones_do()
    {
        var result = Bench("--verify");
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        foreach (var network in new[] { "mlp", "cnn", "gpt" })
            Assert.Contains($"{network}: hand-written and compiled outputs differ by at most 0.0e+0 (same)", result.Output);
    }

    [Fact]
    public void A_smoke_run_writes_the_summary_contract_and_every_report()
    {
        var result = Bench("--smoke", "--out", directory, "--check");
        // A smoke run's timings are too few to meet the limits reliably: --check may fail them, and then says which.
        Assert.True(result.ExitCode is 0 or 3, result.Output + result.Error);
        Assert.Equal(result.ExitCode == 3, result.Error.Contains("limit missed: "));

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "summary.json")));
        var rows = summary.RootElement.EnumerateArray().ToList();
        Assert.Equal(
            ["mlp/train", "mlp/inference", "cnn/train", "cnn/inference", "gpt/train", "gpt/inference", "gpt/generate-cache", "gpt/generate-nocache"],
            rows.Select(r => $"{r.GetProperty("network").GetString()}/{r.GetProperty("phase").GetString()}"));
        foreach (var row in rows)
        {
            double Value(string name) => row.GetProperty(name).GetDouble();
            Assert.True(Value("compiled_ms") > 0 && Value("handwritten_ms") > 0, row.ToString());
            Assert.Equal(Value("compiled_ms") / Value("handwritten_ms"), Value("ratio"), 1e-9);
            Assert.InRange(Value("compiled_ms"), Value("compiled_p25_ms"), Value("compiled_p75_ms"));
            Assert.InRange(Value("ratio"), Value("ratio_ci95_low"), Value("ratio_ci95_high"));
        }
        // Tokens a second: the GPT's rows only, tokens a run over the median time (batch × context 128 for a step, 128 new tokens for a generation).
        Assert.All(rows.Take(4), r => Assert.False(r.TryGetProperty("tokens_per_second_compiled", out _), r.ToString()));
        foreach (var row in rows.Skip(4))
        {
            var tokens = row.GetProperty("phase").GetString()!.StartsWith("generate") ? 128 : row.GetProperty("batch").GetInt64() * 128;
            Assert.Equal(tokens / (row.GetProperty("compiled_ms").GetDouble() / 1000), row.GetProperty("tokens_per_second_compiled").GetDouble(), 1e-6);
            Assert.Equal(tokens / (row.GetProperty("handwritten_ms").GetDouble() / 1000), row.GetProperty("tokens_per_second_handwritten").GetDouble(), 1e-6);
        }
        var (cached, uncached) = (rows[6], rows[7]);
        Assert.Equal(1, cached.GetProperty("batch").GetInt64());
        Assert.Equal(uncached.GetProperty("compiled_ms").GetDouble() / cached.GetProperty("compiled_ms").GetDouble(),
            cached.GetProperty("cache_speedup_compiled").GetDouble(), 1e-9);
        Assert.Equal(uncached.GetProperty("handwritten_ms").GetDouble() / cached.GetProperty("handwritten_ms").GetDouble(),
            cached.GetProperty("cache_speedup_handwritten").GetDouble(), 1e-9);
        Assert.False(uncached.TryGetProperty("cache_speedup_compiled", out _));
        // No bounds on the timings themselves (a busy machine moves them anywhere): only that they are consistent.
        using var details = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "details.json")));
        var ceiling = details.RootElement.GetProperty("matmul").EnumerateArray().Max(m => m.GetProperty("gflops").GetDouble());
        var mlpTrain = rows[0];
        Assert.True(ceiling > 0);
        Assert.Equal(mlpTrain.GetProperty("compiled_gflops").GetDouble() / ceiling, mlpTrain.GetProperty("fraction_of_matmul_ceiling").GetDouble(), 1e-9);
        // The twins agree: each hand-written network was checked against its compiled one before it was timed.
        var verification = details.RootElement.GetProperty("verification");
        Assert.Equal(["mlp", "cnn", "gpt"], verification.EnumerateObject().Select(v => v.Name));
        Assert.All(verification.EnumerateObject(), v => Assert.Equal(0.0, v.Value.GetDouble()));
        // The generated tokens all four ways agreed on (the bench stops before timing otherwise), within the tour GPT's vocabulary.
        var generated = details.RootElement.GetProperty("generation").GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToList();
        Assert.Equal(128, generated.Count);
        Assert.All(generated, t => Assert.InRange(t, 0, 95));
        var compile = details.RootElement.GetProperty("compile");
        Assert.Equal(100, compile.GetProperty("layers").GetInt32());
        Assert.True(compile.GetProperty("total_ms").GetDouble() > 0);
        var memory = details.RootElement.GetProperty("memory").EnumerateArray().ToList();
        Assert.Equal(["compiled", "handwritten"], memory.Select(m => m.GetProperty("side").GetString()));
        Assert.All(memory, m => Assert.Equal(3, m.GetProperty("after_epoch_mb").GetArrayLength()));
        Assert.All(memory, m => Assert.Equal(3, m.GetProperty("managed_committed_mb").GetArrayLength()));
        Assert.All(memory, m => Assert.True(m.GetProperty("peak_mb").GetDouble() > 0));
        Assert.True(details.RootElement.GetProperty("startup").GetProperty("median_ms").GetDouble() > 0);
        var epochs = details.RootElement.GetProperty("epochs");
        Assert.Equal(epochs.GetProperty("compiled_seconds").GetDouble() / epochs.GetProperty("hand_written_seconds").GetDouble(),
            epochs.GetProperty("ratio").GetDouble(), 1e-9);

        var markdown = File.ReadAllText(Path.Combine(directory, "results.md"));
        Assert.Contains("| network | phase | compiled ms | hand-written ms | ratio |", markdown);
        Assert.Contains("| gpt | generate-cache | ", markdown);
        Assert.Contains("### Generation: 128 new tokens, greedy, after a 1-token prompt", markdown);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(directory, "chart.png")).Take(4));
    }

    [Fact]
    public void An_unknown_argument_is_a_usage_error()
    {
        var result = Bench("--quik");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown argument '--quik'", result.Error);
        Assert.Contains("usage: Functional.Bench [--quick | --smoke] [--out DIR] [--check] | --verify", result.Error);
    }
}
