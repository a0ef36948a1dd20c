/// How the CLI writes numbers, shapes and errors.
module Functional.Cli.Output

open System
open System.Globalization

let number (x: float) = x.ToString("0.######", CultureInfo.InvariantCulture)

let vector (values: float32 seq) =
    values |> Seq.map (float >> number) |> String.concat "; " |> sprintf "[%s]"

let error (message: string) = eprintfn "%s" message

/// An argument error's message without .NET's " (Parameter 'name')" suffix, which means nothing to a
/// command-line user.
let reason (e: ArgumentException) =
    if isNull e.ParamName then e.Message else e.Message.Replace(sprintf " (Parameter '%s')" e.ParamName, "")

/// Each of a loaded source's warnings (such as a source changed since its checkpoint), as `warning:` lines.
let warnings (messages: string seq) =
    for m in messages do
        eprintfn "warning: %s" m

/// Exit codes: 0 success, 1 a problem with the user's program, data or files, 2 bad command line,
/// 3 the engine could not start, 70 an unexpected failure (a bug in fnn: EX_SOFTWARE of sysexits.h),
/// 130 a training run stopped by Ctrl+C (SIGINT), 143 one stopped by SIGTERM.
module Exit =
    let ok = 0
    let failed = 1
    let usage = 2
    let engine = 3
    /// A run stopped by Ctrl+C (as shells report an interrupted program: 128 + SIGINT).
    let cancelled = 130
    /// A run stopped by SIGTERM, as sent by `timeout`, `kill` and service managers (128 + SIGTERM).
    let terminated = 143
    /// A failure fnn did not expect: a bug to report, not a problem with the user's input.
    let internalError = 70

/// The models a command works on: the one named by --model, or the file's `all`.
let models (file: Functional.Networks.FnnFile) (chosen: string option) (all: string seq) =
    match chosen with
    | Some name -> [ file.Model(name).Name ]
    | None -> List.ofSeq all
