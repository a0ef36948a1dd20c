using System.Runtime.CompilerServices;
using Functional.Networks;
using Functional.Text;

namespace Functional.Generation;

/// <summary>
/// Generates text from a trained language model (a model from token ids <c>[seq] int</c> to a score for every
/// token at each position, <c>[seq; vocab]</c>) with its tokenizer: streamed as pieces of text, sampled by
/// <see cref="GenerationOptions"/>. Several generations may run at once (each holds the network as a reader
/// for one token at a time, so training or loading waits between tokens, never inside one).
/// </summary>
/// <remarks>
/// The model sees at most <see cref="ContextLength"/> tokens: a longer prompt is seen through its last ones,
/// and once the text outgrows the context each token is predicted from the last <see cref="ContextLength"/>
/// tokens (nanoGPT's crop), with or without the cache.
/// </remarks>
public sealed class TextGenerator
{
    private readonly Network network;
    private readonly LanguageModelShape shape;

    /// <summary>A generator for <paramref name="network"/>, encoding and decoding with <paramref name="tokenizer"/>
    /// (null: the network's own, <see cref="Network.Tokenizer"/>, saved with its checkpoint).</summary>
    /// <exception cref="ArgumentException">the model is not a language model, or there is no tokenizer</exception>
    public TextGenerator(Network network, Tokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        this.network = network;
        shape = LanguageModelShape.Of(network.Compiled.Model);
        Tokenizer = tokenizer ?? network.Tokenizer
                    ?? throw new ArgumentException(
                        $"{network.Name} has no tokenizer: train it on text (fnn train --text) so that its checkpoint carries one, or pass one", nameof(tokenizer));
        if (Tokenizer.VocabularySize > shape.Vocabulary)
            throw new ArgumentException(
                $"the {Tokenizer.Kind} tokenizer has {Tokenizer.VocabularySize} tokens but {network.Name} scores {shape.Vocabulary}", nameof(tokenizer));
    }

    /// <summary>How text becomes tokens and back.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The most tokens the model sees at once; null when nothing in the model bounds it.</summary>
    public int? ContextLength => shape.Context;

    /// <summary>Null when generation can keep keys and values between tokens; else why not (the first layer
    /// that mixes positions in another way, with its place in the source).</summary>
    public string? CacheUnavailableReason => shape.CacheUnavailableReason;

    /// <summary>
    /// The continuation of <paramref name="prompt"/> (not the prompt itself), piece by piece as it is produced.
    /// An empty prompt starts from a line break, as nanoGPT's sampling does.
    /// </summary>
    /// <exception cref="ArgumentException">the prompt holds text the tokenizer cannot encode, or an option is out of range</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled</exception>
    public IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellation = default) =>
        Start(prompt, options).WithToken(cancellation);

    /// <summary>The whole continuation of <paramref name="prompt"/> at once (see <see cref="GenerateAsync"/>).</summary>
    public string Generate(string prompt, GenerationOptions? options = null, CancellationToken cancellation = default)
    {
        var run = Start(prompt, options);
        return string.Concat(run.Pieces(cancellation));
    }

    /// <summary>
    /// A generation to enumerate (asynchronously) that also reports what it did: tokens in the prompt and
    /// produced, the seed, why it ended and how long it took.
    /// </summary>
    /// <exception cref="ArgumentException">the prompt holds text the tokenizer cannot encode, or an option is out of range</exception>
    public GenerationRun Start(string prompt, GenerationOptions? options = null) => Start(prompt, options, null);

    /// <summary><see cref="Start(string, GenerationOptions?)"/>, holding <paramref name="lease"/>'s lease while the run is enumerated.</summary>
    internal GenerationRun Start(string prompt, GenerationOptions? options, Func<IDisposable>? lease)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerationOptions();
        options.Validate();
        var ids = Tokenizer.Encode(prompt.Length == 0 ? "\n" : prompt);
        return new GenerationRun(this, ids, options) { Lease = lease };
    }

    /// <summary>
    /// The ids of up to <see cref="GenerationOptions.MaxTokens"/> new tokens after <paramref name="prompt"/>'s ids
    /// (stop texts are a matter of text: see <see cref="GenerateAsync"/>). For callers with their own tokenizer.
    /// </summary>
    /// <exception cref="ArgumentException">the prompt is empty or holds an id outside the tokenizer's vocabulary</exception>
    public IReadOnlyList<int> GenerateIds(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerationOptions();
        options.Validate();
        var ids = CheckedIds(prompt);
        return Tokens(ids, options, out _, cancellation).Take(options.MaxTokens).ToList();
    }

    internal int[] CheckedIds(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        for (var i = 0; i < prompt.Count; i++)
            if ((uint)prompt[i] >= (uint)Tokenizer.VocabularySize)
                throw new ArgumentException(
                    $"the prompt's token {i + 1} is {prompt[i]}, but the {Tokenizer.Kind} tokenizer's ids are 0 to {Tokenizer.VocabularySize - 1}", nameof(prompt));
        return [.. prompt];
    }

    /// <summary>The endless stream of tokens after <paramref name="prompt"/>, with the seed it was sampled from.</summary>
    internal IEnumerable<int> Tokens(int[] prompt, GenerationOptions options, out int seed, CancellationToken cancellation)
    {
        seed = options.Seed ?? Random.Shared.Next();
        var loop = new TokenLoop(network, shape, Tokenizer.VocabularySize);
        return loop.Tokens(prompt, new TokenSampler(options, seed), options.UseCache, cancellation);
    }
}
