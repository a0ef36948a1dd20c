using TorchSharp;

namespace Functional.Data;

/// <summary>Builds batch tensors from managed arrays, and the checks and text every dataset shares.</summary>
internal static class BatchTensors
{
    /// <summary>A float32 tensor <c>[count, ...shape]</c> over <paramref name="values"/> (which the tensor may keep: pass a fresh array).</summary>
    public static torch.Tensor Floats(float[] values, int count, int[] shape) =>
        torch.tensor(values, Dims(count, shape), torch.ScalarType.Float32);

    /// <summary>
    /// A new float32 CPU tensor <c>[count, ...shape]</c>, uninitialised, for <see cref="Values"/> to fill. Batches
    /// are written straight into the tensor's memory: a managed array per batch (about 400 KB for 128 images)
    /// lands on the large object heap, which only full collections free, and resident memory balloons.
    /// </summary>
    public static torch.Tensor EmptyFloats(int count, int[] shape) =>
        torch.empty(Dims(count, shape), torch.ScalarType.Float32);

    /// <summary>The values of a tensor made by <see cref="EmptyFloats"/>, to write in place; valid while it lives.</summary>
    public static Span<float> Values(torch.Tensor tensor)
    {
        if (tensor.dtype != torch.ScalarType.Float32 || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("only a contiguous float32 CPU tensor can be written in place", nameof(tensor));
        // TorchSharp's `bytes` of a CPU tensor is a span over the tensor's own memory, not a copy.
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.bytes);
    }

    /// <summary>An int64 tensor <c>[labels.Length]</c> (pass a fresh array).</summary>
    public static torch.Tensor ClassIndices(long[] labels) =>
        torch.tensor(labels, new long[] { labels.Length }, torch.ScalarType.Int64);

    public static long[] Dims(int count, int[] shape)
    {
        var dims = new long[shape.Length + 1];
        dims[0] = count;
        for (var i = 0; i < shape.Length; i++) dims[i + 1] = shape[i];
        return dims;
    }

    /// <summary>The number of values in one example of <paramref name="shape"/>, or -1 when it does not fit an int.</summary>
    public static long Elements(IEnumerable<int> shape)
    {
        var n = 1L;
        foreach (var d in shape)
        {
            if (d < 0) return -1;
            n *= d;
            if (n > int.MaxValue) return -1;
        }
        return n;
    }

    /// <summary>Throws unless every index is in 0 .. count - 1.</summary>
    public static void CheckIndices(ReadOnlySpan<int> indices, int count)
    {
        foreach (var i in indices)
            if ((uint)i >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"example index {i} is outside the dataset's {count} examples (0 to {count - 1})");
    }

    /// <summary>A shape as .fnn writes it: [28; 28], [] for a scalar.</summary>
    public static string ShapeText(IEnumerable<long> shape) => "[" + string.Join("; ", shape) + "]";

    public static string ShapeText(IEnumerable<int> shape) => ShapeText(shape.Select(d => (long)d));
}
