using Functional.Checkpoints;
using Functional.Data;
using Functional.Lang.Checking;
using Loss = Functional.Training.Loss;
using Functional.Lang.Compilation;
using Functional.Training;
using TorchSharp;

namespace Functional.Networks;

/// <summary>
/// A compiled network with its weights in native memory: predict, train, evaluate, save. Dispose it to
/// free that memory.
/// </summary>
/// <remarks>
/// Safe to share between threads. Calls that only read the weights (<see cref="Predict(IReadOnlyList{float[]})"/>,
/// <c>Evaluate</c>, <see cref="Parameters"/>, <see cref="ParameterCount"/>, <see cref="Save"/>) run at the same
/// time as one another; calls that change the weights or free them (<c>Train</c>, <c>Fit</c>,
/// <see cref="LoadWeights"/>, <see cref="Dispose"/>) run alone, waiting for the readers to finish, and leave
/// the network in inference mode, so that readers never switch modes. Once disposed, every member throws
/// <see cref="ObjectDisposedException"/>, on every thread.
/// </remarks>
public sealed class Network : IDisposable
{
    // Recursive, so that a progress callback of Train or Fit may read (predict, save) on the training
    // thread. Never disposed itself: a thread may still be waiting on it when the network is disposed,
    // and it holds no native memory.
    private readonly ReaderWriterLockSlim gate = new(LockRecursionPolicy.SupportsRecursion);
    private readonly CompiledModel module;
    private readonly FnnFile source;
    private NetworkOptions options;
    private volatile bool disposed;
    private IReadOnlyList<string>? classNames;
    private volatile Text.Tokenizer? tokenizer;
    // The SHA-256 of the weights file the network started from or was loaded from: an adapter records it.
    private string? baseWeightsSha256;
    // With adapters: the base parameters a run trained beside them (saved with the adapter).
    private readonly HashSet<string> trainedBase = [];

    internal Network(CompiledModel module, FnnFile source, NetworkOptions options)
    {
        this.module = module;
        this.source = source;
        this.options = options;
        module.eval();
    }

    /// <summary>The TorchSharp module, for scripts and advanced use (its state_dict keys are the parameter paths).</summary>
    /// <remarks>Using it bypasses the network's locking: do not change it while other threads use the network.
    /// It is a <c>Functional.Lang.Compilation.CompiledModel</c>, for F# tools that walk it by layer.</remarks>
    public torch.nn.Module<torch.Tensor, torch.Tensor> Module => Alive(module);

    /// <summary>The compiled model itself, for the host's own training and the benchmark.</summary>
    internal CompiledModel Compiled => Alive(module);

    /// <summary>The checked source the network was compiled from.</summary>
    public FnnFile Source => Alive(source);

    /// <summary>How the network was built: device, precision and seed (device and precision as moved by <see cref="To"/>).</summary>
    public NetworkOptions Options => Alive(options);

    /// <summary>
    /// The name of each class index the network was trained with: the training data's (a
    /// <see cref="Data.CsvDataset"/>'s <see cref="Data.CsvDataset.ClassNames"/>), saved in model.json and read back
    /// by <see cref="Load"/>. Open a test file with them (<see cref="Data.CsvOptions.ClassNames"/>) so that its labels
    /// mean what they meant in training. Null when the classes have no names.
    /// </summary>
    public IReadOnlyList<string>? ClassNames
    {
        get
        {
            ThrowIfDisposed();
            return classNames;
        }
    }

    /// <summary>
    /// The tokenizer that turns text into this network's input ids and its outputs back into text: saved as
    /// tokenizer.json beside model.json by <see cref="Save"/> (and by training checkpoints), read back by
    /// <see cref="Load"/> and <see cref="LoadWeights"/> (null when the checkpoint has none). Null until set.
    /// </summary>
    /// <exception cref="FnnCompileException">(set) the tokenizer has more ids than the model's first <c>embed</c> holds,
    /// or the model has no <c>embed</c>: the diagnostic points at it in the source (file:line:col)</exception>
    public Text.Tokenizer? Tokenizer
    {
        get
        {
            ThrowIfDisposed();
            return tokenizer;
        }
        set
        {
            ThrowIfDisposed();
            if (value is not null) TokenVocabulary.RequireFits(value, module, source);
            tokenizer = value;
        }
    }

