module Functional.Cli.Commands.Predict

open System
open System.Globalization
open Argu
open Functional.Devices
open Functional.Networks
open Functional.Cli.Arguments
open Functional.Cli.Output

/// "0,1" or "0 1" or "0;1" as numbers; anything else is an error naming the bad value.
let parseValues (text: string) : Result<float32[], string> =
    let parts = text.Split([| ','; ';'; ' '; '\t' |], StringSplitOptions.RemoveEmptyEntries)
    let parsed =
        parts
        |> Array.map (fun p ->
            match Single.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, v when Single.IsFinite v -> Ok v
            | _ -> Error p)
    match parsed |> Array.tryPick (function Error p -> Some p | Ok _ -> None) with
    | Some bad -> Error(sprintf "--input \"%s\": '%s' is not a number" text bad)
    | None when parts.Length = 0 -> Error "--input is empty: give the example's values, e.g. --input \"0,1\""
    | None -> Ok(parsed |> Array.map (function Ok v -> v | Error _ -> nanf))

let run (args: ParseResults<PredictArgs>) =
    let path = args.GetResult PredictArgs.File
    let weights = args.GetResult PredictArgs.Weights
    let inputs = args.GetResults PredictArgs.Input |> List.map parseValues
    match inputs |> List.tryPick (function Error e -> Some e | Ok _ -> None) with
    | Some message ->
        error message
        Exit.failed
    | None ->
        use network =
            Functional.Cli.Loading.trainedNetwork path weights (args.TryGetResult PredictArgs.Adapter) (args.TryGetResult PredictArgs.Device)
                (args.GetResults PredictArgs.Set) (args.Contains PredictArgs.Strict)
        let examples = inputs |> List.map (function Ok v -> v | Error _ -> [||]) |> Array.ofList
        // The examples are the --input values: a shape or range error is about them.
        let outputs =
            try network.Predict examples
            with :? ArgumentException as e -> raise (ArgumentException(sprintf "--input: %s" e.Message, e))
        // A classifier's scores end with the name of the class that scores highest, when its classes have names.
        let names = Option.ofObj network.ClassNames
        for output in outputs do
            let scores = output |> Array.map (float >> number) |> String.concat ", "
            match names with
            | Some names when names.Count = output.Length && output.Length > 0 ->
                let best = output |> Array.indexed |> Array.maxBy snd |> fst
                printfn "%s  -> %s" scores (Functional.Excerpt.short names[best])
            | _ -> printfn "%s" scores
        Exit.ok
