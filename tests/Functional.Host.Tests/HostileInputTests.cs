using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary>
/// The standing hostile-input suite (tests/Functional.Hostile) in its quick mode: every systematic corruption of
/// every checkpoint file, data format, source, special path and flag, run through fnn's commands.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("functional-hostile-test-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Every_hostile_input_gets_a_clear_error_or_a_valid_result_without_crash_or_hang_and_leaves_nothing_behind()
    {
        // Its own current and temporary folders, so that anything the suite or fnn leaves behind is seen.
        var temporary = Directory.CreateDirectory(Path.Combine(directory, "tmp")).FullName;
        var result = Processes.DotnetWith(directory, new Dictionary<string, string> { ["TMPDIR"] = temporary },
            Repository.OutputIn("tests", "Functional.Hostile", "Functional.Hostile.dll"));

        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}:\n{result.Output}\n{Tail(result.Error)}");
        Assert.Matches(@"hostile: \d{3,} attempts, \d+ clear errors, \d+ accepted \(still valid\), 0 unclear, 0 silently wrong, 0 crashes, 0 hangs", result.Output);
        Assert.Empty(Directory.GetFileSystemEntries(temporary));
        Assert.Equal([temporary], Directory.GetFileSystemEntries(directory));
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];
}
