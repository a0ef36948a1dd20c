namespace Functional.Data;

/// <summary>
/// A source of labelled examples that need not fit in memory: any batch of examples can be read by index.
/// </summary>
/// <remarks>
/// Datasets that hold a file open (<see cref="IdxDataset"/>) free it when disposed. Implementations in this
/// namespace allow <see cref="ReadBatch"/> from several threads at once (for read-ahead).
/// </remarks>
public interface IDataset : IDisposable
{
    /// <summary>The number of examples.</summary>
    int Count { get; }

    /// <summary>The shape of one example's features (a copy): [28, 28] for MNIST images, [n] for n CSV columns.</summary>
    int[] FeatureShape { get; }

    /// <summary>Whether the targets are class indices or values.</summary>
    TargetKind TargetKind { get; }

    /// <summary>The shape of one example's target (a copy): [] for class indices, [k] for k regression values.</summary>
    int[] TargetShape { get; }

    /// <summary>The number of classes for <see cref="Data.TargetKind.ClassIndex"/> targets; null for values.</summary>
    int? ClassCount { get; }

    /// <summary>
    /// Reads the examples at <paramref name="indices"/> (in that order, repeats allowed) as new CPU tensors: features
    /// float32 <c>[batch, ...FeatureShape]</c>, targets as <see cref="TargetKind"/> says. The caller owns the batch:
    /// dispose it, or read it inside a dispose scope.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">an index is negative or not below <see cref="Count"/></exception>
    Batch ReadBatch(ReadOnlySpan<int> indices);
}
