/// Loss functions by name, as PyTorch defines them (mean over the batch).
module Functional.Lang.Compilation.Losses

open TorchSharp
open TorchSharp.Modules
open Functional.Lang.Checking

/// The loss as a function of (output, target), callable from C#.
let compile (loss: Loss) : System.Func<torch.Tensor, torch.Tensor, torch.Tensor> =
    match loss with
    | MeanSquaredError -> System.Func<_, _, _>(fun output target -> torch.nn.functional.mse_loss(output, target))
    | BinaryCrossEntropy -> System.Func<_, _, _>(fun output target -> torch.nn.functional.binary_cross_entropy(output, target))
    | CrossEntropy -> System.Func<_, _, _>(fun output target -> torch.nn.functional.cross_entropy(output, target))
    | L1 -> System.Func<_, _, _>(fun output target -> torch.nn.functional.l1_loss(output, target))

let name (loss: Loss) =
    match loss with
    | MeanSquaredError -> "mse"
    | BinaryCrossEntropy -> "bce"
    | CrossEntropy -> "crossEntropy"
    | L1 -> "l1"
