using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Functional.Training.Optimization;

/// <summary>
/// RMSprop as PyTorch's (not centred): <c>g = ∇ + decay·w</c>, <c>s = α·s + (1-α)·g²</c>,
/// <c>a = √s + eps</c>; then <c>w -= lr·g/a</c>, or with momentum <c>b = momentum·b + g/a</c>, <c>w -= lr·b</c>.
/// </summary>
internal sealed class RmsPropUpdate : ParameterUpdate
{
    private readonly double momentum;
    private readonly double decay;
    private readonly Scalar alpha, oneMinusAlpha, eps, momentumScalar, decayScalar;

    public RmsPropUpdate(IReadOnlyList<Parameter> parameters, double alpha, double eps, double decay, double momentum)
        : base("rmsprop", parameters, "square_avg", "momentum_buffer")
    {
        (this.momentum, this.decay) = (momentum, decay);
        this.alpha = Hold(alpha);
        oneMinusAlpha = Hold(1 - alpha);
        this.eps = Hold(eps);
        momentumScalar = Hold(momentum);
        decayScalar = Hold(decay);
    }

    protected override bool MakesSlot(int slot) => slot == 0 || momentum > 0;

    protected override void Update(int index, Parameter parameter, Tensor grad, double learningRate)
    {
        var g = decay == 0 ? grad : grad.add(parameter, decayScalar);
        var square = Slot(index, 0);
        square.mul_(alpha).addcmul_(g, g, oneMinusAlpha);
        var average = square.sqrt().add_(eps, One);
        using var step = (-learningRate).ToScalar();
        if (momentum > 0)
        {
            var buffer = Slot(index, 1);
            buffer.mul_(momentumScalar).addcdiv_(g, average, One);
            parameter.add_(buffer, step);
        }
        else parameter.addcdiv_(g, average, step);
    }
}
