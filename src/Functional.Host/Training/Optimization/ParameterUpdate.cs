using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Functional.Training.Optimization;

/// <summary>
/// An optimizer's update rule, written with libtorch's in-place operations instead of TorchSharp's optimizers.
/// TorchSharp 0.107's optimizers hand libtorch Scalars made from doubles that nothing keeps alive
/// (dotnet/TorchSharp#1496): a garbage collection during a step can free one while libtorch reads it, and
/// training failed with "Expected false to be true ... toFloat". Here every Scalar is held, by a field or by
/// <c>using</c>, until the operations that read it have returned.
/// Per parameter, a rule keeps a step count and its state tensors (moments, buffers), made on first use.
/// </summary>
internal abstract class ParameterUpdate : IDisposable
{
    private const string Magic = "functional-optimizer-state";
    // 2: each parameter's state is keyed by its path (1: by position, still read).
    private const int Version = 2;

    private readonly Tensor?[][] state;
    // The parameters' shapes, kept: a moved network disposes the parameters this rule was made with.
    private readonly long[][] shapes;
    private readonly List<Scalar> held = [];

    protected ParameterUpdate(string name, IReadOnlyList<Parameter> parameters, params string[] slots)
    {
        Name = name;
        Parameters = parameters;
        Slots = slots;
        Steps = new long[parameters.Count];
        shapes = parameters.Select(p => p.shape).ToArray();
        state = parameters.Select(_ => new Tensor?[slots.Length]).ToArray();
        Scales = parameters.Select(_ => 1.0).ToArray();
    }

    /// <summary>Each parameter's path (its state is saved and restored under it); null: by position only.</summary>
    public IReadOnlyList<string>? Names { get; set; }

    /// <summary>What each parameter's learning rate is multiplied by (1 unless a per-pattern rate says otherwise).</summary>
    public double[] Scales { get; }

    /// <summary>Whether parameter <paramref name="index"/> holds any state (it has been updated).</summary>
    public bool HasState(int index) => Steps[index] > 0 || state[index].Any(t => t is not null);

    /// <summary>sgd, rmsprop, adam or adamw: the state of one cannot be loaded into another.</summary>
    public string Name { get; }

    public IReadOnlyList<Parameter> Parameters { get; private set; }

    /// <summary>The names of the state tensors each parameter has (e.g. exp_avg, exp_avg_sq).</summary>
    public IReadOnlyList<string> Slots { get; }

    /// <summary>How many updates each parameter has had (a parameter without a gradient is not updated).</summary>
    protected long[] Steps { get; }

    /// <summary>Takes up moved parameters (same count and shapes), converting every state tensor to match its parameter.</summary>
    public void Follow(IReadOnlyList<Parameter> parameters)
    {
        if (parameters.Count != Parameters.Count)
            throw new ArgumentException($"the optimizer updates {Parameters.Count} parameters, not {parameters.Count}", nameof(parameters));
        for (var i = 0; i < parameters.Count; i++)
            if (!parameters[i].shape.SequenceEqual(shapes[i]))
                throw new ArgumentException(
                    $"parameter {i} is [{string.Join(", ", parameters[i].shape)}], but the optimizer's is [{string.Join(", ", shapes[i])}]", nameof(parameters));
        using var noGrad = no_grad();
        for (var i = 0; i < parameters.Count; i++)
            for (var s = 0; s < state[i].Length; s++)
                if (state[i][s] is { } old && (old.dtype != parameters[i].dtype || old.device.ToString() != parameters[i].device.ToString()))
                {
                    state[i][s] = old.to(parameters[i].dtype, parameters[i].device).DetachFromDisposeScope();
                    old.Dispose();
                }
        Parameters = parameters;
    }

