module Functional.Cli.Commands.Summary

open System
open Argu
open Spectre.Console
open Functional.Networks
open Functional.Cli.Arguments
open Functional.Cli.Output

let private thousands (n: int64) = n.ToString("N0", Globalization.CultureInfo.InvariantCulture)

let private show (model: Functional.Lang.Checking.Model) =
    let s = Functional.Lang.Summary.summarize model
    let table = Table().Border(TableBorder.Simple)
    table.Title <- TableTitle(Markup.Escape(sprintf "%s : %s -> %s" s.Model s.Input s.Output))
    table.AddColumn("path") |> ignore
    table.AddColumn("layer") |> ignore
    table.AddColumn("output shape") |> ignore
    table.AddColumn(TableColumn("parameters").RightAligned()) |> ignore
    for row in s.Rows do
        table.AddRow(Markup.Escape row.Path, Markup.Escape row.Layer, Markup.Escape row.Output, thousands row.Parameters) |> ignore
    s.Doc |> Option.iter (fun doc -> printfn "%s" doc)
    AnsiConsole.Write table
    printfn "total parameters: %s (trainable %s, frozen %s)" (thousands s.Total) (thousands s.Trainable) (thousands s.Frozen)

let run (args: ParseResults<SummaryArgs>) =
    let path = args.GetResult SummaryArgs.File
    let file = FnnFile.Load(path, Functional.Cli.Loading.overrides (args.GetResults SummaryArgs.Set))
    let models = Functional.Cli.Output.models file (args.TryGetResult SummaryArgs.Model) file.ModelNames
    if models.IsEmpty then
        error (sprintf "%s has no models" path)
        Exit.failed
    else
        models
        |> List.iteri (fun i name ->
            if i > 0 then printfn ""
            // Read from the checked model: nothing is compiled, no tensor made.
            show (file.CheckedModel name))
        Exit.ok
