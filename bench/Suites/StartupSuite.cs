using System.Diagnostics;
using System.Globalization;
using Functional.Bench.Harness;
using Functional.Networks;

namespace Functional.Bench.Suites;

/// <summary>Process start to first prediction of the CLI (milliseconds): the first run, then the median of the rest.</summary>
public sealed record StartupResult(string Command, double FirstMs, double MedianMs, double MinMs, int Runs);

/// <summary>
/// Times <c>fnn predict</c> on the benchmark MLP as a new process, from start until it has printed the
/// prediction and exited: runtime start, engine load, checking, compiling, loading weights, one forward.
/// </summary>
public static class StartupSuite
{
    public static StartupResult Run(string repository, int runs)
    {
        var cli = CliPath(repository);
        var fnn = Path.Combine(repository, "bench", "networks", "mlp.fnn");
        var weights = Directory.CreateTempSubdirectory("fnn-bench-");
        try
        {
            using (var network = FnnFile.Load(fnn).Compile("BenchMlp", new NetworkOptions { Seed = 1 }))
                network.Save(weights.FullName);
            var input = string.Join(",", Enumerable.Range(0, 784).Select(i => (i % 7 / 7.0).ToString("0.###", CultureInfo.InvariantCulture)));
            string[] arguments = ["predict", fnn, "--weights", weights.FullName, "--input", input];
            var timings = Enumerable.Range(0, runs).Select(_ => Timing.Once(() => Predict(cli, arguments))).ToList();
            var rest = timings.Count > 1 ? new Sample(timings.Skip(1)) : new Sample(timings);
            return new StartupResult($"fnn predict bench/networks/mlp.fnn --weights DIR --input <784 values>",
                timings[0], rest.Median, rest.Min, runs);
        }
        finally
        {
            weights.Delete(recursive: true);
        }
    }

    /// <summary>The CLI built beside this benchmark, in the same configuration (the project references it).</summary>
    public static string CliPath(string repository)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent?.Name ?? "Release";
        var path = Path.Combine(repository, "src", "Functional.Cli", "bin", configuration, output.Name, "fnn");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path}: the fnn CLI is not built; build the benchmark with 'dotnet build -c {configuration} bench'", path);
    }

    private static void Predict(string cli, string[] arguments)
    {
        var start = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{cli} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var outputs = stdout.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (process.ExitCode != 0 || outputs.Length != 10)
            throw new InvalidOperationException($"fnn predict failed (exit code {process.ExitCode}): {stdout}{stderr.Result}");
    }
}
