module Functional.Cli.Commands.Summary

open System
open Argu
open Spectre.Console
open Functional.Networks
open Functional.Cli.Arguments
open Functional.Cli.Output

let private thousands (n: int64) = n.ToString("N0", Globalization.CultureInfo.InvariantCulture)

/// Each parameter's state under fine-tuning, by the path of its layer: trains, frozen, or with an adapter.
type private Training =
    { Selection: Functional.FineTuning.TrainableSelection
      Lora: Functional.FineTuning.LoraOptions option }

let private statusOf (training: Training) (layer: string) =
    let under (p: string) = layer = "" || p.StartsWith(layer + ".", StringComparison.Ordinal)
    let frozen = training.Selection.Frozen |> Seq.exists under
    let trained = training.Selection.Trained |> Seq.exists (fun p -> under p && not (Seq.contains p training.Selection.Adapters))
    let adapted = training.Selection.Adapters |> Seq.exists under
    let state =
        match frozen, trained with
        | true, true -> "partly frozen"
        | true, false -> "frozen"
        | false, true -> "trains"
        | false, false -> ""
    let unfreeze = if frozen && training.Selection.UnfreezeAtEpoch.HasValue then sprintf " until epoch %d" training.Selection.UnfreezeAtEpoch.Value else ""
    state + unfreeze + (if adapted then " + LoRA" else "")

let private show (model: Functional.Lang.Checking.Model) (training: Training option) =
    let s = Functional.Lang.Summary.summarize model
    let table = Table().Border(TableBorder.Simple)
    table.Title <- TableTitle(Markup.Escape(sprintf "%s : %s -> %s" s.Model s.Input s.Output))
    table.AddColumn("path") |> ignore
    table.AddColumn("layer") |> ignore
    table.AddColumn("output shape") |> ignore
    table.AddColumn(TableColumn("parameters").RightAligned()) |> ignore
    if training.IsSome then table.AddColumn("training") |> ignore
    for row in s.Rows do
        let cells = [ Markup.Escape row.Path; Markup.Escape row.Layer; Markup.Escape row.Output; thousands row.Parameters ]
        let cells = match training with Some t when row.Parameters > 0L -> cells @ [ Markup.Escape(statusOf t row.Path) ] | Some _ -> cells @ [ "" ] | None -> cells
        table.AddRow(Array.ofList cells) |> ignore
    s.Doc |> Option.iter (fun doc -> printfn "%s" doc)
    AnsiConsole.Write table
    match training with
    | None -> printfn "total parameters: %s (trainable %s, frozen %s)" (thousands s.Total) (thousands s.Trainable) (thousands s.Frozen)
    | Some t ->
        let sel = t.Selection
        let adapters =
            match t.Lora with
            | Some l -> sprintf "; LoRA adapters on %d projections (rank %d, alpha %s): %s parameters" (sel.Adapters.Count / 2) l.Rank (number l.Alpha)
                            (thousands (sel.TotalCount - s.Total))
            | None -> ""
        printfn "total parameters: %s (trainable %s = %.2f%%, frozen %s%s)%s" (thousands sel.TotalCount) (thousands sel.TrainedCount) (100.0 * sel.TrainedShare)
            (thousands (sel.TotalCount - sel.TrainedCount))
            (if sel.UnfreezeAtEpoch.HasValue then sprintf " until epoch %d" sel.UnfreezeAtEpoch.Value else "") adapters

/// The fine-tuning a summary shows: the flags', else the model's train block's; None when neither says any.
let private training (file: FnnFile) (args: ParseResults<SummaryArgs>) (name: string) : Training option =
    let plan = if file.TrainedModelNames |> Seq.contains name then Some(file.TrainingPlan name) else None
    let lora = Functional.Cli.FineTuneFlags.lora (args.TryGetResult SummaryArgs.Lora) (args.GetResults SummaryArgs.Lora_On) plan
    let fineTuning =
        Functional.Cli.FineTuneFlags.fineTuning (args.GetResults SummaryArgs.Freeze) None [] (args.GetResults SummaryArgs.Trainable) plan
    if lora.IsNone && fineTuning.IsNone then None
    else
        // Adapters are weights: the network is built to count and name them (its values are never used).
        use network = Functional.Cli.TrainFlags.naming (fun () -> file.Compile(name, NetworkOptions(Seed = Nullable 1L, Lora = Option.toObj lora)))
        let selection = Functional.Cli.TrainFlags.naming (fun () -> network.SelectTrainable(Option.toObj fineTuning))
        Some { Selection = selection; Lora = lora }

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
            // Read from the checked model: nothing is compiled, no tensor made, unless fine-tuning adds adapters to count.
            show (file.CheckedModel name) (training file args name))
        Exit.ok
