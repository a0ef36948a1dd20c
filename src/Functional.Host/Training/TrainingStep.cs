using System.Runtime.InteropServices;
using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training.Optimization;
using TorchSharp;

namespace Functional.Training;

/// <summary>
/// One optimisation step of the training session (and of the benchmark's timing): forward, the loss (checked to be finite before
/// anything is updated, so a divergence keeps the last good weights), the L1 penalty, backward, the update
/// and the schedule's step. Runs inside the caller's dispose scope.
/// </summary>
internal static class TrainingStep
{
    /// <returns>The network's output (for metrics) and the loss, without the penalty.</returns>
    public static (torch.Tensor Output, double Loss) Run(CompiledModel module, CompiledLoss loss, TrainingOptimizer optimizer,
        LearningRateSchedule schedule, torch.Tensor x, torch.Tensor y, int epoch, long step)
    {
        optimizer.ZeroGrad();
        torch.Tensor output, value;
        try
        {
            output = module.forward(x);
            value = loss.Compute(output, y);
        }
        catch (ExternalException e)
        {
            throw EngineException.From(e, $"step {step} (epoch {epoch}): computing the loss");
        }
        var lossValue = value.ToDouble();
        if (!double.IsFinite(lossValue))
            throw new TrainingDivergedException(epoch, step, lossValue);
        // An L1 penalty, if asked for, is added to what is minimised, not to the loss reported.
        var penalty = optimizer.Penalty();
        (penalty is null ? value : value.add(penalty, Scalars.one())).backward();
        optimizer.Step();
        schedule.OnBatchEnd();
        return (output, lossValue);
    }
}
