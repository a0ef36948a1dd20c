module Functional.Cli.Commands.Train

open System
open System.IO
open System.Threading
open Argu
open Functional.Data
open Functional.Devices
open Functional.Networks
open Functional.Training
open Functional.Training.Optimization
open Functional.Cli.Arguments
open Functional.Cli.Output

/// Predictions shown after a run on a train block's own data: the first few, not thousands.
let private shownPredictions = 8

/// Prints about ten progress lines per run, whatever the number of epochs.
let private tenLines (epochs: int) =
    let every = max 1 (epochs / 10)
    { new IProgress<EpochReport> with
        member _.Report r =
            if r.Epoch % every = 0 || r.Epoch = 1 || r.Epoch = r.Epochs then
                let metrics = r.Metrics |> Seq.map (fun kv -> sprintf "  %s %s" kv.Key (number kv.Value)) |> String.concat ""
                printfn "  epoch %*d/%d  loss %s%s" (string r.Epochs).Length r.Epoch r.Epochs (number r.Loss) metrics }

/// One line per epoch, with the metrics and the speed.
let private epochLines =
    { new IProgress<EpochReport> with
        member _.Report r =
            let metrics =
                r.Metrics
                |> Seq.map (fun kv -> sprintf "  %s %s" kv.Key (number kv.Value))
                |> String.concat ""
            printfn "  epoch %*d/%d  loss %s%s  lr %s  %.0f examples/s" (string r.Epochs).Length r.Epoch r.Epochs (number r.Loss) metrics (number r.LearningRate) r.ExamplesPerSecond }

/// The data a run trains on: data files (--data, --valid), or the train block's own examples.
type private Data =
    { /// None: the train block's own examples.
      Train: IDataset option
      Valid: IDataset
      Description: string
      FromFiles: bool
      Owned: IDisposable list }

    interface IDisposable with
        member d.Dispose() =
            for o in d.Owned do
                o.Dispose()

let private openData (args: ParseResults<TrainArgs>) (plan: TrainingPlan) (name: string) : Data =
    match args.TryGetResult TrainArgs.Data with
    | Some path ->
        let raw = Functional.Cli.DataFiles.openData path (args.TryGetResult TrainArgs.Labels) None
        let normalization = Functional.Cli.DataFiles.normalization (args.TryGetResult TrainArgs.Normalize) raw
        let rawValid =
            args.TryGetResult TrainArgs.Valid
            |> Option.map (fun v -> Functional.Cli.DataFiles.openData v (args.TryGetResult TrainArgs.Valid_Labels) (Option.ofObj (raw.ClassNames())))
        let valid = rawValid |> Option.map (fun v -> DatasetExtensions.Normalize(v, normalization))
        let train = DatasetExtensions.Normalize(raw, normalization)
        let described = sprintf " with %s (%d examples%s)" path train.Count (match valid with Some v -> sprintf ", validating on %d" v.Count | None -> "")
        { Train = Some train; Valid = Option.toObj valid; Description = described; FromFiles = true
          Owned = (raw :> IDisposable) :: (rawValid |> Option.map (fun v -> v :> IDisposable) |> Option.toList) }
    | None ->
        if plan.Inputs.Count = 0 then
            raise (ArgumentException(sprintf "train %s has no data: give it data = [ input => target; ... ] in its train block, or a file with --data" name))
        if args.Contains TrainArgs.Valid then
            raise (ArgumentException "--valid needs --data: a train block's own examples can be split with --valid-split")
        for flag, given in [ "--normalize", args.Contains TrainArgs.Normalize; "--labels", args.Contains TrainArgs.Labels; "--valid-labels", args.Contains TrainArgs.Valid_Labels ] do
            if given then raise (ArgumentException(sprintf "%s applies to --data files: a train block's own examples are used as written" flag))
        { Train = None; Valid = null; Description = ""; FromFiles = false; Owned = [] }