    /// <summary>Updates every parameter that has a gradient, without autograd.</summary>
    public void Step(double learningRate)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (var i = 0; i < Parameters.Count; i++)
        {
            var grad = Parameters[i].grad;
            if (grad is null) continue;
            Steps[i]++;
            Update(i, Parameters[i], grad, learningRate * Scales[i]);
        }
    }

    /// <summary>One parameter's update; runs inside <see cref="Step"/>'s dispose scope and no_grad.</summary>
    protected abstract void Update(int index, Parameter parameter, Tensor grad, double learningRate);

    /// <summary>
    /// 1, for every operation's alpha: TorchSharp's overloads without one (<c>a.add_(b)</c>) make a temporary
    /// Scalar that a garbage collection can free while libtorch reads it. Pass a held Scalar for every Scalar.
    /// </summary>
    protected static Scalar One => Functional.Lang.Compilation.Scalars.one();

    /// <summary>A Scalar that lives as long as this rule (for its constant settings).</summary>
    protected Scalar Hold(double value)
    {
        var scalar = value.ToScalar();
        held.Add(scalar);
        return scalar;
    }

    protected bool HasSlot(int index, int slot) => state[index][slot] is not null;

    /// <summary>The state tensor <paramref name="slot"/> of a parameter: made on first use (zeros like the parameter, or <paramref name="initial"/>), outside any dispose scope.</summary>
    protected Tensor Slot(int index, int slot, Func<Tensor>? initial = null)
    {
        if (state[index][slot] is { } existing) return existing;
        var made = (initial?.Invoke() ?? zeros_like(Parameters[index])).DetachFromDisposeScope();
        state[index][slot] = made;
        return made;
    }

    /// <summary>Writes the rule's name, the learning rate, and every step count and state tensor, exactly.</summary>
    public void Save(BinaryWriter writer, double learningRate)
    {
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(Name);
        writer.Write(learningRate);
        writer.Write(Parameters.Count);
        writer.Write(Slots.Count);
        foreach (var slot in Slots) writer.Write(slot);
        for (var i = 0; i < Parameters.Count; i++)
        {
            writer.Write(Names?[i] ?? $"#{i}");
            writer.Write(Steps[i]);
            foreach (var tensor in state[i])
            {
                writer.Write(tensor is not null);
                if (tensor is null) continue;
                using var cpu = tensor.cpu().contiguous();
                writer.Write((int)cpu.dtype);
                writer.Write(cpu.shape.Length);
                foreach (var d in cpu.shape) writer.Write(d);
                var bytes = cpu.bytes;
                writer.Write(bytes.Length);
                writer.Write(bytes);
            }
        }
    }

    /// <summary>
    /// Whether state tensor <paramref name="slot"/> exists once a parameter has been updated (all do by default;
    /// a momentum buffer only with momentum). A saved state must hold exactly these, so none is silently missing.
    /// </summary>
    protected virtual bool MakesSlot(int slot) => true;

    // Bounds on what a state may say before it is compared with this rule: names are short.
    private const int MaxNameBytes = 256;

    /// <summary>
    /// Reads what <see cref="Save"/> wrote, checking every field against the bytes left and these parameters
    /// (count, shapes, element types, which moments exist) before anything is allocated from it; nothing changes
    /// unless all of it fits. Returns the learning rate.
    /// </summary>
    /// <param name="reader">the state</param>
    /// <param name="whole">the state must end where the stream ends</param>
    /// <param name="maxSteps">no parameter can have had more updates than this (the run's steps)</param>
    /// <exception cref="InvalidDataException">the state is not one, is of another optimizer, or does not fit; the
    /// message names the byte offset, the field and what was expected</exception>
    public double Load(BinaryReader reader, bool whole, long maxSteps = long.MaxValue)
    {
        var input = new StateReader(reader);
        if (input.String("magic", MaxNameBytes) != Magic)
            throw StateReader.Error(0, "magic", "this is not an optimizer state written by Functional (or it is from an older version)");
        var at = input.Offset;
        var version = input.Int32("version");
        if (version is not (1 or Version)) throw StateReader.Error(at, "version", $"optimizer state version {version} is not supported (this version reads {Version})");
        at = input.Offset;
        var name = input.String("optimizer name", MaxNameBytes);
        if (name != Name) throw StateReader.Error(at, "optimizer name", $"the optimizer state is of {Excerpt.@short(name)}, not of {Name}");
        at = input.Offset;
        var learningRate = input.Double("learning rate");
        if (!(learningRate >= 0) || double.IsInfinity(learningRate))
            throw StateReader.Error(at, "learning rate", $"expected a finite number >= 0, found {learningRate}");
        at = input.Offset;
        var count = input.Int32("parameter count");
        if (count != Parameters.Count)
            throw StateReader.Error(at, "parameter count", $"the optimizer state is for {count} parameters, but this optimizer has {Parameters.Count}");
        var slotCount = input.Int32("state tensor count", Slots.Count, Slots.Count);
        for (var s = 0; s < slotCount; s++)
        {
            at = input.Offset;
            var slot = input.String($"state tensor name {s}", MaxNameBytes);
            if (slot != Slots[s])
                throw StateReader.Error(at, $"state tensor name {s}", $"expected {Slots[s]} (this optimizer holds [{string.Join(", ", Slots)}]), found {Excerpt.@short(slot)}");
        }
        var steps = new long[count];
        var loaded = Parameters.Select(_ => new Tensor?[Slots.Count]).ToArray();
        var seen = new bool[count];
        try
        {
            for (var entry = 0; entry < count; entry++)
            {
                var i = entry;
                if (version >= 2)
                {
                    at = input.Offset;
                    var path = input.String($"parameter {entry}'s path", MaxNameBytes * 16);
                    // Keyed by path: a run whose parameters are listed in another order still finds each one's state.
                    i = Names is null ? entry : Names.ToList().IndexOf(path);
                    if (i < 0)
                        throw StateReader.Error(at, $"parameter {entry}'s path",
                            $"the state holds {Excerpt.@short(path)}, which this optimizer does not update (it updates {Excerpt.ofText(200, string.Join(", ", Names!))})");
                    if (seen[i]) throw StateReader.Error(at, $"parameter {entry}'s path", $"{Excerpt.@short(path)} is saved twice");
                    seen[i] = true;
                }
                at = input.Offset;
                steps[i] = input.Int64($"parameter {i}'s step count");
                if (steps[i] < 0 || steps[i] > maxSteps)
                    throw StateReader.Error(at, $"parameter {i}'s step count", maxSteps == long.MaxValue
                        ? $"expected a number >= 0, found {steps[i]}"
                        : $"expected a number from 0 to {maxSteps} (the run's steps), found {steps[i]}");
                for (var s = 0; s < Slots.Count; s++)
                {
                    var what = $"parameter {i}'s {Slots[s]}";
                    at = input.Offset;
                    var present = input.Boolean(what + " flag");
                    var expected = steps[i] > 0 && MakesSlot(s);
                    if (present != expected)
                        throw StateReader.Error(at, what + " flag", expected
                            ? $"parameter {i} has had {steps[i]} updates, so its {Slots[s]} must be saved, but it is missing (resuming without it would not be exact)"
                            : $"expected no {Slots[s]} (parameter {i} has had {steps[i]} updates), but one is saved");
                    if (present) loaded[i][s] = ReadTensor(input, Parameters[i], shapes[i], what);
                }
            }
            if (whole) input.End();
        }
        catch
        {
            foreach (var t in loaded.SelectMany(row => row)) t?.Dispose();
            throw;
        }
        for (var i = 0; i < count; i++)
        {
            Steps[i] = steps[i];
            for (var s = 0; s < Slots.Count; s++)
            {
                state[i][s]?.Dispose();
                state[i][s] = loaded[i][s];
            }
        }
        return learningRate;
    }

    // The element types a state tensor may be saved in: the floating-point ones (a state saved before the
    // network moved to another floating-point type is converted to the new one).
    private static readonly ScalarType[] FloatingTypes = [ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64];

    private static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Float32 => 4,
        _ => 8,
    };

    /// <summary>Whether a state slot holds averages of squares (Adam's exp_avg_sq, RMSprop's square_avg), never negative.</summary>
    private static bool IsSquare(string what) => what.EndsWith("_sq", StringComparison.Ordinal) || what.EndsWith("square_avg", StringComparison.Ordinal);

    private static Tensor ReadTensor(StateReader input, Parameter parameter, long[] shape, string what)
    {
        var at = input.Offset;
        var code = input.Int32(what + " element type");
        var dtype = (ScalarType)code;
        if (!FloatingTypes.Contains(dtype) || !FloatingTypes.Contains(parameter.dtype))
            throw StateReader.Error(at, what + " element type",
                $"expected a floating-point type code ({string.Join(", ", FloatingTypes.Select(t => $"{(int)t} for {t}"))}), like the parameter's {parameter.dtype}, found {code}");
        var rank = input.Int32(what + " rank", shape.Length, shape.Length);
        for (var d = 0; d < rank; d++)
        {
            at = input.Offset;
            var size = input.Int64($"{what} size {d}");
            if (size != shape[d])
                throw StateReader.Error(at, $"{what} size {d}",
                    $"expected {shape[d]} (the parameter is [{string.Join(", ", shape)}]), found {size}");
        }
        var numel = shape.Aggregate(1L, (a, b) => a * b);
        var expected = numel * ElementSize(dtype);
        if (expected > int.MaxValue)
            throw StateReader.Error(input.Offset, what + " byte length", $"a state tensor of {expected} bytes is more than this format holds");
        var length = input.Int32(what + " byte length", (int)expected, (int)expected);
        var dataAt = input.Offset;
        var bytes = input.Bytes(length, what + " data");
        using var scope = NewDisposeScope();
        var tensor = empty(shape, dtype);
        tensor.bytes = bytes;
        // A moment that no run could have made would surface as a diverged loss, far from its cause: refuse it here.
        if (!tensor.isfinite().all().item<bool>())
            throw StateReader.Error(dataAt, what + " data", "expected finite values, found NaN or infinity");
        if (IsSquare(what) && tensor.lt(0.0).any().item<bool>())
            throw StateReader.Error(dataAt, what + " data", "expected values of at least 0 (it is an average of squares), found a negative one");
        return tensor.to(parameter.dtype, parameter.device).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var row in state)
            for (var s = 0; s < row.Length; s++)
            {
                row[s]?.Dispose();
                row[s] = null;
            }
        foreach (var scalar in held) scalar.Dispose();
        held.Clear();
    }
}
