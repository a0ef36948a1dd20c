/// The optimizers (`sgd`, `adam`, ...) and learning-rate schedules (`cosine`, `plateau`, ...) that a train
/// block's `optimizer` and `schedule` settings name, as builtins of the language: functions of named
/// options only, checked by TrainSettings' rules, each error at the option it is about.
module Functional.Lang.Checking.TrainSettingBuiltins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

let private settingOf (value: Value) =
    match value with
    | VInt n -> Integer n
    | VFloat x -> Real x
    | VBool b -> Flag b
    | VString s -> Text s
    | other -> Other(Value.describe other)

/// Each error at the option it names (the option's name in the call), or at the whole call.
let private diagnose (call: Call) (errors: SettingError list) =
    errors
    |> List.map (fun e ->
        let at =
            match e.Option |> Option.bind (fun o -> Map.tryFind o call.Named) with
            | Some(_, range) -> range
            | None -> call.Range
        Diagnostic.error at e.Message)

let private builtin name options (settings: string -> (string * SettingValue) list -> Result<'T, SettingError list>) (make: 'T -> Value) =
    func name [] (options |> List.map (fun o -> o, VError)) (fun call ->
        // An option whose value had an error has been reported already.
        if call.Named |> Map.exists (fun _ (v, _) -> match v with VError -> true | _ -> false) then
            Error []
        else
            let given = call.Named |> Map.toList |> List.map (fun (option, (v, _)) -> option, settingOf v)
            settings name given |> Result.map make |> Result.mapError (diagnose call))

let table: (string * (Range -> Value)) list =
    let optimizers =
        TrainSettings.optimizers
        |> List.map (fun (name, options) -> name, (fun (_: Range) -> builtin name options (fun n g -> TrainSettings.optimizer n g) VOptimizer))
    let schedules =
        TrainSettings.schedules
        |> List.map (fun (name, options) -> name, (fun (_: Range) -> builtin name options (fun n g -> TrainSettings.schedule n g) VSchedule))
    optimizers @ schedules
