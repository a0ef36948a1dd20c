namespace Functional.Hostile;

/// <summary>How a command met a hostile input.</summary>
internal enum Verdict
{
    /// <summary>It refused the input with a short message naming the culprit, and an exit code below 128.</summary>
    ClearError,
    /// <summary>It succeeded on an input that was still valid after the corruption.</summary>
    Accepted,
    /// <summary>It refused the input, but the message does not name the culprit, or is too long, or comes from libtorch.</summary>
    Unclear,
    /// <summary>It succeeded on an input that has no right answer: a silently wrong result.</summary>
    Silent,
    /// <summary>An unexpected exception (fnn's internal-error exit), a stack trace, or an exit code of 128 or more.</summary>
    Crash,
    /// <summary>It did not finish within the time allowed.</summary>
    Hang,
}

/// <summary>What one attempt gave.</summary>
internal sealed record Outcome(Attempt Attempt, Verdict Verdict, int? ExitCode, string Error, TimeSpan Duration)
{
    /// <summary>The longest message a clear error may print (a diagnostic with its source line and caret fits easily).</summary>
    public const int LongestMessage = 4_200;

    /// <summary>Judges a finished command.</summary>
    public static Verdict Judge(Attempt attempt, int exitCode, string output, string error)
    {
        if (exitCode == 70 || exitCode >= 128 || LooksLikeStackTrace(output) || LooksLikeStackTrace(error)) return Verdict.Crash;
        if (exitCode == 0) return attempt.MustFail ? Verdict.Silent : Verdict.Accepted;
        var named = error.Contains(attempt.Culprit, StringComparison.Ordinal);
        var fromLibtorch = error.Contains("error: libtorch:", StringComparison.Ordinal); // an input libtorch saw unchecked
        return named && !fromLibtorch && error.Length <= LongestMessage ? Verdict.ClearError : Verdict.Unclear;
    }

    private static bool LooksLikeStackTrace(string text) =>
        text.Contains("\n   at ", StringComparison.Ordinal) || text.StartsWith("   at ", StringComparison.Ordinal) ||
        text.Contains("Unhandled exception", StringComparison.Ordinal);
}
