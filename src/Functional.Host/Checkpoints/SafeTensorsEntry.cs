using static TorchSharp.torch;

namespace Functional.Checkpoints;

/// <summary>One tensor as a safetensors header describes it: name, element type, shape and where its bytes lie.</summary>
public sealed class SafeTensorsEntry
{
    private readonly long[] shape;

    internal SafeTensorsEntry(string name, SafeTensorsDType dtype, long[] shape, long elementCount,
                              long dataBegin, long dataEnd)
    {
        Name = name;
        DTypeInfo = dtype;
        this.shape = shape;
        ElementCount = elementCount;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
    }

    /// <summary>The tensor's name (a state_dict key such as "layers.0.attn.weight").</summary>
    public string Name { get; }

    /// <summary>The safetensors element type name, e.g. "F32", "BF16", "I64".</summary>
    public string DType => DTypeInfo.Name;

    /// <summary>The TorchSharp element type the tensor loads as.</summary>
    public ScalarType ScalarType => DTypeInfo.ScalarType;

    /// <summary>The shape, row-major; empty for a scalar. Each read returns a fresh copy.</summary>
    public long[] Shape => (long[])shape.Clone();

    /// <summary>The number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Offset of the first byte, relative to the start of the data buffer (just after the header).</summary>
    public long DataBegin { get; }

    /// <summary>Offset one past the last byte, relative to the start of the data buffer.</summary>
    public long DataEnd { get; }

    /// <summary>The tensor's size in bytes.</summary>
    public long ByteLength => DataEnd - DataBegin;

    internal SafeTensorsDType DTypeInfo { get; }

    // The codec's own use, without the defensive copy.
    internal long[] ShapeUnsafe => shape;

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {DType}[{string.Join(", ", shape)}] @ [{DataBegin}, {DataEnd})";
}
