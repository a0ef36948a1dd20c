/// The language's front door: check a source file, render its diagnostics, compile a model.
module Functional.Lang.Language

open System.IO
open Functional.Lang.Syntax
open Functional.Lang.Checking
open Functional.Lang.Compilation

/// Parses and checks source text. `overrides` replace model hyperparameters by name.
let checkWith (overrides: Map<string, Value * Range>) (file: string) (text: string) : Checked<CheckedProgram> =
    match Parser.parse file text with
    | program, [] -> Elaborate.program overrides program
    | _, errors -> Error errors

let check file text = checkWith Map.empty file text

/// Reads and checks a file; a missing or unreadable file is a diagnostic too.
let checkFile (path: string) : Checked<CheckedProgram> * string =
    try
        let text = File.ReadAllText path
        check path text, text
    with
    | :? FileNotFoundException
    | :? DirectoryNotFoundException -> Checked.fail (Range.make path (0, 0) (0, 0)) "no such file", ""
    | :? IOException
    | :? System.UnauthorizedAccessException as e -> Checked.fail (Range.make path (0, 0) (0, 0)) (sprintf "cannot read the file: %s" e.Message), ""

/// Renders diagnostics against the text of the file they came from.
let render (file: string) (text: string) (diagnostics: Diagnostic list) =
    diagnostics
    |> List.map (Diagnostic.render (fun f -> if f = file then Some text else None))
    |> String.concat "\n"

let compile (placement: Placement) (model: Model) : CompiledModel = Compiler.compile placement model
