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
    private const int Version = 1;

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
    }

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
            Update(i, Parameters[i], grad, learningRate);
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

    /// <summary>Reads what <see cref="Save"/> wrote, checking that it fits these parameters; returns the learning rate.</summary>
    /// <exception cref="InvalidDataException">the state is not one, is of another optimizer, or does not fit</exception>
    public double Load(BinaryReader reader)
    {
        string magic;
        try
        {
            magic = reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            throw new InvalidDataException("the optimizer state is empty or cut short", e);
        }
        if (magic != Magic)
            throw new InvalidDataException("this is not an optimizer state written by Functional (or it is from an older version)");
        try
        {
            var version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"optimizer state version {version} is not supported (this version reads {Version})");
            var name = reader.ReadString();
            if (name != Name) throw new InvalidDataException($"the optimizer state is of {name}, not of {Name}");
            var learningRate = reader.ReadDouble();
            var count = reader.ReadInt32();
            if (count != Parameters.Count)
                throw new InvalidDataException($"the optimizer state is for {count} parameters, but this optimizer has {Parameters.Count}");
            var slots = Enumerable.Range(0, reader.ReadInt32()).Select(_ => reader.ReadString()).ToArray();
            if (!slots.SequenceEqual(Slots))
                throw new InvalidDataException($"the optimizer state holds [{string.Join(", ", slots)}], not [{string.Join(", ", Slots)}]");
            var steps = new long[count];
            var loaded = Parameters.Select(_ => new Tensor?[slots.Length]).ToArray();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    steps[i] = reader.ReadInt64();
                    for (var s = 0; s < slots.Length; s++)
                        if (reader.ReadBoolean()) loaded[i][s] = ReadTensor(reader, Parameters[i], $"parameter {i}'s {slots[s]}");
                }
            }
            catch
            {
                foreach (var t in loaded.SelectMany(row => row)) t?.Dispose();
                throw;
            }
            for (var i = 0; i < count; i++)
            {
                Steps[i] = steps[i];
                for (var s = 0; s < slots.Length; s++)
                {
                    state[i][s]?.Dispose();
                    state[i][s] = loaded[i][s];
                }
            }
            return learningRate;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the optimizer state is cut short", e);
        }
    }

    private static Tensor ReadTensor(BinaryReader reader, Parameter parameter, string what)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        var shape = Enumerable.Range(0, reader.ReadInt32()).Select(_ => reader.ReadInt64()).ToArray();
        // A state saved before the network moved to another floating-point type is converted to the new one.
        var convertible = is_floating_point(dtype) && parameter.is_floating_point();
        if ((dtype != parameter.dtype && !convertible) || !shape.SequenceEqual(parameter.shape))
            throw new InvalidDataException(
                $"the optimizer state's {what} is {dtype} [{string.Join(", ", shape)}], but the parameter is {parameter.dtype} [{string.Join(", ", parameter.shape)}]");
        var length = reader.ReadInt32();
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException();
        using var scope = NewDisposeScope();
        var tensor = empty(shape, dtype);
        if (tensor.bytes.Length != length)
            throw new InvalidDataException($"the optimizer state's {what} has {length} bytes, not the {tensor.bytes.Length} its shape needs");
        tensor.bytes = bytes;
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
