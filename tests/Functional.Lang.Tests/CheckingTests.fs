/// Names, shapes and settings are checkedProgram before any tensor exists; each error names its exact place.
module Functional.Lang.Tests.CheckingTests

open Expecto
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Tests.TestSupport

let private xor =
    """model Xor : [2] -> [1] =
    dense 4 >> sigmoid >> dense 1 >> sigmoid
"""


[<Tests>]
let tests =
    testList "Checking" [
        bad "crossEntropy on a model with one output is refused where the loss is given"
            "model One : [2] -> [1] =\n    dense 1\n\ntrain One with\n    loss = crossEntropy\n"
            "5:12" "crossEntropy needs an output per class"

        test "--set values: a too-large integer says so, with the limit" {
            let message text = match Language.parseOverride text with Error m -> m | Ok _ -> failtestf "%s was accepted" text
            Expect.stringContains (message "dim=99999999999") "the integer 99999999999 is too large: an integer is at most 2147483647" "too large"
            Expect.stringContains (message "dim=-99999999999") "the integer -99999999999 is too large" "too small"
            Expect.stringContains (message "dim=abc") "must be a number" "not a number"
            Expect.stringContains (message " =3") "is not a hyperparameter name" "no name"
            Expect.isLessThan (message ("dim=" + String.replicate 100000 "x")).Length 300 "an excerpt of a long value"
            match Language.parseOverride "dim=2147483647" with
            | Ok(_, (Functional.Lang.Checking.VInt 2147483647, _)) -> ()
            | other -> failtestf "the largest integer: %A" other
        }

        test "a chain of 200,000 applications checks, with the value it computes" {
            // `f f f ... 1`: once quadratic (each step measured the rest of the argument list), now one pass.
            let chain = String.replicate 200000 "f "
            let source = sprintf "let f x = x\nlet one = %s1\nmodel M : [one] -> [one] = dense one\n" chain
            let work = System.Threading.Tasks.Task.Run(fun () -> checkedProgram source)
            // A guard against a hang, not a measure of speed: linear checking takes a few seconds.
            Expect.isTrue (work.Wait(System.TimeSpan.FromMinutes 5.0)) "checking finished"
            Expect.equal (string (model "M" work.Result).Output) "[1]" "the chain's value, 1"
        }

        test "XOR infers every layer's shape" {
            let m = checkedProgram xor |> model "Xor"
            match m.Body.Op with
            | Chain steps ->
                let outputs = steps |> List.map (fun s -> string s.Output)
                Expect.equal outputs [ "[4]"; "[4]"; "[1]"; "[1]" ] "outputs per step"
                Expect.equal (steps |> List.map (fun s -> s.Path)) [ "0"; "1"; "2"; "3" ] "paths"
                Expect.equal steps[0].Op (primitive Layers.Dense.definition { Inputs = 2; Outputs = 4 }) "first dense sees 2 inputs"
                Expect.equal steps[2].Op (primitive Layers.Dense.definition { Inputs = 4; Outputs = 1 }) "second dense sees 4 inputs"
            | other -> failtestf "expected a chain, got %A" other
        }

        test "explicit parameters and math infer [1]" {
            let m =
                checkedProgram
                    """model XorByHand : [2] -> [1] =
    param w1 : [2; 4] = xavier
    param b1 : [4] = zeros
    param w2 : [4; 1] = xavier
    param b2 : [1] = zeros
    fun x -> sigmoid (sigmoid (x @ w1 + b1) @ w2 + b2)
"""
                |> model "XorByHand"
            Expect.equal (string m.Body.Output) "[1]" "output"
            Expect.equal (m.Params |> List.map (fun p -> p.Name, p.Shape)) [ "w1", [ 2; 4 ]; "b1", [ 4 ]; "w2", [ 4; 1 ]; "b2", [ 1 ] ] "params"
        }

        test "hyperparameters flow into shapes and layer sizes" {
            let m =
                checkedProgram
                    """model M (hidden = 8, classes = 3) : [5] -> [classes] =
    dense (2 * hidden) >> relu >> dense classes
"""
                |> model "M"
            Expect.equal (string m.Output) "[3]" "declared output from a hyperparameter"
            Expect.equal m.Hyperparameters [ "hidden", "8"; "classes", "3" ] "hyperparameters"
        }

        test "a train block's data, loss, optimizer and epochs" {
            let p =
                checkedProgram (
                    xor
                    + """
train Xor with
    data = [ [0; 0] => [0]; [0; 1] => [1]; [1; 0] => [1]; [1; 1] => [0] ]
    loss = mse
    optimizer = sgd (lr = 0.5)
    epochs = 3000
"""
                )
            let t = List.exactlyOne p.Trains
            Expect.equal t.Inputs [| [| 0.0; 0.0 |]; [| 0.0; 1.0 |]; [| 1.0; 0.0 |]; [| 1.0; 1.0 |] |] "inputs"
            Expect.equal t.Targets [| [| 0.0 |]; [| 1.0 |]; [| 1.0 |]; [| 0.0 |] |] "targets"
            Expect.equal (TrainSettings.optimizerName t.Optimizer, t.Optimizer.Lr) ("sgd", 0.5) "optimizer"
            Expect.isNone t.Schedule "no schedule"
            Expect.equal t.Epochs 3000 "epochs"
            Expect.equal t.Loss MeanSquaredError "loss"
        }

        test "optimizers and schedules are checked into typed settings" {
            let p =
                checkedProgram (
                    xor
                    + "\ntrain Xor with\n    data = [ [0; 0] => [0] ]\n    optimizer = adamw (lr = 0.001, weightDecay = 0.05)\n    schedule = cosine (epochs = 10, warmupEpochs = 1)\n"
                )
            let t = List.exactlyOne p.Trains
            Expect.equal (t.Optimizer.Rule, t.Optimizer.Lr, t.Optimizer.WeightDecay) (AdamW { Beta1 = 0.9; Beta2 = 0.999; Eps = 1e-8 }, 0.001, 0.05) "optimizer"
            let schedule = t.Schedule |> Option.get
            Expect.equal schedule { Rule = Cosine(10, 0.0); Warmup = Some { Length = WarmupEpochs 1; Start = 0.1 } } "schedule"
        }

        bad "an option an optimizer does not have" "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n    optimizer = adam (momentum = 0.9)\n" "6:23" "adam has no option 'momentum'"
        bad "a schedule where an optimizer belongs" "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n    optimizer = cosine\n" "6:17" "optimizer must be sgd, rmsprop, adam or adamw, but it is the schedule cosine"

        // Five (and more) distinct bad programs, each with its exact line:col.
        bad "output shape differs from the declaration" "model M : [2] -> [1] =\n    dense 4 >> sigmoid >> dense 3\n" "2:27" "declares its output as [1], but its body produces [3]"
        bad "unknown name suggests the nearest" "model M : [2] -> [1] =\n    dense 4 >> sigmod >> dense 1\n" "2:16" "'sigmod' is not defined; did you mean 'sigmoid'?"
        bad "matmul with mismatched inner dimensions" "model M : [2] -> [4] =\n    param w : [3; 4] = xavier\n    fun x -> x @ w\n" "3:14" "the left side's last dimension (2) must equal the right side's first of its last two dimensions (3)"
        bad "addition of shapes that do not broadcast" "model M : [2] -> [4] =\n    param w : [2; 4] = xavier\n    param b : [3] = zeros\n    fun x -> x @ w + b\n" "4:14" "cannot combine shapes [4] and [3]"
        bad "unknown option of an optimizer" "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n    optimizer = sgd (rate = 0.5)\n" "6:22" "sgd has no option 'rate'"
        bad "training example of the wrong shape" "model M : [2] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0; 0] => [0]; [0; 1; 1] => [1] ]\n" "5:12" "example 2's input has shape [3], but model M's input is [2]"
        bad "unknown training setting" "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n    epoch = 3\n" "6:5" "unknown training setting 'epoch'; did you mean 'epochs'?"
        bad "train block for a model that does not exist" "model Xor : [1] -> [1] =\n    dense 1\n\ntrain Xr with\n    data = [ [0] => [1] ]\n" "4:7" "there is no model named 'Xr' to train; did you mean 'Xor'?"
        bad "dense of a non-integer size" "model M : [2] -> [1] =\n    dense 0.5 >> dense 1\n" "2:11" "dense's number of units must be an integer"
        bad "a layer applied to a number" "model M : [2] -> [2] =\n    fun x -> sigmoid 3\n" "2:22" "sigmoid is a layer: it applies to a tensor"

        bad "the same label twice in a chain" "model M : [2] -> [1] =\n    dense 2 as a >> dense 1 as a\n" "2:21" "two layers here would both be named 'a'"
        bad "xavier on a vector" "model M : [2] -> [2] =\n    param b : [2] = xavier\n    fun x -> x + b\n" "2:21" "xavier needs a parameter with at least two dimensions"
        bad "normal with a negative deviation" "model M : [2] -> [2] =\n    param b : [2] = normal -1.0\n    fun x -> x + b\n" "2:21" "normal needs a positive standard deviation, but it is -1"
        bad "uniform with low above high" "model M : [2] -> [2] =\n    param b : [2] = uniform 1 0\n    fun x -> x + b\n" "2:21" "uniform needs low < high"
        bad "two train blocks for one model" "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n\ntrain M with\n    data = [ [1] => [1] ]\n" "7:7" "M already has a train block"
        bad "integer arithmetic that overflows" "model M : [2] -> [1] =\n    dense (65536 * 65536) >> dense 1\n" "2:12" "65536 * 65536 is too large for an integer"
        bad "an argument of the wrong type" "let f (n: int) = dense n\nmodel M : [2] -> [1] =\n    f 3.5 >> dense 1\n" "3:7" "the argument 'n' of f must be an integer, but it is the number 3.5"
        bad "a hyperparameter default of the wrong type" "model M (units: int = 2.5) : [2] -> [1] =\n    dense units >> dense 1\n" "1:23" "the hyperparameter 'units' of M must be an integer"
        bad "an unknown type" "let f (n: nat) = dense n\n" "1:11" "unknown type 'nat': a parameter's type is int, float or bool"
        bad "a misspelt name in a parameter's shape" "model M (hidden = 3) : [2] -> [3] =\n    param w : [2; hiden] = xavier\n    fun x -> x @ w\n" "2:19" "'hiden' in the shape of w is not defined: a parameter's dimensions are numbers or hyperparameters; did you mean 'hidden'?"
        bad "training a model with a symbolic dimension" "model A : [n] -> [n] =\n    fun x -> x * 2\n\ntrain A with\n    data = [ [1; 2] => [2; 4] ]\n" "5:12" "has a symbolic dimension"

        test "a function whose parameters all have defaults is a layer when used bare" {
            let m = checkedProgram "let block (units = 4) = dense units >> relu\nmodel M : [2] -> [4] =\n    block\n" |> model "M"
            Expect.equal (string m.Output) "[4]" "output"
        }

        test "a label on the whole body names its parameters" {
            let m = checkedProgram "model M : [2] -> [1] =\n    dense 1 as top\n" |> model "M"
            Expect.equal m.Body.Path "top" "root path"
        }

        test "an error in a let is reported once, not again where the let is used" {
            let ds = errors "let ys = [ 1 2 ]\nmodel M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [1] => ys ]\n"
            Expect.equal (ds |> List.map place) [ "1:12" ] "only the let's own error"
        }

        test "every independent error is reported, not only the first" {
            let ds =
                errors
                    "model A : [2] -> [1] =\n    dense 4 >> dense 3\n\nmodel B : [2] -> [1] =\n    dense 1 >> relux\n"
            Expect.equal (ds |> List.map place) [ "2:16"; "5:16" ] "both models' errors"
        }

        test "a shape error notes where the input came from" {
            let d = errors "model M : [2] -> [1] =\n    dense 4 >> conv2d 3 3\n" |> List.exactlyOne
            Expect.equal (place d) "2:16" "at the step that cannot take its input"
            match d.Related with
            | [ range, note ] ->
                Expect.equal (range.Start.Line, range.Start.Column) (2, 5) "the note points at the step before"
                Expect.equal note "its input [4] comes from dense 4 here" "note"
            | other -> failtestf "expected one note, got %A" other
        }

        test "checking never throws on a program that uses everything wrongly" {
            let sources =
                [ "model M : [0] -> [1] =\n    dense 1\n"
                  "model M : [2] -> [1] =\n    3\n"
                  "model M : [2] -> [1] =\n    dense 1 (bias = true)\n"
                  "let f x = f x\nmodel M : [2] -> [2] =\n    f\n"
                  "model M : [2] -> [1] =\n    dense 1 >> 4\n"
                  "model M : [2] -> [1] =\n    fun x y -> x\n"
                  "train M with\n    data = 3\n" ]
            for s in sources do
                match checkSource s with
                | Ok _ -> failtestf "expected an error for:\n%s" s
                | Error ds -> Expect.isNonEmpty ds "diagnostics"
        }
    ]
