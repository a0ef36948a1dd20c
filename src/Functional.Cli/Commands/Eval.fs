module Functional.Cli.Commands.Eval

open Argu
open Functional.Devices
open Functional.Networks
open Functional.Training
open Functional.Cli.Arguments
open Functional.Cli.Output

/// `fnn eval FILE --weights DIR --data PATH`: ends with `loss: X` and, for classifiers, `accuracy: X`.
let run (args: ParseResults<EvalArgs>) =
    let path = args.GetResult EvalArgs.File
    use network =
        Functional.Cli.Loading.trainedNetwork path (args.GetResult EvalArgs.Weights) (args.TryGetResult EvalArgs.Adapter) (args.TryGetResult EvalArgs.Device)
            (args.GetResults EvalArgs.Set) (args.Contains EvalArgs.Strict)
    // Labels are named as in the training data (model.json records its classes), not numbered afresh; with
    // --classes, model.json records the new classes, and the file's own labels are selected as in training.
    let chosen = args.TryGetResult EvalArgs.Classes
    let opened, lacking =
        Functional.Cli.DataFiles.openForSelection (args.GetResult EvalArgs.Data) (args.TryGetResult EvalArgs.Labels) chosen
            (Option.ofObj network.ClassNames)
    use raw = opened
    for c in lacking do
        warnings [ sprintf "--classes: %s has no example of class '%s'" (args.GetResult EvalArgs.Data) (Functional.Excerpt.short c) ]
    let selection = Functional.Cli.DataFiles.classSelection chosen raw
    match selection, Option.ofObj network.ClassNames with
    | Some s, Some names when not (Seq.forall2 (=) s.Names names && s.Names.Count = names.Count) ->
        raise (System.ArgumentException(
            sprintf "--classes makes the classes %s, but %s was trained on the classes %s: give the selection it was trained with"
                (Functional.Excerpt.ofText 200 (String.concat ", " s.Names)) network.Name (Functional.Excerpt.ofText 200 (String.concat ", " names))))
    | _ -> ()
    Functional.Cli.DataFiles.requireScores selection network.Model
    let selected = Functional.Cli.DataFiles.selectClasses selection raw
    let data = Functional.Data.DatasetExtensions.Normalize(selected, Functional.Cli.DataFiles.normalization (args.TryGetResult EvalArgs.Normalize) selected)
    let classes = data.TargetKind = Functional.Data.TargetKind.ClassIndex
    // The model's train block's loss, or the usual one for the data.
    let loss =
        if network.Source.TrainedModelNames |> Seq.contains network.Name then (network.Source.TrainingPlan network.Name).Loss
        elif classes then Loss.CrossEntropy
        else Loss.MeanSquaredError
    let result = network.Evaluate(data, loss, (if classes then [ Metric.Accuracy ] else []))
    printfn "%s on %d examples of %s" network.Name result.Examples (args.GetResult EvalArgs.Data)
    match Option.ofObj network.ClassNames with
    | Some names when classes -> printfn "classes: %s" (Functional.Excerpt.ofText 400 (String.concat ", " names))
    | _ -> ()
    printfn "loss: %s" (number result.Loss)
    if classes then printfn "accuracy: %s" (number result.Metrics["accuracy"])
    Exit.ok
