module Functional.Cli.Commands.Train

open System
open System.IO
open System.Threading
open Argu
open Functional.Devices
open Functional.Networks
open Functional.Training
open Functional.Training.Optimization
open Functional.Lang.Compilation
open Functional.Cli.Arguments
open Functional.Cli.Output

/// Prints about ten progress lines per run, whatever the number of epochs.
let private progress (epochs: int) =
    let every = max 1 (epochs / 10)
    { new IProgress<EpochReport> with
        member _.Report r =
            if r.Epoch % every = 0 || r.Epoch = 1 || r.Epoch = r.Epochs then
                printfn "  epoch %*d/%d  loss %s" (string r.Epochs).Length r.Epoch r.Epochs (number r.Loss) }

let private trainOne (file: FnnFile) (args: ParseResults<TrainArgs>) (cancel: CancellationToken) (outDir: string option) (name: string) =
    let seed = args.GetResult(TrainArgs.Seed, defaultValue = 1L)
    let device = args.TryGetResult TrainArgs.Device |> Option.map ComputeDevice.Parse |> Option.defaultValue ComputeDevice.Cpu
    let plan = file.TrainingPlan name
    let options =
        TrainingOptions(
            Epochs = Option.toNullable (args.TryGetResult TrainArgs.Epochs),
            LearningRate = Option.toNullable (args.TryGetResult TrainArgs.Lr),
            BatchSize = Option.toNullable (args.TryGetResult TrainArgs.Batch),
            Optimizer = (args.TryGetResult TrainArgs.Optimizer |> Option.map OptimizerSpec.Parse |> Option.toObj),
            Schedule = (args.TryGetResult TrainArgs.Schedule |> Option.map ScheduleSpec.Parse |> Option.toObj),
            Seed = Nullable seed
        )
    use network = file.Compile(name, NetworkOptions(Seed = Nullable seed, Device = device))
    let epochs = options.Epochs.GetValueOrDefault plan.Epochs
    let optimizer = if isNull options.Optimizer then plan.Optimizer else options.Optimizer
    let lr = options.LearningRate.GetValueOrDefault optimizer.EffectiveLearningRate
    let batch = options.BatchSize.GetValueOrDefault(plan.BatchSize.GetValueOrDefault Trainer.DefaultBatchSize)
    printfn "Training %s %O -> %O (%d parameters) on %O: %d epochs, batch %d, %s (lr = %s), loss %s, seed %d"
        name network.Model.Input network.Model.Output network.ParameterCount device epochs batch optimizer.Name (number lr) (Losses.name plan.Loss) seed
    let result = network.Train(plan, options, progress epochs, cancel)
    if result.Cancelled then printfn "  cancelled after %d epochs; the weights are those of the last step" result.EpochsRun
    let finalLoss = network.Evaluate plan
    printfn "  final loss (%s): %s   [%.1f s]" (Losses.name plan.Loss) (number finalLoss) result.Elapsed.TotalSeconds
    printfn "  predictions on the training inputs:"
    let outputs = network.Predict plan.Inputs
    for i in 0 .. plan.Inputs.Count - 1 do
        printfn "    %s -> %s   (target %s)" (vector plan.Inputs[i]) (vector outputs[i]) (vector plan.Targets[i])
    match outDir with
    | Some dir ->
        let summary = TrainingSummary(Nullable seed, result.EpochsRun, optimizer.Name, lr, Losses.name plan.Loss, finalLoss)
        network.Save(dir, summary)
        printfn "  saved %s and %s in %s" Functional.Checkpoints.Checkpoint.WeightsFile Functional.Checkpoints.Checkpoint.MetadataFile dir
    | None -> ()

let run (args: ParseResults<TrainArgs>) =
    let path = args.GetResult TrainArgs.File
    let file = FnnFile.Load(path, Summary.overrides (args.GetResults TrainArgs.Set))
    let models = Functional.Cli.Output.models file (args.TryGetResult TrainArgs.Model) file.TrainedModelNames
    if models.IsEmpty then
        error (sprintf "%s has no train block: add 'train Model with' and its data, or pass --model" path)
        Exit.failed
    else
        use cancel = new CancellationTokenSource()
        // Ctrl+C stops after the current step; the run still reports and saves what it has.
        let handler = ConsoleCancelEventHandler(fun _ e -> e.Cancel <- true; cancel.Cancel())
        Console.CancelKeyPress.AddHandler handler
        try
            let out = args.TryGetResult TrainArgs.Out
            for name in models do
                let dir = out |> Option.map (fun d -> if models.Length = 1 then d else Path.Combine(d, name))
                trainOne file args cancel.Token dir name
            Exit.ok
        finally
            Console.CancelKeyPress.RemoveHandler handler
