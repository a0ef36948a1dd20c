namespace Functional.Host.Tests.Support;

/// <summary>
/// A fenced code block of a Markdown document of this repository, read by the convention at the top of
/// dsl/README.md: the info string's first word is the language, the words after it say what the block is.
/// </summary>
internal sealed record DocumentBlock(string Document, int Line, string Info, string Text)
{
    private string[] Words => Info.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The info string's first word (<c>fsharp</c>, <c>sh</c>, ...); empty for a plain block.</summary>
    public string Language => Words.FirstOrDefault() ?? "";

    /// <summary>The file the block is, from <c>file=PATH</c> (relative to the repository root), if any.</summary>
    public string? FileName => Words.Skip(1).FirstOrDefault(w => w.StartsWith("file=", StringComparison.Ordinal))?["file=".Length..];

    /// <summary>A part of a file, or F# code, shown for reading only.</summary>
    public bool IsShownOnly => Words.Skip(1).Any(w => w is "fragment" or "fsx");

    /// <summary>A whole <c>.fnn</c> file with no name: it must pass <c>fnn check</c>.</summary>
    public bool IsCheckedSource => Language == "fsharp" && FileName is null && !IsShownOnly;

    /// <summary>A plain block whose first line is a command (<c>$ fnn ...</c>), followed by what it prints.</summary>
    public bool IsTranscript => Info.Length == 0 && Text.StartsWith("$ ", StringComparison.Ordinal);

    /// <summary>Where the block is, for messages: the document and the line of its opening fence.</summary>
    public string Place => $"{Document}:{Line}";

    public override string ToString() => Place;
}

internal static class DocumentBlocks
{
    /// <summary>The documents whose examples the tests run.</summary>
    public static readonly string[] Documents = ["dsl/README.md", "README.md"];

    /// <summary>Every fenced block (``` at the start of a line) of <paramref name="document"/>, a path relative to the repository root.</summary>
    public static IReadOnlyList<DocumentBlock> Read(string document)
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, document));
        var blocks = new List<DocumentBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
            var end = i + 1;
            while (end < lines.Length && !lines[end].StartsWith("```", StringComparison.Ordinal)) end++;
            if (end == lines.Length) throw new InvalidDataException($"{document}:{i + 1}: this code block is not closed");
            blocks.Add(new DocumentBlock(document, i + 1, lines[i][3..].Trim(), string.Join('\n', lines[(i + 1)..end]) + "\n"));
            i = end;
        }
        return blocks;
    }

    public static IEnumerable<DocumentBlock> All() => Documents.SelectMany(Read);

    /// <summary>The block of <paramref name="document"/> whose fence opens on <paramref name="line"/>.</summary>
    public static DocumentBlock At(string document, int line) =>
        Read(document).Single(b => b.Line == line);
}
