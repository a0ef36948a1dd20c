/// `last`: the final position of a sequence, [seq; ...] -> [...]. No weights.
module Functional.Lang.Layers.Last

open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

let definition: Definition<unit> = Definition.weightless "last" (fun () _ -> fun _ x -> x.select (1L, -1L))

let private lastLayer range =
    layer "last" range (fun input ->
        match input.Dims with
        | _ :: (_ :: _ as features) -> Ok(primitive definition (), { input with Dims = features })
        | _ -> Error(sprintf "last needs a [seq; features] input, but its input is %O" input))

let builtins: (string * (Functional.Lang.Syntax.Range -> Value)) list = [ "last", lastLayer ]
