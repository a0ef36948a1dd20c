namespace Functional.Host.Tests;

/// <summary>fnn's guard of last resort: a failure nothing expected is reported in a line or two, with exit code 70,
/// and its stack trace only on request.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CrashGuardTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unexpected_exception_is_one_line_naming_it_exit_code_70_and_a_stack_trace_only_with_verbose(bool verbose)
    {
        Exception failure;
        try { throw new InvalidCastException("the first line\nand a second one"); }
        catch (InvalidCastException e) { failure = e; }
        string[] arguments = verbose ? ["predict", "x.fnn", "--verbose"] : ["predict", "x.fnn"];

        var (exitCode, error) = Capture(() => Functional.Cli.Failures.unexpected(arguments, failure));

        Assert.Equal(70, exitCode);
        Assert.StartsWith("fnn: internal error: InvalidCastException: the first line\n", error);
        Assert.DoesNotContain("and a second one", error.Split('\n')[0]);
        if (verbose) Assert.Contains("   at Functional.Host.Tests.CrashGuardTests", error);
        else
        {
            Assert.DoesNotContain("   at ", error);
            Assert.Contains("This is a bug in fnn", error);
        }
    }

    [Fact]
    public void An_expected_failure_with_a_huge_message_is_printed_cut_with_its_length()
    {
        var huge = new string('x', 1_000_000);
        var (exitCode, error) = Capture(() => Functional.Cli.Failures.expected([], Microsoft.FSharp.Core.FuncConvert.FromFunc<int>(() => throw new IOException(huge))));

        Assert.Equal(1, exitCode);
        Assert.InRange(error.Length, 4000, 4100);
        Assert.Contains("… (1000000 characters)", error);
    }

    private static (int ExitCode, string Error) Capture(Func<int> run)
    {
        var original = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        try { return (run(), error.ToString()); }
        finally { Console.SetError(original); }
    }
}

/// <summary>Tests that replace the process's console run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;
