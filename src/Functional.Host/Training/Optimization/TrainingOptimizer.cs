using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Training.Optimization;

/// <summary>
/// A TorchSharp optimizer built from an <see cref="OptimizerSpec"/>, which it owns, with the extras the spec
/// asks for: gradient clipping inside <see cref="Step"/>, the L1 penalty, the learning rate for schedules,
/// and an exact save and restore of its state for checkpoints. One training step:
/// <c>ZeroGrad(); loss = f(x) + Penalty(); loss.backward(); Step();</c>.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    private readonly optim.Optimizer _inner;

    internal TrainingOptimizer(OptimizerSpec spec, IReadOnlyList<Parameter> parameters, optim.Optimizer inner)
    {
        Spec = spec;
        Parameters = parameters;
        _inner = inner;
    }

    public OptimizerSpec Spec { get; }

    /// <summary>The parameters it updates, in the order given to <see cref="OptimizerSpec.Create"/>.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The TorchSharp optimizer, for what this class does not cover.</summary>
    public optim.Optimizer Engine => _inner;

    /// <summary>The learning rate of every parameter group (a schedule sets it).</summary>
    public double LearningRate
    {
        get => _inner.ParamGroups.First().LearningRate;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "the learning rate must be a finite number >= 0");
            foreach (var group in _inner.ParamGroups) group.LearningRate = value;
        }
    }

    /// <summary>Zeroes the gradients of the parameters (TorchSharp zeroes them rather than freeing them).</summary>
    public void ZeroGrad() => _inner.zero_grad();

    /// <summary>
    /// Clips the gradients as the spec says: first by global norm (all parameters together, as
    /// <c>torch.nn.utils.clip_grad_norm_</c>), then each element by value. Returns the gradients' total norm
    /// before clipping when clipping by norm, else null. <see cref="Step"/> calls it.
    /// </summary>
    public double? ClipGradients()
    {
        double? norm = null;
        if (Spec.ClipNorm is { } maxNorm)
            norm = nn.utils.clip_grad_norm_(Parameters, maxNorm);
        if (Spec.ClipValue is { } maxValue)
            nn.utils.clip_grad_value_(Parameters, maxValue);
        return norm;
    }

    /// <summary>Clips the gradients (<see cref="ClipGradients"/>) and updates the parameters.</summary>
    public void Step()
    {
        ClipGradients();
        // Known problem: TorchSharp 0.107's optimisers hand libtorch Scalars made from doubles without
        // keeping them alive (dotnet/TorchSharp#1496); training on data files, which allocates a lot, has
        // failed intermittently here with "Expected false to be true ... toFloat". The fix is an update
        // step of our own that owns its Scalars.
        using var result = _inner.step();
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
            sum = sum is null ? term : sum + term;
        }
        return sum is null ? null : sum * Spec.L1;
    }

    /// <summary>The L1 penalty over every parameter this optimizer updates.</summary>
    public Tensor? Penalty() => Penalty(Parameters);

    /// <summary>
    /// The optimizer's state (moments, momentum buffers, step counts and its settings, the learning rate
    /// included) in TorchSharp's binary format; <see cref="LoadState(byte[])"/> restores it exactly.
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
        Helper.save_state_dict(writer);
        writer.Flush();
    }

    /// <summary>
    /// Restores a state saved by <see cref="SaveState()"/> from an optimizer of the same kind over parameters
    /// of the same shapes (TorchSharp throws otherwise). The learning rate comes back too.
    /// </summary>
    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var stream = new MemoryStream(state, writable: false);
        LoadState(stream);
    }

    /// <inheritdoc cref="LoadState(byte[])"/>
    public void LoadState(Stream stream)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        Helper.load_state_dict(reader);
    }

    public void Dispose() => _inner.Dispose();

    private OptimizerHelper Helper => (OptimizerHelper)_inner;
}
