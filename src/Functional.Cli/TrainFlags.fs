/// The training flags written in the language: `--optimizer` and `--schedule` are parsed and checked as a
/// train block's settings are (an error points into the flag's text), and `--lr` by lr's rule.
module Functional.Cli.TrainFlags

open System
open Argu
open Functional.Lang.Checking
open Functional.Training.Optimization
open Functional.Cli.Arguments

/// `--optimizer "adamw(lr=0.001)"`, if given.
let optimizer (args: ParseResults<TrainArgs>) : Optimizer option =
    args.TryGetResult TrainArgs.Optimizer |> Option.map (fun text -> Optimizer.Parse(text, "--optimizer"))

/// `--schedule "cosine(epochs=20)"`, if given.
let schedule (args: ParseResults<TrainArgs>) : Schedule option =
    args.TryGetResult TrainArgs.Schedule |> Option.map (fun text -> Schedule.Parse(text, "--schedule"))

/// `--lr X`, if given: a positive rate that float32 weights can take (`--lr 1e300` is refused here,
/// not by libtorch in the middle of a step).
let learningRate (args: ParseResults<TrainArgs>) : float option =
    args.TryGetResult TrainArgs.Lr
    |> Option.map (fun lr ->
        match TrainSettings.checkRate "--lr" lr with
        | Ok lr -> lr
        | Error message -> raise (ArgumentException message))

/// The flag that sets each option the host checks, so that its range errors name what the user typed.
let private flags =
    dict
        [ "Epochs", "--epochs"; "BatchSize", "--batch"; "ValidationSplit", "--valid-split"; "Patience", "--patience"
          // fnn generate's (GenerationOptions)
          "MaxTokens", "--tokens"; "Temperature", "--temperature"; "TopK", "--top-k"; "TopP", "--top-p"
          // fine-tuning's (FineTuningOptions, LoraOptions)
          "Freeze", "--freeze"; "UnfreezeAtEpoch", "--unfreeze-at"; "LearningRates", "--lr-for"; "Train", "--trainable"
          "Targets", "--lora-on"; "Rank", "--lora"; "Alpha", "--lora"; "Dropout", "--lora" ]

/// Runs `settle` (the host merging and checking the options); an error of an option set by a flag is re-raised
/// naming the flag (and, for a range error, its value): `--epochs 0: epochs must be positive`, `--freeze: the
/// pattern 'x' matches no parameter of M`.
let naming (settle: unit -> 'T) : 'T =
    try settle ()
    with
    | :? ArgumentOutOfRangeException as e when not (isNull e.ParamName) && flags.ContainsKey e.ParamName ->
        // An out-of-range message adds the actual value on a second line: the flag's text says it already.
        let why = (Output.reason e).Split('\n').[0]
        raise (ArgumentException(sprintf "%s %O: %s" flags[e.ParamName] e.ActualValue why, e))
    | :? ArgumentException as e when not (isNull e.ParamName) && flags.ContainsKey e.ParamName ->
        raise (ArgumentException(sprintf "%s: %s" flags[e.ParamName] (Output.reason e), e))
