/// What programs mean: which layers share weights, how parameters are named, combinators, models used
/// as layers.
module Functional.Lang.Tests.SemanticsTests

open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.LayerTesting

let private compileModel name (source: string) =
    let m = checkedProgram source |> model name
    Language.compileSeeded float64 5L m

let private keys (net: Compilation.CompiledModel) = net.state_dict().Keys |> Seq.sort |> List.ofSeq

let private weights (net: Compilation.CompiledModel) name = net.state_dict()[name]

[<Tests>]
let tests =
    testSequenced
    <| testList "Semantics" [
        test "a let-bound layer used twice is one set of weights, named by its let" {
            use net = compileModel "Twin" "model Twin : [8] -> [8] =\n    let enc = dense 8\n    enc >> tanh >> enc\n"
            Expect.equal (keys net) [ "enc.bias"; "enc.weight" ] "one layer"
            Expect.equal (net.parameters () |> Seq.sumBy (fun p -> p.numel ())) 72L "8 * 8 + 8 parameters"
            use x = randomInput [ 3L; 8L ]
            let enc (t: torch.Tensor) = t.matmul((weights net "enc.weight").t()) + weights net "enc.bias"
            expectClose (enc (torch.tanh (enc x))) (net.forward x) "enc (tanh (enc x))"
            gradcheck net x
        }

        test "labels and let names make readable paths" {
            use net = compileModel "Head" "model Head : [32] -> [3] =\n    let hidden = dense 16 >> relu\n    hidden >> dense 3 as scores\n"
            Expect.equal (keys net) [ "hidden.0.bias"; "hidden.0.weight"; "scores.bias"; "scores.weight" ] "paths"
        }

        test "each application of a function makes fresh weights" {
            use net = compileModel "M" "let block n = dense n >> relu\nmodel M : [4] -> [4] =\n    block 4 >> block 4\n"
            Expect.equal (keys net) [ "0.0.bias"; "0.0.weight"; "1.0.bias"; "1.0.weight" ] "two blocks"
            Expect.isFalse (torch.allclose(weights net "0.0.weight", weights net "1.0.weight")) "independent weights"
        }

        test "repeat makes independent copies, even of a let-bound layer" {
            use net = compileModel "M" "model M : [4] -> [4] =\n    let layer = dense 4 >> relu\n    repeat 3 layer\n"
            Expect.equal (keys net) [ for i in 0..2 do for p in [ "bias"; "weight" ] -> sprintf "%d.0.%s" i p ] "copies"
            Expect.isFalse (torch.allclose(weights net "0.0.weight", weights net "2.0.weight")) "independent weights"
            use x = randomInput [ 2L; 4L ]
            gradcheck net x
        }

        test "residual adds its input, and its body's parameters sit at its own path" {
            use net = compileModel "M" "model M : [4] -> [4] =\n    dense 4 >> residual (dense 4 >> tanh)\n"
            Expect.equal (keys net) [ "0.bias"; "0.weight"; "1.0.bias"; "1.0.weight" ] "paths"
            use x = randomInput [ 3L; 4L ]
            let linear w b (t: torch.Tensor) = t.matmul((weights net w).t()) + weights net b
            let h = linear "0.weight" "0.bias" x
            expectClose (h + torch.tanh (linear "1.0.weight" "1.0.bias" h)) (net.forward x) "x + f x"
            gradcheck net x
        }

        test "concat joins its branches on the last axis" {
            use net = compileModel "M" "model M : [4] -> [8] =\n    concat [dense 3; dense 5 >> relu]\n"
            Expect.equal (keys net) [ "0.bias"; "0.weight"; "1.0.bias"; "1.0.weight" ] "paths"
            use x = randomInput [ 2L; 4L ]
            let a = x.matmul((weights net "0.weight").t()) + weights net "0.bias"
            let b = torch.nn.functional.relu (x.matmul((weights net "1.0.weight").t()) + weights net "1.0.bias")
            expectClose (torch.cat([| a; b |], -1L)) (net.forward x) "cat"
            gradcheck net x
        }

        test "linear is dense" {
            use a = compileModel "M" "model M : [4] -> [2] =\n    linear 2\n"
            use b = compileModel "M" "model M : [4] -> [2] =\n    dense 2\n"
            expectClose (weights b "weight") (weights a "weight") "same weights from the same seed"
        }

        test "initialisers draw what they say" {
            use net =
                compileModel "M" "model M : [1] -> [1] =\n    param o : [1000] = ones\n    param n : [100; 100] = normal 0.5\n    param u : [100; 100] = uniform -2 3\n    fun x -> x\n"
            Expect.equal ((weights net "o").sum().item<float>()) 1000.0 "ones"
            Expect.floatClose { absolute = 0.02; relative = 0.0 } ((weights net "n").std().item<float>()) 0.5 "normal's deviation"
            Expect.isGreaterThanOrEqual ((weights net "u").min().item<float>()) -2.0 "uniform's low"
            Expect.isLessThanOrEqual ((weights net "u").max().item<float>()) 3.0 "uniform's high"
            Expect.floatClose { absolute = 0.1; relative = 0.0 } ((weights net "u").mean().item<float>()) 0.5 "uniform's mean"
        }

        test "sequential is a chain" {
            use net = compileModel "M" "model M : [4] -> [2] =\n    sequential [dense 3; relu; dense 2]\n"
            Expect.equal (keys net) [ "0.bias"; "0.weight"; "2.bias"; "2.weight" ] "paths"
        }

        test "a model is a layer of another, with its own hyperparameters and parameters" {
            let source =
                "model Affine (size = 2) : [size] -> [size] =\n    param w : [size; size] = xavier\n    fun x -> x @ w\n\n"
                + "model Enc (units = 2) : [4] -> [units] =\n    dense units\n\n"
                + "model Full : [4] -> [3] =\n    Enc (units = 3) >> Affine (size = 3) >> Affine (size = 3)\n"
            use net = compileModel "Full" source
            Expect.equal (keys net) [ "0.bias"; "0.weight"; "1.w"; "2.w" ] "paths"
            Expect.equal (weights net "1.w").shape [| 3L; 3L |] "the hyperparameter was applied"
            Expect.isFalse (torch.allclose(weights net "1.w", weights net "2.w")) "fresh weights at each use"
            use x = randomInput [ 2L; 4L ]
            let enc = x.matmul((weights net "0.weight").t()) + weights net "0.bias"
            expectClose (enc.matmul(weights net "1.w").matmul(weights net "2.w")) (net.forward x) "Enc >> Affine >> Affine"
            gradcheck net x
        }

        test "a let-bound layer shared inside a fun body" {
            use net = compileModel "M" "let enc = dense 4\nmodel M : [4] -> [4] =\n    fun x -> enc x + enc (enc x)\n"
            Expect.equal (keys net) [ "enc.bias"; "enc.weight" ] "one layer"
            use x = randomInput [ 2L; 4L ]
            let enc (t: torch.Tensor) = t.matmul((weights net "enc.weight").t()) + weights net "enc.bias"
            expectClose (enc x + enc (enc x)) (net.forward x) "shared"
        }

        test "a let-bound model or defaulted function is one layer, like any let-bound layer" {
            use net = compileModel "M" "model Enc (units = 4) : [4] -> [units] =\n    dense units\nmodel M : [4] -> [4] =\n    let e = Enc\n    e >> e\n"
            Expect.equal (keys net) [ "e.bias"; "e.weight" ] "shared"
        }

        test "a sub-term used twice is computed once per run" {
            // 2^25 evaluations if each use recomputed its operands; one each when shared.
            let lets = [ for i in 1..25 -> sprintf "    let h%d = h%d + h%d" i (i - 1) (i - 1) ] |> String.concat "\n"
            use net = compileBody "[3] -> [3]" (sprintf "fun x ->\n    let h0 = x\n%s\n    h25" lets |> fun s -> s.Replace("\n    ", "\n        "))
            use x = randomInput [ 2L; 3L ]
            expectClose (x * 33554432.0) (net.forward x) "2^25 x"
        }

        test "a top-level let-bound layer gives each model its own weights" {
            let p = checkedProgram "let enc = dense 4\nmodel A : [4] -> [4] =\n    enc\nmodel B : [4] -> [4] =\n    enc >> enc\n"
            use a = Language.compileSeeded float64 1L (model "A" p)
            use b = Language.compileSeeded float64 1L (model "B" p)
            Expect.equal (keys a) [ "enc.bias"; "enc.weight" ] "A"
            Expect.equal (keys b) [ "enc.bias"; "enc.weight" ] "B"
        }
    ]

