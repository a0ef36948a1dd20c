/// How failures become messages and exit codes: the expected ones (bad programs, files, data, refused
/// operations) as one clear message, anything else as a one-line report of a bug. Nothing reaches the user as
/// a stack trace unless asked for.
module Functional.Cli.Failures

open System
open System.IO
open Functional.Networks
open Functional.Training
open Functional.Cli.Output

/// Whether an unexpected failure should show its stack trace: `--verbose` anywhere, or FNN_VERBOSE=1 (read from
/// the raw arguments, since the failure may come before they are parsed).
let private verbose (argv: string array) =
    argv |> Array.contains "--verbose" || Environment.GetEnvironmentVariable "FNN_VERBOSE" = "1"

/// A message as printed: one that somehow grew huge (a hostile value quoted whole) is cut, as a backstop to the
/// excerpts the messages themselves use.
let private bounded (message: string) = if message.Length <= 4000 then message else message.Substring(0, 4000) + sprintf "… (%d characters)" message.Length

/// Every expected failure becomes a message and an exit code; nothing reaches the user as a stack trace.
let expected (argv: string array) (command: unit -> int) =
    try
        command ()
    with
    | :? FnnCompileException as e ->
        error (bounded e.Message)
        Exit.failed
    | :? ArgumentException as e ->
        error (sprintf "error: %s" (bounded (reason e)))
        Exit.failed
    // Files (missing, unreadable, malformed checkpoints) and refused operations: their messages say it all.
    | :? IOException
    | :? TrainingDivergedException
    | :? EngineException
    | :? FormatException
    | :? NotSupportedException
    | :? InvalidOperationException
    | :? UnauthorizedAccessException as e ->
        error (sprintf "error: %s" (bounded e.Message))
        Exit.failed
    | :? System.Runtime.InteropServices.ExternalException as e ->
        // Last resort: libtorch refused something; its first line says why.
        error (sprintf "error: libtorch: %s" (e.Message.Split('\n').[0]))
        if verbose argv then error (string e)
        Exit.failed
    | Functional.Engine.EngineUnavailable message ->
        error (sprintf "error: %s" message)
        Exit.engine

/// The guard of last resort: a failure nothing above expected is a bug in fnn. One line says what failed and
/// where to report it; the stack trace only on request; exit code 70, which no expected failure uses.
let unexpected (argv: string array) (e: exn) =
    let firstLine = (if isNull e.Message then "" else e.Message.Split('\n').[0]) |> Functional.Excerpt.ofText 200
    error (sprintf "fnn: internal error: %s: %s" (e.GetType().Name) firstLine)
    if verbose argv then error (string e)
    else error "This is a bug in fnn, not in your input. Please report it with the command you ran (and the stack trace that --verbose or FNN_VERBOSE=1 prints) to the Functional issue tracker."
    Exit.internalError

