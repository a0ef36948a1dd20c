/// Pictures of a training run (ScottPlot): the losses by epoch, and the metrics on a second axis.
module Functional.Cli.Plotting

open Functional.Training

let curves (model: string) (result: TrainingResult) (png: string) =
    use plot = new ScottPlot.Plot()
    let epochs = result.Epochs |> Seq.map (fun r -> float r.Epoch) |> Array.ofSeq
    let series (values: float[]) (label: string) (right: bool) =
        let line = plot.Add.Scatter(epochs, values)
        line.LegendText <- label
        if right then line.Axes.YAxis <- plot.Axes.Right
    series (result.Epochs |> Seq.map (fun r -> r.Loss) |> Array.ofSeq) "loss" false
    let names = if result.Epochs.Count > 0 then List.ofSeq result.Epochs[0].Metrics.Keys else []
    for name in names do
        let values = result.Epochs |> Seq.map (fun r -> match r.Metrics.TryGetValue name with | true, v -> v | _ -> nan) |> Array.ofSeq
        // Losses share the left axis; accuracies and other metrics (0..1, higher is better) the right one.
        series values name (not (name.EndsWith "loss"))
    plot.Title(sprintf "%s: training" model)
    plot.XLabel "epoch"
    plot.Axes.Left.Label.Text <- "loss"
    if names |> List.exists (fun n -> not (n.EndsWith "loss")) then plot.Axes.Right.Label.Text <- "metric"
    plot.ShowLegend() |> ignore
    plot.SavePng(png, 800, 500) |> ignore
