using Functional.Checkpoints;
using Functional.Data;
using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using Functional.Training;
using TorchSharp;

namespace Functional.Networks;

/// <summary>
/// A compiled network with its weights in native memory: predict, train, evaluate, save. Dispose it to
/// free that memory. Calls are serialised: one thread at a time trains, predicts or loads weights.
/// </summary>
public sealed class Network : IDisposable
{
    private readonly object gate = new();
    private bool disposed;

    internal Network(CompiledModel module, FnnFile source, NetworkOptions options)
    {
        Module = module;
        Source = source;
        Options = options;
    }

    /// <summary>The TorchSharp module, for scripts and advanced use (its state_dict keys are the parameter paths).</summary>
    public CompiledModel Module { get; }

    public FnnFile Source { get; }
    public NetworkOptions Options { get; }
    public string Name => Module.Model.Name;
    public Model Model => Module.Model;

    /// <summary>Parameter paths and shapes, in registration order.</summary>
    public IReadOnlyList<(string Path, long[] Shape)> Parameters =>
        Module.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList();

    public long ParameterCount => Module.parameters().Sum(p => p.numel());

    /// <summary>Compiles the model a checkpoint was saved from and loads its weights.</summary>
    public static Network Load(string fnnPath, string checkpointDirectory, NetworkOptions? options = null)
    {
        var metadata = Checkpoint.ReadMetadata(checkpointDirectory);
        var network = FnnFile.Load(fnnPath).Compile(metadata.Model, options);
        try
        {
            network.LoadWeights(checkpointDirectory);
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The network's output for one example (its values in row-major order).</summary>
    public float[] Predict(float[] input) => Predict([input])[0];

    /// <summary>The network's outputs for several examples, computed as one batch.</summary>
    public float[][] Predict(IReadOnlyList<float[]> inputs)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            using var data = ExampleTensors.Create(Model, Module.Placement, inputs, null);
            Module.eval();
            var output = Module.forward(data.Inputs).to(torch.ScalarType.Float32).cpu().contiguous();
            var flat = output.data<float>().ToArray();
            var size = flat.Length / inputs.Count;
            return Enumerable.Range(0, inputs.Count).Select(i => flat.AsSpan(i * size, size).ToArray()).ToArray();
        }
    }

    /// <summary>The plan's loss over all its examples, with the current weights.</summary>
    public double Evaluate(TrainingPlan plan)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            using var data = ExampleTensors.Create(Model, Module.Placement, plan.Inputs, plan.Targets);
            Module.eval();
            using var loss = Losses.compile(Module.Placement, plan.Loss);
            try
            {
                return loss.Compute(Module.forward(data.Inputs), data.Targets!).ToDouble();
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                throw EngineException.From(e, "evaluating the loss");
            }
        }
    }

    /// <summary>Trains on the calling thread. Cancelling stops after the current step, weights intact.</summary>
    public TrainingResult Train(TrainingPlan plan, TrainingOptions? options = null,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            return Trainer.Run(Module, plan, options ?? new TrainingOptions(), progress, cancellation);
        }
    }

    /// <summary>
    /// Trains on a dedicated thread (TorchSharp's dispose scopes are per thread, so the whole run stays on one).
    /// </summary>
    public Task<TrainingResult> TrainAsync(TrainingPlan plan, TrainingOptions? options = null,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default) =>
        Task.Factory.StartNew(() => Train(plan, options, progress, cancellation), cancellation,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Trains on <paramref name="train"/> on the calling thread for <see cref="FitOptions.Epochs"/> epochs, validating
    /// on <paramref name="validation"/> (or on a <see cref="FitOptions.ValidationSplit"/> of the training data) after
    /// each. Cancelling stops after the current step, weights intact; a NaN or infinite loss throws
    /// <see cref="TrainingDivergedException"/>. The datasets are not disposed.
    /// </summary>
    public FitResult Fit(IDataset train, IDataset? validation, FitOptions options,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            if (options.ResumeFrom is { } from) Checkpoint.LoadInto(this, ResumableWeights(from));
            return Fitter.Run(Module, train, validation, options, progress, cancellation,
                directory => Checkpoint.Save(this, directory, null));
        }
    }

    /// <summary><see cref="Fit"/> on a dedicated thread (TorchSharp's dispose scopes are per thread).</summary>
    public Task<FitResult> FitAsync(IDataset train, IDataset? validation, FitOptions options,
        IProgress<EpochReport>? progress = null, CancellationToken cancellation = default) =>
        Task.Factory.StartNew(() => Fit(train, validation, options, progress, cancellation), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// The mean <paramref name="loss"/> and <paramref name="metrics"/> over every example of <paramref name="data"/>,
    /// with the current weights, in eval mode and batches of <paramref name="batchSize"/> (batch values weighted by size).
    /// </summary>
    public Training.Evaluation Evaluate(IDataset data, Loss loss, IEnumerable<Metric>? metrics = null, int batchSize = Trainer.DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        var list = metrics?.ToList() ?? [];
        lock (gate)
        {
            ThrowIfDisposed();
            using var compiled = Losses.compile(Module.Placement, loss);
            return Fitter.Evaluate(Module, data, new BatchFeed(Module, data), compiled, list, batchSize);
        }
    }

    /// <summary>Writes weights.safetensors and model.json to <paramref name="directory"/> (created if needed).</summary>
    public void Save(string directory, TrainingSummary? training = null)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            Checkpoint.Save(this, directory, training);
        }
    }

    /// <summary>Loads weights saved from the same model; a different network is a clear error.</summary>
    public void LoadWeights(string directory)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            Checkpoint.LoadInto(this, directory);
        }
    }

    /// <summary>A checkpoint folder, or its previous copy when a save was cut short.</summary>
    private static string ResumableWeights(string directory) =>
        File.Exists(Path.Combine(directory, Checkpoint.MetadataFile)) || !Directory.Exists(directory + ".previous")
            ? directory
            : directory + ".previous";

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            Module.Dispose();
        }
    }
}
