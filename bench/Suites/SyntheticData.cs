using static TorchSharp.torch;

namespace Functional.Bench.Suites;

/// <summary>
/// Fashion-MNIST-sized examples for the training runs: 784 uniform pixels, labelled by a fixed random linear
/// teacher (so that there is something to learn). The same seed gives the same examples.
/// </summary>
public sealed class SyntheticData(Tensor features, Tensor labels) : IDisposable
{
    public const int Width = 784;

    public Tensor Features { get; } = features;
    public Tensor Labels { get; } = labels;

    public static SyntheticData Tensors(int examples)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(2);
        var teacher = randn(Width, 10, generator: generator);
        var features = rand(examples, Width, generator: generator);
        var labels = features.matmul(teacher).argmax(1);
        return new SyntheticData(features.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    }

    /// <summary>
    /// The examples as an application holds them for <c>Network.Fit</c>: a row array each, and int labels.
    /// Copied a thousand rows at a time, so that no second full copy is ever held.
    /// </summary>
    public static (float[][] Rows, int[] Labels) Arrays(SyntheticData data)
    {
        var rows = new float[data.Features.shape[0]][];
        for (var start = 0; start < rows.Length; start += 1000)
        {
            var count = Math.Min(1000, rows.Length - start);
            using var block = data.Features.narrow(0, start, count);
            var flat = block.data<float>().ToArray();
            for (var i = 0; i < count; i++) rows[start + i] = flat.AsSpan(i * Width, Width).ToArray();
        }
        return (rows, data.Labels.data<long>().Select(l => (int)l).ToArray());
    }

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}
