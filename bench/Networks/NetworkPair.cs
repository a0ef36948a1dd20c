using Functional.Lang.Compilation;
using Functional.Networks;
using Functional.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Functional.Bench.Networks;

/// <summary>
/// One network twice: compiled from its <c>.fnn</c> source, and written by hand against TorchSharp. The
/// hand-written one gets the compiled one's weights, and <see cref="Verify"/> checks that both compute the
/// same outputs, so that the timings compare the same computation. Each has its own Adam optimiser
/// (lr 0.001) and a fixed batch of inputs and class-index targets.
/// </summary>
public sealed class NetworkPair : IDisposable
{
    public const double LearningRate = 1e-3;

    private NetworkPair(string name, string description, Network compiled, nn.Module<Tensor, Tensor> handWritten,
        Tensor inputs, Tensor targets, double trainingFlops)
    {
        Name = name;
        Description = description;
        Compiled = compiled;
        HandWritten = handWritten;
        Inputs = inputs;
        Targets = targets;
        TrainingFlops = trainingFlops;
        CompiledLoss = Functional.Training.Loss.CrossEntropy.Compile(compiled.Compiled.Placement);
        CompiledOptimizer = Optimizer.Adam(lr: LearningRate)
            .Create(compiled.Module.parameters().Where(p => p.requires_grad));
        CompiledSchedule = Schedule.Constant.Create(CompiledOptimizer);
        HandWrittenOptimizer = optim.Adam(handWritten.parameters(), lr: LearningRate);
    }

    /// <summary>The key in the results: mlp, cnn or gpt.</summary>
    public string Name { get; }
    public string Description { get; }
    public Network Compiled { get; }
    public nn.Module<Tensor, Tensor> HandWritten { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public long BatchSize => Inputs.shape[0];

    /// <summary>Tokens in the benchmark batch (batch × context) for a network of token ids (the GPT); 0 for the others.</summary>
    public long TokensPerBatch => Inputs.dtype == ScalarType.Int64 ? Inputs.numel() : 0;

    /// <summary>Multiply-add FLOPs of the matrix products of one training step, where counted (the MLP), else 0.</summary>
    public double TrainingFlops { get; }

    internal Functional.Training.CompiledLoss CompiledLoss { get; }
    public TrainingOptimizer CompiledOptimizer { get; }
    public LearningRateSchedule CompiledSchedule { get; }
    public optim.Optimizer HandWrittenOptimizer { get; }

    public static NetworkPair Mlp(string repository, int batch = 512)
    {
        var compiled = FnnFile.Load(Path.Combine(repository, "bench", "networks", "mlp.fnn")).Compile("BenchMlp", new NetworkOptions { Seed = 1 });
        int[] widths = [784, 256, 128, 10];
        // Forward: x·W for every layer; backward: the weights' gradients for every layer and the inputs'
        // gradients for every layer but the first (the data needs none). 2 FLOPs per multiply-add.
        double products = 0;
        for (var i = 0; i + 1 < widths.Length; i++) products += 3.0 * widths[i] * widths[i + 1];
        products -= widths[0] * widths[1];
        return Paired("mlp", "MLP 784-256-128-10, batch " + batch, compiled, new HandWrittenMlp(),
            rand(batch, 784), randint(0, 10, batch), 2.0 * batch * products);
    }

    public static NetworkPair Cnn(string repository, int batch = 128)
    {
        var compiled = FnnFile.Load(Path.Combine(repository, "examples", "fashion-mnist", "cnn.fnn")).Compile("FashionCnn", new NetworkOptions { Seed = 1 });
        return Paired("cnn", "Fashion-MNIST CNN (examples/fashion-mnist/cnn.fnn), batch " + batch, compiled, new HandWrittenCnn(),
            rand(batch, 1, 28, 28), randint(0, 10, batch), 0);
    }

    public static NetworkPair Gpt(string repository, int batch = 16, int context = 128)
    {
        var compiled = FnnFile.Load(Path.Combine(repository, "examples", "language-tour", "tour.fnn")).Compile("Gpt", new NetworkOptions { Seed = 1 });
        return Paired("gpt", $"GPT of examples/language-tour/tour.fnn, batch {batch}, context {context}", compiled, new HandWrittenGpt(context: context),
            randint(0, 96, [batch, context]), randint(0, 96, [batch, context]), 0);
    }

    private static NetworkPair Paired(string name, string description, Network compiled, nn.Module<Tensor, Tensor> handWritten,
        Tensor inputs, Tensor targets, double flops)
    {
        CopyWeights(compiled.Module, handWritten, name);
        return new NetworkPair(name, description, compiled, handWritten,
            inputs.DetachFromDisposeScope(), targets.DetachFromDisposeScope(), flops);
    }

    /// <summary>Gives the hand-written network the compiled one's parameters and buffers, in order; their shapes must agree.</summary>
    private static void CopyWeights(nn.Module compiled, nn.Module handWritten, string name)
    {
        void Copy(IList<Tensor> from, IList<Tensor> to, string what)
        {
            if (from.Count != to.Count)
                throw new InvalidOperationException($"{name}: the compiled network has {from.Count} {what}, the hand-written one {to.Count}");
            using var noGrad = no_grad();
            for (var i = 0; i < from.Count; i++)
            {
                if (!from[i].shape.SequenceEqual(to[i].shape))
                    throw new InvalidOperationException(
                        $"{name}: {what} {i} is [{string.Join(", ", from[i].shape)}] compiled but [{string.Join(", ", to[i].shape)}] by hand");
                to[i].copy_(from[i]);
            }
        }
        var handParameters = handWritten is HandWrittenGpt gpt ? gpt.InLayerOrder() : handWritten.parameters();
        Copy(compiled.parameters().Cast<Tensor>().ToList(), handParameters.Cast<Tensor>().ToList(), "parameters");
        Copy(compiled.buffers().ToList(), handWritten.buffers().ToList(), "buffers");
    }

    /// <summary>
    /// The largest difference between the two networks' outputs on the benchmark batch, in evaluation mode
    /// and in training mode (the same seed before each, for dropout).
    /// </summary>
    public double Verify()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double worst = 0;
        foreach (var training in new[] { false, true })
        {
            Compiled.Compiled.train(training);
            HandWritten.train(training);
            // The compiled network draws dropout's masks from its own generator, the hand-written one from
            // torch's global one: started from one seed, they draw the same.
            Randomness.reseed(Compiled.Compiled.Generator, 7);
            var a = Compiled.Compiled.forward(Inputs);
            manual_seed(7);
            var b = HandWritten.forward(Inputs);
            if (!a.shape.SequenceEqual(b.shape))
                throw new InvalidOperationException($"{Name}: outputs [{string.Join(", ", a.shape)}] compiled but [{string.Join(", ", b.shape)}] by hand");
            worst = Math.Max(worst, (a - b).abs().max().ToDouble());
        }
        // Training mode ran batch norm's running statistics forward in both: put them back in step.
        CopyWeights(Compiled.Compiled, HandWritten, Name);
        return worst;
    }

    public void Dispose()
    {
        CompiledOptimizer.Dispose();
        HandWrittenOptimizer.Dispose();
        ((IDisposable)CompiledLoss).Dispose();
        HandWritten.Dispose();
        Compiled.Dispose();
        Inputs.Dispose();
        Targets.Dispose();
    }
}
