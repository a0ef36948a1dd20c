/// The optimizers (`sgd`, `adam`, ...) and learning-rate schedules (`cosine`, `plateau`, ...) a train
/// block's `optimizer` and `schedule` settings name, as builtins of the language.
module Functional.Lang.Checking.TrainSettingBuiltins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

/// `weightDecay` as the host spells it: `weight_decay`.
let private snakeCase (name: string) =
    name |> Seq.collect (fun c -> if System.Char.IsUpper c then [ '_'; System.Char.ToLowerInvariant c ] else [ c ]) |> Seq.toArray |> System.String

/// An optimizer or schedule: a function of named options only; the host checks their ranges.
let private configured name (options: string list) (make: Configured -> Value) =
    func name [] (options |> List.map (fun o -> o, VError)) (fun call ->
        call.Named
        |> Map.toList
        |> List.map (fun (option, (v, at)) ->
            match v with
            | VInt n -> Ok(snakeCase option, string n)
            | VFloat f -> Ok(snakeCase option, f.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
            | VBool b -> Ok(snakeCase option, (if b then "true" else "false"))
            | VString text -> Ok(snakeCase option, text)
            | VError -> Error []
            | other -> Checked.fail at (sprintf "%s's %s must be a number, true/false or a string, but it is %s" name option (Value.describe other)))
        |> Checked.all
        |> Result.map (fun options -> make { Name = name; Options = options; Range = call.Range }))

let private optimizers =
    let common = [ "lr"; "weightDecay"; "l1"; "clipNorm"; "clipValue" ]
    [ "sgd", common @ [ "momentum"; "nesterov" ]
      "rmsprop", common @ [ "momentum"; "alpha"; "eps" ]
      "adam", common @ [ "beta1"; "beta2"; "eps" ]
      "adamw", common @ [ "beta1"; "beta2"; "eps" ] ]
    |> List.map (fun (name, options) -> name, (fun (_: Range) -> configured name options VOptimizer))

let private schedules =
    let warmup = [ "warmupSteps"; "warmupEpochs"; "warmupStart" ]
    [ "stepDecay", "step", [ "every"; "gamma" ] @ warmup
      "exponential", "exponential", [ "gamma" ] @ warmup
      "cosine", "cosine", [ "epochs"; "minLr" ] @ warmup
      "plateau", "plateau", [ "factor"; "patience"; "minDelta"; "cooldown"; "minLr"; "mode" ] @ warmup
      "warmup", "warmup", [ "steps"; "epochs"; "start" ] ]
    |> List.map (fun (word, name, options) ->
        word, (fun (_: Range) -> configured word options (fun c -> VSchedule { c with Name = name })))

let table: (string * (Range -> Value)) list = optimizers @ schedules
