/// Tensor math inside `fun` bodies (reductions, transpose) and the losses, builtin and user-written.
module Functional.Lang.Tests.MathAndLossTests

open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.LayerTesting

/// The body run on the batch equals the body run on each example alone.
let private perExample (net: CompiledModel) (batch: torch.Tensor) =
    use whole = net.forward batch
    for i in 0L .. batch.shape[0] - 1L do
        use one = net.forward (batch[i].unsqueeze 0L)
        expectClose (one.squeeze 0L) whole[i] (sprintf "example %d" i)

let private lossOf (source: string) =
    let p = checkedProgram source
    (List.exactlyOne p.Trains).Loss

let private program loss =
    sprintf "model M : [4] -> [4] =\n    dense 4 >> logSoftmax\n\ntrain M with\n    data = [ [1; 2; 3; 4] => [0; 0; 1; 0] ]\n    loss = %s\n" loss

[<Tests>]
let tests =
    testSequenced
    <| testList "Math and losses" [
        for body, signature in
            [ "fun x -> sum x", "[3; 4] -> []"
              "fun x -> mean x (axis = 0)", "[3; 4] -> [4]"
              "fun x -> max x (axis = -1)", "[3; 4] -> [3]"
              "fun x -> min x (axis = 1) + sum x", "[3; 4] -> [3]"
              "fun x -> transpose x @ x", "[3; 4] -> [4; 4]"
              "fun x -> mean (exp x) (axis = 1) * 2", "[3; 4] -> [3]" ] do
            test body {
                use net = compileBody signature body
                use x = randomInput [ 3L; 3L; 4L ]
                perExample net x
                use withWeights = compileBody signature (sprintf "dense 4 >> %s" body)
                gradcheck withWeights x
            }

        test "reductions compute what torch computes" {
            use net = compileBody "[3; 4] -> [3]" "fun x -> mean x (axis = 1)"
            use x = randomInput [ 2L; 3L; 4L ]
            expectClose (x.mean([| 2L |])) (net.forward x) "mean over the last axis"
        }

        test "a fun loss computes one number per example, averaged over the batch" {
            let loss = lossOf (program "fun y t -> mean ((y - t) ** 2)")
            use f = Losses.compile float64 loss
            use mse = Losses.compile float64 MeanSquaredError
            use y = randomInput [ 5L; 4L ]
            use t = torch.rand([| 5L; 4L |], dtype = torch.ScalarType.Float64)
            expectClose (mse.Compute(y, t)) (f.Compute(y, t)) "equals mse"
        }

        test "a fun loss may use activations" {
            let loss = lossOf (program "fun y t -> -(sum (t * logSoftmax y))")
            use f = Losses.compile float64 loss
            use y = randomInput [ 5L; 4L ]
            use classes = torch.tensor([| 0L; 3L; 1L; 2L; 3L |])
            use t = torch.nn.functional.one_hot(classes, 4L).``to``(torch.ScalarType.Float64)
            expectClose (torch.nn.functional.cross_entropy(y, classes)) (f.Compute(y, t)) "equals cross entropy"
        }

        // Each loss's gradient with respect to the network's output, against central differences.
        for loss, prepare in
            [ "mse", id
              "l1", id
              "bce", (fun (y: torch.Tensor) -> torch.sigmoid y)
              "crossEntropy", id
              "nll", (fun (y: torch.Tensor) -> torch.nn.functional.log_softmax(y, -1L))
              "fun y t -> mean ((y - t) ** 2) + max (abs y)", id ] do
            test (sprintf "the gradient of %s" loss) {
                use f = Losses.compile float64 (lossOf (program loss))
                use raw = randomInput [ 3L; 4L ]
                use t = torch.nn.functional.one_hot(torch.tensor([| 2L; 0L; 3L |]), 4L).``to``(torch.ScalarType.Float64)
                let value (y: torch.Tensor) = (f.Compute(prepare y, t)).item<float>()
                use y = raw.detach().clone().requires_grad_(true)
                (f.Compute(prepare y, t)).backward()
                let analytic = y.grad.clone()
                use _ = torch.no_grad ()
                for i in 0L .. 2L do
                    for j in 0L .. 3L do
                        let eps = 1e-6
                        let at (d: float) =
                            let shifted = raw.clone()
                            shifted[i, j] <- torch.tensor((raw[i, j].item<float>() + d), dtype = torch.ScalarType.Float64)
                            value shifted
                        let numeric = (at eps - at -eps) / (2.0 * eps)
                        Expect.floatClose { absolute = 1e-6; relative = 1e-5 } (analytic[i, j].item<float>()) numeric (sprintf "d %s / d y[%d, %d]" loss i j)
            }

        test "crossEntropy takes the classes from the last axis of a sequence output" {
            let source = "model M : [3; 5] -> [3; 5] =\n    dense 5\n\ntrain M with\n    data = [ [[1; 2; 3; 4; 5]; [1; 2; 3; 4; 5]; [1; 2; 3; 4; 5]] => [[1; 0; 0; 0; 0]; [0; 1; 0; 0; 0]; [0; 0; 0; 0; 1]] ]\n    loss = crossEntropy\n"
            use ce = Losses.compile float64 (lossOf source)
            use y = randomInput [ 2L; 3L; 5L ]
            use classes = torch.tensor([| 0L; 1L; 4L; 2L; 2L; 3L |])
            use t = torch.nn.functional.one_hot(classes, 5L).``to``(torch.ScalarType.Float64).reshape(2L, 3L, 5L)
            expectClose (torch.nn.functional.cross_entropy(y.reshape(-1L, 5L), classes)) (ce.Compute(y, t)) "over every position's classes"
        }

        test "nll and crossEntropy take class indices too, as data sets give them" {
            use nll = Losses.compile float64 (lossOf (program "nll"))
            use ce = Losses.compile float64 (lossOf (program "crossEntropy"))
            use y = randomInput [ 5L; 4L ]
            use logp = torch.nn.functional.log_softmax(y, -1L)
            use classes = torch.tensor([| 0L; 3L; 1L; 2L; 3L |])
            expectClose (torch.nn.functional.nll_loss(logp, classes)) (nll.Compute(logp, classes)) "nll"
            expectClose (torch.nn.functional.cross_entropy(y, classes)) (ce.Compute(y, classes)) "crossEntropy"
        }

        test "nll and crossEntropy with one-hot targets equal PyTorch's with class indices" {
            use nll = Losses.compile float64 (lossOf (program "nll"))
            use ce = Losses.compile float64 (lossOf (program "crossEntropy"))
            use y = randomInput [ 5L; 4L ]
            use logp = torch.nn.functional.log_softmax(y, -1L)
            use classes = torch.tensor([| 0L; 3L; 1L; 2L; 3L |])
            use t = torch.nn.functional.one_hot(classes, 4L).``to``(torch.ScalarType.Float64)
            expectClose (torch.nn.functional.nll_loss(logp, classes)) (nll.Compute(logp, t)) "nll"
            expectClose (torch.nn.functional.cross_entropy(y, classes)) (ce.Compute(y, t)) "crossEntropy"
        }

        bad "an axis out of range" "model M : [3; 4] -> [3] =\n    fun x -> sum x (axis = 2)\n" "2:21" "sum's axis must be from -2 to 1 for a tensor of shape [3; 4], but it is 2"
        bad "transpose of a vector" "model M : [3] -> [3] =\n    fun x -> transpose x\n" "2:24" "transpose swaps the last two axes, so it needs at least two, but the tensor is [3]"
        bad "a loss that is not one number per example" (program "fun y t -> y - t") "6:12" "a loss gives one number per example (use sum or mean), but this one gives [4]"
        bad "a loss with weights" (program "fun y t -> sum (dense 4 y - t)") "6:28" "a loss can use activations, but no layer with weights like dense 4"
        bad "a loss that is not a loss" (program "adam") "6:12" "loss must be mse, bce, crossEntropy, nll, l1 or a function fun y t -> ..."
    ]
