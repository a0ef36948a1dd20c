module Functional.Cli.Commands.Merge

open Argu
open Functional.Cli.Arguments
open Functional.Cli.Output

/// `fnn merge FILE --weights DIR --adapter DIR --out DIR`: the base with its adapter merged in, saved as a checkpoint
/// of its own; prints the largest difference between merged and adapted outputs on a probe batch.
let run (args: ParseResults<MergeArgs>) =
    let path = args.GetResult MergeArgs.File
    let out = args.GetResult MergeArgs.Out
    // Refused before anything is loaded: a folder of other files is never written into.
    Functional.Checkpoints.Checkpoint.RequireWritableFolder out
    use adapted =
        Functional.Cli.Loading.trainedNetwork path (args.GetResult MergeArgs.Weights) (Some(args.GetResult MergeArgs.Adapter)) None
            (args.GetResults MergeArgs.Set) (args.Contains MergeArgs.Strict)
    let mutable report = Unchecked.defaultof<Functional.FineTuning.AdapterMerge>
    use merged = adapted.MergeAdapter(&report, not (args.Contains MergeArgs.Float32))
    merged.Save out
    printfn "%s: %O" adapted.Name report
    printfn "saved %s and %s in %s" Functional.Checkpoints.Checkpoint.WeightsFile Functional.Checkpoints.Checkpoint.MetadataFile out
    Exit.ok
