module Functional.Cli.Program

open Argu
open Functional.Networks
open Functional.Cli.Arguments
open Functional.Cli.Output

let private parser = ArgumentParser.Create<FnnArgs>(programName = "fnn")

/// Runs one command line and returns its exit code; Argu's errors are handled here, a command's by `Failures`.
let private run argv =
    try
        let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
        if results.Contains Version then
            printfn "fnn %s" (typeof<FnnFile>.Assembly.GetName().Version.ToString(3))
            Exit.ok
        else
        match results.GetSubCommand() with
        | Check args -> Failures.expected argv (fun () -> Commands.Check.run args)
        | Summary args -> Failures.expected argv (fun () -> Commands.Summary.run args)
        | Train args -> Failures.expected argv (fun () -> Commands.Train.run args)
        | Eval args -> Failures.expected argv (fun () -> Commands.Eval.run args)
        | Predict args -> Failures.expected argv (fun () -> Commands.Predict.run args)
        | Generate args -> Failures.expected argv (fun () -> Commands.Generate.run args)
        | Finetune args -> Failures.expected argv (fun () -> Commands.Train.finetune args)
        | Merge args -> Failures.expected argv (fun () -> Commands.Merge.run args)
        | Version | Verbose -> Exit.usage // not subcommands
    with :? ArguParseException as e ->
        if e.ErrorCode = ErrorCode.HelpText then
            printfn "%s" e.Message
            Exit.ok
        else
            // The error, not the whole option list (pages long, and it grows with every flag): --help prints that.
            let message = e.Message
            let cut = message.IndexOf "\nUSAGE:"
            let command = argv |> Array.tryFind (fun a -> not (a.StartsWith "-"))
            eprintfn "%s" (if cut > 0 then message.Substring(0, cut) else message)
            if cut > 0 then
                eprintfn "(fnn %s--help lists the options)" (match command with Some c -> c + " " | None -> "")
            Exit.usage

[<EntryPoint>]
let main argv =
    try run argv
    with e -> Failures.unexpected argv e
