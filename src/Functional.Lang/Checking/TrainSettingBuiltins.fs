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

/// `lora (rank = 8, alpha = 8, dropout = 0, on = [...])`: Hugging Face PEFT's defaults; `on` (the
/// projection weights to adapt, as globs) is required. The patterns' places are attached by the train
/// block, which sees where each string is written.
let private lora =
    func "lora" [] [ "rank", VError; "alpha", VError; "dropout", VError; "on", VError ] (fun call ->
        let option name fallback (read: Value -> Range -> Checked<'T>) : Checked<'T> =
            match Map.tryFind name call.Named with
            | None -> Ok fallback
            | Some(v, at) -> read v at
        let rank =
            option "rank" 8 (fun v at ->
                Value.asInt at "lora's rank" v
                |> Result.bind (fun n ->
                    if n >= 1 && n <= 4096 then Ok n
                    else Checked.fail at (sprintf "lora's rank must be an integer from 1 to 4096, but it is %d" n)))
        let alpha =
            option "alpha" 8.0 (fun v at ->
                Value.asFloat at "lora's alpha" v
                |> Result.bind (fun a ->
                    if a > 0.0 && System.Double.IsFinite a then Ok a
                    else Checked.fail at (sprintf "lora's alpha must be a positive number, but it is %g" a)))
        let dropout =
            option "dropout" 0.0 (fun v at ->
                Value.asFloat at "lora's dropout" v
                |> Result.bind (fun d ->
                    if d >= 0.0 && d < 1.0 then Ok d
                    else Checked.fail at (sprintf "lora's dropout must be at least 0 and below 1, but it is %g" d)))
        let targets =
            match Map.tryFind "on" call.Named with
            | None ->
                Checked.fail call.Range "lora needs 'on', the projection weights to adapt, such as on = [\"*.query.weight\"; \"*.value.weight\"]"
            | Some(VError, _) -> Error []
            | Some(VString s, at) -> Ok [ s, at ]
            | Some(VList [], at) -> Checked.fail at "lora's 'on' must name at least one pattern, such as [\"*.query.weight\"]"
            | Some(VList items, at) ->
                items
                |> List.map (function
                    | VString s -> Ok(s, at)
                    | VError -> Error []
                    | v -> Checked.fail at (sprintf "lora's 'on' must be a list of patterns (strings), but it holds %s" (Value.describe v)))
                |> Checked.all
            | Some(v, at) -> Checked.fail at (sprintf "lora's 'on' must be a list of patterns (strings), but it is %s" (Value.describe v))
        (rank <&> alpha <&> dropout <&> targets)
        |> Result.map (fun (((rank, alpha), dropout), targets) ->
            VLora { Rank = rank; Alpha = alpha; Dropout = dropout; Targets = targets }))

let table: (string * (Range -> Value)) list =
    let optimizers =
        TrainSettings.optimizers
        |> List.map (fun (name, options) -> name, (fun (_: Range) -> builtin name options (fun n g -> TrainSettings.optimizer n g) VOptimizer))
    let schedules =
        TrainSettings.schedules
        |> List.map (fun (name, options) -> name, (fun (_: Range) -> builtin name options (fun n g -> TrainSettings.schedule n g) VSchedule))
    optimizers @ schedules @ [ "lora", (fun (_: Range) -> lora) ]
