/// `rmsNorm`: x / sqrt(mean(x²) + eps) * weight over the last axis (eps 1e-6), `weight` ones over the
/// features. TorchSharp 0.107 has no RMSNorm, so it is written out.
module Functional.Lang.Layers.RmsNorm

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Features: int }

let definition: Definition<Settings> =
    { Name = "rmsNorm"
      Weights = fun s -> [ WeightSpec.parameter "weight" [ s.Features ] ]
      Initialise = fun _ d -> Init.fill 1.0 (d.Weight "weight")
      Compile =
        fun _ b ->
            let weight = b.Slot "weight"
            // Held by the network: one made for each call could be freed while libtorch reads it
            // (dotnet/TorchSharp#1496).
            let epsilon = (1e-6).ToScalar()
            b.Keep epsilon
            fun _ x ->
                let scale = x.square().mean([| -1L |], keepdim = true).add(epsilon, Compilation.Scalars.one ()).rsqrt ()
                x * scale * weight.Tensor
      Traits = fun _ -> Traits.positionwise }

let private rmsNorm range =
    let name = "rmsNorm"
    layer name range (fun input ->
        floats name input
        |> Result.bind (fun () -> lastKnown name input)
        |> Result.map (fun features -> primitive definition { Features = features }, input))

let builtins: (string * (Syntax.Range -> Value)) list = [ "rmsNorm", rmsNorm ]
