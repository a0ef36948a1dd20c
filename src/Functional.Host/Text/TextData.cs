using Functional.Data;

namespace Functional.Text;

/// <summary>
/// A corpus made ready for training a language model: tokenised (once, cached beside the data), split by document
/// into training and validation text, and cut into windows.
/// </summary>
public sealed class TextData
{
    private TextData(TextDataset train, TextDataset? validation, Tokenizer tokenizer, string cache, int trainDocuments, int validationDocuments)
    {
        Train = train;
        Validation = validation;
        Tokenizer = tokenizer;
        CacheReport = cache;
        TrainDocuments = trainDocuments;
        ValidationDocuments = validationDocuments;
    }

    /// <summary>The training windows.</summary>
    public TextDataset Train { get; }

    /// <summary>Non-overlapping windows over the held-out documents; null without a split.</summary>
    public TextDataset? Validation { get; }

    /// <summary>The tokenizer the text was tokenised with.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>What happened to the token cache, for a log line: <c>reused PATH</c>, <c>wrote PATH</c>, or why neither.</summary>
    public string CacheReport { get; }

    /// <summary>Documents in the training text.</summary>
    public int TrainDocuments { get; }

    /// <summary>Documents held out for validation.</summary>
    public int ValidationDocuments { get; }

    /// <summary>
    /// Tokenises <paramref name="corpus"/> (or reads its token cache), holds out a seeded share of its documents for
    /// validation (the same seed, the same split), and makes the windows: the training ones as
    /// <paramref name="sampling"/> says, the validation ones sequential.
    /// </summary>
    /// <param name="corpus">the text</param>
    /// <param name="tokenizer">its tokenizer (for char, one built from <see cref="TextCorpus.Text"/>: every character of the corpus)</param>
    /// <param name="context">tokens per window</param>
    /// <param name="validSplit">the share of documents held out, in [0, 1): 0 for none</param>
    /// <param name="seed">chooses the held-out documents</param>
    /// <param name="sampling">the training windows</param>
    /// <param name="cacheFolder">where the token cache goes when it cannot be written beside the data (null:
    /// <c>$XDG_CACHE_HOME/functional/tokens</c>, or <c>~/.cache/functional/tokens</c>)</param>
    /// <exception cref="ArgumentException">a split with fewer than 2 documents, a character outside a char tokenizer's
    /// vocabulary, or a text too short for one window</exception>
    public static TextData Open(TextCorpus corpus, Tokenizer tokenizer, int context, double validSplit = 0.1, int seed = 0,
        TextSampling sampling = TextSampling.Random, string? cacheFolder = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (validSplit is < 0 or >= 1 || double.IsNaN(validSplit))
            throw new ArgumentOutOfRangeException(nameof(validSplit), validSplit, "the validation split must be at least 0 and below 1");
        var count = corpus.Documents.Count;
        if (validSplit > 0 && count < 2)
            throw new ArgumentException($"{corpus.Path} holds {count} document, and a validation split needs at least 2 " +
                                        "(separate entries with lines holding only %, or paragraphs with blank lines), or use a split of 0", nameof(validSplit));
        var (documents, report) = TokenCache.Tokens(corpus, tokenizer, cacheFolder);
        var held = validSplit > 0 ? Math.Clamp((int)Math.Round(count * validSplit), 1, count - 1) : 0;
        var order = new BatchOrder(count, 1, seed).Order(0);
        var validation = order[(count - held)..].Order().ToArray();
        var training = order[..(count - held)].Order().ToArray();
        var train = new TextDataset(Concat(documents, training), context, tokenizer.VocabularySize, sampling);
        TextDataset? valid = null;
        if (held > 0)
        {
            var tokens = Concat(documents, validation);
            if (tokens.Length <= context)
                throw new ArgumentException($"the {held} held-out documents hold {tokens.Length} tokens, too few for one window of {context} and the token after it: " +
                                            "use a larger validation split, more text or a shorter context", nameof(validSplit));
            valid = new TextDataset(tokens, context, tokenizer.VocabularySize, TextSampling.Sequential);
        }
        return new TextData(train, valid, tokenizer, report, training.Length, held);
    }

    private static int[] Concat(int[][] documents, int[] which)
    {
        var result = new int[which.Sum(d => (long)documents[d].Length)];
        var at = 0;
        foreach (var d in which)
        {
            documents[d].CopyTo(result, at);
            at += documents[d].Length;
        }
        return result;
    }
}
