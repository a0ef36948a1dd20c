/// A model's layers with their paths, output shapes and parameter counts, like Keras's model.summary().
module Functional.Lang.Summary

open Functional.Lang.Checking
open Functional.Lang.Compilation

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

/// Summarises a compiled model: one row per layer and per declared parameter, in order, each with the
/// parameters registered under its path and not under a deeper layer's.
let summarize (compiled: CompiledModel) : ModelSummary =
    let model = compiled.Model
    let nodes = Node.walk model.Body |> Seq.filter (fun n -> not (isArrangement n)) |> List.ofSeq
    let sizes =
        compiled.named_parameters ()
        |> Seq.map (fun struct (name, p) -> name, (p.numel (), p.requires_grad))
        |> Map.ofSeq
    let declared =
        nodes
        |> List.collect (fun n ->
            match n.Op with
            | Parameters(specs, _) -> specs |> List.map (fun p -> Node.join n.Path p.Name, p)
            | _ -> [])
    let layers = nodes |> List.filter (fun n -> match n.Op with Parameters _ -> false | _ -> true)
    // Any other parameter belongs to the deepest layer whose path is a prefix of its name.
    let owner (name: string) =
        layers
        |> List.filter (fun n -> n.Path = "" || name.StartsWith(n.Path + "."))
        |> List.sortByDescending (fun n -> n.Path.Length)
        |> List.tryHead
        |> Option.map (fun n -> n.Path)
    let counts =
        sizes
        |> Map.toList
        |> List.filter (fun (name, _) -> not (declared |> List.exists (fun (d, _) -> d = name)))
        |> List.groupBy (fst >> owner)
        |> List.map (fun (path, ps) -> path, ps |> List.sumBy (fun (_, (n, _)) -> n))
        |> Map.ofList
    let rows =
        nodes
        |> List.collect (fun n ->
            match n.Op with
            | Parameters(specs, _) ->
                specs
                |> List.map (fun p ->
                    let path = Node.join n.Path p.Name
                    { Path = path
                      Layer = "param"
                      Output = string (Shape.ofInts p.Shape)
                      Parameters = Map.tryFind path sizes |> Option.map fst |> Option.defaultValue 0L })
            | _ ->
                [ { Path = (if n.Path = "" then "(body)" else n.Path)
                    Layer = n.Name
                    Output = string n.Output
                    Parameters = Map.tryFind (Some n.Path) counts |> Option.defaultValue 0L } ])
    let total = sizes |> Map.toList |> List.sumBy (fun (_, (n, _)) -> n)
    let trainable = sizes |> Map.toList |> List.filter (fun (_, (_, t)) -> t) |> List.sumBy (fun (_, (n, _)) -> n)
    { Model = model.Name
      Doc = model.Doc
      Input = string model.Input
      Output = string model.Output
      Rows = rows
      Total = total
      Trainable = trainable
      Frozen = total - trainable }
