using System.Text;
using System.Text.RegularExpressions;

namespace Functional.Host.Tests.Support;

/// <summary>
/// One command of a transcript block (<c>$ fnn check FILE</c>) and what the document says it prints: its
/// standard output, then its standard error, and the exit code written as a last line <c>(exit code N)</c>
/// (0 when there is none).
/// </summary>
internal sealed record TranscriptCommand(string CommandLine, IReadOnlyList<string> Expected, int ExitCode)
{
    /// <summary>The commands of a transcript block: each <c>$ </c> line, and the lines up to the next one.</summary>
    public static IReadOnlyList<TranscriptCommand> Parse(DocumentBlock block)
    {
        var commands = new List<TranscriptCommand>();
        var lines = block.Text.TrimEnd('\n').Split('\n');
        for (var i = 0; i < lines.Length;)
        {
            var command = lines[i][2..].Trim();
            var expected = new List<string>();
            for (i++; i < lines.Length && !lines[i].StartsWith("$ ", StringComparison.Ordinal); i++) expected.Add(lines[i]);
            var exitCode = 0;
            if (expected.Count > 0 && Regex.Match(expected[^1], @"^\(exit code (\d+)\)$") is { Success: true } m)
            {
                exitCode = int.Parse(m.Groups[1].Value);
                expected.RemoveAt(expected.Count - 1);
            }
            commands.Add(new TranscriptCommand(command, expected, exitCode));
        }
        return commands;
    }

    /// <summary>
    /// The command as arguments of <c>dotnet</c>: <c>fnn ARGS</c> and <c>dotnet run --project src/Functional.Cli -- ARGS</c>
    /// run the built CLI, <c>dotnet fsi ARGS</c> F# Interactive. Words are split at spaces; "double quotes" group.
    /// </summary>
    public string[] DotnetArguments()
    {
        var words = Words(CommandLine);
        string[] cli = ["dotnet", "run", "--project", "src/Functional.Cli", "--"];
        if (words is ["fnn", .. var rest]) return [Repository.Output("Functional.Cli", "fnn.dll"), .. rest];
        if (words.Length >= cli.Length && words.Take(cli.Length).SequenceEqual(cli))
            return [Repository.Output("Functional.Cli", "fnn.dll"), .. words[cli.Length..]];
        if (words is ["dotnet", "fsi", ..]) return words[1..];
        throw new InvalidDataException($"'{CommandLine}': a transcript runs fnn, dotnet run --project src/Functional.Cli -- or dotnet fsi");
    }

    /// <summary>
    /// Null when <paramref name="result"/> prints what the document says, line by line, else what differs.
    /// Lines are compared without their trailing spaces, and a '…' in an expected line matches any text.
    /// </summary>
    public string? Mismatch(ProcessResult result)
    {
        var actual = Lines(result.Output + result.Error);
        var expected = Lines(string.Join('\n', Expected));
        var same = actual.Count == expected.Count && expected.Zip(actual).All(p => Matches(p.First, p.Second));
        if (same && result.ExitCode == ExitCode) return null;
        var text = new StringBuilder($"$ {CommandLine}\n");
        if (result.ExitCode != ExitCode) text.Append($"exit code {result.ExitCode}, but the document says {ExitCode}\n");
        if (!same) text.Append("--- the document says:\n").AppendJoin('\n', expected).Append("\n--- it prints:\n").AppendJoin('\n', actual).Append('\n');
        return text.ToString();
    }

    private static bool Matches(string expected, string actual) =>
        expected.Contains('…')
            ? Regex.IsMatch(actual, "^" + string.Join(".*", expected.Split('…').Select(Regex.Escape)) + "$")
            : expected == actual;

    private static List<string> Lines(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static string[] Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in line)
        {
            if (c == '"') { quoted = !quoted; any = true; }
            else if (c == ' ' && !quoted)
            {
                if (any) words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else { word.Append(c); any = true; }
        }
        if (quoted) throw new InvalidDataException($"'{line}': a quote is not closed");
        if (any) words.Add(word.ToString());
        return words.ToArray();
    }
}
