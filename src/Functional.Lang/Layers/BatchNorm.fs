/// `batchNorm`: normalises each channel over the batch (and over the length or the image) of [c],
/// [c; len] or [c; h; w] inputs, as torch.nn.BatchNorm1d/2d: `weight` and `bias` [c], and the buffers
/// `running_mean`, `running_var` (momentum 0.1, eps 1e-5) and `num_batches_tracked` (int64).
module Functional.Lang.Layers.BatchNorm

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Features: int }

let definition: Definition<Settings> =
    { Name = "batchNorm"
      Weights =
        fun s ->
            [ WeightSpec.parameter "weight" [ s.Features ]
              WeightSpec.parameter "bias" [ s.Features ]
              WeightSpec.buffer "running_mean" [ s.Features ]
              WeightSpec.buffer "running_var" [ s.Features ]
              WeightSpec.counter "num_batches_tracked" ]
      Initialise =
        fun _ d ->
            Init.fill 1.0 (d.Weight "weight")
            Init.fill 1.0 (d.Weight "running_var")
      Compile =
        fun _ b ->
            let weight, bias = b.Slot "weight", b.Slot "bias"
            let mean, variance, count = b.Slot "running_mean", b.Slot "running_var", b.Slot "num_batches_tracked"
            fun context x ->
                // Training uses the batch's statistics and moves the running ones towards them; a frozen batch
                // norm (its weight takes no gradient) keeps its running statistics unless told otherwise.
                let batchStatistics = context.Training && (weight.Tensor.requires_grad || context.FrozenNormsTrain)
                if batchStatistics then count.Tensor.add_(Compilation.Scalars.one (), Compilation.Scalars.one ()) |> ignore
                torch.nn.functional.batch_norm (x, mean.Tensor, variance.Tensor, weight.Tensor, bias.Tensor, batchStatistics, 0.1, 1e-5)
      Traits = fun _ -> { Traits.none with BatchStatistics = true } }

let private batchNorm range =
    let name = "batchNorm"
    layer name range (fun input ->
        numeric name input
        |> Result.bind (fun () ->
            match input.Dims with
            | [ channels ]
            | [ channels; _ ]
            | [ channels; _; _ ] ->
                knownAxis name "channels" input channels
                |> Result.map (fun c -> primitive definition { Features = c }, input)
            | _ ->
                Error(
                    sprintf "%s needs a [channels], [channels; length] or [channels; height; width] input, but its input is %O" name input
                )))

let builtins: (string * (Syntax.Range -> Value)) list = [ "batchNorm", batchNorm ]
