using Functional.Data;
using TorchSharp;

namespace Functional.Text;

/// <summary>
/// Windows of <see cref="Context"/> tokens of a text, for a language model: an example's features are the window's
/// token ids (float32 <c>[context]</c>, as token data sets feed), its targets the same window one token later
/// (class indices <c>[context]</c>, one per position, of <see cref="ClassCount"/> = the vocabulary), so crossEntropy
/// trains every position to predict the next token.
/// </summary>
public sealed class TextDataset : IDataset
{
    private readonly int[] tokens;

    /// <summary>Windows over <paramref name="tokens"/> (which it keeps; do not change them).</summary>
    /// <param name="tokens">the token ids of the text, in order</param>
    /// <param name="context">tokens per window (the model's input length)</param>
    /// <param name="vocabularySize">the tokenizer's vocabulary: every id must be below it</param>
    /// <param name="sampling">every offset (Random) or non-overlapping windows (Sequential)</param>
    /// <exception cref="ArgumentException">the text is shorter than one window and its next token, or an id is out of range</exception>
    public TextDataset(int[] tokens, int context, int vocabularySize, TextSampling sampling = TextSampling.Random)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        if (tokens.Length <= context)
            throw new ArgumentException($"the text has {tokens.Length} tokens, too few for one window of {context} tokens and the token after it: " +
                                        "give more text or a shorter context", nameof(tokens));
        for (var i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)vocabularySize)
                throw new ArgumentException($"token {i + 1} is {tokens[i]}, outside the vocabulary of {vocabularySize}", nameof(tokens));
        this.tokens = tokens;
        Context = context;
        ClassCount = vocabularySize;
        Sampling = sampling;
        Count = sampling == TextSampling.Random ? tokens.Length - context : (tokens.Length - 1) / context;
    }

    /// <summary>Tokens per window.</summary>
    public int Context { get; }

    /// <summary>How the windows are taken.</summary>
    public TextSampling Sampling { get; }

    /// <summary>The text's length in tokens.</summary>
    public int TokenCount => tokens.Length;

    /// <summary>How many examples an epoch should see: the text's length in windows (<c>tokens / context</c>) when every
    /// offset is an example (so an epoch reads about the text once), else <see cref="Count"/>.</summary>
    public int ExamplesPerEpoch => Sampling == TextSampling.Random ? Math.Max(1, tokens.Length / Context) : Count;

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public int[] FeatureShape => [Context];

    /// <inheritdoc/>
    public TargetKind TargetKind => TargetKind.ClassIndex;

    /// <inheritdoc/>
    public int[] TargetShape => [Context];

    /// <inheritdoc/>
    public int? ClassCount { get; }

    /// <inheritdoc/>
    public Batch ReadBatch(ReadOnlySpan<int> indices)
    {
        BatchTensors.CheckIndices(indices, Count);
        var x = new float[indices.Length * Context];
        var y = new long[indices.Length * Context];
        for (var i = 0; i < indices.Length; i++)
        {
            var start = Sampling == TextSampling.Random ? indices[i] : indices[i] * Context;
            for (var j = 0; j < Context; j++)
            {
                x[i * Context + j] = tokens[start + j];
                y[i * Context + j] = tokens[start + j + 1];
            }
        }
        var features = BatchTensors.Floats(x, indices.Length, [Context]);
        return new Batch(features, torch.tensor(y, [indices.Length, Context], torch.ScalarType.Int64));
    }

    /// <summary>Nothing to free: the tokens are managed memory.</summary>
    public void Dispose() { }
}
