namespace Functional.Data;

/// <summary>What a dataset's targets are, and so the type and shape of <see cref="Batch.Targets"/>.</summary>
public enum TargetKind
{
    /// <summary>One class index per example: an int64 tensor <c>[batch]</c>, each value in 0 .. ClassCount - 1.</summary>
    ClassIndex,

    /// <summary>Numbers to predict (regression): a float32 tensor <c>[batch, ...TargetShape]</c>.</summary>
    Values,
}
