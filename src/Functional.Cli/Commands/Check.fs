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
        let models =
            program.Models
            |> List.map (fun m -> sprintf "%s %O -> %O" m.Name m.Input m.Output)
            |> String.concat ", "
        printfn "%s: ok (%d model%s: %s; %d train block%s)" path program.Models.Length
            (if program.Models.Length = 1 then "" else "s") models program.Trains.Length
            (if program.Trains.Length = 1 then "" else "s")
        Exit.ok
    | Error diagnostics, text ->
        error (Language.render path text diagnostics)
        let n = diagnostics.Length
        error (sprintf "%d error%s" n (if n = 1 then "" else "s"))
        Exit.failed
