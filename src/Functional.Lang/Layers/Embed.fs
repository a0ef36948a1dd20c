/// `embed vocab dim`: token ids [seq] int -> vectors [seq; dim], as torch.nn.Embedding (`weight`
/// [vocab; dim], drawn from N(0, 1)).
module Functional.Lang.Layers.Embed

open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Vocabulary: int; Dim: int }

let definition: Definition<Settings> =
    { Name = "embed"
      Weights = fun s -> [ WeightSpec.parameter "weight" [ s.Vocabulary; s.Dim ] ]
      Initialise = fun _ d -> Init.asFloat32 (Init.normal d.Generator 0.0 1.0) (d.Weight "weight")
      Compile =
        fun s b ->
            let weight = b.Slot "weight"
            let dim = int64 s.Dim
            // What torch.nn.functional.embedding computes: the rows of the ids, in the ids' shape.
            fun _ ids -> weight.Tensor.index_select(0L, ids.reshape -1L).view (Array.append ids.shape [| dim |])
      Traits = fun _ -> Traits.positionwise }

let private embedLayer range vocabulary dim =
    let name = sprintf "embed %d %d" vocabulary dim
    layer name range (fun input ->
        if input.Tokens then
            Ok(primitive definition { Vocabulary = vocabulary; Dim = dim }, { Dims = input.Dims @ [ Known dim ]; Tokens = false })
        else Error(sprintf "%s needs token ids ([seq] int), but its input is %O" name input))

let private embedFunction (_: Syntax.Range) =
    func "embed" [ "vocab"; "dim" ] [] (fun call ->
        Checked.all [ positiveInt call 0 "embed's vocabulary size"; positiveInt call 1 "embed's dimension" ]
        |> Result.map (fun sizes -> embedLayer call.Range sizes[0] sizes[1]))

let builtins: (string * (Syntax.Range -> Value)) list = [ "embed", embedFunction ]
