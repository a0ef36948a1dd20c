namespace Functional.Text;

/// <summary>One document of a <see cref="TextCorpus"/>: a fortune-file entry or a paragraph.</summary>
/// <param name="File">the file it comes from</param>
/// <param name="Line">its first line in that file (from 1)</param>
/// <param name="Text">its text as written, with its trailing newline</param>
/// <param name="Separator">what follows it in the training stream: <c>"%\n"</c> after a fortune entry (so a model
/// learns where entries end), <c>"\n"</c> after a paragraph (the blank line that separated it)</param>
public sealed record TextDocument(string File, int Line, string Text, string Separator)
{
    /// <summary>The document as the training stream holds it: its text, then its separator.</summary>
    public string Streamed => Text + Separator;
}
