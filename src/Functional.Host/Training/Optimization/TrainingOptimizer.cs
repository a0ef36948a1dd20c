using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Training.Optimization;

/// <summary>
/// An optimizer built from an <see cref="Optimizer"/>: its update rule (<see cref="ParameterUpdate"/>, our
/// own, which keeps the Scalars it hands libtorch alive), gradient clipping inside <see cref="Step"/>, the L1
/// penalty, the learning rate for schedules, and an exact save and restore of its state for checkpoints.
/// One training step: <c>ZeroGrad(); loss = f(x) + Penalty(); loss.backward(); Step();</c>.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    private readonly ParameterUpdate update;
    private double learningRate;

    internal TrainingOptimizer(Optimizer spec, IReadOnlyList<Parameter> parameters, ParameterUpdate update, double learningRate)
    {
        Spec = spec;
        Parameters = parameters;
        this.update = update;
        this.learningRate = learningRate;
    }

    /// <summary>The optimizer and settings it was built from.</summary>
    public Optimizer Spec { get; }

    /// <summary>The parameters it updates, in the order given to <see cref="Optimizer.Create"/>.</summary>
    public IReadOnlyList<Parameter> Parameters { get; private set; }

    /// <summary>Each parameter's path, when it was built over named parameters: its state is saved under that path
    /// (so a run whose parameters are listed in another order restores each one's); null otherwise.</summary>
    public IReadOnlyList<string>? ParameterNames => update.Names;

    /// <summary>Whether the parameter at <paramref name="index"/> holds any state (a step count, moments): a parameter
    /// that never had a gradient (a frozen one) holds none.</summary>
    public bool HasState(int index) => update.HasState(index);

    /// <summary>
    /// Gives the parameter named <paramref name="path"/> its own learning rate (discriminative fine-tuning): its
    /// updates use <paramref name="rate"/> times the schedule's factor, as the others use the optimizer's rate.
    /// </summary>
    /// <exception cref="ArgumentException">no parameter of that name, or the optimizer was built over unnamed ones</exception>
    /// <exception cref="ArgumentOutOfRangeException">the rate is not a positive finite number</exception>
    public void SetLearningRate(string path, double rate)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!(rate > 0) || double.IsInfinity(rate))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "a learning rate must be a positive finite number");
        var index = update.Names?.ToList().IndexOf(path) ?? -1;
        if (index < 0) throw new ArgumentException($"this optimizer updates no parameter named '{Excerpt.@short(path)}'", nameof(path));
        update.Scales[index] = rate / Spec.LearningRate;
    }

    /// <summary>
    /// Takes up <paramref name="parameters"/> in place of the ones it updates: the same network's parameters
    /// after it moved (<see cref="Networks.Network.To"/>), in the same order and of the same shapes. Every
    /// state tensor (moments, momentum buffers) is converted to its new parameter's element type and device;
    /// step counts and the learning rate stay.
    /// </summary>
    /// <exception cref="ArgumentException">the parameters are not as many, or not of the same shapes</exception>
    public void Follow(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        update.Follow(list);
        Parameters = list;
    }

    internal void Name(IReadOnlyList<string> names) => update.Names = names;

    /// <summary>The learning rate of the next step (a schedule sets it).</summary>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "the learning rate must be a finite number >= 0");
            learningRate = value;
        }
    }

    /// <summary>Zeroes the gradients of the parameters (zeroed rather than freed, as TorchSharp does).</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var p in Parameters)
            p.grad?.zero_();
    }

    /// <summary>
    /// Clips the gradients as the spec says: first by global norm (all parameters together, as
    /// <c>torch.nn.utils.clip_grad_norm_</c>), then each element by value. Returns the gradients' total norm
    /// before clipping when clipping by norm, else null. <see cref="Step"/> calls it.
    /// </summary>
    public double? ClipGradients()
    {
        if (Spec.ClipNorm is null && Spec.ClipValue is null) return null;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grads = Parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return Spec.ClipNorm is null ? null : 0.0;
        double? norm = null;
        if (Spec.ClipNorm is { } maxNorm)
        {
            // As PyTorch: the norm of the per-parameter norms, and a factor min(1, max / (norm + 1e-6)).
            var total = stack(grads.Select(g => g.square().sum().to_type(ScalarType.Float64))).sum().sqrt().ToDouble();
            norm = total;
            var factor = maxNorm / (total + 1e-6);
            if (factor < 1)
            {
                using var scale = factor.ToScalar();
                foreach (var g in grads) g.mul_(scale);
            }
        }
        if (Spec.ClipValue is { } maxValue)
        {
            using var low = (-maxValue).ToScalar();
            using var high = maxValue.ToScalar();
            foreach (var g in grads) g.clamp_(low, high);
        }
        return norm;
    }

    /// <summary>Clips the gradients (<see cref="ClipGradients"/>) and updates the parameters.</summary>
    public void Step()
    {
        ClipGradients();
        update.Step(learningRate);
    }

    /// <summary>
    /// The L1 penalty <c>λ * Σ|w|</c> over <paramref name="weights"/>, as a scalar tensor (in the current
    /// dispose scope) to add to the loss before <c>backward()</c>; null when the spec has no L1.
    /// </summary>
    public Tensor? Penalty(IEnumerable<Parameter> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (Spec.L1 == 0) return null;
        Tensor? sum = null;
        foreach (var w in weights)
        {
            var term = w.abs().sum();
            sum = sum is null ? term : sum.add(term, Functional.Lang.Compilation.Scalars.one());
        }
        if (sum is null) return null;
        using var lambda = Spec.L1.ToScalar();
        return sum.mul(lambda);
    }

    /// <summary>The L1 penalty over every parameter this optimizer updates.</summary>
    public Tensor? Penalty() => Penalty(Parameters);

    /// <summary>
    /// The optimizer's state (its name, the learning rate, step counts, moments and momentum buffers, bit for
    /// bit); <see cref="LoadState(byte[])"/> restores it exactly.
    /// </summary>
    public byte[] SaveState()
    {
        using var stream = new MemoryStream();
        SaveState(stream);
        return stream.ToArray();
    }

    /// <inheritdoc cref="SaveState()"/>
    public void SaveState(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        update.Save(writer, learningRate);
        writer.Flush();
    }

    /// <summary>
    /// Restores a state saved by <see cref="SaveState()"/> from an optimizer of the same kind over parameters
    /// of the same shapes and types, holding every moment its step counts imply (an
    /// <see cref="InvalidDataException"/> naming the byte offset, the field and what was expected otherwise, and
    /// nothing changes). Every field is checked before anything is allocated from it. The learning rate comes back too.
    /// </summary>
    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var stream = new MemoryStream(state, writable: false);
        Load(stream, whole: true);
    }

    /// <summary>
    /// Restores a state saved by <see cref="SaveState(Stream)"/>, read from the stream's position, as
    /// <see cref="LoadState(byte[])"/> does; what follows the state in the stream is left unread.
    /// </summary>
    public void LoadState(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Load(stream, whole: false);
    }

    /// <summary><see cref="LoadState(byte[])"/> for a resumed run of <paramref name="steps"/> steps: no parameter's step count may exceed them.</summary>
    internal void LoadState(byte[] state, long steps)
    {
        using var stream = new MemoryStream(state, writable: false);
        Load(stream, whole: true, steps);
    }

    private void Load(Stream stream, bool whole, long maxSteps = long.MaxValue)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        learningRate = update.Load(reader, whole, maxSteps);
    }

    /// <summary>Frees the update rule's state (its moments).</summary>
    public void Dispose() => update.Dispose();
}
