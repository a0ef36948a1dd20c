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

/// One line per epoch, with the metrics and the speed.
let private epochLines =
    { new IProgress<EpochReport> with
        member _.Report r =
            let metrics =
                r.Metrics
                |> Seq.map (fun kv -> sprintf "  %s %s" kv.Key (number kv.Value))
                |> String.concat ""
            printfn "  epoch %*d/%d  loss %s%s  lr %s  %.0f examples/s" (string r.Epochs).Length r.Epoch r.Epochs (number r.Loss) metrics (number r.LearningRate) r.ExamplesPerSecond }

/// Training on data files (--data, --valid) through Network.Fit.
let private trainOnData (file: FnnFile) (args: ParseResults<TrainArgs>) (cancel: CancellationToken) (outDir: string option) (name: string) (dataPath: string) =
    let seed = args.GetResult(TrainArgs.Seed, defaultValue = 1L)
    let device = args.TryGetResult TrainArgs.Device |> Option.map ComputeDevice.Parse |> Option.defaultValue ComputeDevice.Cpu
    let plan = file.TrainingPlan name
    use raw = Functional.Cli.DataFiles.openData dataPath (args.TryGetResult TrainArgs.Labels)
    let normalization = Functional.Cli.DataFiles.normalization (args.TryGetResult TrainArgs.Normalize) raw
    let train = Functional.Data.DatasetExtensions.Normalize(raw, normalization)
    use rawValid =
        match args.TryGetResult TrainArgs.Valid with
        | Some v -> Functional.Cli.DataFiles.openData v (args.TryGetResult TrainArgs.Valid_Labels)
        | None -> null
    let valid = if isNull rawValid then null else Functional.Data.DatasetExtensions.Normalize(rawValid, normalization)
    let classes = train.TargetKind = Functional.Data.TargetKind.ClassIndex
    let optimizer = Functional.Cli.TrainFlags.optimizer args |> Option.defaultValue plan.Optimizer
    let optimizer =
        match Functional.Cli.TrainFlags.learningRate args with
        | Some lr -> optimizer.WithLearningRate lr
        | None -> optimizer
    let hasValidation = not (isNull valid) || args.Contains TrainArgs.Valid_Split
    let options =
        FitOptions(
            Loss = plan.Loss,
            Epochs = args.GetResult(TrainArgs.Epochs, defaultValue = plan.Epochs),
            BatchSize = args.GetResult(TrainArgs.Batch, defaultValue = plan.BatchSize.GetValueOrDefault Trainer.DefaultBatchSize),
            Seed = Nullable(int seed),
            Optimizer = optimizer,
            Schedule = (Functional.Cli.TrainFlags.schedule args |> Option.defaultValue plan.Schedule),
            ValidationSplit = args.GetResult(TrainArgs.Valid_Split, defaultValue = 0.0),
            Metrics = (if classes then [| Metric.Accuracy |] else [||]),
            EarlyStopping =
                (match args.TryGetResult TrainArgs.Patience with
                 | Some p -> EarlyStopping(Monitor = (if hasValidation then "val_loss" else "loss"), Patience = p, RestoreBestWeights = true)
                 | None -> null),
            HistoryPath = Option.toObj (args.TryGetResult TrainArgs.History),
            CheckpointDirectory = Option.toObj outDir,
            ResumeFrom = Option.toObj (args.TryGetResult TrainArgs.Resume)
        )
    use network = file.Compile(name, NetworkOptions(Seed = Nullable seed, Device = device))
    printfn "Training %s %O -> %O (%d parameters) on %O with %s (%d examples%s): %d epochs, batch %d, %s (lr = %s), loss %s, seed %d"
        name network.Model.Input network.Model.Output network.ParameterCount device dataPath train.Count
        (if isNull valid then "" else sprintf ", validating on %d" valid.Count)
        options.Epochs options.BatchSize optimizer.Name (number optimizer.LearningRate) (Losses.name plan.Loss) seed
    let result = Functional.Cli.LiveProgress.run options (fun options progress -> network.Fit(train, valid, options, progress, cancel)) epochLines
    Functional.Cli.LiveProgress.table result
    args.TryGetResult TrainArgs.Plot
    |> Option.iter (fun png ->
        Functional.Cli.Plotting.curves name result png
        printfn "  drew the curves in %s" png)
    if result.Cancelled then printfn "  cancelled after %d epochs" result.EpochsRun
    if result.StoppedEarly then printfn "  stopped early: no improvement for %d epochs; the weights are those of epoch %d" options.EarlyStopping.Patience result.BestEpoch.Value
    printfn "  trained in %.1f s" result.Elapsed.TotalSeconds
    if not (isNull valid) then
        let e = network.Evaluate(valid, plan.Loss, options.Metrics)
        printfn "  validation: loss %s%s" (number e.Loss) (e.Metrics |> Seq.map (fun kv -> sprintf ", %s %s" kv.Key (number kv.Value)) |> String.concat "")
    match outDir with
    | Some dir ->
        let summary = TrainingSummary(Nullable seed, result.EpochsRun, optimizer.Name, optimizer.LearningRate, Losses.name plan.Loss, result.FinalLoss)
        network.Save(dir, summary)
        printfn "  saved %s and %s in %s" Functional.Checkpoints.Checkpoint.WeightsFile Functional.Checkpoints.Checkpoint.MetadataFile dir
    | None -> ()

let private trainOne (file: FnnFile) (args: ParseResults<TrainArgs>) (cancel: CancellationToken) (outDir: string option) (name: string) =
  match args.TryGetResult TrainArgs.Data with
  | Some dataPath -> trainOnData file args cancel outDir name dataPath
  | None ->
    if (file.TrainingPlan name).Inputs.Count = 0 then
        raise (ArgumentException(sprintf "train %s has no data: give it data = [ input => target; ... ] in its train block, or a file with --data" name))
    let seed = args.GetResult(TrainArgs.Seed, defaultValue = 1L)
    let device = args.TryGetResult TrainArgs.Device |> Option.map ComputeDevice.Parse |> Option.defaultValue ComputeDevice.Cpu
    let plan = file.TrainingPlan name
    let options =
        TrainingOptions(
            Epochs = Option.toNullable (args.TryGetResult TrainArgs.Epochs),
            LearningRate = Option.toNullable (Functional.Cli.TrainFlags.learningRate args),
            BatchSize = Option.toNullable (args.TryGetResult TrainArgs.Batch),
            Optimizer = Option.toObj (Functional.Cli.TrainFlags.optimizer args),
            Schedule = Option.toObj (Functional.Cli.TrainFlags.schedule args),
            Seed = Nullable seed
        )
    use network = file.Compile(name, NetworkOptions(Seed = Nullable seed, Device = device))
    let epochs = options.Epochs.GetValueOrDefault plan.Epochs
    let optimizer = if isNull options.Optimizer then plan.Optimizer else options.Optimizer
    let lr = options.LearningRate.GetValueOrDefault optimizer.LearningRate
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
            let dirs = models |> List.map (fun name -> name, out |> Option.map (fun d -> if models.Length = 1 then d else Path.Combine(d, name)))
            // Refuse a folder that holds other files before any training, not after it.
            dirs |> List.iter (snd >> Option.iter Functional.Checkpoints.Checkpoint.RequireWritableFolder)
            for name, dir in dirs do
                trainOne file args cancel.Token dir name
            Exit.ok
        finally
            Console.CancelKeyPress.RemoveHandler handler
