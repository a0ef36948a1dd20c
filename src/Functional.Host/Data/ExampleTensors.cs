using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using Functional.Training;
using TorchSharp;

namespace Functional.Data;

/// <summary>
/// Examples given as arrays (<see cref="Networks.Network.Predict(IReadOnlyList{float[]})"/>'s inputs, a
/// <see cref="TrainingPlan"/>'s data), checked against the model's declared shapes with messages that name
/// the example, and turned into what the batch path takes: an input tensor, or an in-memory data set.
/// A symbolic dimension (<c>[seq] int</c>) takes its size from the rows, which must all have one length.
/// </summary>
internal static class ExampleTensors
{
    /// <summary>The model's input for <paramref name="rows"/>, one batch (a new tensor in the current dispose scope).</summary>
    /// <param name="module">the model the rows are for</param>
    /// <param name="rows">the examples' inputs, each flat in row-major order</param>
    /// <param name="allowNonFinite">let NaN and infinite values through (real-valued inputs only: a token id is always checked)</param>
    /// <exception cref="ArgumentException">no rows, a row of the wrong length, a value that is not finite, a bad token id</exception>
    public static torch.Tensor Inputs(CompiledModel module, IReadOnlyList<float[]> rows, bool allowNonFinite = false)
    {
        var (flat, length) = Flatten(rows, module.Model, module.Model.Input, "input", allowNonFinite && !module.Model.Input.Tokens);
        using var cpu = torch.tensor(flat, [rows.Count, length]);
        return new BatchFeed(module, [length]).Inputs(cpu);
    }

    /// <summary>
    /// A plan's examples as a data set: features of the model's input shape, targets of its output shape, or,
    /// for a model of sequences whose output adds a class axis to its input (<c>[seq] int -> [seq; vocab]</c>),
    /// one class index per position.
    /// </summary>
    /// <exception cref="ArgumentException">no examples, counts that differ, a row that does not fit the model</exception>
    public static InMemoryDataset Dataset(Model model, IReadOnlyList<float[]> inputs, IReadOnlyList<float[]> targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count != inputs.Count)
            throw new ArgumentException($"there are {inputs.Count} inputs but {targets.Count} targets", nameof(targets));
        var (x, inputLength) = Flatten(inputs, model, model.Input, "input");
        var inputDims = DatasetShapes.Fit([inputLength], model).Select(d => (int)d).ToArray();
        if (PerPositionClasses(model) is { } classes && targets.Count > 0 && targets[0]?.Length == inputLength)
        {
            var (ids, _) = Flatten(targets, model, model.Input, "target");
            var labels = new long[ids.Length];
            for (var i = 0; i < ids.Length; i++)
            {
                var v = ids[i];
                if (v < 0 || v >= classes || v != MathF.Floor(v))
                    throw new ArgumentException($"example {i / inputLength + 1}'s target holds {v}, but {model.Name} outputs {classes} classes a position: targets are class indices from 0 to {classes - 1}");
                labels[i] = (long)v;
            }
            return new InMemoryDataset(x, inputDims, labels, classes, null, inputDims);
        }
        var (y, targetLength) = Flatten(targets, model, model.Output, "target");
        var targetDims = (ShapeModule.tryInts(model.Output) is { } known ? known.Value.ToArray() : [targetLength]);
        return new InMemoryDataset(x, inputDims, null, null, y, targetDims);
    }

    /// <summary>The classes of an output that is the input's shape plus a class axis; null for other models.</summary>
    private static int? PerPositionClasses(Model model)
    {
        var output = model.Output.Dims.ToList();
        var input = model.Input.Dims.ToList();
        if (ShapeModule.tryInts(model.Input) is not null || output.Count != input.Count + 1) return null;
        return output[^1] is Dim.Known k && output.Take(input.Count).SequenceEqual(input) ? k.Item : null;
    }

    /// <summary>The rows, checked (all of one length that fits <paramref name="shape"/>, finite), one after another.</summary>
    private static (float[] Flat, int Length) Flatten(IReadOnlyList<float[]> rows, Model model, Shape shape, string side, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("there are no examples", nameof(rows));
        var known = ShapeModule.tryInts(shape);
        var size = known is not null ? known.Value.Aggregate(1, (a, b) => a * b) : rows[0]?.Length ?? 0;
        var flat = new float[checked(rows.Count * size)];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"example {i + 1}'s {side} is null");
            if (row.Length != size)
                throw new ArgumentException(known is not null
                    ? $"example {i + 1}'s {side} has {row.Length} values, but {model.Name}'s {side} {shape} takes {size}"
                    : $"example {i + 1}'s {side} has {row.Length} values but example 1's has {size}; the examples of one batch must have one length");
            for (var j = 0; j < row.Length && !allowNonFinite; j++)
                if (!float.IsFinite(row[j]))
                    throw new ArgumentException($"example {i + 1}'s {side} holds {row[j]} at position {j + 1}; only finite numbers can be used");
            row.CopyTo(flat, i * size);
        }
        if (size == 0) throw new ArgumentException($"example 1's {side} has no values");
        return (flat, size);
    }
}
