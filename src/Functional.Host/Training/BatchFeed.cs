using Functional.Data;
using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.Training;

/// <summary>
/// Turns a dataset's batches into what the model takes: features reshaped to its declared input (int64 for
/// token inputs, else the model's dtype) and targets on its device (int64 class indices, or values in its dtype
/// shaped as its output).
/// </summary>
internal sealed class BatchFeed
{
    private readonly CompiledModel module;
    private readonly long[] inputDims;
    private readonly long[] targetDims;
    private readonly bool classes;

    public BatchFeed(CompiledModel module, IDataset data)
    {
        this.module = module;
        inputDims = DatasetShapes.Fit(data.FeatureShape, module.Model);
        targetDims = DatasetShapes.FitTargets(data, module.Model);
        classes = data.TargetKind == TargetKind.ClassIndex;
    }

    /// <summary>The model's input and target for <paramref name="batch"/> (new tensors in the current dispose scope).</summary>
    public (torch.Tensor X, torch.Tensor Y) Prepare(Batch batch)
    {
        var placement = module.Placement;
        var x = DatasetShapes.Reshape(batch.Features, inputDims)
            .to(module.Model.Input.Tokens ? torch.ScalarType.Int64 : placement.DType, placement.Device);
        var y = classes
            ? batch.Targets.to(torch.ScalarType.Int64, placement.Device)
            : DatasetShapes.Reshape(batch.Targets, targetDims).to(placement.DType, placement.Device);
        return (x, y);
    }
}
