/// Fine-tuning in the language: `M with label = e` (a model with labelled parts replaced, every other
/// path kept) and the train-block settings (from, freeze, unfreezeAt, lrFor, lora, trainable), each
/// pattern checked against the model's paths; and PathPatterns, the globs both use.
module Functional.Lang.Tests.FineTuningTests

open Expecto
open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.ParserTests

let private cnn =
    """model FashionCnn : [1; 28; 28] -> [10] =
    (conv2d 8 3 >> relu >> maxPool2d 2 >> flatten) as features
    >> dense 10 as head
"""

let private baseModel =
    """model Base (units = 4) : [4] -> [3] =
    let enc = dense units >> tanh
    enc >> dense 3 as head
"""

let private paths (m: Model) = Compiler.declaredParameters m |> List.map fst

/// The only error of a program, its place and its message.
let private only (source: string) =
    match errors source with
    | [ d ] -> place d, d.Message
    | ds -> failtestf "expected one error, got %d: %A" ds.Length (ds |> List.map (fun d -> place d, d.Message))

let private plan name (p: CheckedProgram) = p.Trains |> List.find (fun t -> t.Model = name)

/// A CNN trained with these settings (one per line, indented) after `train FashionCnn with`.
let private cnnTrain (settings: string) = cnn + "\ntrain FashionCnn with\n" + settings

