using Functional.Generation;
using Functional.Serving;
using Microsoft.Extensions.Logging;

namespace Functional.Hosting;

/// <summary>
/// One named model of a service: the <see cref="Predictor"/> loaded now, swapped for a new one when its checkpoint is
/// replaced. A call holds the predictor it started on until it ends, so that a swap never cuts one short: calls in
/// flight finish on the old weights, later ones start on the new, and the old predictor is freed once its last call
/// ends.
/// </summary>
public sealed class ServedModel
{
    private readonly ILogger logger;
    private Predictor? current;
    private volatile string? error;
    private volatile string? reloadError;
    private int reloads;

    internal ServedModel(string name, FunctionalModelOptions options, ILogger logger)
    {
        Name = name;
        Settings = options;
        this.logger = logger;
    }

    /// <summary>Its name: the <c>{name}</c> of <c>Functional:Models:{name}</c> and of <c>/models/{name}/...</c>.</summary>
    public string Name { get; }

    /// <summary>Its settings, as bound from configuration and code.</summary>
    public FunctionalModelOptions Settings { get; }

    /// <summary>Loading, ready, or failed.</summary>
    public ModelState State => Volatile.Read(ref current) is not null ? ModelState.Ready : error is null ? ModelState.Loading : ModelState.Failed;

    /// <summary>Why its first load failed; null otherwise.</summary>
    public string? Error => error;

    /// <summary>Why the latest reload failed (the model answers on with the weights it had); null when it did not.</summary>
    public string? ReloadError => reloadError;

    /// <summary>How many times a replaced checkpoint has been loaded.</summary>
    public int Reloads => Volatile.Read(ref reloads);

    /// <summary>The predictor loaded now. A call should go through <see cref="Use{T}"/> (or the members here), which
    /// holds it: one read from here may be replaced and freed while it is used.</summary>
    /// <exception cref="ModelNotReadyException">not loaded (yet)</exception>
    public Predictor Predictor => Volatile.Read(ref current) ?? throw NotReady();

    /// <summary>
    /// Runs <paramref name="call"/> on the predictor loaded now, held for the call's whole length (a swap waits
    /// for it to end before freeing that predictor).
    /// </summary>
    /// <exception cref="ModelNotReadyException">not loaded (yet)</exception>
    public async Task<T> Use<T>(Func<Predictor, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        while (true)
        {
            var predictor = Predictor;
            try
            {
                return await call(predictor).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (!ReferenceEquals(predictor, Volatile.Read(ref current)))
            {
                // Swapped out between reading it and the call's start: the call never ran; run it on the new one.
            }
        }
    }

    /// <summary>The outputs for <paramref name="inputs"/> (see <see cref="Predictor.PredictAsync(IReadOnlyList{float[]}, CancellationToken)"/>).</summary>
    /// <exception cref="InvalidInputException">an input does not fit the model</exception>
    /// <exception cref="ModelNotReadyException">not loaded (yet)</exception>
    public Task<float[][]> PredictAsync(IReadOnlyList<float[]> inputs, CancellationToken cancellation = default) =>
        Use(p => p.PredictAsync(inputs, cancellation));

    /// <summary>A generation (see <see cref="Predictor.Generate"/>), checked now; a swap waits for it to be enumerated to its end.</summary>
    /// <exception cref="InvalidInputException">the prompt or a setting is refused</exception>
    /// <exception cref="InvalidOperationException">the model cannot generate text</exception>
    /// <exception cref="ModelNotReadyException">not loaded (yet)</exception>
    public GenerationRun Generate(string prompt, GenerationOptions? options = null)
    {
        while (true)
        {
            var predictor = Predictor;
            try
            {
                return predictor.Generate(prompt, options);
            }
            catch (ObjectDisposedException) when (!ReferenceEquals(predictor, Volatile.Read(ref current))) { }
        }
    }

    private ModelNotReadyException NotReady() => new(Name, State, error);

    /// <summary>Puts <paramref name="loaded"/> in place and frees the one it replaces once its calls have ended.</summary>
    internal void Swap(Predictor loaded)
    {
        var old = Interlocked.Exchange(ref current, loaded);
        reloadError = null;
        if (old is null) return;
        Interlocked.Increment(ref reloads);
        // Disposing waits for the old predictor's calls in flight: not on the caller's thread.
        _ = Task.Run(() =>
        {
            old.Dispose();
            logger.LogInformation("Model {Model}: the previous weights were freed after their last call", Name);
        });
    }

    internal void Failed(string message)
    {
        if (Volatile.Read(ref current) is null) error = message;
        else reloadError = message;
    }

    /// <summary>Frees the predictor at shutdown, after its calls in flight.</summary>
    internal void Close() => Interlocked.Exchange(ref current, null)?.Dispose();
}
