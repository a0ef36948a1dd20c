/// `layerNorm`: normalises each position over the last (feature) axis, as torch.nn.LayerNorm (eps 1e-5),
/// with `weight` (ones) and `bias` (zeros) over the features. Any rank.
module Functional.Lang.Layers.LayerNorm

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Features: int }

let definition: Definition<Settings> =
    { Name = "layerNorm"
      Weights = fun s -> [ WeightSpec.parameter "weight" [ s.Features ]; WeightSpec.parameter "bias" [ s.Features ] ]
      Initialise = fun _ d -> Init.fill 1.0 (d.Weight "weight")
      Compile =
        fun s b ->
            let weight, bias = b.Slot "weight", b.Slot "bias"
            let shape = [| int64 s.Features |]
            fun _ x -> torch.nn.functional.layer_norm (x, shape, weight.Tensor, bias.Tensor, 1e-5)
      Traits = fun _ -> Traits.positionwise }

let private layerNorm range =
    let name = "layerNorm"
    layer name range (fun input ->
        floats name input
        |> Result.bind (fun () -> lastKnown name input)
        |> Result.map (fun features -> primitive definition { Features = features }, input))

let builtins: (string * (Syntax.Range -> Value)) list = [ "layerNorm", layerNorm ]
