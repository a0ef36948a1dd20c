/// Compiled networks compute what their source says, with PyTorch's parameter names, and their
/// gradients agree with finite differences.
module Functional.Lang.Tests.CompilationTests

open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport

let private float64 = { Device = torch.CPU; DType = torch.ScalarType.Float64 }
let private float32 = { Device = torch.CPU; DType = torch.ScalarType.Float32 }

let private compileModel placement seed (source: string) name =
    let m = checkedProgram source |> model name
    Language.compileSeeded placement seed m

let private byHand =
    """model XorByHand : [2] -> [1] =
    param w1 : [2; 4] = xavier
    param b1 : [4] = zeros
    param w2 : [4; 1] = xavier
    param b2 : [1] = zeros
    fun x -> sigmoid (sigmoid (x @ w1 + b1) @ w2 + b2)
"""

let private xor = "model Xor : [2] -> [1] =\n    dense 4 >> sigmoid >> dense 1 >> sigmoid\n"

let private state (net: CompiledModel) : Map<string, torch.Tensor> = net.state_dict() |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq

let private inputs () = torch.tensor([| 0.0; 0.0; 0.0; 1.0; 1.0; 0.0; 1.0; 1.0 |], dtype = torch.ScalarType.Float64).reshape(4L, 2L)

let private close (expected: torch.Tensor) (actual: torch.Tensor) message =
    Expect.isTrue (torch.allclose(actual, expected, rtol = 1e-10, atol = 1e-12)) message

/// Central finite differences of `f` with respect to every element of `p`, in float64.
let private numericGradient (f: unit -> float) (p: torch.Tensor) =
    let eps = 1e-6
    use _ = torch.no_grad ()
    let flat = p.view(-1L)
    let grad = Array.zeroCreate (int (flat.numel()))
    for i in 0 .. grad.Length - 1 do
        let original = flat[int64 i].item<float>()
        flat[int64 i] <- torch.tensor(original + eps, dtype = p.dtype)
        let plus = f ()
        flat[int64 i] <- torch.tensor((original - eps), dtype = p.dtype)
        let minus = f ()
        flat[int64 i] <- torch.tensor(original, dtype = p.dtype)
        grad[i] <- (plus - minus) / (2.0 * eps)
    grad

