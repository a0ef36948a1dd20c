/// What generation asks of a checked model: is it a language model (token ids [seq] in, a score for every
/// vocabulary entry at each position out), how many positions can it see, and can a cache give it only
/// the new positions? The last holds when every layer computes each position on its own, is a causal
/// attention or adds a position table (the layers' `Sequence` trait): derived from the model itself.
module Functional.Lang.LanguageModel

open Functional.Lang.Checking
open Functional.Lang.Layers

type Description =
    { /// Scores per position: the output's last dimension.
      Vocabulary: int
      /// The most positions the model takes (its input's length, or its position tables' shortest);
      /// None when nothing bounds it.
      Context: int option
      /// Ok when generation may cache keys and values; else why not, naming the layer and its place.
      Cache: Result<unit, string> }

let private place (node: Node) =
    let path = if node.Path = "" then "" else sprintf " (layer %s)" node.Path
    sprintf "%s%s at %O" node.Name path node.Range

/// Ok when each node's positions can be computed a few at a time given the earlier ones' keys and values.
let rec private cacheable (node: Node) : Result<unit, string> =
    let all nodes =
        nodes |> List.fold (fun acc n -> acc |> Result.bind (fun () -> cacheable n)) (Ok())
    match node.Op with
    | Primitive p ->
        // A layer over the last axis is over the features only while the positions are another axis.
        let overFeatures = node.Input.Tokens || node.Input.Dims.Length >= 2
        match p.Traits.Sequence with
        | Positionwise when overFeatures -> Ok()
        | CausalMixing
        | PositionTable _ -> Ok()
        | Positionwise
        | Mixes -> Error(sprintf "%s mixes positions" (place node))
    | Chain steps
    | Repeat steps
    | Concat steps -> all steps
    | Residual inner
    | Parameters(_, inner) -> cacheable inner
    | Shared original -> cacheable original
    | Graph _ -> Error(sprintf "%s computes with tensor math that may mix positions" (place node))

let private positionTables (model: Model) =
    Node.walk model.Body
    |> Seq.choose (fun n ->
        match n.Op with
        | Primitive p ->
            match p.Traits.Sequence with
            | PositionTable length -> Some length
            | _ -> None
        | _ -> None)
    |> List.ofSeq

/// The model as a language model, or why it is not one.
let describe (model: Model) : Result<Description, string> =
    let input, output = model.Input, model.Output
    match input.Dims, output.Dims with
    | [ positions ], [ outPositions; Known vocabulary ] when input.Tokens && positions = outPositions ->
        let declared = match positions with Known n -> [ n ] | Symbol _ -> []
        let context = match declared @ positionTables model with [] -> None | bounds -> Some(List.min bounds)
        Ok { Vocabulary = vocabulary; Context = context; Cache = cacheable model.Body }
    | _ ->
        Error(
            sprintf "model %s takes %O and outputs %O; generating text needs token ids [seq] int in and a score for every token at each position, [seq; vocab], out"
                model.Name input output
        )
