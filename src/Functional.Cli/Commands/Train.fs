module Functional.Cli.Commands.Train

open System
open System.IO
open System.Threading
open Argu
open Functional.Data
open Functional.Devices
open Functional.Networks
open Functional.Text
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
      /// Some: --text, tokenised and split.
      Text: TextData option
      Owned: IDisposable list }

    interface IDisposable with
        member d.Dispose() =
            for o in d.Owned do
                o.Dispose()

let private openData (args: ParseResults<TrainArgs>) (plan: TrainingPlan) (network: Network) (name: string) : Data =
    match args.TryGetResult TrainArgs.Data with
    | Some path ->
        let raw = Functional.Cli.DataFiles.openData path (args.TryGetResult TrainArgs.Labels) None
        // --classes: both files keep the same classes, read by the training file's class names.
        let selection = Functional.Cli.DataFiles.classSelection (args.TryGetResult TrainArgs.Classes) raw
        Functional.Cli.DataFiles.requireScores selection network.Model
        let selected = Functional.Cli.DataFiles.selectClasses selection raw
        let normalization = Functional.Cli.DataFiles.normalization (args.TryGetResult TrainArgs.Normalize) selected
        let rawValid =
            args.TryGetResult TrainArgs.Valid
            |> Option.map (fun v -> Functional.Cli.DataFiles.openData v (args.TryGetResult TrainArgs.Valid_Labels) (Option.ofObj (raw.ClassNames())))
        let valid = rawValid |> Option.map (fun v -> DatasetExtensions.Normalize(Functional.Cli.DataFiles.selectClasses selection v, normalization))
        let train = DatasetExtensions.Normalize(selected, normalization)
        let classes =
            match selection with
            | Some s -> sprintf "; classes %s" (Functional.Cli.DataFiles.describeSelection s raw)
            | None -> ""
        let described = sprintf " with %s (%d examples%s%s)" path train.Count (match valid with Some v -> sprintf ", validating on %d" v.Count | None -> "") classes
        { Train = Some train; Valid = Option.toObj valid; Description = described; FromFiles = true; Text = None
          Owned = (raw :> IDisposable) :: (rawValid |> Option.map (fun v -> v :> IDisposable) |> Option.toList) }
    | None ->
        if plan.Inputs.Count = 0 then
            raise (ArgumentException(sprintf "train %s has no data: give it data = [ input => target; ... ] in its train block, or a file with --data" name))
        if args.Contains TrainArgs.Valid then
            raise (ArgumentException "--valid needs --data: a train block's own examples can be split with --valid-split")
        for flag, given in [ "--normalize", args.Contains TrainArgs.Normalize; "--labels", args.Contains TrainArgs.Labels; "--valid-labels", args.Contains TrainArgs.Valid_Labels
                             "--classes", args.Contains TrainArgs.Classes ] do
            if given then raise (ArgumentException(sprintf "%s applies to --data files: a train block's own examples are used as written" flag))
        { Train = None; Valid = null; Description = ""; FromFiles = false; Text = None; Owned = [] }

