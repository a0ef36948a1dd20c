/// `conv1d outChannels kernel (stride, padding, dilation)`: [channels; length] -> [outChannels; length'],
/// as torch.nn.Conv1d (`weight` [out; in; kernel], `bias` [out], PyTorch's initialisation).
module Functional.Lang.Layers.Conv1d

open System
open TorchSharp
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

let definition: Definition<Convolution> =
    { Name = "conv1d"
      Weights =
        fun c ->
            [ WeightSpec.parameter "weight" [ c.Outputs; c.Inputs; c.Kernel ]
              WeightSpec.parameter "bias" [ c.Outputs ] ]
      Initialise = fun _ d -> Init.torchDefault d.Generator (d.Weight "weight") (d.Weight "bias")
      Compile =
        fun c b ->
            let weight, bias = b.Slot "weight", b.Slot "bias"
            let stride, padding, dilation = Nullable(int64 c.Stride), Nullable(int64 c.Padding), Nullable(int64 c.Dilation)
            fun _ x -> torch.nn.functional.conv1d (x, weight.Tensor, bias.Tensor, stride, padding, dilation)
      Traits = fun _ -> Traits.none }

let builtins: (string * (Functional.Lang.Syntax.Range -> Value)) list =
    [ "conv1d", convolution "conv1d" [ "length" ] (primitive definition) ]
