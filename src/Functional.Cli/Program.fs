module Functional.Cli.Program

open System
open System.IO
open Argu
open Functional.Networks
open Functional.Checkpoints
open Functional.Training
open Functional.Cli.Arguments
open Functional.Cli.Output

let private parser = ArgumentParser.Create<FnnArgs>(programName = "fnn")

/// Every expected failure becomes a message and an exit code; nothing reaches the user as a stack trace.
let private guarded (command: unit -> int) =
    try
        command ()
    with
    | :? FnnCompileException as e ->
        error e.Message
        Exit.failed
    | :? ArgumentException as e ->
        // Without .NET's " (Parameter 'name')" suffix, which means nothing to a command-line user.
        let message = if isNull e.ParamName then e.Message else e.Message.Replace(sprintf " (Parameter '%s')" e.ParamName, "")
        error (sprintf "error: %s" message)
        Exit.failed
    // Files (missing, unreadable, malformed checkpoints) and refused operations: their messages say it all.
    | :? IOException
    | :? TrainingDivergedException
    | :? EngineException
    | :? FormatException
    | :? NotSupportedException
    | :? InvalidOperationException
    | :? UnauthorizedAccessException as e ->
        error (sprintf "error: %s" e.Message)
        Exit.failed
    | :? System.Runtime.InteropServices.ExternalException as e ->
        // Last resort: libtorch refused something; its first line says why.
        error (sprintf "error: libtorch: %s" (e.Message.Split('\n').[0]))
        if Environment.GetEnvironmentVariable "FNN_TRACE" = "1" then error (string e)
        Exit.failed
    | Functional.Engine.EngineUnavailable message ->
        error (sprintf "error: %s" message)
        Exit.engine

[<EntryPoint>]
let main argv =
    try
        let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
        if results.Contains Version then
            printfn "fnn %s" (typeof<FnnFile>.Assembly.GetName().Version.ToString(3))
            Exit.ok
        else
        match results.GetSubCommand() with
        | Check args -> guarded (fun () -> Commands.Check.run args)
        | Summary args -> guarded (fun () -> Commands.Summary.run args)
        | Train args -> guarded (fun () -> Commands.Train.run args)
        | Eval args -> guarded (fun () -> Commands.Eval.run args)
        | Predict args -> guarded (fun () -> Commands.Predict.run args)
        | Version -> Exit.usage // handled above
    with :? ArguParseException as e ->
        if e.ErrorCode = ErrorCode.HelpText then
            printfn "%s" e.Message
            Exit.ok
        else
            eprintfn "%s" e.Message
            Exit.usage
