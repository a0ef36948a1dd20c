using Functional.Lang;

namespace Functional.Networks;

/// <summary>A .fnn source has errors; the message holds every diagnostic with file:line:col and a caret.</summary>
public sealed class FnnCompileException : Exception
{
    internal FnnCompileException(string rendered, IEnumerable<Diagnostic> diagnostics)
        : base(rendered) => Diagnostics = diagnostics.Select(SourceDiagnostic.From).ToList();

    /// <summary>Every diagnostic, in the order the checker found them.</summary>
    public IReadOnlyList<SourceDiagnostic> Diagnostics { get; }
}
