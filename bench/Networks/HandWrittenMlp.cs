using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Bench.Networks;

/// <summary>784 -> 256 -> 128 -> 10 with ReLU, as one writes it against TorchSharp.</summary>
public sealed class HandWrittenMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden1 = nn.Linear(784, 256);
    private readonly Linear hidden2 = nn.Linear(256, 128);
    private readonly Linear output = nn.Linear(128, 10);

    public HandWrittenMlp() : base(nameof(HandWrittenMlp)) => RegisterComponents();

    public override Tensor forward(Tensor x) =>
        output.forward(nn.functional.relu(hidden2.forward(nn.functional.relu(hidden1.forward(x)))));
}