/// The command line's settings as options: the host merges them with the train block (TrainingOptions.WithPlan).
let private optionsOf (args: ParseResults<TrainArgs>) (seed: int64) (outDir: string option) (classes: bool) (hasValidation: bool) (checkpointEvery: int) =
    TrainingOptions(
        Epochs = Option.toNullable (args.TryGetResult TrainArgs.Epochs),
        LearningRate = Option.toNullable (Functional.Cli.TrainFlags.learningRate args),
        BatchSize = Option.toNullable (args.TryGetResult TrainArgs.Batch),
        Optimizer = Option.toObj (Functional.Cli.TrainFlags.optimizer args),
        Schedule = Option.toObj (Functional.Cli.TrainFlags.schedule args),
        Seed = Nullable(int seed),
        ValidationSplit = args.GetResult(TrainArgs.Valid_Split, defaultValue = 0.0),
        Metrics = (if classes then [| Metric.Accuracy |] else [||]),
        EarlyStopping =
            (match args.TryGetResult TrainArgs.Patience with
             | Some p -> EarlyStopping(Monitor = (if hasValidation then "val_loss" else "loss"), Patience = p, RestoreBestWeights = true)
             | None -> null),
        HistoryPath = Option.toObj (args.TryGetResult TrainArgs.History),
        CheckpointDirectory = Option.toObj outDir,
        CheckpointEvery = checkpointEvery,
        ResumeFrom = Option.toObj (args.TryGetResult TrainArgs.Resume)
    )

/// Trains one model; true when the run was cancelled.
let private trainOne (file: FnnFile) (args: ParseResults<TrainArgs>) (cancel: CancellationToken) (outDir: string option) (name: string) : bool =
    let seed = args.GetResult(TrainArgs.Seed, defaultValue = 1L)
    let device = args.TryGetResult TrainArgs.Device |> Option.map ComputeDevice.Parse |> Option.defaultValue ComputeDevice.Cpu
    let plan = file.TrainingPlan name
    use network = file.Compile(name, NetworkOptions(Seed = Nullable seed, Device = device))
    use data = openData args plan name
    let classes =
        (data.Train |> Option.exists (fun t -> t.TargetKind = TargetKind.ClassIndex))
        || List.contains plan.Loss.Name [ "crossEntropy"; "bce"; "nll" ]
    let hasValidation = not (isNull data.Valid) || args.Contains TrainArgs.Valid_Split
    let settings = Functional.Cli.TrainFlags.naming (fun () -> (optionsOf args seed outDir classes hasValidation 1).WithPlan plan)
    // A train block's run is many short epochs: about ten checkpoints a run rather than one an epoch.
    let every = if data.FromFiles then 1 else max 1 (settings.Epochs.Value / 10)
    let options = optionsOf args seed outDir classes hasValidation every
    // --resume DIR without --out saves into DIR, as Keras's BackupAndRestore and Lightning's resume do: say so.
    let savesWhere =
        match args.TryGetResult TrainArgs.Resume, outDir with
        | Some _, Some dir when not (args.Contains TrainArgs.Out) -> sprintf "; resuming %s and saving into it (no --out)" dir
        | _ -> ""
    printfn "Training %s %O -> %O (%d parameters) on %O%s: %d epochs, batch %d, %s (lr = %s), loss %s, seed %d%s"
        name network.Model.Input network.Model.Output network.ParameterCount device data.Description
        settings.Epochs.Value settings.BatchSize.Value settings.Optimizer.Name (number settings.LearningRate.Value) settings.Loss.Name seed savesWhere
    let result =
      Functional.Cli.TrainFlags.naming (fun () ->
        match data.Train with
        | Some train ->
            let result =
                Functional.Cli.LiveProgress.run settings.Epochs.Value options
                    (fun options progress -> network.Train(plan, train, data.Valid, options, progress, cancel)) epochLines
            Functional.Cli.LiveProgress.table result
            result
        | None -> network.Train(plan, options, tenLines settings.Epochs.Value, cancel))
    args.TryGetResult TrainArgs.Plot
    |> Option.iter (fun png ->
        Functional.Cli.Plotting.curves name result png
        printfn "  drew the curves in %s" png)
    if result.Cancelled then
        printfn "  cancelled at step %d, after %d whole epochs" result.Steps result.EpochsRun
    if result.StoppedEarly then
        if result.RestoredBestWeights then
            printfn "  stopped early: %s; the weights are those of epoch %d" result.StopReason result.BestEpoch.Value
        else printfn "  stopped early: %s" result.StopReason
    if data.FromFiles then
        printfn "  trained in %.1f s" result.Elapsed.TotalSeconds
        if not (isNull data.Valid) then
            let e = network.Evaluate(data.Valid, settings.Loss, settings.Metrics)
            printfn "  validation: loss %s%s" (number e.Loss) (e.Metrics |> Seq.map (fun kv -> sprintf ", %s %s" kv.Key (number kv.Value)) |> String.concat "")
    else
        let finalLoss = network.Evaluate plan
        printfn "  final loss (%s): %s   [%.1f s]" settings.Loss.Name (number finalLoss) result.Elapsed.TotalSeconds
        let shown = min shownPredictions plan.Inputs.Count
        let inputs = plan.Inputs |> Seq.take shown |> Array.ofSeq
        let outputs = network.Predict inputs
        if shown = plan.Inputs.Count then printfn "  predictions on the training inputs:"
        else printfn "  predictions on the first %d of %d training inputs (%d left out):" shown plan.Inputs.Count (plan.Inputs.Count - shown)
        for i in 0 .. shown - 1 do
            printfn "    %s -> %s   (target %s)" (vector inputs[i]) (vector outputs[i]) (vector plan.Targets[i])
    match outDir, Option.ofNullable result.CheckpointEpoch with
    | Some dir, Some epoch when result.Cancelled ->
        printfn "  %s holds the checkpoint of epoch %d: --resume %s continues the run from there" dir epoch dir
    | Some dir, Some epoch ->
        printfn "  saved %s and %s in %s (epoch %d)" Functional.Checkpoints.Checkpoint.WeightsFile Functional.Checkpoints.Checkpoint.MetadataFile dir epoch
    | Some dir, None -> printfn "  nothing saved in %s: no epoch was completed" dir
    | None, _ -> ()
    result.Cancelled

