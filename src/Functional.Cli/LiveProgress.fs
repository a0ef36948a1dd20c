/// Progress of a training run on a terminal: a live bar with the loss, speed and time left while the
/// epochs run, and a table of every epoch at the end. Without a terminal (a pipe, CI), one line an epoch.
module Functional.Cli.LiveProgress

open System
open Spectre.Console
open Functional.Training
open Functional.Cli.Output

/// Runs `fit` (of `epochs` epochs in all) with the options' batch progress feeding a live bar when the
/// console is interactive; otherwise with `lines` reporting each epoch.
let run (epochs: int) (options: TrainingOptions) (fit: TrainingOptions -> IProgress<EpochReport> -> TrainingResult) (lines: IProgress<EpochReport>) : TrainingResult =
    if not AnsiConsole.Profile.Capabilities.Interactive then fit options lines
    else
        AnsiConsole
            .Progress()
            .AutoClear(false)
            .Columns(TaskDescriptionColumn(), ProgressBarColumn(), PercentageColumn(), RemainingTimeColumn(), SpinnerColumn())
            .Start(fun context ->
                let bar = context.AddTask("starting", maxValue = float epochs)
                let clock = System.Diagnostics.Stopwatch.StartNew()
                let mutable examples = 0L
                // The last finished epoch's metrics, shown beside the running loss.
                let mutable previous = ""
                let batches =
                    { new IProgress<BatchReport> with
                        member _.Report b =
                            examples <- examples + int64 b.Examples
                            let speed = float examples / max 1e-9 clock.Elapsed.TotalSeconds
                            bar.Description <-
                                Markup.Escape(sprintf "epoch %d/%d  batch %d/%d  loss %s  %.0f examples/s%s" b.Epoch epochs b.Batch b.Batches (number b.Loss) speed previous)
                            bar.Value <- float (b.Epoch - 1) + float b.Batch / float (max 1 b.Batches) }
                let epochs =
                    { new IProgress<EpochReport> with
                        member _.Report r =
                            previous <- r.Metrics |> Seq.map (fun kv -> sprintf "  %s %s" kv.Key (number kv.Value)) |> String.concat ""
                            bar.Value <- float r.Epoch
                            context.Refresh() }
                fit (options.WithBatchProgress batches) epochs)

/// Every epoch's loss, metrics, rate and speed, as a table.
let table (result: TrainingResult) =
    if result.Epochs.Count > 0 then
        let names = result.Epochs[0].Metrics.Keys |> List.ofSeq
        let t = Table().Border(TableBorder.Simple)
        t.AddColumn(TableColumn("epoch").RightAligned()) |> ignore
        t.AddColumn(TableColumn("loss").RightAligned()) |> ignore
        for n in names do
            t.AddColumn(TableColumn(Markup.Escape n).RightAligned()) |> ignore
        t.AddColumn(TableColumn("lr").RightAligned()) |> ignore
        t.AddColumn(TableColumn("examples/s").RightAligned()) |> ignore
        for r in result.Epochs do
            let cells =
                [ string r.Epoch; number r.Loss ]
                @ (names |> List.map (fun n -> match r.Metrics.TryGetValue n with | true, v -> number v | _ -> ""))
                @ [ number r.LearningRate; sprintf "%.0f" r.ExamplesPerSecond ]
            t.AddRow(cells |> Array.ofList) |> ignore
        AnsiConsole.Write t
