/// The command line, declared for Argu (which also writes every --help).
module Functional.Cli.Arguments

open Argu

type CheckArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file to check."

type TrainArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Model of name: string
    | Epochs of count: int
    | Lr of rate: float
    | Batch of size: int
    | Seed of seed: int64
    | Out of directory: string
    | Device of device: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file whose train blocks to run."
            | Model _ -> "train only this model (default: every model with a train block)."
            | Epochs _ -> "override the train block's epochs."
            | Lr _ -> "override the optimizer's learning rate."
            | Batch _ -> "override the number of examples per step."
            | Seed _ -> "seed for the initial weights and shuffling (default 1)."
            | Out _ -> "write weights.safetensors and model.json here (one sub-folder per model when several are trained)."
            | Device _ -> "cpu, cuda, cuda:N or auto (default cpu)."

type PredictArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | [<Mandatory>] Weights of directory: string
    | [<Mandatory>] Input of values: string
    | Device of device: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file the weights were trained from."
            | Weights _ -> "a checkpoint folder written by 'fnn train --out'."
            | Input _ -> "one example's values, separated by commas (\"0,1\"); repeat for several examples."
            | Device _ -> "cpu, cuda, cuda:N or auto (default cpu)."

type FnnArgs =
    | [<CliPrefix(CliPrefix.None)>] Check of ParseResults<CheckArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Predict of ParseResults<PredictArgs>
    | Version

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Check _ -> "check a .fnn file: syntax, names and shapes (exit code 1 on errors)."
            | Train _ -> "train the models of a .fnn file as its train blocks say."
            | Predict _ -> "run a trained network on inputs."
            | Version -> "print the version."