/// `--text PATH`: the corpus tokenised (the checkpoint's tokenizer when resuming, else --tokenizer's, built from the
/// whole corpus), held out by document for validation and cut into windows of the model's context.
let private openText (args: ParseResults<TrainArgs>) (network: Network) (name: string) (path: string) : Data =
    for flag, given in [ "--data", args.Contains TrainArgs.Data; "--valid", args.Contains TrainArgs.Valid; "--labels", args.Contains TrainArgs.Labels
                         "--valid-labels", args.Contains TrainArgs.Valid_Labels; "--normalize", args.Contains TrainArgs.Normalize
                         "--classes", args.Contains TrainArgs.Classes ] do
        if given then
            raise (ArgumentException(sprintf "%s cannot be given with --text: the text is the training data, and --valid-split holds some of its documents out for validation" flag))
    let kind = args.TryGetResult TrainArgs.Tokenizer
    match kind with
    | Some k when not (List.contains k [ "char"; "byte"; "gpt2" ]) ->
        raise (ArgumentException(sprintf "--tokenizer %s: expected char, byte or gpt2" (Functional.Excerpt.short k)))
    | _ -> ()
    let sampling =
        match args.TryGetResult TrainArgs.Sampling with
        | None | Some "random" -> TextSampling.Random
        | Some "sequential" -> TextSampling.Sequential
        | Some other -> raise (ArgumentException(sprintf "--sampling %s: expected random or sequential" (Functional.Excerpt.short other)))
    let corpus = TextCorpus.Read path
    let saved =
        args.TryGetResult TrainArgs.Resume
        |> Option.map Functional.Checkpoints.CheckpointFolder.Newest
        |> Option.filter Directory.Exists
        |> Option.bind (fun dir -> Tokenizer.Load dir |> Option.ofObj |> Option.map (fun t -> Path.Combine(dir, Tokenizer.FileName), t))
    // A run started from a checkpoint (--from) keeps its tokenizer, as a resumed one does: the ids must mean what they meant.
    let saved =
        match saved, Option.ofObj network.Tokenizer with
        | None, Some t -> Some(sprintf "the checkpoint of --from (%s)" Tokenizer.FileName, t)
        | s, _ -> s
    let tokenizer =
        match saved, kind with
        | Some(_, t), Some k when k <> t.Kind ->
            raise (ArgumentException(sprintf "--tokenizer %s: the weights this run continues were trained with the %s tokenizer; use it (or leave out --tokenizer)" k t.Kind))
        | Some(_, t), _ -> t
        | None, k -> Tokenizer.Create(defaultArg k "char", corpus.Text())
    // A vocabulary larger than the model's embed is a compile error pointing at the embed; a checkpoint's, that file's error.
    try if not (obj.ReferenceEquals(network.Tokenizer, tokenizer)) then network.Tokenizer <- tokenizer
    with :? FnnCompileException as e when saved.IsSome ->
        raise (Functional.Checkpoints.CheckpointFormatException(fst saved.Value, e.Diagnostics[0].Message, e))
    let fixedInput =
        match List.ofSeq network.Model.Input.Dims with
        | [ d ] -> (match Int32.TryParse d with | true, n -> Some n | _ -> None)
        | _ -> None
    let context =
        match args.TryGetResult TrainArgs.Context, Option.ofNullable network.Context with
        | Some c, _ when c < 1 -> raise (ArgumentException(sprintf "--context %d: a window holds at least 1 token" c))
        | Some c, Some n when fixedInput = Some n && c <> n ->
            raise (ArgumentException(sprintf "--context %d: %s's input is %O, windows of %d tokens" c name network.Model.Input n))
        | Some c, Some n when c > n -> raise (ArgumentException(sprintf "--context %d: %s's positional layer covers at most %d tokens" c name n))
        | Some c, _ -> c
        | None, Some n -> n
        | None, None ->
            raise (ArgumentException(sprintf "%s's input %O has no fixed length and no positional layer says how long a window is: give --context N" name network.Model.Input))
    let split = args.GetResult(TrainArgs.Valid_Split, defaultValue = 0.1)
    if not (split >= 0.0 && split < 1.0) then
        raise (ArgumentException(sprintf "--valid-split %s: the validation split must be at least 0 and below 1" (Functional.Cli.Output.number split)))
    let seed = int (args.GetResult(TrainArgs.Seed, defaultValue = 1L))
    let text =
        try TextData.Open(corpus, tokenizer, context, split, seed, sampling)
        with :? ArgumentException as e when saved.IsSome && tokenizer.Kind = "char" && e.ParamName = "text" ->
            let reason = e.Message.Split(" (Parameter").[0]
            raise (ArgumentException(sprintf "--text %s: %s, which the weights this run continues were trained with (%s)" path reason (fst saved.Value), e))
    eprintfn "  tokens: %s" text.CacheReport
    let valid =
        match Option.ofObj text.Validation with
        | Some v -> sprintf "; validating on %d documents, %d tokens" text.ValidationDocuments v.TokenCount
        | None -> ""
    let described =
        sprintf " with %s (%d documents, %d tokens, %s tokenizer of %d; windows of %d, %s%s)" path text.TrainDocuments text.Train.TokenCount
            tokenizer.Kind tokenizer.VocabularySize context (if sampling = TextSampling.Random then "random" else "sequential") valid
    { Train = Some(text.Train :> IDataset); Valid = Option.toObj (Option.ofObj text.Validation |> Option.map (fun v -> v :> IDataset))
      Description = described; FromFiles = true; Text = Some text; Owned = [] }

/// Perplexity for every tokenizer; bits per character for char, bits per byte (named bpb) for byte.
let private textMetrics (tokenizer: Tokenizer) : Metric[] =
    match tokenizer.Kind with
    | "char" -> [| Metric.Perplexity; Metric.FromLoss("bpc", fun loss -> loss / Math.Log 2.0) |]
    | "byte" -> [| Metric.Perplexity; Metric.FromLoss("bpb", fun loss -> loss / Math.Log 2.0) |]
    | _ -> [| Metric.Perplexity |]

