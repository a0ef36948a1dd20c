using Functional.Lang;

namespace Functional.Networks;

/// <summary>How serious a <see cref="SourceDiagnostic"/> is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The source cannot be used.</summary>
    Error,

    /// <summary>The source can be used, but something looks wrong.</summary>
    Warning,
}

/// <summary>One message about a <c>.fnn</c> source, at its place, with notes at related places.</summary>
/// <param name="Severity">error or warning</param>
/// <param name="Message">what is wrong, without the place</param>
/// <param name="Span">where (line 0 for a message about a whole file)</param>
/// <param name="Notes">related places ("the declared output"), in order</param>
public sealed record SourceDiagnostic(DiagnosticSeverity Severity, string Message, SourceSpan Span, IReadOnlyList<SourceNote> Notes)
{
    /// <summary><c>file:line:col: error: message</c>.</summary>
    public override string ToString() => $"{Span}: {(Severity == DiagnosticSeverity.Error ? "error" : "warning")}: {Message}";

    internal static SourceDiagnostic From(Diagnostic d) => new(
        d.Severity.IsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        d.Message,
        SourceSpan.From(d.Range),
        d.Related.Select(r => new SourceNote(r.Item2, SourceSpan.From(r.Item1))).ToList());
}

/// <summary>A span of source text, counted from 1; the end is exclusive.</summary>
/// <param name="File">the path as the user gave it</param>
/// <param name="Line">the first line (0: the whole file)</param>
/// <param name="Column">the first column</param>
/// <param name="EndLine">the last line</param>
/// <param name="EndColumn">the column after the last character</param>
public sealed record SourceSpan(string File, int Line, int Column, int EndLine, int EndColumn)
{
    /// <summary><c>file:line:col</c>, or the file alone for a message about a whole file.</summary>
    public override string ToString() => Line == 0 ? File : $"{File}:{Line}:{Column}";

    internal static SourceSpan From(Lang.Syntax.Range r) => new(r.File, r.Start.Line, r.Start.Column, r.End.Line, r.End.Column);
}

/// <summary>A note at a place related to a diagnostic.</summary>
/// <param name="Message">what the place is ("the declared output")</param>
/// <param name="Span">where it is</param>
public sealed record SourceNote(string Message, SourceSpan Span);
