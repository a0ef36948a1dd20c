/// The names every program can use: layers (Layers/Registry.fs), combinators, math, initialisers,
/// losses, optimizers and schedules (TrainSettingBuiltins).
module Functional.Lang.Checking.Builtins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

let private mathFunction name op =
    func name [ "x" ] [] (fun call ->
        match call.Args[0] with
        | VTensor t, _ -> Ok(VTensor { Kind = Unary(op, t); Shape = t.Shape; Batched = t.Batched })
        | (VInt _ | VFloat _) as v, at ->
            Value.asFloat at name v
            |> Result.map (fun x ->
                let f =
                    match op with
                    | Exp -> exp
                    | Log -> log
                    | Sqrt -> sqrt
                    | Abs -> abs
                    | Neg -> (~-)
                VFloat(f x))
        | VError, _ -> Error []
        | v, at -> Checked.fail at (sprintf "%s needs a tensor or a number, but got %s" name (Value.describe v)))

let private initialiser name positional (make: float list -> Init) =
    func name positional [] (fun call ->
        List.zip positional call.Args
        |> List.map (fun (parameter, (v, at)) -> Value.asFloat at (sprintf "%s's %s" name parameter) v)
        |> Checked.all
        |> Result.map (make >> VInit))

let private tensorArgument name (call: Call) =
    match call.Args[0] with
    | VTensor t, at -> Ok(t, at)
    | VError, _ -> Error []
    | v, at -> Checked.fail at (sprintf "%s needs a tensor, but got %s" name (Value.describe v))

/// `sum x`, `mean x (axis = 1)`...: over the whole example, or over one of its axes.
let private reduction name op =
    func name [ "x" ] [ "axis", VError ] (fun call ->
        tensorArgument name call
        |> Result.bind (fun (t, _) ->
            match Map.tryFind "axis" call.Named with
            | None -> Ok(VTensor { Kind = Reduce(op, None, t); Shape = Shape.scalar; Batched = t.Batched })
            | Some(v, at) ->
                Value.asInt at (sprintf "%s's axis" name) v
                |> Result.bind (fun axis ->
                    let rank = Shape.rank t.Shape
                    if axis < -rank || axis >= rank then
                        Checked.fail at (sprintf "%s's axis must be from %d to %d for a tensor of shape %O, but it is %d" name -rank (rank - 1) t.Shape axis)
                    else
                        let index = if axis < 0 then axis + rank else axis
                        let dims = t.Shape.Dims |> List.removeAt index
                        Ok(VTensor { Kind = Reduce(op, Some axis, t); Shape = { Dims = dims; Tokens = false }; Batched = t.Batched }))))

/// `transpose x`: swaps the last two axes of each example.
let private transpose =
    func "transpose" [ "x" ] [] (fun call ->
        tensorArgument "transpose" call
        |> Result.bind (fun (t, at) ->
            match List.rev t.Shape.Dims with
            | last :: before :: rest ->
                Ok(VTensor { Kind = Transpose(-2, -1, t); Shape = { Dims = List.rev (before :: last :: rest); Tokens = false }; Batched = t.Batched })
            | _ -> Checked.fail at (sprintf "transpose swaps the last two axes, so it needs at least two, but the tensor is %O" t.Shape)))

/// Each builtin is made at its use site, so that layers remember where they were written.
let table: Map<string, Range -> Value> =
    let constant value = fun (_: Range) -> value
    Map(
        Combinators.table
        @ Functional.Lang.Layers.Registry.builtins
        @ [ "exp", constant (mathFunction "exp" Exp)
            "log", constant (mathFunction "log" Log)
            "sqrt", constant (mathFunction "sqrt" Sqrt)
            "abs", constant (mathFunction "abs" Abs)
            "zeros", constant (VInit Zeros)
            "ones", constant (VInit Ones)
            "xavier", constant (VInit Xavier)
            "he", constant (VInit He)
            "normal", constant (initialiser "normal" [ "std" ] (fun xs -> Normal xs[0]))
            "uniform", constant (initialiser "uniform" [ "low"; "high" ] (fun xs -> Uniform(xs[0], xs[1])))
            "sum", constant (reduction "sum" Sum)
            "mean", constant (reduction "mean" Mean)
            "max", constant (reduction "max" Max)
            "min", constant (reduction "min" Min)
            "transpose", constant transpose
            "nll", constant (VLoss NegativeLogLikelihood)
            "mse", constant (VLoss MeanSquaredError)
            "bce", constant (VLoss BinaryCrossEntropy)
            "crossEntropy", constant (VLoss CrossEntropy)
            "l1", constant (VLoss L1) ]
        @ TrainSettingBuiltins.table
    )
