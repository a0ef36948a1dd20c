/// What several commands read from their flags the same way: `--set` hyperparameters, and a trained network
/// (`fnn eval` and `fnn predict`) from a source, a checkpoint folder, a device and `--strict`.
module Functional.Cli.Loading

open System
open System.Collections.Generic
open Functional.Devices
open Functional.Networks
open Functional.Cli.Output

/// `--set name=value` options as the host takes them; a malformed or repeated one is an error naming it.
let overrides (assignments: string list) =
    let values = Dictionary<string, string>()
    for a in assignments do
        match a.IndexOf '=' with
        | i when i > 0 ->
            let name = a.Substring(0, i).Trim()
            if values.ContainsKey name then
                raise (ArgumentException(sprintf "--set %s is given twice: give each hyperparameter once" (Functional.Excerpt.short name)))
            values[name] <- a.Substring(i + 1).Trim()
        | _ -> raise (ArgumentException(sprintf "--set %s: expected name=value, as in --set dim=64" (Functional.Excerpt.short a)))
    values

/// The network a checkpoint folder holds (with a LoRA adapter folder's adapters, if given), loaded for `fnn eval`,
/// `fnn predict`, `fnn generate` and `fnn merge`; its warnings (a source changed since training) are printed.
let trainedNetwork (source: string) (weights: string) (adapter: string option) (device: string option) (sets: string list) (strict: bool) =
    let options =
        NetworkLoadOptions(
            Device = (device |> Option.map ComputeDevice.Parse |> Option.defaultValue ComputeDevice.Cpu),
            Hyperparameters = overrides sets,
            RequireUnchangedSource = strict,
            Adapter = Option.toObj adapter)
    let network = Network.Load(source, weights, options)
    warnings network.Warnings
    network
