module Functional.Cli.Commands.Check

open System.Text
open System.Text.Json
open Argu
open Functional.Lang
open Functional.Lang.Syntax
open Functional.Cli.Arguments
open Functional.Cli.Output

let private placeJson (r: Range) =
    {| file = r.File; line = r.Start.Line; column = r.Start.Column; endLine = r.End.Line; endColumn = r.End.Column |}

/// The machine-readable report: every diagnostic with its place, and the models when there are none.
let private json (path: string) (result: Checked<Checking.CheckedProgram>) =
    let diagnostics =
        match result with
        | Ok _ -> []
        | Error ds ->
            ds
            |> List.map (fun d ->
                {| severity = (match d.Severity with Severity.Error -> "error" | Severity.Warning -> "warning")
                   message = d.Message
                   range = placeJson d.Range
                   related = d.Related |> List.map (fun (r, note) -> {| message = note; range = placeJson r |}) |})
    let models =
        match result with
        | Ok p -> p.Models |> List.map (fun m -> {| name = m.Name; input = string m.Input; output = string m.Output |})
        | Error _ -> []
    JsonSerializer.Serialize({| file = path; ok = Result.isOk result; diagnostics = diagnostics; models = models |}, JsonSerializerOptions(WriteIndented = true, Encoder = Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping))

let run (args: ParseResults<CheckArgs>) =
    let path = args.GetResult CheckArgs.File
    let result, sources = Language.checkFile path
    match args.GetResult(CheckArgs.Format, defaultValue = Text), result with
    | Json, _ ->
        printfn "%s" (json path result)
        if Result.isOk result then Exit.ok else Exit.failed
    | Text, Ok program ->
        let count n what = sprintf "%d %s%s" n what (if n = 1 then "" else "s")
        let models =
            match program.Models with
            | [] -> "no models"
            | ms -> sprintf "%s: %s" (count ms.Length "model") (ms |> List.map (fun m -> sprintf "%s %O -> %O" m.Name m.Input m.Output) |> String.concat ", ")
        printfn "%s: ok (%s; %s)" path models (count program.Trains.Length "train block")
        Exit.ok
    | Text, Error diagnostics ->
        error (Language.renderWith sources diagnostics)
        let n = diagnostics.Length
        error (sprintf "%d error%s" n (if n = 1 then "" else "s"))
        Exit.failed