    /// <summary>How many tokens the model reads at once, for a text's windows: its input length when its input is
    /// <c>[n] int</c>, else the longest sequence its <c>positional</c> (or <c>sinusoidal</c>) layers cover; null when
    /// neither says.</summary>
    public int? Context => TokenContext.Of(Alive(module));

    /// <summary>The model's name, as declared in the source.</summary>
    public string Name => Alive(module).Model.Name;

    /// <summary>The model the network was compiled from: its shapes, hyperparameters and parameters.</summary>
    public ModelInfo Model => Reading(() => ModelInfo.From(module.Model, ListParameters()));

    /// <summary>The parameters' paths, shapes and whether they train, in registration order.</summary>
    public IReadOnlyList<ParameterInfo> Parameters => Reading(ListParameters);

    /// <summary>What loading noticed that is not an error (see <see cref="FnnFile.Warnings"/>): for a network
    /// loaded by <see cref="Load"/>, that its source has changed since the checkpoint was written.</summary>
    public IReadOnlyList<string> Warnings => Alive(source).Warnings;

    private List<ParameterInfo> ListParameters() =>
        module.named_parameters().Select(p => new ParameterInfo(p.name, p.parameter.shape, p.parameter.requires_grad)).ToList();

    /// <summary>The number of values in all parameters (trainable and frozen).</summary>
    public long ParameterCount => Reading(() => module.parameters().Sum(p => p.numel()));

    /// <summary>
    /// Moves the weights (parameters and buffers, as a whole) to <paramref name="device"/> and
    /// <paramref name="precision"/>: the network computes as before, in the new precision, and trains on.
    /// The parameters are new objects afterwards: an optimizer built over the old ones must follow them
    /// (<see cref="Training.Optimization.TrainingOptimizer.Follow"/>); a run resumed from a checkpoint converts its optimizer state.
    /// </summary>
    public void To(Devices.ComputeDevice device, Precision precision)
    {
        ArgumentNullException.ThrowIfNull(device);
        Writing(() =>
        {
            module.To(device.ToTorch(), precision == Precision.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32);
            options = options with { Device = device, Precision = precision };
        });
    }

