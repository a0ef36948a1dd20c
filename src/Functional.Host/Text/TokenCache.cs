using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Functional.Text;

/// <summary>
/// A corpus tokenised once, kept beside the data so the next run reads it instead of tokenising again. Keyed by
/// the corpus's hash and the tokenizer (kind and vocabulary): <c>PATH.KIND-HASH12.tokens</c> next to a file,
/// <c>PATH/.fnn-tokens/KIND-HASH12.tokens</c> in a folder, or, where that cannot be written,
/// <c>$XDG_CACHE_HOME/functional/tokens/</c> (<c>~/.cache/functional/tokens/</c>).
/// </summary>
/// <remarks>
/// The format, little-endian: the magic <c>FNNTOKS\0</c>, int32 version (1), the corpus's SHA-256 (32 bytes), the
/// tokenizer key's SHA-256 (32 bytes), int32 vocabulary size, int64 document count, int64 token count, the SHA-256
/// of the rest (32 bytes), then one int32 token count per document and the int32 tokens. Every field is checked against the file's size before anything is
/// allocated from it, and every token against the vocabulary; a file that fails is reported and rebuilt, never
/// trusted. Written whole (a temporary file, then a rename), and never over a file that does not start with the magic.
/// </remarks>
internal static class TokenCache
{
    private static readonly byte[] Magic = "FNNTOKS\0"u8.ToArray();
    private const int Version = 1;
    private const int HeaderSize = 8 + 4 + 32 + 32 + 4 + 8 + 8 + 32;

