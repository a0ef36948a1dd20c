using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.Data;

/// <summary>
/// Examples as one input tensor and one target tensor, shaped [count, ...per-example shape], validated
/// against the model's declared shapes before any native call sees them.
/// </summary>
internal sealed class ExampleTensors : IDisposable
{
    private ExampleTensors(torch.Tensor inputs, torch.Tensor? targets, int count)
    {
        Inputs = inputs;
        Targets = targets;
        Count = count;
    }

    public torch.Tensor Inputs { get; }
    public torch.Tensor? Targets { get; }
    public int Count { get; }

    public static ExampleTensors Create(Model model, Placement placement, IReadOnlyList<float[]> inputs, IReadOnlyList<float[]>? targets)
    {
        if (inputs.Count == 0) throw new ArgumentException("there are no examples", nameof(inputs));
        if (targets is not null && targets.Count != inputs.Count)
            throw new ArgumentException($"there are {inputs.Count} inputs but {targets.Count} targets", nameof(targets));

        var inputDims = Dims(model, model.Input, "input");
        var x = Stack(inputs, inputDims, model, "input", placement, model.Input.Tokens);
        if (targets is null) return new ExampleTensors(x, null, inputs.Count);
        try
        {
            var outputDims = Dims(model, model.Output, "output");
            var y = Stack(targets, outputDims, model, "target", placement, tokens: false);
            return new ExampleTensors(x, y, inputs.Count);
        }
        catch
        {
            x.Dispose();
            throw;
        }
    }

    private static long[] Dims(Model model, Shape shape, string side)
    {
        var known = Lang.Checking.ShapeModule.tryInts(shape);
        if (known is null)
            throw new NotSupportedException($"{model.Name}'s {side} {shape} has a symbolic dimension; feeding such models from arrays is not supported yet");
        return known.Value.Select(d => (long)d).ToArray();
    }

    private static torch.Tensor Stack(IReadOnlyList<float[]> rows, long[] dims, Model model, string side, Placement placement, bool tokens)
    {
        var size = dims.Aggregate(1L, (a, b) => a * b);
        var shapeText = "[" + string.Join("; ", dims) + "]";
        var flat = new float[checked(rows.Count * size)];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"example {i + 1}'s {side} is null");
            if (row.Length != size)
                throw new ArgumentException($"example {i + 1}'s {side} has {row.Length} values, but {model.Name}'s {side} {shapeText} takes {size}");
            foreach (var v in row)
            {
                if (!float.IsFinite(v))
                    throw new ArgumentException($"example {i + 1}'s {side} holds {v}; only finite numbers can be used");
                if (tokens && (v < 0 || v != MathF.Floor(v)))
                    throw new ArgumentException($"example {i + 1}'s {side} holds {v}, but {model.Name} takes token ids (whole numbers from 0)");
            }
            row.CopyTo(flat, i * size);
        }
        var shape = new[] { (long)rows.Count }.Concat(dims).ToArray();
        using var cpu = torch.tensor(flat, shape);
        var dtype = tokens ? torch.ScalarType.Int64 : placement.DType;
        return cpu.to(dtype, placement.Device);
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets?.Dispose();
    }
}
