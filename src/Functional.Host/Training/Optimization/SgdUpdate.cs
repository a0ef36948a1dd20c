using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Functional.Training.Optimization;

/// <summary>
/// Stochastic gradient descent as PyTorch's SGD (dampening 0): <c>g = ∇ + decay·w</c>; with momentum,
/// <c>b = momentum·b + g</c> (b = g at first) and g becomes b, or <c>g + momentum·b</c> with Nesterov;
/// then <c>w -= lr·g</c>.
/// </summary>
internal sealed class SgdUpdate : ParameterUpdate
{
    private readonly double momentum;
    private readonly bool nesterov;
    private readonly double decay;
    private readonly Scalar momentumScalar;
    private readonly Scalar decayScalar;

    public SgdUpdate(IReadOnlyList<Parameter> parameters, double momentum, bool nesterov, double decay)
        : base("sgd", parameters, "momentum_buffer")
    {
        (this.momentum, this.nesterov, this.decay) = (momentum, nesterov, decay);
        momentumScalar = Hold(momentum);
        decayScalar = Hold(decay);
    }

    protected override bool MakesSlot(int slot) => momentum != 0;

    protected override void Update(int index, Parameter parameter, Tensor grad, double learningRate)
    {
        var g = decay == 0 ? grad : grad.add(parameter, decayScalar);
        if (momentum != 0)
        {
            Tensor buffer;
            if (HasSlot(index, 0))
            {
                buffer = Slot(index, 0);
                buffer.mul_(momentumScalar).add_(g, One);
            }
            else buffer = Slot(index, 0, () => g.clone());
            g = nesterov ? g.add(buffer, momentumScalar) : buffer;
        }
        using var step = (-learningRate).ToScalar();
        parameter.add_(g, step);
    }
}
