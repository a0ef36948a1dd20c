using System.Diagnostics;
using System.Runtime.CompilerServices;
using Functional.Text;

namespace Functional.Generation;

/// <summary>Why a generation ended.</summary>
public enum GenerationEnd
{
    /// <summary>Still running, or never enumerated.</summary>
    NotEnded,

    /// <summary><see cref="GenerationOptions.MaxTokens"/> tokens were produced.</summary>
    MaxTokens,

    /// <summary>A stop text appeared (<see cref="GenerationOptions.Stop"/>).</summary>
    StopText,
}

/// <summary>
/// One generation (<see cref="TextGenerator.Start(string, GenerationOptions?)"/>): enumerate it for the continuation's text, piece by
/// piece; afterwards it tells what happened. Enumerate it once.
/// </summary>
public sealed class GenerationRun : IAsyncEnumerable<string>
{
    private readonly TextGenerator generator;
    private readonly int[] prompt;
    private readonly GenerationOptions options;
    private int started;

    /// <summary>Held while the run is enumerated (a <see cref="Serving.Predictor"/>'s call, so that disposing it
    /// waits for the run to end); null: nothing to hold.</summary>
    internal Func<IDisposable>? Lease { get; init; }

    internal GenerationRun(TextGenerator generator, int[] prompt, GenerationOptions options)
    {
        this.generator = generator;
        this.prompt = prompt;
        this.options = options;
    }

    /// <summary>Tokens in the prompt (an empty prompt is one line break).</summary>
    public int PromptTokens => prompt.Length;

    /// <summary>Tokens produced so far.</summary>
    public int GeneratedTokens { get; private set; }

    /// <summary>The seed the tokens were sampled from (the options' or a random one); known once started.</summary>
    public int? Seed { get; private set; }

    /// <summary>Why it ended.</summary>
    public GenerationEnd End { get; private set; }

    /// <summary>From the start to the first token (the prompt's pass).</summary>
    public TimeSpan TimeToFirstToken { get; private set; }

    /// <summary>From the start to the last token.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>The continuation's text, asynchronously: each token is computed on the thread pool.</summary>
    public async IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        using var pieces = Pieces(cancellationToken).GetEnumerator();
        while (await Task.Run(pieces.MoveNext, cancellationToken).ConfigureAwait(false))
            yield return pieces.Current;
    }

    internal IAsyncEnumerable<string> WithToken(CancellationToken cancellation) => new Bound(this, cancellation);

    /// <summary>The pieces of text, synchronously; empty pieces (a token that ends inside a character) are skipped.</summary>
    internal IEnumerable<string> Pieces(CancellationToken cancellation)
    {
        if (Interlocked.Exchange(ref started, 1) != 0) throw new InvalidOperationException("a generation can be enumerated once; start another");
        using var lease = Lease?.Invoke();
        var clock = Stopwatch.StartNew();
        var decoder = generator.Tokenizer.NewDecoder();
        var stop = new StopText(options.Stop);
        using var tokens = generator.Tokens(prompt, options, out var seed, cancellation).GetEnumerator();
        Seed = seed;
        while (GeneratedTokens < options.MaxTokens && tokens.MoveNext())
        {
            GeneratedTokens++;
            Elapsed = clock.Elapsed;
            if (GeneratedTokens == 1) TimeToFirstToken = Elapsed;
            var piece = stop.Add(decoder.Push(tokens.Current));
            if (piece.Length > 0) yield return piece;
            if (stop.Stopped)
            {
                End = GenerationEnd.StopText;
                yield break;
            }
        }
        var rest = stop.Add(decoder.Flush());
        if (stop.Stopped) End = GenerationEnd.StopText;
        else
        {
            rest += stop.Flush();
            End = GenerationEnd.MaxTokens;
        }
        if (rest.Length > 0) yield return rest;
    }

    /// <summary>The run enumerated with a token given up front (<see cref="TextGenerator.GenerateAsync"/>).</summary>
    private sealed class Bound(GenerationRun run, CancellationToken token) : IAsyncEnumerable<string>
    {
        public async IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
            await foreach (var piece in run.WithCancellation(linked.Token).ConfigureAwait(false))
                yield return piece;
        }
    }
}
