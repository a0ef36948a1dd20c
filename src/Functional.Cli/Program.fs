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
        | Version | Verbose -> Exit.usage // not subcommands
    with :? ArguParseException as e ->
        if e.ErrorCode = ErrorCode.HelpText then
            printfn "%s" e.Message
            Exit.ok
        else
            // Argu's message is the error, then the whole usage: the error alone, and where the usage is.
            let lines = e.Message.Split('\n')
            let error = lines |> Array.takeWhile (fun l -> not (l.StartsWith "USAGE:")) |> String.concat "\n"
            let usage = lines |> Array.tryFind (fun l -> l.StartsWith "USAGE:")
            eprintfn "%s" (error.TrimEnd())
            match usage with
            | Some line ->
                let command = line.Substring("USAGE: ".Length).Split(" [")[0]
                eprintfn "see '%s --help' for the flags." command
            | None -> ()
            Exit.usage

[<EntryPoint>]
let main argv =
    try run argv
    with e -> Failures.unexpected argv e
