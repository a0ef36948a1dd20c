using Functional.Lang.Checking;
using TorchSharp;

namespace Functional.Data;

/// <summary>
/// Fits a dataset's per-example shapes to a model's declared input and output: a reshape when the number of
/// values agrees (28x28 images feed <c>[784]</c> and <c>[1; 28; 28]</c> alike), else a clear error naming both.
/// </summary>
public static class DatasetShapes
{
    /// <summary>The shape each example's features take for <paramref name="model"/>: its declared input, with any named dimension bound from the data.</summary>
    /// <exception cref="ArgumentException">the number of values differs, or no binding of the named dimensions fits</exception>
    public static long[] Fit(int[] dataShape, Model model)
    {
        ArgumentNullException.ThrowIfNull(dataShape);
        ArgumentNullException.ThrowIfNull(model);
        return Fit(dataShape, model.Input)
               ?? throw new ArgumentException(
                   $"the data's examples are {Describe(dataShape)} but model {model.Name} takes {model.Input}");
    }

    /// <summary>
    /// The shape each example's targets take for <paramref name="model"/>: <c>[]</c> for class indices (after
    /// checking that the model outputs one score per class), else the declared output.
    /// </summary>
    /// <exception cref="ArgumentException">the targets do not fit the model's output</exception>
    public static long[] FitTargets(IDataset data, Model model)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(model);
        var shape = data.TargetShape;
        var file = DataNaming.Describe(data, "") is { Length: > 0 } path ? path + ": " : ""; // messages name the file the data came from
        if (data.TargetKind == TargetKind.Values)
            return Fit(shape, model.Output)
                   ?? throw new ArgumentException(
                       $"{file}the data's targets are {Describe(shape)} but model {model.Name} outputs {model.Output}");

        var output = model.Output.Dims.ToList();
        if (shape.Length > 0)
        {
            // A class index per position: the output is the positions' shape and a score per class.
            var positions = new Shape(Microsoft.FSharp.Collections.ListModule.OfSeq(output.Take(output.Count - 1)), false);
            if (output.Count < 2 || Fit(shape, positions) is null)
                throw new ArgumentException(
                    $"{file}the data has a class label for each of {Describe(shape)} positions but model {model.Name} outputs {model.Output}; it needs the positions' shape and one score per class");
            if (output[^1] is Dim.Known known && data.ClassCount is { } count && known.Item < count)
                throw new ArgumentException(
                    $"{file}the data has {count} classes but model {model.Name} outputs {model.Output}: it needs one score per class, {known.Item} is too few");
            return [];
        }
        if (output.Count != 1)
            throw new ArgumentException(
                $"{file}the data has class labels but model {model.Name} outputs {model.Output}; class labels need one score per class, an output of [classes]");
        // Classes selected for a new task: a score for each new class and no more, or some would never be trained.
        if (output[0] is Dim.Known selected && Selection(data) is { } selection && selected.Item != selection.Names.Count)
            throw new ArgumentException(
                $"{file}the data's class selection makes {selection.Names.Count} classes ({Excerpt.ofText(200, string.Join(", ", selection.Names))}) " +
                $"but model {model.Name} outputs {model.Output}: its output must be [{selection.Names.Count}], one score per selected class");
        if (output[0] is Dim.Known k && data.ClassCount is { } classes && k.Item < classes)
            throw new ArgumentException(
                $"{file}the data has {classes} classes but model {model.Name} outputs {model.Output}: it needs one score per class, [{classes}]");
        return [];
    }

    /// <summary>
    /// <paramref name="batch"/> (<c>[batch, ...]</c>) viewed as <c>[batch, ...exampleDims]</c>: a new handle, sharing
    /// the data, that the caller owns.
    /// </summary>
    public static torch.Tensor Reshape(torch.Tensor batch, long[] exampleDims)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(exampleDims);
        return batch.reshape([batch.shape[0], .. exampleDims]);
    }

    private static long[]? Fit(int[] data, Shape declared)
    {
        var values = data.Aggregate(1L, (a, d) => a * d);
        var dims = declared.Dims.ToList();
        var known = ShapeModule.tryInts(declared);
        if (known is not null)
        {
            var size = known.Value.Aggregate(1L, (a, d) => a * d);
            return size == values ? known.Value.Select(d => (long)d).ToArray() : null;
        }

        // The same rank: dimensions correspond one to one, every number must match and each name takes one value.
        if (data.Length == dims.Count)
        {
            var bound = new Dictionary<string, int>();
            var fits = true;
            for (var i = 0; i < data.Length && fits; i++)
                fits = dims[i] switch
                {
                    Dim.Known k => k.Item == data[i],
                    Dim.Symbol s => bound.TryAdd(s.Item, data[i]) || bound[s.Item] == data[i],
                    _ => false,
                };
            return fits ? data.Select(d => (long)d).ToArray() : null;
        }

        // Another rank and one named dimension: it takes whatever the other numbers leave.
        var symbols = dims.OfType<Dim.Symbol>().ToList();
        if (symbols.Count != 1) return null;
        var rest = dims.OfType<Dim.Known>().Aggregate(1L, (a, d) => a * d.Item);
        if (rest == 0 || values % rest != 0 || values / rest == 0) return null;
        return dims.Select(d => d is Dim.Known k ? k.Item : values / rest).ToArray();
    }

    /// <summary>The class selection <paramref name="data"/> was made with, also through a normalised view; null when none.</summary>
    private static ClassSelection? Selection(IDataset data) => data switch
    {
        ClassSelectedDataset view => view.Selection,
        NormalizedDataset view => Selection(view.Source),
        _ => null,
    };

    /// <summary>"[28; 28] (784 values)".</summary>
    private static string Describe(int[] shape)
    {
        var values = shape.Aggregate(1L, (a, d) => a * d);
        return $"{BatchTensors.ShapeText(shape)} ({values} value{(values == 1 ? "" : "s")})";
    }
}
