/// `dense n` (also `linear n`): a fully connected layer over the last axis, y = x Wᵀ + b, with PyTorch's
/// parameter layout (`weight` [n; inputs], `bias` [n]) and Keras's initialisation (Glorot uniform, zeros).
module Functional.Lang.Layers.Dense

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Inputs: int; Outputs: int }

let definition: Definition<Settings> =
    { Name = "dense"
      Weights = fun s -> [ WeightSpec.parameter "weight" [ s.Outputs; s.Inputs ]; WeightSpec.parameter "bias" [ s.Outputs ] ]
      // Keras's defaults rather than PyTorch's: they suit the sigmoid and tanh networks of the classic
      // examples, and are what most users of `dense` expect.
      Initialise = fun _ d -> Init.linear d.Generator (d.Weight "weight") (d.Weight "bias")
      Compile =
        fun _ b -> b.Linear ""
      Traits = fun _ -> { Traits.positionwise with Projections = [ "" ] } }

let private dense range units =
    let name = sprintf "dense %d" units
    layer name range (fun input ->
        numeric name input
        |> Result.bind (fun () -> lastKnown name input)
        |> Result.map (fun n -> primitive definition { Inputs = n; Outputs = units }, Shape.withLast (Known units) input))

let private denseFunction _ =
    func "dense" [ "units" ] [] (fun call ->
        let (units, at) = call.Args[0]
        Value.asInt at "dense's number of units" units
        |> Result.bind (fun n ->
            if n > 0 then Ok(dense call.Range n)
            else Checked.fail at (sprintf "dense needs a positive number of units, but it is %d" n)))

let builtins: (string * (Syntax.Range -> Value)) list = [ "dense", denseFunction; "linear", denseFunction ]
