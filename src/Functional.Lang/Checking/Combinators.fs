/// Builtins that make layers of layers: residual, repeat, concat, sequential.
module Functional.Lang.Checking.Combinators

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

let private node name op (context: BuildContext) (input: Shape) (output: Shape) range =
    { Path = context.Path; Name = name; Op = op; Input = input; Output = output; Range = range }

/// The layers of a list argument (`[f; g]`).
let private layers what (value: Value, at: Range) : Checked<Layer list> =
    match value with
    | VList items -> items |> List.map (fun v -> asLayer v at) |> Checked.all
    | VError -> Error []
    | v -> Checked.fail at (sprintf "%s takes a list of layers [f; g; ...], but got %s" what (Value.describe v))

/// `residual f`: x + f x. f keeps its input's shape and sits at the residual's own path.
let private residual range =
    func "residual" [ "f" ] [] (fun call ->
        let f, at = call.Args[0]
        asLayer f at
        |> Result.map (fun inner ->
            VLayer
                { Name = "residual"
                  Range = call.Range
                  Label = None
                  Share = None
                  Model = None
                  Build =
                    fun context input ->
                        buildAt context "" inner input
                        |> Result.bind (fun body ->
                            if body.Output = { input with Tokens = false } && not input.Tokens then
                                Ok(node "residual" (Residual body) context input input call.Range)
                            else
                                Checked.fail call.Range (sprintf "residual adds f x to x, so f must keep its input's shape %O, but it makes %O" input body.Output)) }))

/// `repeat n f`: n independent copies of f one after another, at `<path>.0` ... `<path>.<n-1>`.
let private repeat range =
    func "repeat" [ "n"; "f" ] [] (fun call ->
        Checked.check {
            let! n = positiveInt call 0 "repeat's number of copies"
            let f, at = call.Args[1]
            let! layer = asLayer f at
            let copy = unshared layer
            return
                VLayer
                    { Name = sprintf "repeat %d" n
                      Range = call.Range
                      Label = None
                      Share = None
                      Model = None
                      Build =
                        fun context input ->
                            let rec go i (shape: Shape) acc =
                                if i = n then Ok(List.rev acc, shape)
                                else
                                    buildAt context (string i) copy shape
                                    |> Result.bind (fun built -> go (i + 1) built.Output (built :: acc))
                            go 0 input []
                            |> Result.map (fun (copies, output) -> node (sprintf "repeat %d" n) (Repeat copies) context input output call.Range) }
        })

/// `concat [f; g]`: every branch on the same input, joined on the feature (last) axis.
let private concat range =
    func "concat" [ "branches" ] [] (fun call ->
        layers "concat" call.Args[0]
        |> Result.bind (fun branches ->
            if branches.IsEmpty then Checked.fail (snd call.Args[0]) "concat needs at least one branch"
            else
                Ok(
                    VLayer
                        { Name = "concat"
                          Range = call.Range
                          Label = None
                          Share = None
                          Model = None
                          Build =
                            fun context input ->
                                branches
                                |> List.mapi (fun i b -> buildAt context (string i) b input)
                                |> Checked.all
                                |> Result.bind (fun built ->
                                    let leading (s: Shape) = List.truncate (max 0 (Shape.rank s - 1)) s.Dims
                                    let first = List.head built
                                    match built |> List.tryFind (fun b -> Shape.rank b.Output = 0 || leading b.Output <> leading first.Output) with
                                    | Some odd ->
                                        Checked.fail odd.Range (sprintf "concat joins its branches on the last axis, so they must agree on the others, but this branch makes %O and the first %O" odd.Output first.Output)
                                    | None ->
                                        match built |> List.map (fun b -> Shape.last b.Output) |> List.map (function Some(Known n) -> Some n | _ -> None) with
                                        | sizes when List.forall Option.isSome sizes ->
                                            let total = sizes |> List.sumBy (Option.get >> int64)
                                            if total > int64 System.Int32.MaxValue then
                                                Checked.fail call.Range (sprintf "concat's branches make %d features together: too large for one axis" total)
                                            else
                                                let output = Shape.withLast (Known(int total)) first.Output
                                                Ok(node "concat" (Concat built) context input output call.Range)
                                        | _ -> Checked.fail call.Range "concat needs every branch's last dimension to be a number") }
                )))

/// `sequential [f; g; h]`: the same as f >> g >> h.
let private sequential range =
    func "sequential" [ "layers" ] [] (fun call ->
        layers "sequential" call.Args[0] |> Result.map (fun steps -> VLayer(chain steps call.Range)))

let table: (string * (Range -> Value)) list =
    [ "residual", residual
      "repeat", repeat
      "concat", concat
      "sequential", sequential ]
