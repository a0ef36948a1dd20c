/// `positional n`: learned position embeddings added to [seq; dim]: `weight` [n; dim], drawn from
/// N(0, 0.02) as GPT-2's, small next to unit-variance token embeddings. A known length above n is an error
/// when checking; a named one (`seq`) when the model runs.
module Functional.Lang.Layers.Positional

open System
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Length: int; Dim: int }

/// Adds rows of a table of `length` positions to [batch; seq; dim]: rows 0.. for a whole sequence, and
/// during generation rows from the cache's offset on, where the new positions start.
let addRows kind length (table: Compilation.Slot) (context: Compilation.RunContext) (x: TorchSharp.torch.Tensor) =
    let positions = x.shape[1]
    let start = match context.Cache with Some cache -> cache.Offset | None -> 0L
    if start + positions > int64 length then
        raise (ArgumentException(sprintf "%s %d covers %d positions, but its input has %d" kind length length (start + positions)))
    x.add (table.Tensor.narrow (0L, start, positions), Compilation.Scalars.one ())

let definition: Definition<Settings> =
    { Name = "positional"
      Weights = fun s -> [ WeightSpec.parameter "weight" [ s.Length; s.Dim ] ]
      Initialise = fun _ d -> Init.normal d.Generator 0.0 0.02 (d.Weight "weight")
      Compile =
        fun s b ->
            let weight = b.Slot "weight"
            addRows "positional" s.Length weight
      Traits = fun s -> { Traits.none with Sequence = PositionTable s.Length } }

/// A table of `length` positions covers a known sequence length up to it; a named one is left to run time.
let covers name length (positions: Dim) =
    match positions with
    | Known n when n > length -> Error(sprintf "%s covers %d positions, but its input has %d" name length n)
    | Known _
    | Symbol _ -> Ok()

/// positional and sinusoidal: a table of `length` positions added to [seq; dim].
let positionTable kind (make: int -> int -> Op) (_: Syntax.Range) =
    func kind [ "length" ] [] (fun call ->
        positiveInt call 0 (sprintf "%s's number of positions" kind)
        |> Result.map (fun length ->
            let name = sprintf "%s %d" kind length
            layer name call.Range (fun input ->
                numericSequence name input
                |> Result.bind (fun (positions, dim) -> covers name length positions |> Result.map (fun () -> make length dim, input)))))

let builtins: (string * (Syntax.Range -> Value)) list =
    [ "positional", positionTable "positional" (fun length dim -> primitive definition { Length = length; Dim = dim }) ]
