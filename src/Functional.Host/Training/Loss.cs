using Functional.Lang.Compilation;
using TorchSharp;
using Checked = Functional.Lang.Checking;

namespace Functional.Training;

/// <summary>
/// What training minimises: one of the builtins (as PyTorch defines them, the mean over the batch) or
/// your own function of the network's output and the target, written over tensors.
/// </summary>
/// <remarks>
/// A train block's <c>loss = ...</c> becomes one of these (<see cref="TrainingPlan.Loss"/>). Targets are
/// what the data gives: int64 class indices for labelled data, else values shaped as the output.
/// </remarks>
public sealed class Loss
{
    private readonly Func<Placement, CompiledLoss> compile;

    private Loss(string name, Func<Placement, CompiledLoss> compile)
    {
        Name = name;
        this.compile = compile;
    }

    /// <summary>The name in reports and checkpoints: <c>mse</c>, <c>crossEntropy</c>, ..., or a custom loss's own.</summary>
    public string Name { get; }

    /// <summary>The mean squared error (PyTorch's <c>mse_loss</c>); a train block's <c>mse</c>.</summary>
    public static Loss MeanSquaredError { get; } = FromChecked(Checked.Loss.MeanSquaredError);

    /// <summary>Cross-entropy of raw scores over the last axis against class indices or one-hot rows; <c>crossEntropy</c>.</summary>
    public static Loss CrossEntropy { get; } = FromChecked(Checked.Loss.CrossEntropy);

    /// <summary>Binary cross-entropy of probabilities (outputs in [0, 1]); <c>bce</c>.</summary>
    public static Loss BinaryCrossEntropy { get; } = FromChecked(Checked.Loss.BinaryCrossEntropy);

    /// <summary>Negative log-likelihood of log-probabilities against class indices or one-hot rows; <c>nll</c>.</summary>
    public static Loss NegativeLogLikelihood { get; } = FromChecked(Checked.Loss.NegativeLogLikelihood);

    /// <summary>The mean absolute error (PyTorch's <c>l1_loss</c>); <c>l1</c>.</summary>
    public static Loss L1 { get; } = FromChecked(Checked.Loss.L1);

    /// <summary>
    /// A loss computed by <paramref name="compute"/> from the network's output <c>[batch, ...]</c> and the
    /// target (both on the network's device); it must return one number (a scalar tensor, e.g. a mean)
    /// that is differentiable with respect to the output. It runs inside the step's dispose scope.
    /// </summary>
    /// <param name="name">its name in reports and checkpoints</param>
    /// <param name="compute">(output, target) → the loss</param>
    public static Loss Custom(string name, Func<torch.Tensor, torch.Tensor, torch.Tensor> compute)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(compute);
        return new Loss(name, _ => new CompiledLoss(name, compute, null));
    }

    /// <summary>A train block's loss (a builtin or <c>fun y t -> ...</c>).</summary>
    internal static Loss FromChecked(Checked.Loss loss) =>
        new(Losses.name(loss), placement =>
        {
            var compiled = Losses.compile(placement, loss);
            return new CompiledLoss(Losses.name(loss), (output, target) => compiled.Compute(output, target), compiled);
        });

    /// <summary>The loss ready to run on <paramref name="placement"/>'s device and dtype (dispose it after the run).</summary>
    internal CompiledLoss Compile(Placement placement) => compile(placement);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
