using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Functional.Data;

namespace Functional.Text;

/// <summary>
/// The text to train a language model on: a UTF-8 file, or a folder of them, cut into documents.
/// </summary>
/// <remarks>
/// <para>A folder: its regular files (links to them are followed), in ordinal order of their names, not its
/// subfolders (not recursive); names starting with <c>.</c>, ending in <c>.dat</c> or <c>.u8</c> (fortune's index files
/// and its links) and our own token caches (<c>NAME.KIND-HASH.tokens</c>) are skipped, and so is anything that is not a
/// regular file (a pipe never blocks the read).</para>
/// <para>Documents: in a file with lines holding only <c>%</c> (the fortune format), the entries between those lines;
/// in any other file, its paragraphs (separated by blank lines). Each keeps its text as written, with its trailing
/// newline; empty entries are dropped. The training stream is every document followed by its
/// <see cref="TextDocument.Separator"/>: <c>"%\n"</c> for an entry, <c>"\n"</c> for a paragraph.</para>
/// <para>Files are read strictly: bytes that are not UTF-8 are an error naming the file and the byte offset (a
/// UTF-8 byte order mark is allowed and dropped).</para>
/// </remarks>
public sealed partial class TextCorpus
{
    /// <summary>The most bytes a corpus may have, all files together, unless told otherwise: 1 GiB.</summary>
    public const long DefaultMaxBytes = 1L << 30;

    private TextCorpus(string path, IReadOnlyList<string> files, IReadOnlyList<TextDocument> documents, string hash, long bytes)
    {
        Path = path;
        Files = files;
        Documents = documents;
        Hash = hash;
        Bytes = bytes;
    }

    /// <summary>The file or folder, as given.</summary>
    public string Path { get; }

    /// <summary>The files read, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The documents, in file order.</summary>
    public IReadOnlyList<TextDocument> Documents { get; }

    /// <summary>SHA-256 (hexadecimal) of every file's name and bytes, in order: what a token cache is keyed by.</summary>
    public string Hash { get; }

    /// <summary>The bytes of all files together.</summary>
    public long Bytes { get; }

    /// <summary>The training stream of every document (<see cref="TextDocument.Streamed"/>, in order): what a char
    /// tokenizer's vocabulary is built from, so that every held-out character is in it too.</summary>
    public string Text() => string.Concat(Documents.Select(d => d.Streamed));

    /// <summary>Reads a text file, or a folder of them (see the remarks).</summary>
    /// <param name="path">a file or a folder</param>
    /// <param name="maxBytes">the most bytes all files together may have</param>
    /// <exception cref="FileNotFoundException">no such file or folder</exception>
    /// <exception cref="DataFormatException">a file is not UTF-8 (the message names it and the byte), the corpus is too
    /// large, or it holds no text</exception>
    /// <exception cref="IOException">the path is not a regular file or a folder, or a file cannot be read</exception>
    public static TextCorpus Read(string path, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        var files = Directory.Exists(path) ? Listed(path) : [path];
        if (files.Count == 0) throw new DataFormatException(path, "the folder holds no text files");
        var documents = new List<TextDocument>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        foreach (var file in files)
        {
            var bytes = Functional.Files.readBytes(Math.Max(0, maxBytes - total), file);
            total += bytes.Length;
            // The name too, so that renaming or reordering files is another corpus.
            hash.AppendData(Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(file) + "\n"));
            hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
            hash.AppendData(bytes);
            documents.AddRange(Split(file, Decode(file, bytes)));
        }
        if (documents.Count == 0) throw new DataFormatException(path, "it holds no text (every file is empty or blank)");
        return new TextCorpus(path, files, documents, Convert.ToHexStringLower(hash.GetHashAndReset()), total);
    }

    [GeneratedRegex(@"\.(char|byte|gpt2)-[0-9a-f]{12}\.tokens$")]
    private static partial Regex CacheName();

    private static List<string> Listed(string folder) =>
        new DirectoryInfo(folder).EnumerateFileSystemInfos()
            .Where(e => !e.Name.StartsWith('.') && !e.Name.EndsWith(".dat", StringComparison.Ordinal) &&
                        !e.Name.EndsWith(".u8", StringComparison.Ordinal) && !CacheName().IsMatch(e.Name))
            .Where(e => Functional.Files.problem(e.FullName) is null && File.Exists(e.FullName))
            .Select(e => System.IO.Path.Combine(folder, e.Name))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The text of <paramref name="bytes"/>, strictly UTF-8.</summary>
    private static string Decode(string file, byte[] bytes)
    {
        ReadOnlySpan<byte> data = bytes;
        if (data.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) data = data[3..];
        var chars = new char[data.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(data, chars, out var read, out var written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            var offset = read + (bytes.Length - data.Length);
            throw new DataFormatException(file, $"the file is not valid UTF-8 at byte offset {offset} (byte 0x{bytes[offset]:X2}): save it as UTF-8");
        }
        return new string(chars, 0, written);
    }

    /// <summary>A file's documents: fortune entries when it has lines holding only %, else paragraphs.</summary>
    private static IEnumerable<TextDocument> Split(string file, string text)
    {
        var lines = Lines(text);
        var fortune = lines.Any(l => l.Content == "%");
        var current = new StringBuilder();
        var first = 0;
        var blank = true;
        for (var i = 0; i < lines.Count; i++)
        {
            var (content, whole) = lines[i];
            var boundary = fortune ? content == "%" : string.IsNullOrWhiteSpace(content);
            if (boundary)
            {
                if (!blank) yield return new TextDocument(file, first + 1, current.ToString(), fortune ? "%\n" : "\n");
                current.Clear();
                blank = true;
                continue;
            }
            if (current.Length == 0) first = i;
            current.Append(whole);
            blank &= string.IsNullOrWhiteSpace(content);
        }
        if (!blank) yield return new TextDocument(file, first + 1, current.ToString(), fortune ? "%\n" : "\n");
    }

    /// <summary>Each line's content (without its line break, and without a carriage return before it) and its whole text.</summary>
    private static List<(string Content, string Whole)> Lines(string text)
    {
        var lines = new List<(string, string)>();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            var next = end < 0 ? text.Length : end + 1;
            var content = text[start..(end < 0 ? text.Length : end)];
            lines.Add((content.EndsWith('\r') ? content[..^1] : content, text[start..next]));
            start = next;
        }
        return lines;
    }
}
