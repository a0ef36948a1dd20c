using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Bench.Networks;

/// <summary>The Fashion-MNIST CNN of examples/fashion-mnist/cnn.fnn, as one writes it against TorchSharp.</summary>
public sealed class HandWrittenCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1 = nn.Conv2d(1, 32, 3, padding: 1);
    private readonly Conv2d conv2 = nn.Conv2d(32, 64, 3, padding: 1);
    private readonly BatchNorm2d norm = nn.BatchNorm2d(64);
    private readonly Dropout dropout = nn.Dropout(0.25);
    private readonly Linear hidden = nn.Linear(64 * 7 * 7, 128);
    private readonly Linear output = nn.Linear(128, 10);

    public HandWrittenCnn() : base(nameof(HandWrittenCnn)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.max_pool2d(nn.functional.relu(conv1.forward(x)), 2);
        y = nn.functional.max_pool2d(nn.functional.relu(norm.forward(conv2.forward(y))), 2);
        y = dropout.forward(y.flatten(1));
        return output.forward(nn.functional.relu(hidden.forward(y)));
    }
}
