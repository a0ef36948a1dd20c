module Functional.Cli.Commands.Check

open System.IO
open Argu
open Functional.Lang
open Functional.Cli.Arguments
open Functional.Cli.Output

let run (args: ParseResults<CheckArgs>) =
    let path = args.GetResult CheckArgs.File
    match Language.checkFile path with
    | Ok program, _ ->
        let count n what = sprintf "%d %s%s" n what (if n = 1 then "" else "s")
        let models =
            match program.Models with
            | [] -> "no models"
            | ms -> sprintf "%s: %s" (count ms.Length "model") (ms |> List.map (fun m -> sprintf "%s %O -> %O" m.Name m.Input m.Output) |> String.concat ", ")
        printfn "%s: ok (%s; %s)" path models (count program.Trains.Length "train block")
        Exit.ok
    | Error diagnostics, text ->
        error (Language.render path text diagnostics)
        let n = diagnostics.Length
        error (sprintf "%d error%s" n (if n = 1 then "" else "s"))
        Exit.failed