/// The command line's settings as options: the host merges them with the train block (TrainingOptions.WithPlan).
let private optionsOf (args: ParseResults<TrainArgs>) (seed: int64) (outDir: string option) (classes: bool) (hasValidation: bool) (checkpointEvery: int)
                      (text: TextData option) (stepsPerEpoch: Nullable<int>) (fineTuning: Functional.FineTuning.FineTuningOptions option) =
    TrainingOptions(
        FineTuning = Option.toObj fineTuning,
        Epochs = Option.toNullable (args.TryGetResult TrainArgs.Epochs),
        LearningRate = Option.toNullable (Functional.Cli.TrainFlags.learningRate args),
        BatchSize = Option.toNullable (args.TryGetResult TrainArgs.Batch),
        Optimizer = Option.toObj (Functional.Cli.TrainFlags.optimizer args),
        Schedule = Option.toObj (Functional.Cli.TrainFlags.schedule args),
        Seed = Nullable(int seed),
        // --text holds out its documents itself (TextData), not windows of the training text.
        ValidationSplit = (if text.IsSome then 0.0 else args.GetResult(TrainArgs.Valid_Split, defaultValue = 0.0)),
        Metrics =
            (match text with
             | Some t -> textMetrics t.Tokenizer
             | None -> if classes then [| Metric.Accuracy |] else [||]),
        StepsPerEpoch = stepsPerEpoch,
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
let private trainOne (requireFrom: bool) (file: FnnFile) (args: ParseResults<TrainArgs>) (cancel: CancellationToken) (outDir: string option) (name: string) : bool =
    let seed = args.GetResult(TrainArgs.Seed, defaultValue = 1L)
    let device = args.TryGetResult TrainArgs.Device |> Option.map ComputeDevice.Parse |> Option.defaultValue ComputeDevice.Cpu
    let plan = file.TrainingPlan name
    let lora = Functional.Cli.FineTuneFlags.lora (args.TryGetResult TrainArgs.Lora) (args.GetResults TrainArgs.Lora_On) (Some plan)
    let fineTuning =
        Functional.Cli.FineTuneFlags.fineTuning (args.GetResults TrainArgs.Freeze) (args.TryGetResult TrainArgs.Unfreeze_At)
            (args.GetResults TrainArgs.Lr_For) (args.GetResults TrainArgs.Trainable) (Some plan)
    if lora.IsSome && args.Contains TrainArgs.Resume then
        raise (ArgumentException "--resume continues a run of the whole network; a LoRA run is saved as its adapter alone: start it again with --from")
    use network = Functional.Cli.TrainFlags.naming (fun () -> file.Compile(name, NetworkOptions(Seed = Nullable seed, Device = device, Lora = Option.toObj lora)))
    // Patterns are checked before any weight is read: one that matches nothing is an error naming it, at once.
    if fineTuning.IsSome then Functional.Cli.TrainFlags.naming (fun () -> network.SelectTrainable(Option.toObj fineTuning) |> ignore)
    // A resumed run continues from its own checkpoint: a train block's `from` says where its first run started.
    let resuming = args.Contains TrainArgs.Resume
    let from =
        match args.TryGetResult TrainArgs.From with
        | Some dir -> Some dir
        | None -> if resuming then None else Option.ofObj plan.StartFrom
    if requireFrom && from.IsNone && not resuming then
        raise (ArgumentException(sprintf "fnn finetune starts from trained weights: give the checkpoint with --from DIR (or from = \"DIR\" in %s's train block)" name))
    if lora.IsSome && from.IsNone then
        raise (ArgumentException "LoRA adapts trained weights: give the checkpoint to start from with --from DIR (or from = \"DIR\" in the train block)")
    if args.Contains TrainArgs.Key_Map && from.IsNone then raise (ArgumentException "--key-map needs --from: it maps the names of the checkpoint's tensors")
    if from.IsSome && resuming then
        raise (ArgumentException "--from starts a new run from a checkpoint's weights; --resume continues a run where it stopped: give one of them")
    from
    |> Option.iter (fun dir ->
        let mapping = network.StartFrom(dir, Option.toObj (Functional.Cli.FineTuneFlags.keyMap (args.TryGetResult TrainArgs.Key_Map)))
        let list (names: string seq) = if Seq.isEmpty names then "none" else String.Join(", ", names)
        printfn "Starting %s from %s: loaded %d tensors" name mapping.Directory mapping.Loaded.Count
        printfn "  new: %s" (list mapping.New)
        printfn "  left out of the checkpoint: %s" (list (mapping.LeftOut |> Seq.map (fun p -> sprintf "%s (%s)" p.Key p.Value))))
    use data =
        match args.TryGetResult TrainArgs.Text_Path with
        | Some path -> openText args network name path
        | None ->
            for flag, given in [ "--tokenizer", args.Contains TrainArgs.Tokenizer; "--context", args.Contains TrainArgs.Context; "--sampling", args.Contains TrainArgs.Sampling ] do
                if given then raise (ArgumentException(sprintf "%s applies to --text: give the text to train on with --text PATH" flag))
            openData args plan network name
    let classes =
        (data.Train |> Option.exists (fun t -> t.TargetKind = TargetKind.ClassIndex))
        || List.contains plan.Loss.Name [ "crossEntropy"; "bce"; "nll" ]
    let hasValidation = not (isNull data.Valid) || (data.Text.IsNone && args.Contains TrainArgs.Valid_Split)
    // A LoRA run saves its adapter alone, at the end (the base is the --from checkpoint).
    let checkpointDir = if lora.IsSome then None else outDir
    let settings = Functional.Cli.TrainFlags.naming (fun () -> (optionsOf args seed checkpointDir classes hasValidation 1 data.Text (Nullable()) fineTuning).WithPlan plan)
    if fineTuning.IsSome || lora.IsSome then
        let selection = Functional.Cli.TrainFlags.naming (fun () -> network.SelectTrainable(Option.toObj fineTuning, settings.Epochs.Value))
        let adapters = if network.HasAdapters then sprintf "; LoRA adapters (%O) on %d projections" lora.Value (selection.Adapters.Count / 2) else ""
        let unfreeze = if selection.UnfreezeAtEpoch.HasValue then sprintf " until epoch %d" selection.UnfreezeAtEpoch.Value else ""
        printfn "  training %d of %d parameters (%.2f%%)%s; frozen: %d tensors%s" selection.TrainedCount selection.TotalCount (100.0 * selection.TrainedShare)
            adapters selection.Frozen.Count unfreeze
    // A train block's run is many short epochs: about ten checkpoints a run rather than one an epoch.
    let every = if data.FromFiles then 1 else max 1 (settings.Epochs.Value / 10)
    // Random windows: every offset is an example, so an epoch is about one pass over the text, not millions of windows.
    let steps =
        match data.Text with
        | Some t when t.Train.Sampling = TextSampling.Random ->
            Nullable(max 1 ((t.Train.ExamplesPerEpoch + settings.BatchSize.Value - 1) / settings.BatchSize.Value))
        | _ -> Nullable()
    let options = optionsOf args seed checkpointDir classes hasValidation every data.Text steps fineTuning
    if from.IsSome && not (isNull data.Valid) then
        let e = network.Evaluate(data.Valid, settings.Loss, settings.Metrics, settings.BatchSize.Value)
        printfn "  before training: val_loss %s%s" (number e.Loss) (e.Metrics |> Seq.map (fun kv -> sprintf "  val_%s %s" kv.Key (number kv.Value)) |> String.concat "")
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
    | Some dir, _ when network.HasAdapters ->
        network.SaveAdapter dir
        let size name = FileInfo(Path.Combine(dir, name)).Length
        let adapterBytes = size Functional.FineTuning.AdapterFile.WeightsFile
        let baseBytes = FileInfo(Path.Combine(Functional.Checkpoints.CheckpointFolder.Newest from.Value, Functional.Checkpoints.Checkpoint.WeightsFile)).Length
        printfn "  saved the adapter in %s: %s (%d bytes, %.2f%% of the base's %s) and %s" dir Functional.FineTuning.AdapterFile.WeightsFile adapterBytes
            (100.0 * float adapterBytes / float baseBytes) Functional.Checkpoints.Checkpoint.WeightsFile Functional.FineTuning.AdapterFile.ConfigFile
    | Some dir, Some epoch when result.Cancelled ->
        printfn "  %s holds the checkpoint of epoch %d: --resume %s continues the run from there" dir epoch dir
    | Some dir, Some epoch when data.Text.IsSome ->
        printfn "  saved %s, %s and %s in %s (epoch %d)" Functional.Checkpoints.Checkpoint.WeightsFile Functional.Checkpoints.Checkpoint.MetadataFile Tokenizer.FileName dir epoch
    | Some dir, Some epoch ->
        printfn "  saved %s and %s in %s (epoch %d)" Functional.Checkpoints.Checkpoint.WeightsFile Functional.Checkpoints.Checkpoint.MetadataFile dir epoch
    | Some dir, None -> printfn "  nothing saved in %s: no epoch was completed" dir
    | None, _ -> ()
    result.Cancelled

let private runWith (requireFrom: bool) (args: ParseResults<TrainArgs>) =
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
        let cancelled = dirs |> List.exists (fun (name, dir) -> trainOne requireFrom file args stop.Token dir name)
        if cancelled then
            error "training was cancelled"
            stop.ExitCode
        else Exit.ok

/// `fnn train`: the file's train blocks (from fresh weights, or from a checkpoint's with --from).
let run (args: ParseResults<TrainArgs>) = runWith false args

/// `fnn finetune`: `fnn train` from a trained checkpoint's weights (--from, or the train block's `from`), required.
let finetune (args: ParseResults<TrainArgs>) = runWith true args
