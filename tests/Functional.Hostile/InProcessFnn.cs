using System.Diagnostics;

namespace Functional.Hostile;

/// <summary>
/// Runs fnn's entry point in this process, one command at a time, with its console captured and a bound on
/// its time: thousands of attempts in seconds, where a process per attempt would take minutes. A native crash
/// ends this process too, which the caller sees as an exit code of 128 or more; the last attempt started is
/// then the last line of the progress this harness prints.
/// </summary>
internal static class InProcessFnn
{
    /// <summary>Runs one command line; null when it did not finish within <paramref name="limit"/> (a hang).</summary>
    public static (int ExitCode, string Output, string Error, TimeSpan Duration)? Run(string[] arguments, TimeSpan limit)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (originalOut, originalError) = (Console.Out, Console.Error);
        var exitCode = 0;
        Exception? escaped = null;
        var clock = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            try { exitCode = Functional.Cli.Program.main(arguments); }
            catch (Exception e) { escaped = e; } // fnn's own guard should make this impossible: a crash if it happens
        }, maxStackSize: 8 << 20) { IsBackground = true, Name = "fnn" };
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            thread.Start();
            if (!thread.Join(limit)) return null;
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
        if (escaped is not null) return (70, output.ToString(), error + "Unhandled exception escaped fnn's main: " + escaped, clock.Elapsed);
        return (exitCode, output.ToString(), error.ToString(), clock.Elapsed);
    }
}