    /// <summary>The tokens of every document, and what happened to the cache ("reused PATH", "wrote PATH", ...).</summary>
    public static (int[][] Documents, string Report) Tokens(TextCorpus corpus, Tokenizer tokenizer, string? cacheFolder = null)
    {
        var key = Key(tokenizer);
        var name = $"{tokenizer.Kind}-{Convert.ToHexStringLower(SHA256.HashData([.. Convert.FromHexString(corpus.Hash), .. key]))[..12]}.tokens";
        var preferred = Directory.Exists(corpus.Path)
            ? Path.Combine(corpus.Path, ".fnn-tokens", name)
            : corpus.Path + "." + name;
        var fallback = Path.Combine(cacheFolder ?? CacheHome(), Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(corpus.Path))) + "." + name);
        var notes = new List<string>();
        foreach (var path in new[] { preferred, fallback })
        {
            switch (TryRead(path, corpus, tokenizer, key))
            {
                case (int[][] documents, _):
                    return (documents, Joined(notes, $"reused {path}"));
                case (null, string problem):
                    notes.Add($"{path} {problem}");
                    break;
                default:
                    break;
            }
        }
        var tokens = corpus.Documents.Select(d => tokenizer.Encode(d.Streamed)).ToArray();
        if (4 * (tokens.Length + tokens.Sum(d => (long)d.Length)) > Array.MaxLength)
            return (tokens, Joined(notes, "too many tokens for one cache file: kept in memory only"));
        foreach (var path in new[] { preferred, fallback })
        {
            if (IsForeign(path))
            {
                notes.Add($"{path} was not written by fnn: left alone");
                continue;
            }
            try
            {
                Write(path, corpus, tokenizer, key, tokens);
                return (tokens, Joined(notes, $"wrote {path}"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                notes.Add($"{path} could not be written ({Excerpt.@short(e.Message)})");
            }
        }
        return (tokens, Joined(notes, "kept the tokens in memory only"));
    }

    private static string Joined(List<string> notes, string last) => string.Join("; ", [.. notes, last]);

    /// <summary>Where caches go when the data's own folder cannot be written: <c>$XDG_CACHE_HOME/functional/tokens</c>,
    /// or <c>~/.cache/functional/tokens</c>.</summary>
    public static string CacheHome()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg) ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "functional", "tokens");
    }

    /// <summary>The tokenizer's part of the key: its kind and its vocabulary.</summary>
    private static byte[] Key(Tokenizer tokenizer) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"{tokenizer.Kind}\n{tokenizer.VocabularySize}\n{tokenizer.VocabularyHash}"));

    /// <summary>A file at <paramref name="path"/> that this cache did not write (or not a regular file).</summary>
    private static bool IsForeign(string path)
    {
        if (Functional.Files.problem(path) is not null) return true;
        if (!File.Exists(path)) return false;
        try
        {
            using var stream = Functional.Files.openRead(path);
            var start = new byte[Magic.Length];
            return stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) < start.Length || !start.AsSpan().SequenceEqual(Magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The cached tokens; or null and why the file is not used (null, null: there is no file).</summary>
    internal static (int[][]? Documents, string? Problem) TryRead(string path, TextCorpus corpus, Tokenizer tokenizer, byte[] key)
    {
        if (Functional.Files.problem(path) is { } what) return (null, $"is {what}: not used");
        if (!File.Exists(path)) return (null, null);
        try
        {
            using var stream = Functional.Files.openRead(path);
            var length = stream.Length;
            var header = new byte[HeaderSize];
            var read = stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
            // The magic first: a file that is not ours is never called corrupt, nor replaced.
            if (read < Magic.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return (null, "is not a token cache (no FNNTOKS magic): left alone");
            if (length < HeaderSize || read < HeaderSize) return (null, $"is corrupt ({length} bytes, shorter than the {HeaderSize}-byte header): rebuilt");
            var version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
            if (version != Version) return (null, $"has version {version}, not {Version}: rebuilt");
            if (!header.AsSpan(12, 32).SequenceEqual(Convert.FromHexString(corpus.Hash)))
                return (null, "is of another text (its hash differs): rebuilt");
            if (!header.AsSpan(44, 32).SequenceEqual(key)) return (null, "is of another tokenizer: rebuilt");
            var vocabulary = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(76));
            if (vocabulary != tokenizer.VocabularySize)
                return (null, $"is corrupt (vocabulary {vocabulary}, expected {tokenizer.VocabularySize}): rebuilt");
            var documents = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(80));
            var tokens = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(88));
            var room = (length - HeaderSize) / 4;
            if (documents != corpus.Documents.Count)
                return (null, $"is corrupt ({documents} documents, but the text has {corpus.Documents.Count}): rebuilt");
            if (tokens < 0 || tokens > room - documents || tokens > Array.MaxLength)
                return (null, $"is corrupt (it claims {tokens} tokens, but its {length} bytes hold at most {Math.Max(0, room - documents)}): rebuilt");
            if (length != HeaderSize + 4 * (documents + tokens))
                return (null, $"is corrupt ({length} bytes, but its header says {HeaderSize + 4 * (documents + tokens)}): rebuilt");
            if (length - HeaderSize > Array.MaxLength) return (null, $"is {length} bytes, more than one read holds: rebuilt");
            var body = new byte[length - HeaderSize];
            stream.ReadExactly(body);
            var counts = new int[documents];
            long sum = 0;
            for (var d = 0; d < documents; d++)
            {
                counts[d] = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(4 * d));
                if (counts[d] < 0) return (null, $"is corrupt (document {d + 1} has {counts[d]} tokens): rebuilt");
                sum += counts[d];
            }
            if (sum != tokens) return (null, $"is corrupt (its documents hold {sum} tokens, its header says {tokens}): rebuilt");
            var result = new int[documents][];
            var at = 4 * (int)documents;
            for (var d = 0; d < documents; d++)
            {
                var ids = new int[counts[d]];
                for (var i = 0; i < ids.Length; i++, at += 4)
                {
                    ids[i] = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(at));
                    if ((uint)ids[i] >= (uint)vocabulary)
                        return (null, $"is corrupt (token {ids[i]} at byte {HeaderSize + at} is outside the vocabulary of {vocabulary}): rebuilt");
                }
                result[d] = ids;
            }
            // A changed token that is still in the vocabulary would be another text: the digest tells.
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(header.AsSpan(96, 32)))
                return (null, "is corrupt (its tokens do not match their SHA-256): rebuilt");
            return (result, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"could not be read ({Excerpt.@short(e.Message)}): rebuilt");
        }
    }

    private static void Write(string path, TextCorpus corpus, Tokenizer tokenizer, byte[] key, int[][] documents)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var total = documents.Sum(d => (long)d.Length);
            var body = new byte[4 * (documents.Length + total)];
            var at = 0;
            foreach (var d in documents)
            {
                BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(at), d.Length);
                at += 4;
            }
            foreach (var d in documents)
                foreach (var id in d)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(at), id);
                    at += 4;
                }
            var header = new byte[HeaderSize];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), Version);
            Convert.FromHexString(corpus.Hash).CopyTo(header, 12);
            key.CopyTo(header, 44);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(76), tokenizer.VocabularySize);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(80), documents.Length);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(88), total);
            SHA256.HashData(body).CopyTo(header, 96);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(header);
                stream.Write(body);
            }
            // Checked again just before: a foreign file that appeared meanwhile is not replaced.
            if (IsForeign(path)) throw new IOException($"{path} appeared meanwhile and was not written by fnn");
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
