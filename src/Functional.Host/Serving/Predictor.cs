using System.Runtime.InteropServices;
using Functional.Checkpoints;
using Functional.Data;
using Functional.Generation;
using Functional.Networks;
using TorchSharp;

namespace Functional.Serving;

/// <summary>
/// A trained network loaded once for serving: inference only, safe for any number of concurrent callers. Load it
/// at start-up, share it, dispose it at shutdown (or when a new checkpoint replaces it: disposing waits for the
/// calls in flight).
/// </summary>
/// <remarks>
/// <para>How it is safe: the weights are read-only after loading (nothing can train, load or move them: the
/// predictor owns its network and exposes none of that), and everything a call changes is its own: its dispose
/// scope, its gradient mode (thread-local in libtorch), its pass's context (inference mode is given to every pass,
/// never switched on the shared module). So calls run side by side over one copy of the weights, with no lock: the
/// only shared write is an interlocked count of calls in flight. A pool of copies would multiply the weights'
/// memory and buys nothing here: libtorch's operators read shared weights safely from many threads.</para>
/// <para>Every input is checked before libtorch sees it (<see cref="InvalidInputException"/>): the number of examples,
/// each one's length against the model's input shape, NaN and infinite values (<see cref="PredictorOptions.NonFinite"/>),
/// token ids against the vocabulary, a prompt's length and the tokens asked for.</para>
/// </remarks>
public sealed class Predictor : IDisposable
{
    private readonly Network network;
    private readonly PredictorOptions options;
    private readonly CallGate gate;
    private readonly MicroBatcher? batcher;
    private readonly TextGenerator? generator;
    private readonly string? notLanguageModel;

    private Predictor(Network network, PredictorOptions options, string checkpointDirectory, CheckpointStamp? stamp)
    {
        this.network = network;
        this.options = options;
        CheckpointDirectory = checkpointDirectory;
        Stamp = stamp;
        gate = new CallGate(options.MaxConcurrentCalls);
        try
        {
            generator = new TextGenerator(network);
        }
        catch (ArgumentException e)
        {
            notLanguageModel = e.Message;
        }
        ClassNames = options.ClassNames ?? network.ClassNames;
        if (options.ClassNames is { } names && OutputScores() != names.Count)
            throw new ArgumentOutOfRangeException(nameof(options.ClassNames), names.Count,
                $"{names.Count} class names were given, but {network.Name} outputs {network.Compiled.Model.Output}");
        if (options.MicroBatching is { } batching) batcher = new MicroBatcher(Run, batching);
    }

