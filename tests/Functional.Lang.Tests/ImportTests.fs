/// `import "file.fnn"`: another file's lets and models, found relative to the importing file.
module Functional.Lang.Tests.ImportTests

open System.IO
open Expecto
open Functional.Lang

/// Writes files into a fresh folder and checks the first one.
let private checkFiles (files: (string * string) list) =
    let folder = Directory.CreateTempSubdirectory("fnn-import-").FullName
    for (name, text) in files do
        let path = Path.Combine(folder, name)
        Directory.CreateDirectory(Path.GetDirectoryName path) |> ignore
        File.WriteAllText(path, text)
    let main = Path.Combine(folder, fst files.Head)
    let result = Language.checkFile main
    Directory.Delete(folder, true)
    result, folder

[<Tests>]
let tests =
    testList "Imports" [
        test "lets and models of an imported file are usable, its models trainable" {
            let result, _ =
                checkFiles
                    [ "main.fnn",
                      "import \"lib/blocks.fnn\"\nmodel M : [4] -> [2] =\n    hidden 8 >> Out\n\ntrain Out with\n    data = [ [1; 2; 3; 4; 5; 6; 7; 8] => [0; 1] ]\n"
                      "lib/blocks.fnn", "let hidden n = dense n >> relu\nmodel Out : [8] -> [2] =\n    dense 2\n" ]
            match result with
            | Ok p, _ ->
                Expect.equal (p.Models |> List.map (fun m -> m.Name)) [ "M" ] "own models"
                Expect.equal (p.Trains |> List.map (fun t -> t.Model)) [ "Out" ] "an imported model's train block"
            | Error ds, sources -> failtestf "%s" (Language.renderWith sources ds)
        }

        test "an error in an imported file is reported in that file, with its text" {
            let result, folder =
                checkFiles [ "main.fnn", "import \"bad.fnn\"\n"; "bad.fnn", "let x = dense 4 >> sigmod\n" ]
            match result with
            | Error [ d ], sources ->
                Expect.equal d.Range.File (Path.Combine(folder, "bad.fnn")) "file"
                Expect.equal (d.Range.Start.Line, d.Range.Start.Column) (1, 20) "place"
                Expect.stringContains (Language.renderWith sources [ d ]) "1 | let x = dense 4 >> sigmod" "the imported file's line"
            | other, _ -> failtestf "expected one error, got %A" other
        }

        test "a hyperparameter override no model has is an error, one some models have applies to them" {
            let text = "model A (width = 2) : [4] -> [width] =\n    dense width\nmodel B : [4] -> [1] =\n    dense 1\n"
            match Language.checkWith (Map [ "width", (Checking.VInt 3, Syntax.Range.none) ]) "o.fnn" text with
            | Ok p, _ -> Expect.equal (string (p.Models |> List.find (fun m -> m.Name = "A")).Output) "[3]" "A takes it, B has none"
            | Error ds, sources -> failtestf "%s" (Language.renderWith sources ds)
            match Language.checkWith (Map [ "widht", (Checking.VInt 3, Syntax.Range.none) ]) "o.fnn" text with
            | Error [ d ], _ -> Expect.stringContains d.Message "no model of o.fnn has a hyperparameter 'widht'; did you mean 'width'?" "message"
            | other, _ -> failtestf "expected one error, got %A" other
        }

        test "a missing file is an error at the import" {
            match checkFiles [ "main.fnn", "\nimport \"nowhere.fnn\"\n" ] with
            | (Error [ d ], _), _ ->
                Expect.equal (d.Range.Start.Line, d.Range.Start.Column) (2, 1) "place"
                Expect.stringContains d.Message "cannot import \"nowhere.fnn\": there is no file" "message"
            | other, _ -> failtestf "expected one error, got %A" other
        }

        test "imports that go round in a circle are an error, not a hang" {
            match checkFiles [ "a.fnn", "import \"b.fnn\"\n"; "b.fnn", "import \"a.fnn\"\n" ] with
            | (Error [ d ], _), _ -> Expect.stringContains d.Message "these imports go round in a circle: a.fnn -> b.fnn -> a.fnn" "message"
            | other, _ -> failtestf "expected one error, got %A" other
        }
    ]
