/// Every .fnn file shipped in examples/ and dsl/ checks cleanly.
module Functional.Lang.Tests.ExamplesTests

open System.IO
open Expecto
open Functional.Lang
open Functional.Lang.Tests.TestSupport

[<Tests>]
let tests =
    let files =
        [ "examples"; "dsl" ]
        |> List.map (fun d -> Path.Combine(repoRoot, d))
        |> List.filter Directory.Exists
        |> List.collect (fun d -> Directory.GetFiles(d, "*.fnn", SearchOption.AllDirectories) |> List.ofArray)
        // Files under errors/ are wrong on purpose; bin/ and obj/ hold build copies.
        |> List.filter (fun f ->
            let parts = Path.GetRelativePath(repoRoot, f).Split(Path.DirectorySeparatorChar)
            not (parts |> Array.exists (fun p -> p = "errors" || p = "bin" || p = "obj")))
    testList "Examples" [
        test "there are examples to check" { Expect.isNonEmpty files "no .fnn files found" }
        for file in files do
            test (Path.GetRelativePath(repoRoot, file)) {
                match Language.checkFile file with
                | Ok _, _ -> ()
                | Error ds, sources -> failtestf "%s" (Language.renderWith sources ds)
            }
    ]