    /// <summary>
    /// Loads the network <paramref name="fnnPath"/> declares with the weights of <paramref name="checkpointDirectory"/>
    /// (as <see cref="Network.Load"/> does: the model the checkpoint records, its hyperparameters, class names and
    /// tokenizer).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">an option is out of range</exception>
    /// <exception cref="FileNotFoundException">no such file, or the folder is not a checkpoint</exception>
    /// <exception cref="FnnCompileException">the source has errors</exception>
    /// <exception cref="CheckpointMismatchException">the weights do not fit the model</exception>
    /// <exception cref="CheckpointFormatException">a file of the checkpoint is malformed</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled</exception>
    public static Predictor Load(string fnnPath, string checkpointDirectory, PredictorOptions? options = null,
        CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fnnPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointDirectory);
        options ??= new PredictorOptions();
        options.Validate();
        // Read before the files are: a checkpoint replaced while loading shows as a change afterwards.
        var stamp = CheckpointStamp.Read(checkpointDirectory);
        var network = Network.Load(fnnPath, checkpointDirectory, new NetworkLoadOptions
        {
            Device = options.Device,
            Precision = options.Precision,
            Adapter = options.Adapter,
            RequireUnchangedSource = options.RequireUnchangedSource,
        }, cancellation);
        try
        {
            return new Predictor(network, options, Path.GetFullPath(checkpointDirectory), stamp);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a checkpoint with the source its <c>model.json</c> names (<c>source</c>, a file name), found in the current
    /// folder or beside the checkpoint folder, and required to be unchanged (its SHA-256 is the one model.json records).
    /// </summary>
    /// <exception cref="FileNotFoundException">the folder is not a checkpoint, or its source is in neither place</exception>
    /// <exception cref="SourceChangedException">the source has changed since the checkpoint was written</exception>
    public static Predictor Load(string checkpointDirectory, PredictorOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointDirectory);
        var metadata = Checkpoint.ReadMetadata(CheckpointFolder.Newest(checkpointDirectory));
        var beside = Path.GetDirectoryName(CheckpointFolder.FullPath(checkpointDirectory)) ?? ".";
        var candidates = new[] { metadata.Source, Path.Combine(beside, Path.GetFileName(metadata.Source)) };
        var source = candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"{checkpointDirectory} was trained from {metadata.Source} ({Checkpoint.MetadataFile}'s source), which is neither in the current folder nor in {beside}: give the .fnn file too",
                metadata.Source);
        return Load(source, checkpointDirectory, (options ?? new PredictorOptions()) with { RequireUnchangedSource = true }, cancellation);
    }

    /// <summary>The model's name.</summary>
    public string Name => network.Name;

    /// <summary>The model: its shapes, hyperparameters and parameters.</summary>
    public ModelInfo Model => network.Model;

    /// <summary>The checkpoint folder the weights came from (a full path).</summary>
    public string CheckpointDirectory { get; }

    /// <summary>The checkpoint's files as they were when loading began (compare with <see cref="CheckpointStamp.Read"/>
    /// to see whether they have been replaced since); null when they could not be read then.</summary>
    public CheckpointStamp? Stamp { get; }

    /// <summary>What loading noticed that is not an error (a changed source).</summary>
    public IReadOnlyList<string> Warnings => network.Warnings;

    /// <summary>The settings it was loaded with.</summary>
    public PredictorOptions Options => options;

    /// <summary>The name of each class index: the options' (<see cref="PredictorOptions.ClassNames"/>), else the
    /// checkpoint's; null when neither names them.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Whether the model is a classifier whose classes have names: its output is one score per named class.</summary>
    public bool IsClassifier => ClassNames is { Count: > 0 } names && OutputScores() == names.Count;

    /// <summary>The number of values of an output that is one vector of known length; null for other outputs.</summary>
    private int? OutputScores() =>
        network.Compiled.Model.Output.Dims is { Length: 1 } dims && dims.Head is Lang.Checking.Dim.Known { Item: var n } ? n : null;

    /// <summary>Whether <see cref="Generate"/> can be used: the model is a language model with a tokenizer.</summary>
    public bool CanGenerate => generator is not null;

    /// <summary>The longest prompt <see cref="Generate"/> accepts, in tokens.</summary>
    public int MaxPromptTokens => options.MaxPromptTokens ?? generator?.ContextLength ?? 1024;

    /// <summary>The tokenizer of a language model; null for other models.</summary>
    public Text.Tokenizer? Tokenizer => generator?.Tokenizer;

    /// <summary>The output for one example (its values in row-major order).</summary>
    /// <exception cref="InvalidInputException">the input does not fit the model</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled before the call ran</exception>
    /// <exception cref="ObjectDisposedException">the predictor was disposed</exception>
    public float[] Predict(float[] input, CancellationToken cancellation = default) => Predict([input], cancellation)[0];

    /// <summary>The outputs for several examples, computed as one batch on the calling thread (never micro-batched).</summary>
    /// <exception cref="InvalidInputException">no examples, too many, or one that does not fit the model</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled before the call ran</exception>
    /// <exception cref="ObjectDisposedException">the predictor was disposed</exception>
    public float[][] Predict(IReadOnlyList<float[]> inputs, CancellationToken cancellation = default)
    {
        CheckCount(inputs);
        cancellation.ThrowIfCancellationRequested();
        Enter();
        try
        {
            gate.WaitSlot(cancellation);
            try
            {
                using var scope = torch.NewDisposeScope();
                return Run(Inputs(inputs), inputs.Count);
            }
            finally
            {
                gate.ReleaseSlot();
            }
        }
        finally
        {
            gate.Exit();
        }
    }

    /// <summary>The output for one example, asynchronously: gathered with concurrent calls into one pass when
    /// <see cref="PredictorOptions.MicroBatching"/> is on, else computed on the thread pool.</summary>
    /// <exception cref="InvalidInputException">the input does not fit the model (thrown before the task starts)</exception>
    public async Task<float[]> PredictAsync(float[] input, CancellationToken cancellation = default) =>
        (await PredictAsync([input], cancellation).ConfigureAwait(false))[0];

    /// <summary>The outputs for several examples, asynchronously (see <see cref="PredictAsync(float[], CancellationToken)"/>);
    /// a call's examples stay in one pass.</summary>
    /// <exception cref="InvalidInputException">no examples, too many, or one that does not fit the model (thrown before the task starts)</exception>
    public Task<float[][]> PredictAsync(IReadOnlyList<float[]> inputs, CancellationToken cancellation = default)
    {
        CheckCount(inputs);
        if (cancellation.IsCancellationRequested) return Task.FromCanceled<float[][]>(cancellation);
        Enter();
        try
        {
            if (batcher is null) return Computed(inputs, cancellation);
            torch.Tensor x;
            using (var scope = torch.NewDisposeScope())
                x = Inputs(inputs).DetachFromDisposeScope();
            return Held(batcher.Enqueue(x, inputs.Count, cancellation));
        }
        catch
        {
            gate.Exit();
            throw;
        }
    }

    private async Task<float[][]> Computed(IReadOnlyList<float[]> inputs, CancellationToken cancellation)
    {
        try
        {
            await gate.WaitSlotAsync(cancellation).ConfigureAwait(false);
            try
            {
                return await Task.Run(() =>
                {
                    using var scope = torch.NewDisposeScope();
                    return Run(Inputs(inputs), inputs.Count);
                }, cancellation).ConfigureAwait(false);
            }
            finally
            {
                gate.ReleaseSlot();
            }
        }
        finally
        {
            gate.Exit();
        }
    }

    private async Task<float[][]> Held(Task<float[][]> batched)
    {
        try
        {
            return await batched.ConfigureAwait(false);
        }
        finally
        {
            gate.Exit();
        }
    }

    /// <summary>The class <paramref name="output"/> scores highest, with its name; null when the model is not a
    /// classifier with named classes (<see cref="IsClassifier"/>).</summary>
    public ClassPrediction? TopClass(float[] output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!IsClassifier || output.Length != ClassNames!.Count) return null;
        var best = 0;
        for (var i = 1; i < output.Length; i++)
            if (output[i] > output[best]) best = i;
        return new ClassPrediction(best, ClassNames[best], output[best]);
    }

    /// <summary>
    /// A generation from <paramref name="prompt"/>, checked now and computed as it is enumerated (see
    /// <see cref="TextGenerator.Start(string, GenerationOptions?)"/>); disposing the predictor waits for runs being enumerated to end.
    /// </summary>
    /// <exception cref="InvalidOperationException">the model is not a language model with a tokenizer (<see cref="CanGenerate"/>)</exception>
    /// <exception cref="InvalidInputException">the prompt is longer than <see cref="MaxPromptTokens"/> tokens or cannot be
    /// encoded, more tokens are asked for than <see cref="PredictorOptions.MaxNewTokens"/>, or an option is out of range</exception>
    /// <exception cref="ObjectDisposedException">the predictor was disposed</exception>
    public GenerationRun Generate(string prompt, GenerationOptions? generation = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (generator is null) throw new InvalidOperationException($"{Name} cannot generate text: {notLanguageModel}");
        ObjectDisposedException.ThrowIf(gate.IsClosed, this);
        generation ??= new GenerationOptions();
        if (generation.MaxTokens > options.MaxNewTokens)
            throw new InvalidInputException($"{generation.MaxTokens} new tokens were asked for; at most {options.MaxNewTokens} are allowed", "tokens");
        GenerationRun run;
        try
        {
            run = generator.Start(prompt, generation, () => gate.Lease() ?? throw new ObjectDisposedException(nameof(Predictor)));
        }
        catch (ArgumentException e) when (e is not InvalidInputException)
        {
            throw new InvalidInputException(e.Message, e.ParamName, e);
        }
        if (run.PromptTokens > MaxPromptTokens)
            throw new InvalidInputException($"the prompt is {run.PromptTokens} tokens long; at most {MaxPromptTokens} are allowed", nameof(prompt));
        return run;
    }

    private void CheckCount(IReadOnlyList<float[]> inputs)
    {
        if (inputs is null) throw new InvalidInputException("no inputs were given", nameof(inputs));
        if (inputs.Count == 0) throw new InvalidInputException("there are no examples: give at least one input", nameof(inputs));
        if (inputs.Count > options.MaxExamplesPerCall)
            throw new InvalidInputException($"{inputs.Count} examples were given; at most {options.MaxExamplesPerCall} are allowed in one call", nameof(inputs));
    }

    private void Enter()
    {
        if (!gate.TryEnter()) throw new ObjectDisposedException(nameof(Predictor));
    }

    /// <summary>The model's input for the rows, checked (a new tensor in the current dispose scope).</summary>
    private torch.Tensor Inputs(IReadOnlyList<float[]> inputs)
    {
        try
        {
            return ExampleTensors.Inputs(network.Compiled, inputs, options.NonFinite == NonFiniteInputs.Allow);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException(e.Message.Replace($" (Parameter '{e.ParamName}')", ""), nameof(inputs), e);
        }
    }

    /// <summary>One forward pass in inference mode, without gradients, in its own dispose scope; the rows of its output.</summary>
    private float[][] Run(torch.Tensor x, int count)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var module = network.Compiled;
        torch.Tensor output;
        try
        {
            // The pass's context says inference (dropout off, batch norm's running statistics): the module's mode is never switched.
            output = module.Run(module.GenerationContext(null!), x).to(torch.ScalarType.Float32).cpu().contiguous();
        }
        catch (ExternalException e)
        {
            throw EngineException.From(e, $"predicting with {Name}");
        }
        var flat = output.data<float>().ToArray();
        var size = flat.Length / count;
        var rows = new float[count][];
        for (var i = 0; i < count; i++) rows[i] = flat.AsSpan(i * size, size).ToArray();
        return rows;
    }

    /// <summary>Waits for the calls in flight (and generations being enumerated), then frees the weights. Calling it again does nothing.</summary>
    public void Dispose()
    {
        if (!gate.Close()) return;
        batcher?.Complete();
        network.Dispose();
    }
}
