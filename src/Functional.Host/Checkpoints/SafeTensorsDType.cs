using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace Functional.Checkpoints;

/// <summary>A safetensors element type, its size and its TorchSharp <see cref="ScalarType"/>.</summary>
internal sealed class SafeTensorsDType
{
    // libtorch 2.x codes (c10::ScalarType) that TorchSharp 0.107's ScalarType enum does not name;
    // libtorch creates and copies tensors of these types, which is all the codec needs.
    private const ScalarType Float8E5M2 = (ScalarType)23;
    private const ScalarType Float8E4M3FN = (ScalarType)24;
    private const ScalarType UInt16 = (ScalarType)27;
    private const ScalarType UInt32 = (ScalarType)28;
    private const ScalarType UInt64 = (ScalarType)29;

    // In the reference implementation's enum order (increasing alignment). The writer sorts tensors by
    // this rank, descending, then by name, so its files match the reference writer's byte for byte.
    private static readonly SafeTensorsDType[] all =
    [
        new("BOOL", ScalarType.Bool, 1, 0),
        new("U8", ScalarType.Byte, 1, 1),
        new("I8", ScalarType.Int8, 1, 2),
        new("F8_E5M2", Float8E5M2, 1, 3),
        new("F8_E4M3", Float8E4M3FN, 1, 4),
        new("I16", ScalarType.Int16, 2, 5),
        new("U16", UInt16, 2, 6),
        new("F16", ScalarType.Float16, 2, 7),
        new("BF16", ScalarType.BFloat16, 2, 8),
        new("I32", ScalarType.Int32, 4, 9),
        new("U32", UInt32, 4, 10),
        new("F32", ScalarType.Float32, 4, 11),
        new("F64", ScalarType.Float64, 8, 12),
        new("I64", ScalarType.Int64, 8, 13),
        new("U64", UInt64, 8, 14),
    ];

    private static readonly Dictionary<string, SafeTensorsDType> byName =
        all.ToDictionary(d => d.Name, StringComparer.Ordinal);

    private static readonly Dictionary<ScalarType, SafeTensorsDType> byScalarType =
        all.ToDictionary(d => d.ScalarType);

    private SafeTensorsDType(string name, ScalarType scalarType, int size, int rank)
    {
        Name = name;
        ScalarType = scalarType;
        Size = size;
        Rank = rank;
    }

    /// <summary>The name in a safetensors header, e.g. "F32".</summary>
    public string Name { get; }

    public ScalarType ScalarType { get; }

    /// <summary>Bytes per element.</summary>
    public int Size { get; }

    /// <summary>Position in the reference enum; larger means more strictly aligned.</summary>
    public int Rank { get; }

    /// <summary>The supported names, for error messages.</summary>
    public static string SupportedNames { get; } = string.Join(", ", all.Select(d => d.Name));

    public static bool TryFromName(string name, [NotNullWhen(true)] out SafeTensorsDType? dtype) =>
        byName.TryGetValue(name, out dtype);

    public static bool TryFromScalarType(ScalarType scalarType, [NotNullWhen(true)] out SafeTensorsDType? dtype) =>
        byScalarType.TryGetValue(scalarType, out dtype);

    public override string ToString() => Name;
}
