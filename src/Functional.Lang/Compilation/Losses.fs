/// Loss functions: the builtins as PyTorch defines them (mean over the batch), and `fun y t -> ...`
/// losses, which give one number per example, averaged over the batch.
namespace Functional.Lang.Compilation

open System
open System.Collections.Generic
open TorchSharp
open Functional.Lang.Checking

/// A compiled loss of (output, target). Dispose it to free the constants a `fun` loss holds.
type LossFunction(compute: torch.Tensor -> torch.Tensor -> torch.Tensor, constants: ResizeArray<torch.Tensor>) =
    member _.Compute(output: torch.Tensor, target: torch.Tensor) = compute output target

    interface IDisposable with
        member _.Dispose() =
            for c in constants do
                c.Dispose()
            constants.Clear()

module Losses =
    let name (loss: Loss) =
        match loss with
        | MeanSquaredError -> "mse"
        | BinaryCrossEntropy -> "bce"
        | CrossEntropy -> "crossEntropy"
        | NegativeLogLikelihood -> "nll"
        | L1 -> "l1"
        | Custom _ -> "fun"

    /// Class-index targets (integers), as IDX labels are, rather than one-hot rows.
    let private isIndices (target: torch.Tensor) =
        target.dtype = torch.ScalarType.Int64 || target.dtype = torch.ScalarType.Int32

    let compile (placement: Placement) (loss: Loss) : LossFunction =
        let constants = ResizeArray<torch.Tensor>()
        let compute: torch.Tensor -> torch.Tensor -> torch.Tensor =
            match loss with
            | MeanSquaredError -> fun output target -> torch.nn.functional.mse_loss(output, target)
            | BinaryCrossEntropy -> fun output target -> torch.nn.functional.binary_cross_entropy(output, target)
            // The classes are the last axis (PyTorch's cross_entropy takes axis 1): flatten the others.
            // Targets are class indices (int64, one per position) or one-hot/probabilities (the output's shape).
            | CrossEntropy ->
                fun output target ->
                    let classes = output.shape[output.shape.Length - 1]
                    if isIndices target then torch.nn.functional.cross_entropy(output.reshape(-1L, classes), target.reshape(-1L))
                    else torch.nn.functional.cross_entropy(output.reshape(-1L, classes), target.reshape(-1L, classes))
            | L1 -> fun output target -> torch.nn.functional.l1_loss(output, target)
            // With one-hot or probability targets this is PyTorch's nll_loss of the same classes.
            | NegativeLogLikelihood ->
                fun output target ->
                    if isIndices target then
                        let classes = output.shape[output.shape.Length - 1]
                        torch.nn.functional.nll_loss(output.reshape(-1L, classes), target.reshape(-1L))
                    else (output * target).sum(-1L).neg().mean()
            | Custom term ->
                // Only weightless layers (activations) can appear in a loss: each is made once, here.
                let layers = Dictionary<Node, torch.nn.Module<torch.Tensor, torch.Tensor>>(HashIdentity.Reference)
                let layerOf node =
                    match layers.TryGetValue node with
                    | true, m -> m
                    | false, _ ->
                        let m = Compiler.compileLayer placement node
                        layers[node] <- m
                        m
                let noParameter name = invalidOp (sprintf "a loss has no parameter '%s'" name)
                let f = Terms.compile placement noParameter layerOf constants term
                fun output target -> (f output target).mean()
        new LossFunction(compute, constants)
