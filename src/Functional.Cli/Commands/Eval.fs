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
    // Labels are named as in the training data (model.json records its classes), not numbered afresh.
    use raw = Functional.Cli.DataFiles.openData (args.GetResult EvalArgs.Data) (args.TryGetResult EvalArgs.Labels) (Option.ofObj network.ClassNames)
    let data = Functional.Data.DatasetExtensions.Normalize(raw, Functional.Cli.DataFiles.normalization (args.TryGetResult EvalArgs.Normalize) raw)
    let classes = data.TargetKind = Functional.Data.TargetKind.ClassIndex
    // The model's train block's loss, or the usual one for the data.
    let loss =
        if network.Source.TrainedModelNames |> Seq.contains network.Name then (network.Source.TrainingPlan network.Name).Loss
        elif classes then Loss.CrossEntropy
        else Loss.MeanSquaredError
    let result = network.Evaluate(data, loss, (if classes then [ Metric.Accuracy ] else []))
    printfn "%s on %d examples of %s" network.Name result.Examples (args.GetResult EvalArgs.Data)
    printfn "loss: %s" (number result.Loss)
    if classes then printfn "accuracy: %s" (number result.Metrics["accuracy"])
    Exit.ok
