using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Functional.Training.Optimization;

/// <summary>
/// Adam and AdamW as PyTorch's (without amsgrad). Adam folds L2 into the gradient (<c>g = ∇ + decay·w</c>);
/// AdamW decays the weights apart from it (<c>w *= 1 - lr·decay</c>). Then <c>m = β1·m + (1-β1)·g</c>,
/// <c>v = β2·v + (1-β2)·g²</c> and <c>w -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)</c>, t counted per parameter.
/// </summary>
internal sealed class AdamUpdate : ParameterUpdate
{
    private readonly double beta1, beta2, decay;
    private readonly bool decoupled;
    private readonly Scalar beta1Scalar, oneMinusBeta1, beta2Scalar, oneMinusBeta2, eps, decayScalar;

    public AdamUpdate(IReadOnlyList<Parameter> parameters, double beta1, double beta2, double eps, double decay, bool decoupled)
        : base(decoupled ? "adamw" : "adam", parameters, "exp_avg", "exp_avg_sq")
    {
        (this.beta1, this.beta2, this.decay, this.decoupled) = (beta1, beta2, decay, decoupled);
        beta1Scalar = Hold(beta1);
        oneMinusBeta1 = Hold(1 - beta1);
        beta2Scalar = Hold(beta2);
        oneMinusBeta2 = Hold(1 - beta2);
        this.eps = Hold(eps);
        decayScalar = Hold(decay);
    }

    protected override void Update(int index, Parameter parameter, Tensor grad, double learningRate)
    {
        var g = grad;
        if (decay != 0)
        {
            if (decoupled)
            {
                using var shrink = (1 - learningRate * decay).ToScalar();
                parameter.mul_(shrink);
            }
            else g = grad.add(parameter, decayScalar);
        }
        var m = Slot(index, 0);
        var v = Slot(index, 1);
        m.mul_(beta1Scalar).add_(g, oneMinusBeta1);
        v.mul_(beta2Scalar).addcmul_(g, g, oneMinusBeta2);
        var t = Steps[index];
        using var correction2 = Math.Sqrt(1 - Math.Pow(beta2, t)).ToScalar();
        using var step = (-learningRate / (1 - Math.Pow(beta1, t))).ToScalar();
        var denominator = v.sqrt().div_(correction2).add_(eps, One);
        parameter.addcdiv_(m, denominator, step);
    }
}
