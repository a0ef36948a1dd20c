/// `flatten`: each example's dimensions made one ([c; h; w] -> [c*h*w]). No weights.
module Functional.Lang.Layers.Flatten

open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

let definition: Definition<unit> = Definition.weightless "flatten" (fun () _ -> fun _ x -> x.flatten 1L)

let private flatten range =
    layer "flatten" range (fun input ->
        match input.Dims with
        | [] -> Error "flatten needs an input with at least one dimension, but its input is a scalar"
        | [ _ ] -> Ok(primitive definition (), input)
        | dims ->
            match elements input with
            | Some count when fitsInt count -> Ok(primitive definition (), { input with Dims = [ Known(int count) ] })
            | Some count -> Error(sprintf "flatten would make a dimension of %O elements from %O, too many for one dimension" count input)
            | None ->
                let named = dims |> List.pick (function Symbol s -> Some s | Known _ -> None)
                Error(sprintf "flatten needs every dimension of its input to be a number, but '%s' in %O is not" named input))

let builtins: (string * (Syntax.Range -> Value)) list = [ "flatten", flatten ]