let run (args: ParseResults<TrainArgs>) =
    let path = args.GetResult TrainArgs.File
    let sets = Functional.Cli.Loading.overrides (args.GetResults TrainArgs.Set)
    // A resumed run continues the checkpoint's network: its recorded hyperparameters, and its source unchanged.
    let file =
        match args.TryGetResult TrainArgs.Resume with
        // (A folder that is not there at all is the training session's to report, as "no such folder to resume from".)
        // The host's rule for which copy of a checkpoint folder is whole (DIR.next, DIR or DIR.previous).
        | Some dir when Directory.Exists(Functional.Checkpoints.CheckpointFolder.Newest dir) ->
            let file = FnnFile.LoadForCheckpoint(path, dir, sets, args.Contains TrainArgs.Strict)
            warnings file.Warnings
            file
        | Some _ -> FnnFile.Load(path, sets)
        | None when args.Contains TrainArgs.Strict -> raise (ArgumentException "--strict refuses a changed source when resuming: give it with --resume DIR")
        | None -> FnnFile.Load(path, sets)
    let models = Functional.Cli.Output.models file (args.TryGetResult TrainArgs.Model) file.TrainedModelNames
    if models.IsEmpty then
        error (sprintf "%s has no train block: add 'train Model with' and its data, or pass --model" path)
        Exit.failed
    else
        // Ctrl+C or SIGTERM stops after the current step; the run still reports what it has, and exits non-zero.
        use stop = new Functional.Cli.StopSignals.Listener()
        // Without --out, a resumed run saves where it resumes from (the folder its predecessor wrote).
        let out = match args.TryGetResult TrainArgs.Out with Some dir -> Some dir | None -> args.TryGetResult TrainArgs.Resume
        let dirs = models |> List.map (fun name -> name, out |> Option.map (fun d -> if models.Length = 1 then d else Path.Combine(d, name)))
        // Refuse a folder that holds other files before any training, not after it.
        dirs |> List.iter (snd >> Option.iter Functional.Checkpoints.Checkpoint.RequireWritableFolder)
        let cancelled = dirs |> List.exists (fun (name, dir) -> trainOne file args stop.Token dir name)
        if cancelled then
            error "training was cancelled"
            stop.ExitCode
        else Exit.ok
