using Functional.Lang;

namespace Functional.Networks;

/// <summary>A .fnn source has errors; the message holds every diagnostic with file:line:col and a caret.</summary>
public sealed class FnnCompileException : Exception
{
    public FnnCompileException(string rendered, IReadOnlyList<Diagnostic> diagnostics)
        : base(rendered) => Diagnostics = diagnostics;

    public IReadOnlyList<Diagnostic> Diagnostics { get; }
}
