/// `conv2d outChannels kernel (stride, padding, dilation)`: [channels; height; width] ->
/// [outChannels; height'; width'], as torch.nn.Conv2d (`weight` [out; in; kernel; kernel], `bias` [out],
/// PyTorch's initialisation).
module Functional.Lang.Layers.Conv2d

open TorchSharp
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

let definition: Definition<Convolution> =
    { Name = "conv2d"
      Weights =
        fun c ->
            [ WeightSpec.parameter "weight" [ c.Outputs; c.Inputs; c.Kernel; c.Kernel ]
              WeightSpec.parameter "bias" [ c.Outputs ] ]
      Initialise = fun _ d -> Init.torchDefault d.Generator (d.Weight "weight") (d.Weight "bias")
      Compile =
        fun c b ->
            let weight, bias = b.Slot "weight", b.Slot "bias"
            let both (n: int) = [| int64 n; int64 n |]
            let stride, padding, dilation = both c.Stride, both c.Padding, both c.Dilation
            fun _ x -> torch.nn.functional.conv2d (x, weight.Tensor, bias.Tensor, stride, padding, dilation)
      Traits = fun _ -> Traits.none }

let builtins: (string * (Functional.Lang.Syntax.Range -> Value)) list =
    [ "conv2d", convolution "conv2d" [ "height"; "width" ] (primitive definition) ]