    /// <summary>
    /// Compiles the model a checkpoint was saved from, as it was trained (with the hyperparameters its
    /// <c>model.json</c> records, see <see cref="FnnFile.LoadForCheckpoint"/>), and loads its weights.
    /// </summary>
    /// <param name="fnnPath">the .fnn file the checkpoint was trained from</param>
    /// <param name="checkpointDirectory">a folder written by <see cref="Save"/>, <see cref="Fit"/> or <c>fnn train --out</c></param>
    /// <param name="options">device, precision, hyperparameters to check, and whether a changed source is refused</param>
    /// <param name="cancellation">stops the loading between its steps</param>
    /// <exception cref="FileNotFoundException">no such file, or the folder is not a checkpoint</exception>
    /// <exception cref="FnnCompileException">the source has errors</exception>
    /// <exception cref="ArgumentException">a given hyperparameter contradicts the recorded one</exception>
    /// <exception cref="SourceChangedException">the source changed and <see cref="NetworkLoadOptions.RequireUnchangedSource"/> is set</exception>
    /// <exception cref="CheckpointMismatchException">the weights do not fit the model</exception>
    /// <exception cref="CheckpointFormatException">a file of the checkpoint is malformed</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled</exception>
    public static Network Load(string fnnPath, string checkpointDirectory, NetworkLoadOptions? options = null,
        CancellationToken cancellation = default)
    {
        options ??= new NetworkLoadOptions();
        var file = FnnFile.LoadForCheckpoint(fnnPath, checkpointDirectory, options.Hyperparameters, options.RequireUnchangedSource);
        var directory = CheckpointFolder.Newest(checkpointDirectory);
        var metadata = Checkpoint.ReadMetadata(directory);
        var adapter = options.Adapter is { } adapterDirectory ? FineTuning.AdapterFile.ReadConfig(adapterDirectory) : null;
        if (adapter is not null && adapter.SourceSha256 != file.SourceHash)
        {
            var warning = $"{Path.GetFileName(file.Path)} has changed since the adapter in {options.Adapter} was trained (its SHA-256 differs from the one adapter_config.json records)";
            if (options.RequireUnchangedSource)
                throw new SourceChangedException(file.Path, options.Adapter!, adapter.SourceSha256, file.SourceHash);
            file = file.WithWarnings([.. file.Warnings, warning]);
        }
        cancellation.ThrowIfCancellationRequested();
        var networkOptions = new NetworkOptions
        {
            Device = options.Device,
            Precision = options.Precision ?? Checkpoint.PrecisionOf(metadata, Path.Combine(directory, Checkpoint.MetadataFile)),
            Lora = adapter is null ? null : FineTuning.Adapters.Options(adapter.Settings),
        };
        Network network;
        try
        {
            network = file.Compile(adapter?.Model ?? metadata.Model, networkOptions);
        }
        catch (ArgumentException e) when (adapter is not null && e.ParamName is nameof(FineTuning.LoraOptions.Targets) or "name")
        {
            // The adapter names a model or projections this source does not have: its config's fault, not the caller's.
            throw new CheckpointMismatchException(Path.Combine(options.Adapter!, FineTuning.AdapterFile.ConfigFile),
                $"{(e.ParamName == "name" ? "functional.model" : "target_modules")}: {e.Message.Split(" (Parameter")[0]}");
        }
        try
        {
            if (adapter is not null && adapter.Model != metadata.Model)
            {
                // An adapter of a model built on this checkpoint's (a new head): the base by path, the rest from the adapter.
                var mapping = network.StartFrom(directory, cancellation: cancellation);
                var uncovered = mapping.New.Where(p => !Lora.isAdapter(p) && !adapter.TrainedBase.Contains(p)).ToList();
                if (uncovered.Count > 0)
                    throw new CheckpointMismatchException(Path.Combine(options.Adapter!, FineTuning.AdapterFile.ConfigFile),
                        $"{adapter.Model} needs '{uncovered[0]}', which neither the checkpoint of {metadata.Model} nor the adapter holds");
            }
            else
            {
                network.LoadWeights(directory, cancellation);
                network.baseWeightsSha256 = FineTuning.AdapterFile.HashOf(Path.Combine(directory, Checkpoint.WeightsFile));
                network.classNames = metadata.Classes;
            }
            if (adapter is not null)
            {
                network.Writing(() => FineTuning.AdapterFile.LoadInto(network.module, adapter, options.Adapter!, network.baseWeightsSha256));
                network.trainedBase.UnionWith(adapter.TrainedBase);
            }
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts the network from another's trained weights, by path: each tensor of the checkpoint whose name (after
    /// <paramref name="keyMap"/>) is one of the network's paths is loaded; replaced parts (<c>Base with head = ...</c>),
    /// adapters and paths the checkpoint lacks keep their fresh values; the checkpoint's tokenizer, if any, becomes the
    /// network's. Returns the mapping (loaded, new, left out), which <c>fnn finetune</c> prints.
    /// </summary>
    /// <param name="checkpointDirectory">a checkpoint folder (of this model or another), or a <c>.safetensors</c> file of
    /// weights alone (a PyTorch state_dict saved with safetensors, whose names <paramref name="keyMap"/> maps)</param>
    /// <param name="keyMap">how the checkpoint's names become paths (a PyTorch state_dict's, say); null: as they are</param>
    /// <param name="cancellation">stops before any weight changes</param>
    /// <exception cref="FileNotFoundException">the folder holds no weights</exception>
    /// <exception cref="CheckpointMismatchException">a path's shape differs (naming it and both shapes), or no tensor matches</exception>
    /// <exception cref="CheckpointFormatException">the weights file is malformed, or holds NaN or infinite values</exception>
    /// <exception cref="FnnCompileException">the checkpoint's tokenizer has more ids than the model's <c>embed</c> holds</exception>
    public FineTuning.WeightMapping StartFrom(string checkpointDirectory, KeyMap? keyMap = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointDirectory);
        return Writing(() =>
        {
            var saved = FineTuning.StartingWeights.IsWeightsFile(checkpointDirectory) ? null
                : Text.Tokenizer.Load(CheckpointFolder.Newest(checkpointDirectory));
            if (saved is not null) TokenVocabulary.RequireFits(saved, module, source);
            var mapping = FineTuning.StartingWeights.Load(module, checkpointDirectory, keyMap, cancellation);
            if (saved is not null) tokenizer = saved;
            baseWeightsSha256 = mapping.WeightsSha256;
            return mapping;
        });
    }

    /// <summary>
    /// Which parameters a run with <paramref name="fineTuning"/> would train, checked as training checks it (a pattern
    /// that matches nothing is an error naming it, as is a run that would train nothing).
    /// </summary>
    /// <param name="fineTuning">the run's freezing and rates; null: every parameter trains (with adapters: only they)</param>
    /// <param name="epochs">the run's epochs, for the unfreeze epoch's check</param>
    /// <exception cref="ArgumentException">a pattern matches nothing, or nothing would train</exception>
    public FineTuning.TrainableSelection SelectTrainable(FineTuning.FineTuningOptions? fineTuning = null, int epochs = int.MaxValue) => Reading(() =>
    {
        var selection = FineTuning.TrainableParameters.Resolve(module, fineTuning, epochs);
        var frozen = selection.Frozen.ToHashSet();
        var all = module.Store.Parameters.Select(p => (Path: p.Item1, Count: p.Item2.numel())).ToList();
        var trained = all.Where(p => !frozen.Contains(p.Path)).ToList();
        return new FineTuning.TrainableSelection
        {
            Trained = trained.Select(p => p.Path).ToList(),
            Frozen = all.Where(p => frozen.Contains(p.Path)).Select(p => p.Path).ToList(),
            Adapters = all.Where(p => Lora.isAdapter(p.Path)).Select(p => p.Path).ToList(),
            UnfreezeAtEpoch = module.Lora is null ? fineTuning?.UnfreezeAtEpoch : null,
            LearningRates = selection.Rates,
            TrainedCount = trained.Sum(p => p.Count),
            TotalCount = all.Sum(p => p.Count),
        };
    });

    /// <summary>Whether the network carries LoRA adapters (<see cref="NetworkOptions.Lora"/>).</summary>
    public bool HasAdapters => Alive(module).Lora is not null;

    /// <summary>
    /// Writes the LoRA adapters (and the base parameters trained beside them) to <paramref name="directory"/> in PEFT's
    /// format: <c>adapter_model.safetensors</c> and <c>adapter_config.json</c>, which also names the base (model, source
    /// hash, weights hash, shapes) so that loading it onto another base is an error. A folder holding other files is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">the network carries no adapters</exception>
    /// <exception cref="IOException">the folder holds other files than an adapter's or a checkpoint's</exception>
    public void SaveAdapter(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Reading(() =>
        {
            FineTuning.AdapterFile.Save(module, source, baseWeightsSha256, options.Lora?.Targets ?? [], trainedBase, directory);
            tokenizer?.Save(directory);
        });
    }

    /// <summary>
    /// A new network without adapters whose weights are this one's with each adapter merged in
    /// (W + alpha / rank · B A, computed in float64, or float32 when <paramref name="inFloat64"/> is false, then cast):
    /// it computes what this one computes, in one matrix per projection. <paramref name="report"/> gives the largest
    /// difference between the two networks' outputs on a seeded probe batch. This network is not changed.
    /// </summary>
    /// <exception cref="InvalidOperationException">the network carries no adapters</exception>
    public Network MergeAdapter(out FineTuning.AdapterMerge report, bool inFloat64 = true)
    {
        var (merged, result) = Reading<(Network, FineTuning.AdapterMerge)>(() =>
        {
            var lora = module.Lora?.Value ?? throw new InvalidOperationException($"{module.Model.Name} carries no LoRA adapters to merge");
            var network = source.Compile(module.Model.Name, options with { Lora = null });
            try
            {
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var target = network.module.Store;
                foreach (var (path, tensor) in module.Store.StateDict())
                    if (!Lora.isAdapter(path)) target[path].Tensor.copy_(tensor);
                var precision = inFloat64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
                using var factor = Lora.scale(lora).ToScalar();
                foreach (var projection in lora.Projections)
                {
                    var weight = target[Lora.weightOf(projection)].Tensor;
                    var a = module.Store[Lora.aOf(projection)].Tensor.to(precision);
                    var b = module.Store[Lora.bOf(projection)].Tensor.to(precision);
                    weight.copy_(weight.to(precision).add(b.matmul(a), factor).to(weight.dtype));
                }
                const int probe = 4;
                var x = FineTuning.ProbeBatch.Make(module, probe, seed: 0);
                var adapted = module.Run(module.GenerationContext(null!), x).to(torch.ScalarType.Float64);
                var plain = network.module.Run(network.module.GenerationContext(null!), x).to(torch.ScalarType.Float64);
                var difference = adapted.sub(plain).abs().max().ToDouble();
                network.tokenizer = tokenizer;
                network.classNames = classNames;
                return (network, new FineTuning.AdapterMerge
                {
                    Projections = lora.Projections.ToList(),
                    Precision = inFloat64 ? "float64" : "float32",
                    MaxDifference = difference,
                    ProbeExamples = probe,
                });
            }
            catch
            {
                network.Dispose();
                throw;
            }
        });
        report = result;
        return merged;
    }

    /// <summary>The network's output for one example (its values in row-major order).</summary>
    public float[] Predict(float[] input) => Predict([input])[0];

    /// <summary>The network's outputs for several examples, computed as one batch.</summary>
    public float[][] Predict(IReadOnlyList<float[]> inputs) => Reading(() =>
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = ExampleTensors.Inputs(module, inputs);
        var output = module.forward(x).to(torch.ScalarType.Float32).cpu().contiguous();
        var flat = output.data<float>().ToArray();
        var size = flat.Length / inputs.Count;
        return Enumerable.Range(0, inputs.Count).Select(i => flat.AsSpan(i * size, size).ToArray()).ToArray();
    });

    /// <summary>The plan's loss over all its examples, with the current weights (in eval mode, as one batch).</summary>
    public double Evaluate(TrainingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var data = ExampleTensors.Dataset(Compiled.Model, plan.Inputs, plan.Targets);
        return Evaluate(data, plan.Loss, batchSize: data.Count).Loss;
    }

    /// <summary>
    /// Trains on the plan's own examples with its settings, which <paramref name="options"/> override, on the
    /// calling thread. Cancelling stops after the current step, weights intact; a NaN or infinite loss throws
    /// <see cref="TrainingDivergedException"/>.
    /// </summary>
    public TrainingResult Train(TrainingPlan plan, TrainingOptions? options = null,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Inputs.Count == 0)
            throw new ArgumentException($"the plan for {Name} has no examples: give it data, or train on a data set (Train(plan, train, validation))", nameof(plan));
        using var data = ExampleTensors.Dataset(Compiled.Model, plan.Inputs, plan.Targets);
        return Train(plan, data, null, options, progress, cancellation);
    }