[<Tests>]
let tests =
    testSequenced <| testList "Compilation" [
        test "dense chains have PyTorch Sequential parameter names and shapes" {
            use net = compileModel float32 1L xor "Xor"
            let s = state net
            Expect.equal (s |> Map.toList |> List.map fst |> List.sort) [ "0.bias"; "0.weight"; "2.bias"; "2.weight" ] "names"
            Expect.equal s["0.weight"].shape [| 4L; 2L |] "first weight [out, in]"
            Expect.equal s["2.weight"].shape [| 1L; 4L |] "second weight"
            Expect.equal (net.parameters() |> Seq.sumBy (fun p -> p.numel())) 17L "parameter count"
        }

        test "a chain computes sigmoid(W2 sigmoid(W1 x + b1) + b2)" {
            use net = compileModel float64 3L xor "Xor"
            let s = state net
            use x = inputs ()
            use expected = torch.sigmoid(torch.sigmoid(x.matmul(s["0.weight"].t()) + s["0.bias"]).matmul(s["2.weight"].t()) + s["2.bias"])
            use actual = net.forward x
            close expected actual "forward"
        }

        test "explicit parameters and math compute what they say" {
            use net = compileModel float64 3L byHand "XorByHand"
            let s = state net
            use x = inputs ()
            use expected = torch.sigmoid(torch.sigmoid(x.matmul(s["w1"]) + s["b1"]).matmul(s["w2"]) + s["b2"])
            use actual = net.forward x
            Expect.equal actual.shape [| 4L; 1L |] "batch of four [1] outputs"
            close expected actual "forward"
        }

        test "initialisers: zeros are zero, xavier is within its bound" {
            use net = compileModel float64 5L byHand "XorByHand"
            let s = state net
            Expect.equal (s["b1"].abs().sum().item<float>()) 0.0 "zeros"
            let bound = sqrt (6.0 / float (2 + 4))
            Expect.isLessThanOrEqual (s["w1"].abs().max().item<float>()) bound "xavier bound"
            Expect.isGreaterThan (s["w1"].abs().sum().item<float>()) 0.0 "not all zero"
        }

        test "the same seed gives the same weights, another seed other weights" {
            use a = compileModel float32 7L xor "Xor"
            use b = compileModel float32 7L xor "Xor"
            use c = compileModel float32 8L xor "Xor"
            Expect.isTrue (torch.allclose((state a)["0.weight"], (state b)["0.weight"], 0.0, 0.0)) "same seed"
            Expect.isFalse (torch.allclose((state a)["0.weight"], (state c)["0.weight"], 0.0, 0.0)) "other seed"
        }

        test "per-example matmul and broadcasting match a loop over the batch" {
            // Each body, run on a batch, must equal the body run on each example alone.
            let bodies =
                [ "[3] -> [4]", "param w : [3; 4] = normal 1.0\n    fun x -> x @ w"
                  "[3] -> [4]", "param w : [4; 3] = normal 1.0\n    fun x -> w @ x"
                  "[3] -> []", "param w : [3] = normal 1.0\n    fun x -> x @ w"
                  "[2; 3] -> [2; 5]", "param w : [3; 5] = normal 1.0\n    fun x -> x @ w"
                  "[2; 3] -> [4; 3]", "param w : [4; 2] = normal 1.0\n    fun x -> w @ x"
                  "[3] -> [2; 3]", "param w : [2; 3] = normal 1.0\n    fun x -> x + w"
                  "[3] -> [3]", "param b : [3] = normal 1.0\n    fun x -> (x - b) * 2 / (1 + x ** 2)"
                  "[3] -> [3]", "fun x -> exp (-x) + abs x" ]
            for (signature, body) in bodies do
                let source = sprintf "model M : %s =\n    %s\n" signature body
                use net = compileModel float64 11L source "M"
                torch.manual_seed 12L |> ignore
                let inputShape = (checkedProgram source |> model "M").Input |> Functional.Lang.Checking.Shape.tryInts |> Option.get |> List.map int64
                use batch = torch.randn(Array.ofList (5L :: inputShape), dtype = torch.ScalarType.Float64)
                use whole = net.forward batch
                for i in 0L .. 4L do
                    use one = net.forward (batch[i].unsqueeze 0L)
                    close (one.squeeze 0L) whole[i] (sprintf "%s: example %d" body i)
        }

        test "a body that ignores its input gives each example the same output" {
            use net = compileModel float64 2L "model M : [3] -> [2] =\n    param b : [2] = normal 1.0\n    fun x -> b\n" "M"
            use batch = torch.zeros([| 5L; 3L |], dtype = torch.ScalarType.Float64)
            use y = net.forward batch
            Expect.equal y.shape [| 5L; 2L |] "one output per example"
            close y[0] y[4] "the same for every example"
        }

        test "he draws with the fan-in of a [fan_in; fan_out] parameter" {
            use net = compileModel float64 2L "model M : [1000] -> [2] =\n    param w : [1000; 2] = he\n    fun x -> x @ w\n" "M"
            let w = (state net)["w"]
            let std = w.std().item<float>()
            Expect.floatClose { absolute = 0.005; relative = 0.0 } std (sqrt (2.0 / 1000.0)) "std = sqrt(2 / fan_in)"
        }

        test "gradients match central finite differences (float64)" {
            use net = compileModel float64 21L byHand "XorByHand"
            use x = inputs ()
            use t = torch.tensor([| 0.0; 1.0; 1.0; 0.0 |], dtype = torch.ScalarType.Float64).reshape(4L, 1L)
            let loss () = torch.nn.functional.mse_loss(net.forward x, t)
            net.zero_grad ()
            use l = loss ()
            l.backward ()
            for struct (name, p) in net.named_parameters() do
                let analytic = p.grad.contiguous().view(-1L).data<float>().ToArray()
                let numeric = numericGradient (fun () -> use _ = torch.no_grad () in (loss ()).item<float>()) p
                for i in 0 .. analytic.Length - 1 do
                    Expect.floatClose { absolute = 1e-8; relative = 1e-6 } analytic[i] numeric[i] (sprintf "d loss / d %s[%d]" name i)
        }
    ]
