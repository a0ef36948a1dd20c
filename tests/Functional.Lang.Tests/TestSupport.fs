/// Shared helpers: check sources from strings, find repository files.
module Functional.Lang.Tests.TestSupport

open System.IO
open Expecto
open Functional.Lang
open Functional.Lang.Checking

let checkSource (text: string) = Language.check "test.fnn" text

let checkedProgram (text: string) : CheckedProgram =
    match checkSource text with
    | Ok p -> p
    | Error ds -> failtestf "expected no errors, got:\n%s" (Language.render "test.fnn" text ds)

let errors (text: string) : Diagnostic list =
    match checkSource text with
    | Ok _ -> failtest "expected errors, but the program checkedProgram"
    | Error ds -> ds

/// `line:col` of a diagnostic, as the CLI prints it.
let place (d: Diagnostic) = sprintf "%d:%d" d.Range.Start.Line d.Range.Start.Column

/// The op of a builtin layer with these settings, as the checker makes it.
let primitive (definition: Functional.Lang.Layers.Definition<'S>) (settings: 'S) =
    Op.Primitive(Functional.Lang.Layers.Primitive.make definition settings)

let model name (p: CheckedProgram) = p.Models |> List.find (fun m -> m.Name = name)

/// A test of one bad program: where its first error must be (`line:col`), and a phrase its message holds.
let bad name (source: string) (expectedPlace: string) (phrase: string) =
    test name {
        let first = errors source |> List.head
        Expect.equal (place first) expectedPlace (sprintf "place of: %s" first.Message)
        Expect.stringContains first.Message phrase "message"
    }

/// The repository root (the folder holding Functional.sln), found upwards from the test binary.
let repoRoot =
    let rec up (dir: DirectoryInfo) =
        if isNull dir then failwith "Functional.sln not found above the test binary"
        elif File.Exists(Path.Combine(dir.FullName, "Functional.sln")) then dir.FullName
        else up dir.Parent
    up (DirectoryInfo System.AppContext.BaseDirectory)