    /// <summary>
    /// Trains on <paramref name="train"/> with the plan's settings (its own examples unused), which
    /// <paramref name="options"/> override, validating on <paramref name="validation"/> after each epoch: what
    /// <c>fnn train FILE --data ...</c> runs. The data sets are not disposed.
    /// </summary>
    public TrainingResult Train(TrainingPlan? plan, IDataset train, IDataset? validation, TrainingOptions? options = null,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default) =>
        Writing(() =>
        {
            // The training data names the classes; validation data must name them alike, or its indices mean other classes.
            ArgumentNullException.ThrowIfNull(train);
            var names = train.ClassNames();
            if (names is not null && validation?.ClassNames() is { } other && !other.SequenceEqual(names))
                throw new ArgumentException(
                    $"the validation data's classes ({Excerpt.ofText(200, string.Join(", ", other))}) are not the training data's " +
                    $"({Excerpt.ofText(200, string.Join(", ", names))}): open it with CsvOptions.ClassNames = the training data's ClassNames",
                    nameof(validation));
            if (names is not null) classNames = names;
            return TrainingSession.Run(this, plan, train, validation, options ?? new TrainingOptions(), progress, cancellation);
        });

    /// <summary>
    /// <see cref="Train(TrainingPlan, TrainingOptions?, IProgress{EpochReport}?, CancellationToken)"/> on a dedicated
    /// thread (TorchSharp's dispose scopes are per thread, so the whole run stays on one).
    /// </summary>
    public Task<TrainingResult> TrainAsync(TrainingPlan plan, TrainingOptions? options = null,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        return Task.Factory.StartNew(() => Train(plan, options, progress, cancellation), cancellation,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Trains on <paramref name="train"/> on the calling thread for <see cref="TrainingOptions.Epochs"/> epochs, validating
    /// on <paramref name="validation"/> (or on a <see cref="TrainingOptions.ValidationSplit"/> of the training data) after
    /// each. <see cref="TrainingOptions.Loss"/> is required. Cancelling stops after the current step, weights intact; a
    /// NaN or infinite loss throws <see cref="TrainingDivergedException"/>. The data sets are not disposed.
    /// </summary>
    public TrainingResult Fit(IDataset train, IDataset? validation, TrainingOptions options,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default) =>
        Train(null, train, validation, options, progress, cancellation);

    /// <summary><see cref="Fit"/> on a dedicated thread (TorchSharp's dispose scopes are per thread); a token cancelled before it starts cancels the task.</summary>
    public Task<TrainingResult> FitAsync(IDataset train, IDataset? validation, TrainingOptions options,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        return Task.Factory.StartNew(() => Fit(train, validation, options, progress, cancellation), cancellation,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// The mean <paramref name="loss"/> and <paramref name="metrics"/> over every example of <paramref name="data"/>,
    /// with the current weights, in eval mode and batches of <paramref name="batchSize"/> (batch values weighted by size).
    /// </summary>
    public Training.Evaluation Evaluate(IDataset data, Loss loss, IEnumerable<Metric>? metrics = null, int batchSize = TrainingOptions.DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        var list = metrics?.ToList() ?? [];
        return Reading(() =>
        {
            using var compiled = loss.Compile(module.Placement);
            var feed = new BatchFeed(module, data);
            feed.CheckTokenIds(data, "the data");
            return Evaluator.Run(module, data, feed, compiled, list, batchSize);
        });
    }

    /// <summary>
    /// Writes weights.safetensors and model.json to <paramref name="directory"/> (created if needed). A folder
    /// that holds other files than a checkpoint's is refused with an <see cref="IOException"/>, so that saving
    /// never overwrites a file it did not write.
    /// </summary>
    public void Save(string directory, TrainingSummary? training = null) =>
        Reading(() => Checkpoint.Save(module, source, options, directory, training, classNames, tokenizer));

    /// <summary>Loads weights saved from the same model, and the checkpoint's tokenizer (<see cref="Tokenizer"/> becomes
    /// null when it has none); a different network is a clear error.</summary>
    /// <param name="directory">a checkpoint folder</param>
    /// <param name="cancellation">stops the loading between tensors, before any weight is changed</param>
    /// <exception cref="CheckpointMismatchException">the weights belong to another model or do not fit this one</exception>
    /// <exception cref="CheckpointFormatException">a file of the checkpoint is malformed</exception>
    /// <exception cref="FnnCompileException">the checkpoint's tokenizer has more ids than the model's <c>embed</c> holds</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled</exception>
    public void LoadWeights(string directory, CancellationToken cancellation = default) =>
        Writing(() =>
        {
            // Read and checked before any weight changes.
            var saved = Text.Tokenizer.Load(directory);
            if (saved is not null) TokenVocabulary.RequireFits(saved, module, source);
            Checkpoint.LoadInto(module, directory, cancellation);
            tokenizer = saved;
        });

    /// <summary>With adapters: the base parameters a run trains beside them, which <see cref="SaveAdapter"/> saves.</summary>
    internal void NoteTrainedBase(IEnumerable<string> paths)
    {
        if (module.Lora is not null) trainedBase.UnionWith(paths.Where(p => !Lora.isAdapter(p)));
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private T Alive<T>(T value)
    {
        ThrowIfDisposed();
        return value;
    }

    /// <summary>Runs <paramref name="work"/> on the compiled model beside other readers (a generation step): it
    /// must not change the weights or the mode.</summary>
    internal T Infer<T>(Func<CompiledModel, T> work) => Reading(() => work(module));

    /// <summary>Runs <paramref name="work"/> beside other readers; it must not change the weights or the mode.</summary>
    private T Reading<T>(Func<T> work)
    {
        gate.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            return work();
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    private void Reading(Action work) => Reading(() => { work(); return true; });

    /// <summary>Runs <paramref name="work"/> alone, and leaves the network in inference mode for the readers.</summary>
    private T Writing<T>(Func<T> work)
    {
        RefuseInsideACall();
        gate.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            try
            {
                return work();
            }
            finally
            {
                module.eval();
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    private void Writing(Action work) => Writing(() => { work(); return true; });

    /// <summary>Changing or freeing the weights from inside a call that uses them (a progress callback) would pull
    /// them from under it.</summary>
    private void RefuseInsideACall()
    {
        if (gate.IsReadLockHeld || gate.IsWriteLockHeld)
            throw new InvalidOperationException(
                $"{module.Model.Name} is busy on this thread (this is a progress callback of its own call): it can predict, evaluate and save here, but not train, load weights or be disposed");
    }

    /// <summary>
    /// Frees the weights' native memory, after the calls running on other threads have finished. Calling it
    /// again does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">called from a progress callback of this network's own call</exception>
    public void Dispose()
    {
        RefuseInsideACall();
        gate.EnterWriteLock();
        try
        {
            if (disposed) return;
            disposed = true;
            module.Dispose();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }
}
