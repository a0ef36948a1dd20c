// Trains the XOR network of xor.fnn from C# and prints its predictions.
// Run: dotnet run --project examples/xor/XorApp [-- SEED]
using Functional.Networks;
using Functional.Training;

var seed = args.Length > 0 ? long.Parse(args[0]) : 1;
var file = FnnFile.Load(Path.Combine(AppContext.BaseDirectory, "xor.fnn"));
var plan = file.TrainingPlan("Xor");

using var network = file.Compile("Xor", new NetworkOptions { Seed = seed });
Console.WriteLine($"{network.Name}: {network.Model.Input} -> {network.Model.Output}, {network.ParameterCount} parameters");

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

// Progress<T> would post to the thread pool; a plain IProgress prints in order on the training thread.
var progress = new EpochPrinter(every: 500);
var result = await network.TrainAsync(plan, new TrainingOptions { Seed = (int)seed }, progress, cancel.Token);

Console.WriteLine($"final loss (mse): {network.Evaluate(plan):0.000000} after {result.EpochsRun} epochs in {result.Elapsed.TotalSeconds:0.0} s");
foreach (var input in plan.Inputs)
    Console.WriteLine($"  {input[0]} xor {input[1]} -> {network.Predict(input)[0]:0.0000}");

sealed class EpochPrinter(int every) : IProgress<EpochReport>
{
    public void Report(EpochReport r)
    {
        if (r.Epoch % every == 0) Console.WriteLine($"  epoch {r.Epoch,4}/{r.Epochs}  loss {r.Loss:0.000000}");
    }
}
