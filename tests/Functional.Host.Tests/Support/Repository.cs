using System.Diagnostics;

namespace Functional.Host.Tests.Support;

/// <summary>Files of this repository and its build outputs, for tests that use the examples and the CLI.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the configuration these tests were built with (the other projects share it).</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    public static string XorSource => Path.Combine(Root, "examples", "xor", "xor.fnn");

    public static string Output(string project, string dll) => OutputIn("src", project, dll);

    /// <summary>A build output of a project in <paramref name="folder"/> (src, tests) of the repository.</summary>
    public static string OutputIn(string folder, string project, string dll)
    {
        var path = Path.Combine(Root, folder, project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built: build the solution first (dotnet build)", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Functional.sln"))) return dir.FullName;
        throw new InvalidOperationException("Functional.sln not found above the test binary");
    }
}

/// <summary>A finished child process: its exit code and what it printed.</summary>
internal sealed record ProcessResult(int ExitCode, string Output, string Error);

internal static class Processes
{
    /// <summary>
    /// How long a child process may run before it counts as hung: a guard against hangs, not a limit on speed,
    /// so it is generous enough for a machine that is busy with other work.
    /// </summary>
    private static readonly TimeSpan Hung = TimeSpan.FromMinutes(10);

    /// <summary>Runs `dotnet ARGS` in the repository root and waits.</summary>
    public static ProcessResult Dotnet(params string[] arguments) => DotnetIn(Repository.Root, arguments);

    /// <summary>Runs `dotnet ARGS` in <paramref name="workingDirectory"/> and waits.</summary>
    public static ProcessResult DotnetIn(string workingDirectory, params string[] arguments) =>
        DotnetWith(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>Runs `dotnet ARGS` in <paramref name="workingDirectory"/> with these environment variables set, and waits.</summary>
    public static ProcessResult DotnetWith(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Hung))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish in {Hung.TotalMinutes} minutes: it hangs");
        }
        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }

    public static ProcessResult Fnn(params string[] arguments) =>
        Dotnet([Repository.Output("Functional.Cli", "fnn.dll"), .. arguments]);

    /// <summary>Runs fnn in <paramref name="workingDirectory"/>.</summary>
    public static ProcessResult FnnIn(string workingDirectory, params string[] arguments) =>
        DotnetIn(workingDirectory, [Repository.Output("Functional.Cli", "fnn.dll"), .. arguments]);
}