[<Tests>]
let errorTests =
    testList "Semantics errors" [
        bad "a shared layer used on two shapes" "model M : [4] -> [8] =\n    let enc = dense 8\n    enc >> enc\n" "3:12" "enc is one layer with one set of weights: it was first used on [4], so it cannot take [8] here"
        bad "residual that changes the shape" "model M : [4] -> [3] =\n    residual (dense 3)\n" "2:5" "residual adds f x to x, so f must keep its input's shape [4], but it makes [3]"
        bad "repeat of zero copies" "model M : [4] -> [4] =\n    repeat 0 (dense 4)\n" "2:12" "repeat's number of copies must be positive, but it is 0"
        bad "concat of branches that disagree" "model M : [2; 4] -> [2; 8] =\n    concat [dense 3; flattenLike]\n" "2:22" "'flattenLike' is not defined"
        bad "concat of something that is not a list" "model M : [4] -> [4] =\n    concat (dense 4)\n" "2:13" "concat takes a list of layers"
        bad "a model used on the wrong input" "model Enc : [4] -> [2] =\n    dense 2\nmodel M : [3] -> [2] =\n    Enc\n" "4:5" "model Enc takes [4], but its input here is [3]"
        bad "an unknown hyperparameter of a model used as a layer" "model Enc (units = 2) : [4] -> [units] =\n    dense units\nmodel M : [4] -> [2] =\n    Enc (unit = 2)\n" "4:10" "Enc has no option 'unit'; did you mean 'units'?"
    ]
