/// Loss functions: the builtins as PyTorch defines them (mean over the batch), and `fun y t -> ...`
/// losses, which give one number per example, averaged over the batch.
namespace Functional.Lang.Compilation

open System
open System.Collections.Generic
open TorchSharp
open Functional.Lang.Checking

/// A compiled loss of (output, target). Dispose it to free what a `fun` loss holds (its constants).
type LossFunction(compute: torch.Tensor -> torch.Tensor -> torch.Tensor, held: ResizeArray<IDisposable>) =
    member _.Compute(output: torch.Tensor, target: torch.Tensor) = compute output target

    interface IDisposable with
        member _.Dispose() =
            for h in held do
                h.Dispose()
            held.Clear()

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
        let held = ResizeArray<IDisposable>()
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
                // Only weightless layers (activations) can appear in a loss: each is compiled once, here.
                let layers = Dictionary<Node, Forward>(HashIdentity.Reference)
                let layerOf node =
                    match layers.TryGetValue node with
                    | true, f -> f
                    | false, _ ->
                        let f = Compiler.compileLayer held.Add node
                        layers[node] <- f
                        f
                let noParameter name = invalidOp (sprintf "a loss has no parameter '%s'" name)
                let constant (x: float) =
                    let t = torch.tensor(x, dtype = placement.DType, device = placement.Device).DetachFromDisposeScope()
                    held.Add t
                    Slot("", WeightRole.Buffer false, t)
                let f = Terms.compile noParameter layerOf constant term
                // Activations draw nothing and do not depend on the mode: a fixed context.
                let context = { Placement = placement; Generator = null; Training = false; FrozenNormsTrain = false; Cache = None; Observer = None }
                fun output target -> (f context output target).mean()
        new LossFunction(compute, held)
