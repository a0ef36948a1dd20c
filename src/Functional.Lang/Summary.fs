/// A model's layers with their paths, output shapes and parameter counts, like Keras's model.summary().
/// Read from the checked model's declarations alone: no tensor is made.
module Functional.Lang.Summary

open Functional.Lang.Checking
open Functional.Lang.Layers

type Row =
    { Path: string
      Layer: string
      Output: string
      /// Parameters held by this layer itself (not by the layers inside it).
      Parameters: int64 }

type ModelSummary =
    { Model: string
      Doc: string option
      Input: string
      Output: string
      Rows: Row list
      Total: int64
      Trainable: int64
      Frozen: int64 }

/// Containers that only arrange other layers: their parameters, if any, are shown on their own row.
let private isArrangement (node: Node) =
    match node.Op with
    | Chain _
    | Repeat _ -> true
    | _ -> false

let private elements (shape: int list) = shape |> List.fold (fun acc d -> acc * int64 d) 1L

/// Summarises a model: one row per layer and per declared parameter, in order, each with the parameters
/// it declares itself. Every parameter is trainable when the model is compiled.
let summarize (model: Model) : ModelSummary =
    let nodes = Node.walk model.Body |> Seq.filter (fun n -> not (isArrangement n)) |> List.ofSeq
    let rows =
        nodes
        |> List.collect (fun n ->
            match n.Op with
            | Parameters(specs, _) ->
                specs
                |> List.map (fun p ->
                    { Path = Node.join n.Path p.Name
                      Layer = "param"
                      Output = string (Shape.ofInts p.Shape)
                      Parameters = elements p.Shape })
            | op ->
                let own =
                    match op with
                    | Primitive p -> p.Weights |> Seq.filter (fun w -> w.Role = Compilation.Parameter) |> Seq.sumBy (fun w -> elements w.Shape)
                    | _ -> 0L
                [ { Path = (if n.Path = "" then "(body)" else n.Path)
                    Layer = n.Name
                    Output = string n.Output
                    Parameters = own } ])
    let total = rows |> List.sumBy (fun r -> r.Parameters)
    { Model = model.Name
      Doc = model.Doc
      Input = string model.Input
      Output = string model.Output
      Rows = rows
      Total = total
      Trainable = total
      Frozen = 0L }
