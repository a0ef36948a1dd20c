/// The command line, declared for Argu (which also writes every --help).
module Functional.Cli.Arguments

open Argu

type OutputFormat =
    | Text
    | Json

type CheckArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Format of OutputFormat

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file to check."
            | Format _ -> "text (default) or json (for editors and CI: every diagnostic with its file, line and column)."

type SummaryArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Model of name: string
    | Set of assignment: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file."
            | Model _ -> "summarise only this model (default: every model of the file)."
            | Set _ -> "override a hyperparameter, as name=value (--set dim=64); repeat for several."

type TrainArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Model of name: string
    | Epochs of count: int
    | Lr of rate: float
    | Batch of size: int
    | Optimizer of optimizer: string
    | Schedule of schedule: string
    | Seed of seed: int64
    | Out of directory: string
    | Device of device: string
    | Set of assignment: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Set _ -> "override a hyperparameter, as name=value (--set hidden=32); repeat for several."
            | File _ -> "the .fnn file whose train blocks to run."
            | Model _ -> "train only this model (default: every model with a train block)."
            | Epochs _ -> "override the train block's epochs."
            | Lr _ -> "override the optimizer's learning rate."
            | Batch _ -> "override the number of examples per step."
            | Optimizer _ -> "replace the optimizer: sgd, rmsprop, adam or adamw, with options, e.g. \"adamw(lr=0.001, weight_decay=0.05)\"."
            | Schedule _ -> "replace the learning-rate schedule, e.g. \"cosine(epochs=20, warmup_epochs=1)\" or \"step(every=10, gamma=0.1)\"."
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
    | [<CliPrefix(CliPrefix.None)>] Summary of ParseResults<SummaryArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Predict of ParseResults<PredictArgs>
    | Version

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Check _ -> "check a .fnn file: syntax, names and shapes (exit code 1 on errors)."
            | Summary _ -> "list each model's layers, output shapes and parameter counts."
            | Train _ -> "train the models of a .fnn file as its train blocks say."
            | Predict _ -> "run a trained network on inputs."
            | Version -> "print the version."