[<Tests>]
let tests =
    testList "Fine-tuning" [
        testList "with (parsing)" [
            testCase "one replacement on the line of 'with'" <| fun () ->
                Expect.equal (show (expr "FashionCnn with head = dense 2")) "(FashionCnn with head = (dense 2))" "tree"
            testCase "replacements one per line, a model with options, a dotted path" <| fun () ->
                let e = expr "Base (units = 6) with\n    head = dense 2\n    enc.inner = dense 6 >> tanh"
                Expect.equal (show e) "((Base (units = 6)) with head = (dense 2); enc.inner = (>> (dense 6) tanh))" "tree"
            testCase "in parentheses, followed by more of the chain" <| fun () ->
                Expect.equal (show (expr "(M with head = dense 2) >> softmax")) "(>> (M with head = (dense 2)) softmax)" "tree"
            testCase "two replacements on one line are an error at the second" <| fun () ->
                expectError "model M : [4] -> [2] =\n    Base with head = dense 2 enc = relu\n" "2:34" "expected an operator or the end of the line after 'enc', but found '='"
            testCase "'.' is still no token after a number or before one" <| fun () ->
                expectError "let a = 1.\n" "1:10" "unexpected character '.'"
                expectError "let a = .5\n" "1:9" "unexpected character '.'"
        ]

        testList "with (checking)" [
            test "the replaced part keeps its path; every other path is the base's" {
                let p = checkedProgram (cnn + "\nmodel TopOrOther : [1; 28; 28] -> [2] =\n    FashionCnn with head = dense 2\n")
                let before, after = model "FashionCnn" p, model "TopOrOther" p
                Expect.equal (paths after) (paths before) "the same parameter paths"
                let shapes (m: Model) = Compiler.declaredParameters m |> Map.ofList
                Expect.equal (Map.find "head.weight" (shapes after)) [ 2; 1352 ] "the new head"
                Expect.equal (Map.find "head.weight" (shapes before)) [ 10; 1352 ] "the old head"
                Expect.equal (Map.find "features.0.weight" (shapes after)) (Map.find "features.0.weight" (shapes before)) "the features unchanged"
                Expect.equal after.Replaced [ "head" ] "Replaced"
                Expect.equal before.Replaced [] "an ordinary model"
                Expect.equal (string after.Output) "[2]" "output"
            }

            test "several replacements, a let-bound part, a model with options" {
                let p = checkedProgram (baseModel + "\nmodel Two : [4] -> [2] =\n    Base (units = 6) with\n        head = dense 2\n        enc = dense 6 >> tanh >> dense 5\n")
                let two = model "Two" p
                Expect.equal (paths two) [ "enc.0.weight"; "enc.0.bias"; "enc.2.weight"; "enc.2.bias"; "head.weight"; "head.bias" ] "paths"
                Expect.equal (Compiler.declaredParameters two |> Map.ofList |> Map.find "head.weight") [ 2; 5 ] "head reads the new enc's 5"
                Expect.equal (List.sort two.Replaced) [ "enc"; "head" ] "Replaced"
            }

            test "a shared part replaced is one replacement at each of its uses" {
                let source = "model Twice : [4] -> [3] =\n    let enc = dense 4 >> tanh\n    enc >> enc >> dense 3 as head\n\nmodel New : [4] -> [3] =\n    Twice with enc = dense 4\n"
                let m = checkedProgram source |> model "New"
                Expect.equal (paths m) [ "enc.weight"; "enc.bias"; "head.weight"; "head.bias" ] "one enc"
                Expect.equal m.Replaced [ "enc" ] "Replaced"
            }

            test "a dotted path replaces a part of a model used as a layer, which is then held to the outer output" {
                let source = "model Enc : [4] -> [3] =\n    dense 3 as head\n\nmodel Outer : [4] -> [2] =\n    Enc as enc >> dense 2 as out\n\nmodel Changed : [4] -> [2] =\n    Outer with enc.head = dense 5\n"
                let m = checkedProgram source |> model "Changed"
                Expect.equal (Compiler.declaredParameters m) [ "enc.head.weight", [ 5; 4 ]; "enc.head.bias", [ 5 ]; "out.weight", [ 2; 5 ]; "out.bias", [ 2 ] ] "paths and shapes"
                Expect.equal m.Replaced [ "enc.head" ] "Replaced"
            }

            test "a model with replaced parts used as a layer: Replaced under its path" {
                let source = baseModel + "\nmodel Two : [4] -> [2] =\n    Base with head = dense 2\n\nmodel Wrap : [4] -> [2] =\n    dense 4 >> Two\n"
                let p = checkedProgram source
                Expect.equal (model "Wrap" p).Replaced [ "1.head" ] "prefixed"
                Expect.equal (model "Two" p).Replaced [ "head" ] "its own"
            }

            test "an imported model's parts are replaced; from is relative to the importing file's folder" {
                let folder = System.IO.Directory.CreateTempSubdirectory("fnn-finetune-").FullName
                try
                    System.IO.File.WriteAllText(System.IO.Path.Combine(folder, "base.fnn"), cnn)
                    let main = System.IO.Path.Combine(folder, "main.fnn")
                    System.IO.File.WriteAllText(main, "import \"base.fnn\"\n\nmodel T : [1; 28; 28] -> [2] =\n    FashionCnn with head = dense 2\n\ntrain T with\n    from = \"runs/base\"\n")
                    match Language.checkFile main with
                    | Ok p, _ ->
                        Expect.equal (model "T" p).Replaced [ "head" ] "Replaced"
                        Expect.equal (p.Trains.Head.FineTune.From |> Option.map fst) (Some(System.IO.Path.Combine(folder, "runs", "base"))) "from"
                    | Error ds, sources -> failtestf "%s" (Language.renderWith sources ds)
                finally
                    System.IO.Directory.Delete(folder, true)
            }

            test "a label the model does not have: did you mean, and its labels" {
                let at, message = only (cnn + "\nmodel T : [1; 28; 28] -> [2] =\n    FashionCnn with haed = dense 2\n")
                Expect.equal at "6:21" "at the label"
                Expect.equal message "FashionCnn has no labelled part 'haed'; did you mean 'head'? its labelled parts are features, head" "message"
            }

            test "a model without labels says so" {
                let _, message = only "model P : [4] -> [2] =\n    dense 2\n\nmodel T : [4] -> [2] =\n    P with head = dense 2\n"
                Expect.equal message "P has no labelled part 'head'; it has none (label a part with 'e as name')" "message"
            }

            test "a replacement whose output does not fit the declared output is an error at the replacement" {
                let at, message = only (cnn + "\nmodel T : [1; 28; 28] -> [3] =\n    FashionCnn with head = dense 2\n")
                Expect.equal at "6:28" "at dense 2"
                Expect.equal message "model T declares its output as [3], but its body produces [2]" "message"
            }

            test "the rest of the model is checked again with the new part's output" {
                let source = "model Pool : [4] -> [2] =\n    (reshape [1; 2; 2] as a) >> maxPool2d 2 >> flatten >> dense 2\n\nmodel Broken : [4] -> [2] =\n    Pool with a = reshape [4; 1; 1]\n"
                let d = errors source |> List.head
                Expect.equal (place d) "2:33" "at the layer that no longer fits"
                Expect.stringContains d.Message "would make the height 0" "message"
                let notes = d.Related |> List.map (fun (r, note) -> sprintf "%d:%d %s" r.Start.Line r.Start.Column note)
                Expect.contains notes "5:19 its input [4; 1; 1] comes from reshape [4; 1; 1] here" "the replacement"
                Expect.contains notes "5:5 in Pool with its parts replaced" "the with"
            }

            test "the replacement sees the input the part received" {
                let at, message = only (baseModel + "\nmodel T : [4] -> [3] =\n    Base with enc = reshape [3; 3] >> flatten\n")
                Expect.equal at "6:21" "at the replacement's reshape"
                Expect.stringContains message "[4]" "names the input it received"
            }

            bad "'with' on a chain is an error at the chain"
                "model M : [4] -> [2] =\n    (dense 4 >> relu) with head = dense 2\n"
                "2:6" "'with' replaces labelled parts of a declared model, but this is the layer chain"

            bad "'with' on a number is an error at it"
                "model M : [4] -> [2] =\n    3 with head = dense 2\n"
                "2:5" "'with' replaces labelled parts of a declared model, but this is the integer 3"

            bad "a part replaced twice" (cnn + "\nmodel T : [1; 28; 28] -> [2] =\n    FashionCnn with\n        head = dense 2\n        head = dense 2\n")
                "8:9" "the part 'head' is replaced twice"

            bad "a part inside a replaced part" (cnn + "\nmodel T : [1; 28; 28] -> [2] =\n    FashionCnn with\n        features = flatten\n        features.x = relu\n        head = dense 2\n")
                "8:9" "'features.x' is inside 'features', which is replaced as a whole"
        ]

        testList "train settings" [
            test "a block without fine-tuning settings has none" {
                let p = checkedProgram (cnnTrain "    epochs = 2\n")
                Expect.equal (plan "FashionCnn" p).FineTune FineTunePlan.none "none"
            }

            test "every setting, with its places" {
                let source =
                    cnnTrain "    from = \"../runs/fashion-cnn\"\n    freeze = [\"features.*\"]\n    unfreezeAt = 3\n    epochs = 4\n    lrFor = [\"head.*\" => 0.01; \"features.0.*\" => 0.0001]\n"
                let f = (plan "FashionCnn" (checkedProgram source)).FineTune
                let folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath "test.fnn")
                let expected = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, "../runs/fashion-cnn"))
                Expect.equal (f.From |> Option.map fst) (Some expected) "from, absolute"
                Expect.equal (f.From |> Option.map (snd >> fun r -> sprintf "%d:%d" r.Start.Line r.Start.Column)) (Some "6:12") "from's place"
                Expect.equal (f.Freeze |> List.map (fun (p, r) -> p, sprintf "%d:%d" r.Start.Line r.Start.Column)) [ "features.*", "7:15" ] "freeze"
                Expect.equal f.UnfreezeAt (Some 3) "unfreezeAt"
                Expect.equal (f.LearningRates |> List.map (fun (p, x, r) -> p, x, r.Start.Column)) [ "head.*", 0.01, 14; "features.0.*", 0.0001, 32 ] "lrFor"
                Expect.equal f.Lora None "no lora"
            }

            test "lora with its options, trainable; and lora's defaults" {
                let source =
                    "model Att : [5; 8] -> [5; 2] =\n    attention 2 >> layerNorm >> dense 2 as head\n\ntrain Att with\n    lora = lora (rank = 4, alpha = 16, dropout = 0.05, on = [\"*.query.weight\"; \"*.value.weight\"])\n    trainable = [\"head.*\"]\n"
                let f = (plan "Att" (checkedProgram source)).FineTune
                match f.Lora with
                | Some l ->
                    Expect.equal (l.Rank, l.Alpha, l.Dropout) (4, 16.0, 0.05) "options"
                    Expect.equal (l.Targets |> List.map (fun (p, r) -> p, r.Start.Column)) [ "*.query.weight", 62; "*.value.weight", 80 ] "targets at their strings"
                | None -> failtest "no lora"
                Expect.equal (f.Trainable |> List.map fst) [ "head.*" ] "trainable"
                let defaults = (plan "Att" (checkedProgram (source.Replace("rank = 4, alpha = 16, dropout = 0.05, ", "")))).FineTune.Lora.Value
                Expect.equal (defaults.Rank, defaults.Alpha, defaults.Dropout) (8, 8.0, 0.0) "PEFT's defaults"
            }

            test "a freeze pattern that matches nothing: the message, at the pattern" {
                let at, message = only (cnnTrain "    freeze = [\"features.*\"; \"feature.*\"]\n")
                Expect.equal at "6:29" "at the second pattern"
                Expect.equal message "the pattern 'feature.*' matches no parameter of FashionCnn; did you mean 'features.*'?" "message"
            }

            test "a pattern with nothing near lists the parameters" {
                let _, message = only (cnnTrain "    freeze = [\"zzzzzzzz\"]\n")
                Expect.equal message "the pattern 'zzzzzzzz' matches no parameter of FashionCnn; they are features.0.weight, features.0.bias, head.weight, head.bias" "message"
            }

            test "a LoRA pattern that matches no projection" {
                let at, message = only (cnnTrain "    lora = lora (on = [\"head.wieght\"])\n")
                Expect.equal at "6:24" "at the string"
                Expect.equal message "the pattern 'head.wieght' matches no projection (dense or attention query/key/value/output weight) of FashionCnn; did you mean 'head.weight'?" "message"
            }

            bad "an lrFor pattern that matches nothing" (cnnTrain "    lrFor = [\"haed.*\" => 0.1]\n") "6:14" "the pattern 'haed.*' matches no parameter of FashionCnn; did you mean 'head.*'?"
            bad "a trainable pattern that matches nothing" (cnnTrain "    lora = lora (on = [\"head.weight\"])\n    trainable = [\"hed.bias\"]\n") "7:18" "did you mean 'head.bias'?"
            bad "everything frozen, nothing to train" (cnnTrain "    freeze = [\"*\"]\n") "6:5" "freeze freezes every parameter of FashionCnn, so nothing would train"
            bad "unfreezeAt without freeze" (cnnTrain "    unfreezeAt = 2\n    epochs = 3\n") "6:5" "unfreezeAt unfreezes the frozen parameters, but nothing is frozen"
            bad "unfreezeAt after the last epoch" (cnnTrain "    freeze = [\"features.*\"]\n    unfreezeAt = 4\n    epochs = 3\n") "7:18" "unfreezeAt must be an epoch from 1 to 3 (epochs), but it is 4"
            bad "unfreezeAt 0" (cnnTrain "    freeze = [\"features.*\"]\n    unfreezeAt = 0\n") "7:18" "unfreezeAt is an epoch, counted from 1, but it is 0"
            bad "trainable without lora" (cnnTrain "    trainable = [\"head.*\"]\n") "6:5" "trainable names the parameters that train besides the LoRA adapters, so it needs lora"
            bad "a zero learning rate" (cnnTrain "    lrFor = [\"head.*\" => 0]\n") "6:13" "the learning rate for 'head.*' must be a positive number, but it is 0"
            bad "lrFor not pairs" (cnnTrain "    lrFor = [\"head.*\"]\n") "6:13" "lrFor must be a list of \"pattern\" => rate"
            bad "freeze not strings" (cnnTrain "    freeze = [3]\n") "6:14" "freeze must be a list of patterns"
            bad "from not a string" (cnnTrain "    from = 3\n") "6:12" "from must be a checkpoint folder in quotes"
            bad "lora rank 0" (cnnTrain "    lora = lora (rank = 0, on = [\"head.weight\"])\n") "6:18" "lora's rank must be an integer from 1 to 4096, but it is 0"
            bad "lora rank 5000" (cnnTrain "    lora = lora (rank = 5000, on = [\"head.weight\"])\n") "6:18" "but it is 5000"
            bad "lora alpha 0" (cnnTrain "    lora = lora (alpha = 0, on = [\"head.weight\"])\n") "6:18" "lora's alpha must be a positive number, but it is 0"
            bad "lora dropout 1" (cnnTrain "    lora = lora (dropout = 1, on = [\"head.weight\"])\n") "6:18" "lora's dropout must be at least 0 and below 1, but it is 1"
            bad "lora without on" (cnnTrain "    lora = lora (rank = 4)\n") "6:12" "lora needs 'on'"
            bad "bare lora" (cnnTrain "    lora = lora\n") "6:12" "lora needs 'on'"
            bad "lora with an empty on" (cnnTrain "    lora = lora (on = [])\n") "6:18" "lora's 'on' must name at least one pattern"
            test "independent bad settings are reported together" {
                let ds = errors (cnnTrain "    freeze = [\"feature.*\"]\n    lrFor = [\"haed.*\" => 0.1]\n")
                Expect.equal (ds |> List.map place) [ "6:15"; "7:14" ] "both patterns"
            }

            bad "lora with an unknown option" (cnnTrain "    lora = lora (bias = \"none\", on = [\"head.weight\"])\n") "6:18" "lora has no option 'bias'"

            test "everything frozen is fine with unfreezeAt or lora" {
                checkedProgram (cnnTrain "    freeze = [\"*\"]\n    unfreezeAt = 2\n    epochs = 3\n") |> ignore
                checkedProgram (cnnTrain "    freeze = [\"*\"]\n    lora = lora (on = [\"head.weight\"])\n") |> ignore
            }
        ]

        testList "PathPatterns" [
            testCase "matches: * any characters with dots, ? one, the whole path" <| fun () ->
                Expect.isTrue (PathPatterns.matches "*.query.weight" "2.0.0.1.query.weight") "*"
                Expect.isTrue (PathPatterns.matches "features.*" "features.0.weight") "prefix"
                Expect.isFalse (PathPatterns.matches "features.*" "features") "the dot is part of the pattern"
                Expect.isTrue (PathPatterns.matches "?.weight" "3.weight") "?"
                Expect.isFalse (PathPatterns.matches "?.weight" "12.weight") "? is one"
                Expect.isFalse (PathPatterns.matches "head" "head.weight") "whole path"
                Expect.isTrue (PathPatterns.matches "*" "") "* matches nothing too"
                Expect.isTrue (PathPatterns.matches "a*b*c" "aXbYbZc") "two stars"
                Expect.isFalse (PathPatterns.matches "a*b*c" "aXbYbZ") "two stars, no end"
                Expect.isFalse (PathPatterns.matches "" "a") "empty"
            testCase "matches: a pattern of many stars stays fast" <| fun () ->
                let pattern = String.replicate 200 "*a" + "b"
                let path = String.replicate 5000 "a"
                let watch = System.Diagnostics.Stopwatch.StartNew()
                Expect.isFalse (PathPatterns.matches pattern path) "no b"
                Expect.isLessThan watch.Elapsed.TotalSeconds 5.0 "no catastrophic backtracking"
            testCase "select keeps the order of the paths" <| fun () ->
                Expect.equal (PathPatterns.select "*.bias" [ "0.weight"; "0.bias"; "2.bias" ]) [ "0.bias"; "2.bias" ] "select"
            testCase "suggest: a path, a prefix with .*, or *. and a suffix" <| fun () ->
                let paths = [ "features.0.weight"; "features.0.bias"; "head.weight"; "head.bias" ]
                Expect.equal (PathPatterns.suggest "feature.*" paths) (Some "features.*") "prefix"
                Expect.equal (PathPatterns.suggest "head.wieght" paths) (Some "head.weight") "path"
                Expect.equal (PathPatterns.suggest "*.bais" paths) (Some "*.bias") "suffix"
                Expect.equal (PathPatterns.suggest "zzzzzzzz" paths) None "nothing near"
            testCase "noMatch names the kind, the model and the suggestion" <| fun () ->
                Expect.equal (PathPatterns.noMatch "parameter" "M" "hed.*" [ "head.weight" ]) "the pattern 'hed.*' matches no parameter of M; did you mean 'head.*'?" "near"
                Expect.equal (PathPatterns.noMatch "parameter" "M" "x" []) "the pattern 'x' matches no parameter of M; it has none" "none"
                let many = [ for i in 0..9 -> sprintf "layer%d.weight" i ]
                Expect.equal (PathPatterns.noMatch "parameter" "M" "zzzzzzzzzzzz" many) "the pattern 'zzzzzzzzzzzz' matches no parameter of M; they include layer0.weight, layer1.weight, layer2.weight, layer3.weight, layer4.weight, ... (10 in all)" "many"
            test "projectionWeights: dense and attention projections; parameters equal the compiler's" {
                let p = checkedProgram "model Att : [5; 8] -> [5; 2] =\n    attention 2 >> layerNorm >> dense 2 as head\n"
                let m = model "Att" p
                Expect.equal (PathPatterns.projectionWeights m) [ "0.query.weight"; "0.key.weight"; "0.value.weight"; "0.output.weight"; "head.weight" ] "projections"
                Expect.equal (Set.ofList (PathPatterns.parameters m)) (Set.ofList (paths m)) "parameters"
            }
            test "parameters leave out buffers" {
                let m = checkedProgram "model B : [3; 4; 4] -> [3; 4; 4] =\n    batchNorm\n" |> model "B"
                Expect.equal (PathPatterns.parameters m) [ "weight"; "bias" ] "no running statistics"
            }
        ]
    ]
