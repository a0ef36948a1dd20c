// XOR from F# Interactive. After `dotnet build`, run:  dotnet fsi examples/xor/xor.fsx
#load "../../repl/prelude.fsx"

open System.IO
open TorchSharp
open Functional.Networks
open Functional.Training

let file = FnnFile.Load(Path.Combine(__SOURCE_DIRECTORY__, "xor.fnn"))

for name in [ "Xor"; "XorByHand" ] do
    let plan = file.TrainingPlan name
    use network = file.Compile(name, NetworkOptions(Seed = 1L))
    let result = network.Train(plan, TrainingOptions(Seed = 1))
    printfn "%s: final loss (mse) %.6f after %d epochs" name (network.Evaluate plan) result.EpochsRun
    for input in plan.Inputs do
        printfn "  %g xor %g -> %.4f" input[0] input[1] (network.Predict input).[0]

// A compiled network is a TorchSharp module: call it on a batch, read its parameters by path.
let network = file.Compile("XorByHand", NetworkOptions(Seed = 1L))
let batch = torch.tensor([| 0.0f; 1.0f; 1.0f; 1.0f |]).reshape(2L, 2L)
printfn "untrained XorByHand on [0; 1] and [1; 1]: %A" (network.Module.forward(batch).data<float32>().ToArray())
for struct (path, p) in network.Module.named_parameters() do
    printfn "  %-4s %A" path p.shape
network.Dispose()
