/// conv1d, conv2d, maxPool2d, avgPool2d, flatten, reshape, dropout, batchNorm: shapes, diagnostics,
/// forward equal to TorchSharp's modules, gradients against finite differences.
module Functional.Lang.Tests.VisionLayerTests

open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.LayerTesting

type private Reference = unit -> torch.nn.Module<torch.Tensor, torch.Tensor>

let private f64 = torch.ScalarType.Float64

// TorchSharp's BatchNorm made with an explicit dtype gives num_batches_tracked that dtype (PyTorch keeps it
// int64), so references are made in the default dtype and moved, which keeps it int64.
let private batchNorm1d (n: int64) = torch.nn.BatchNorm1d(n).``to``(f64)
let private batchNorm2d (n: int64) = torch.nn.BatchNorm2d(n).``to``(f64)

/// Body, signature, batched input size, and the TorchSharp module it must equal (made in float64, so
/// that loading our weights into it loses nothing).
let private cases: (string * string * int64 list * Reference) list =
    [ "conv1d 4 3", "[3; 10] -> [4; 8]", [ 2L; 3L; 10L ], (fun () -> torch.nn.Conv1d(3L, 4L, 3L, dtype = f64))
      "conv1d 4 3 (stride = 2) (padding = 1) (dilation = 2)",
      "[3; 10] -> [4; 4]",
      [ 2L; 3L; 10L ],
      (fun () -> torch.nn.Conv1d(3L, 4L, 3L, stride = 2L, padding = 1L, dilation = 2L, dtype = f64))
      "conv2d 3 3", "[2; 6; 5] -> [3; 4; 3]", [ 2L; 2L; 6L; 5L ], (fun () -> torch.nn.Conv2d(2L, 3L, 3L, dtype = f64))
      "conv2d 3 3 (stride = 2) (padding = 1)",
      "[2; 6; 5] -> [3; 3; 3]",
      [ 2L; 2L; 6L; 5L ],
      (fun () -> torch.nn.Conv2d(2L, 3L, 3L, stride = 2L, padding = 1L, dtype = f64))
      "conv2d 2 2 (dilation = 2)",
      "[2; 6; 5] -> [2; 4; 3]",
      [ 2L; 2L; 6L; 5L ],
      (fun () -> torch.nn.Conv2d(2L, 2L, 2L, dilation = 2L, dtype = f64))
      "maxPool2d 2", "[2; 6; 5] -> [2; 3; 2]", [ 2L; 2L; 6L; 5L ], (fun () -> torch.nn.MaxPool2d(2L))
      "maxPool2d 3 (stride = 1) (padding = 1)",
      "[2; 6; 5] -> [2; 6; 5]",
      [ 2L; 2L; 6L; 5L ],
      (fun () -> torch.nn.MaxPool2d(3L, stride = 1L, padding = 1L))
      "avgPool2d 2", "[2; 6; 5] -> [2; 3; 2]", [ 2L; 2L; 6L; 5L ], (fun () -> torch.nn.AvgPool2d(2L))
      "avgPool2d 3 (stride = 2) (padding = 1)",
      "[2; 6; 5] -> [2; 3; 3]",
      [ 2L; 2L; 6L; 5L ],
      (fun () -> torch.nn.AvgPool2d(3L, stride = 2L, padding = 1L))
      "flatten", "[2; 3; 4] -> [24]", [ 3L; 2L; 3L; 4L ], (fun () -> torch.nn.Flatten())
      "reshape [4; -1]",
      "[2; 3; 4] -> [4; 6]",
      [ 3L; 2L; 3L; 4L ],
      (fun () -> torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Unflatten(1L, [| 4L; 6L |])))
      "reshape [6; 2; 2]",
      "[2; 3; 4] -> [6; 2; 2]",
      [ 3L; 2L; 3L; 4L ],
      (fun () -> torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Unflatten(1L, [| 6L; 2L; 2L |])))
      "dropout 0.3", "[2; 5] -> [2; 5]", [ 3L; 2L; 5L ], (fun () -> torch.nn.Identity())
      "batchNorm", "[3] -> [3]", [ 4L; 3L ], (fun () -> batchNorm1d 3L)
      "batchNorm", "[3; 5] -> [3; 5]", [ 4L; 3L; 5L ], (fun () -> batchNorm1d 3L)
      "batchNorm", "[3; 4; 4] -> [3; 4; 4]", [ 2L; 3L; 4L; 4L ], (fun () -> batchNorm2d 3L) ]

/// Replaces every parameter with random values, so that tests do not lean on ones and zeros (batchNorm's
/// first weight and bias).
let private scramble (net: torch.nn.Module) =
    use _ = torch.no_grad ()
    torch.manual_seed 31L |> ignore
    for p in net.parameters () do
        torch.nn.init.uniform_(p, -1.0, 1.0) |> ignore

let private stateShapes (m: torch.nn.Module) =
    [ for KeyValue(name, t) in m.state_dict () -> name, List.ofArray t.shape ]

let private fashionCnn =
    """model FashionCnn : [1; 28; 28] -> [10] =
    conv2d 32 3 (padding = 1) >> relu >> maxPool2d 2
    >> conv2d 64 3 (padding = 1) >> batchNorm >> relu >> maxPool2d 2
    >> flatten >> dropout 0.25 >> dense 128 >> relu >> dense 10
"""

/// FashionCnn written directly with TorchSharp modules, in float64.
let private fashionReference () =
    torch.nn.Sequential(
        torch.nn.Conv2d(1L, 32L, 3L, padding = 1L, dtype = f64),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2L),
        torch.nn.Conv2d(32L, 64L, 3L, padding = 1L, dtype = f64),
        batchNorm2d 64L,
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2L),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.25),
        torch.nn.Linear(3136L, 128L, dtype = f64),
        torch.nn.ReLU(),
        torch.nn.Linear(128L, 10L, dtype = f64)
    )

let private parameterCount (m: torch.nn.Module) = m.parameters () |> Seq.sumBy (fun p -> p.numel ())


let private program (signature: string) (body: string) = sprintf "model M : %s =\n    %s\n" signature body

[<Tests>]
let tests =
    testSequenced
    <| testList "Vision layers" [
        testList "forward and gradients" [
            for (body, signature, dims, reference) in cases do
                test (sprintf "%s on %s" body signature) {
                    use net = compileBody signature body
                    scramble net
                    use reference = reference ()
                    loadInto reference net
                    net.eval () |> ignore
                    reference.eval () |> ignore
                    use x = randomInput dims
                    use expected = reference.forward x
                    use actual = net.forward x
                    expectClose expected actual "forward"
                    gradcheck net x
                }
        ]

        testList "dropout" [
            test "eval mode is the identity" {
                use net = compileBody "[4; 5] -> [4; 5]" "dropout 0.5"
                net.eval () |> ignore
                use x = randomInput [ 3L; 4L; 5L ]
                use y = net.forward x
                expectClose x y "eval"
            }

            test "train mode equals torch's dropout with the same seed" {
                use net = compileBody "[4; 5] -> [4; 5]" "dropout 0.3"
                net.train () |> ignore
                use x = randomInput [ 3L; 4L; 5L ]
                Randomness.reseed net.Generator 41L
                use actual = net.forward x
                torch.manual_seed 41L |> ignore
                use expected = torch.nn.functional.dropout(x, 0.3, training = true)
                expectClose expected actual "train"
                Expect.isGreaterThan ((actual.eq (torch.zeros_like actual)).sum().item<int64> ()) 0L "some zeros"
            }

            test "train mode zeroes about its rate and scales the rest" {
                use net = compileBody "[1000] -> [1000]" "dropout 0.3"
                net.train () |> ignore
                use x = torch.ones([| 100L; 1000L |], dtype = f64)
                Randomness.reseed net.Generator 43L
                use y = net.forward x
                let zeros = (y.eq (torch.zeros_like y)).to_type(f64).mean().item<float> ()
                Expect.floatClose { absolute = 0.01; relative = 0.0 } zeros 0.3 "fraction of zeros"
                use kept = y.masked_select (y.ne (torch.zeros_like y))
                use scale = torch.full_like(kept, (1.0 / 0.7).ToScalar())
                expectClose scale kept "kept values are scaled by 1 / (1 - rate)"
            }

            test "rate 0 keeps everything in train mode" {
                use net = compileBody "[4; 5] -> [4; 5]" "dropout 0"
                net.train () |> ignore
                use x = randomInput [ 3L; 4L; 5L ]
                use y = net.forward x
                expectClose x y "rate 0"
            }
        ]

        testList "batchNorm" [
            for (signature, dims, reference) in
                [ "[3] -> [3]", [ 6L; 3L ], (fun () -> batchNorm1d 3L :> torch.nn.Module<_, _>)
                  "[3; 5] -> [3; 5]", [ 4L; 3L; 5L ], (fun () -> batchNorm1d 3L)
                  "[3; 4; 4] -> [3; 4; 4]", [ 2L; 3L; 4L; 4L ], (fun () -> batchNorm2d 3L) ] do
                test (sprintf "train mode, running statistics and eval mode on %s" signature) {
                    use net = compileBody signature "batchNorm"
                    scramble net
                    use reference = reference ()
                    loadInto reference net
                    net.train () |> ignore
                    reference.train () |> ignore
                    for step in 1..3 do
                        torch.manual_seed (int64 (100 + step)) |> ignore
                        use x = (torch.randn(Array.ofList dims, dtype = f64) * 2.0 + 0.5).requires_grad_ true
                        use x' = x.detach().clone().requires_grad_ true
                        use actual = net.forward x
                        use expected = reference.forward x'
                        expectClose expected actual (sprintf "train forward, step %d" step)
                        // Gradients through the batch statistics, against torch's own.
                        torch.manual_seed 7L |> ignore
                        use weights = torch.randn_like actual
                        net.zero_grad ()
                        reference.zero_grad ()
                        (actual * weights).sum().backward ()
                        (expected * weights).sum().backward ()
                        expectClose x'.grad x.grad (sprintf "input gradient, step %d" step)
                        for (struct (name, ours), struct (_, theirs)) in Seq.zip (net.named_parameters ()) (reference.named_parameters ()) do
                            expectClose theirs.grad ours.grad (sprintf "%s gradient, step %d" name step)
                    let ours = net.state_dict ()
                    let theirs = reference.state_dict ()
                    for name in [ "running_mean"; "running_var" ] do
                        expectClose theirs[name] ours[name] (sprintf "%s after three steps" name)
                    Expect.equal (ours["num_batches_tracked"].item<int64> ()) (theirs["num_batches_tracked"].item<int64> ()) "batches tracked"
                    Expect.equal (ours["num_batches_tracked"].item<int64> ()) 3L "three batches tracked"
                    net.eval () |> ignore
                    reference.eval () |> ignore
                    use x = randomInput dims
                    use expected = reference.forward x
                    use actual = net.forward x
                    expectClose expected actual "eval forward uses the running statistics"
                    // In eval mode the output is an affine function of the input: a batch of one works.
                    use one = x.narrow(0L, 0L, 1L)
                    use alone = net.forward one
                    expectClose (actual.narrow(0L, 0L, 1L)) alone "eval mode treats examples independently"
                }
        ]

        testList "state_dict" [
            test "conv1d's names and shapes are PyTorch's" {
                use net = compileBody "[3; 10] -> [4; 8]" "conv1d 4 3"
                use reference = torch.nn.Conv1d(3L, 4L, 3L)
                Expect.equal (stateShapes net) [ "weight", [ 4L; 3L; 3L ]; "bias", [ 4L ] ] "PyTorch's Conv1d(3, 4, 3)"
                Expect.equal (stateShapes net) (stateShapes reference) "TorchSharp's Conv1d"
            }

            test "conv2d's names and shapes are PyTorch's" {
                use net = compileBody "[2; 6; 5] -> [3; 4; 3]" "conv2d 3 3"
                use reference = torch.nn.Conv2d(2L, 3L, 3L)
                Expect.equal (stateShapes net) [ "weight", [ 3L; 2L; 3L; 3L ]; "bias", [ 3L ] ] "PyTorch's Conv2d(2, 3, 3)"
                Expect.equal (stateShapes net) (stateShapes reference) "TorchSharp's Conv2d"
            }

            test "batchNorm's names, shapes and buffers are PyTorch's" {
                use net = compileBody "[3; 4; 4] -> [3; 4; 4]" "batchNorm"
                use reference = torch.nn.BatchNorm2d(3L)
                let pytorch =
                    [ "weight", [ 3L ]
                      "bias", [ 3L ]
                      "running_mean", [ 3L ]
                      "running_var", [ 3L ]
                      "num_batches_tracked", [] ]
                Expect.equal (stateShapes net) pytorch "PyTorch's BatchNorm2d(3)"
                Expect.equal (stateShapes net) (stateShapes reference) "TorchSharp's BatchNorm2d"
                Expect.equal (net.parameters () |> Seq.length) 2 "only weight and bias are parameters"
                Expect.equal (net.state_dict().Item("num_batches_tracked").dtype) torch.ScalarType.Int64 "an int64 count, even in float64"
            }

            test "FashionCnn's names and shapes equal the same network in TorchSharp" {
                use net = Language.compileSeeded float64 1L (checkedProgram fashionCnn |> model "FashionCnn")
                use reference = fashionReference ()
                Expect.equal (stateShapes net) (stateShapes reference) "state_dict"
            }

            test "parameters survive the dispose scope they were made in" {
                let net =
                    use _ = torch.NewDisposeScope()
                    compileBody "[2; 6; 5] -> [4; 2; 1]" "conv2d 4 3 >> batchNorm >> maxPool2d 2"
                use _ = net
                for KeyValue(name, t) in net.state_dict () do
                    Expect.isFalse (t.IsInvalid) (sprintf "%s is alive" name)
                use x = randomInput [ 2L; 2L; 6L; 5L ]
                use y = net.forward x
                Expect.equal y.shape [| 2L; 4L; 2L; 1L |] "forward after the scope closed"
            }
        ]

        testList "shape inference" [
            test "FashionCnn checks, its output is [10], and it has as many parameters as in TorchSharp" {
                let m = checkedProgram fashionCnn |> model "FashionCnn"
                Expect.equal (string m.Output) "[10]" "output"
                match m.Body.Op with
                | Chain steps ->
                    let outputs = steps |> List.map (fun s -> string s.Output)
                    let expected =
                        [ "[32; 28; 28]"; "[32; 28; 28]"; "[32; 14; 14]"
                          "[64; 14; 14]"; "[64; 14; 14]"; "[64; 14; 14]"; "[64; 7; 7]"
                          "[3136]"; "[3136]"; "[128]"; "[128]"; "[10]" ]
                    Expect.equal outputs expected "outputs per step"
                    Expect.equal steps[0].Op (primitive Layers.Conv2d.definition { Inputs = 1; Outputs = 32; Kernel = 3; Stride = 1; Padding = 1; Dilation = 1 }) "first conv"
                    Expect.equal steps[4].Op (primitive Layers.BatchNorm.definition { Features = 64 }) "batchNorm over 64 channels"
                    Expect.equal steps[6].Op (primitive Layers.Pooling.maxPool2d { Kernel = 2; Stride = 2; Padding = 0 }) "pooling stride defaults to the kernel"
                    Expect.equal steps[9].Op (primitive Layers.Dense.definition { Inputs = 3136; Outputs = 128 }) "dense after flatten"
                | other -> failtestf "expected a chain, got %A" other
                use net = Language.compileSeeded float64 1L m
                use reference = fashionReference ()
                Expect.equal (parameterCount net) (parameterCount reference) "parameter count"
                Expect.equal (parameterCount net) 421770L "320 + 18496 + 128 + 401536 + 1290"
            }

            test "FashionCnn's forward equals the same network in TorchSharp" {
                use net = Language.compileSeeded float64 1L (checkedProgram fashionCnn |> model "FashionCnn")
                scramble net
                use reference = fashionReference ()
                loadInto reference net
                net.eval () |> ignore
                reference.eval () |> ignore
                use x = randomInput [ 2L; 1L; 28L; 28L ]
                use expected = reference.forward x
                use actual = net.forward x
                expectClose expected actual "forward"
            }

            test "a convolution that keeps the length passes a named length through" {
                let m = checkedProgram (program "[4; seq] -> [8; seq]" "conv1d 8 3 (padding = 1) >> batchNorm") |> model "M"
                Expect.equal (string m.Output) "[8; seq]" "output"
            }

            test "reshape infers its -1 and flatten of a vector is the vector" {
                let m = checkedProgram (program "[2; 3; 4] -> [24]" "reshape [-1; 4] >> flatten >> flatten") |> model "M"
                match m.Body.Op with
                | Chain(first :: _) -> Expect.equal first.Op (primitive Layers.Reshape.definition { Dims = [ 6; 4 ] }) "the inferred size is stored"
                | other -> failtestf "expected a chain, got %A" other
            }

            test "layers applied inside a fun body" {
                use net = compileBody "[1; 6; 6] -> [8]" "fun x -> x |> conv2d 2 3 |> maxPool2d 2 |> flatten"
                use x = randomInput [ 3L; 1L; 6L; 6L ]
                use y = net.forward x
                Expect.equal y.shape [| 3L; 8L |] "output"
                gradcheck net x
            }

            test "reshape and flatten keep token ids" {
                let m = checkedProgram (program "[2; 3] int -> [6]" "flatten") |> model "M"
                Expect.isTrue m.Body.Output.Tokens "still token ids"
            }
        ]

        testList "diagnostics" [
            bad "conv2d on a vector" (program "[784] -> [10]" "conv2d 32 3 >> flatten >> dense 10") "2:5"
                "conv2d 32 3 needs a [channels; height; width] input, but its input is [784]"
            bad "conv2d whose kernel is wider than the image" (program "[1; 5; 2] -> [4]" "conv2d 32 3 >> flatten") "2:5"
                "conv2d 32 3 with padding 0 would make the width 0 (input width 2, kernel 3)"
            bad "conv1d on an image" (program "[3; 8; 8] -> [4]" "conv1d 4 3") "2:5"
                "conv1d 4 3 needs a [channels; length] input, but its input is [3; 8; 8]"
            bad "a kernel of 0" (program "[1; 5; 5] -> [4]" "conv2d 4 0") "2:14" "conv2d's kernel must be positive, but it is 0"
            bad "negative padding" (program "[1; 5; 5] -> [4]" "conv2d 4 3 (padding = -1)") "2:17"
                "conv2d's padding must be at least 0, but it is -1"
            bad "a stride of 0" (program "[1; 4; 4] -> [1; 2; 2]" "maxPool2d 2 (stride = 0)") "2:18"
                "maxPool2d's stride must be positive, but it is 0"
            bad "pooling padding above half the kernel" (program "[1; 4; 4] -> [1; 2; 2]" "avgPool2d 2 (padding = 2)") "2:18"
                "avgPool2d's padding must be at most half its kernel (1), but it is 2"
            bad "maxPool2d on a sequence" (program "[4; 10] -> [4; 5]" "maxPool2d 2") "2:5"
                "maxPool2d 2 needs a [channels; height; width] input, but its input is [4; 10]"
            bad "conv2d on a named number of channels" (program "[c; 8; 8] -> [4; 6; 6]" "conv2d 4 3") "2:5"
                "conv2d 4 3 needs its input's channels to be a number, but it is 'c' in [c; 8; 8]"
            bad "maxPool2d on a named height" (program "[1; h; 8] -> [1; h; 4]" "maxPool2d 2") "2:5"
                "maxPool2d 2 needs its input's height to be a number to work out its output size, but it is 'h'"
            bad "reshape to the wrong number of elements" (program "[4; 4] -> [3; 5]" "reshape [3; 5]") "2:5"
                "reshape [3; 5] needs 15 elements, but its input [4; 4] has 16"
            bad "reshape whose -1 cannot divide" (program "[4; 4] -> [3; 5]" "reshape [-1; 5]") "2:5"
                "reshape [-1; 5] needs a number of elements divisible by 5, but its input [4; 4] has 16"
            bad "reshape with two -1" (program "[4; 4] -> [16]" "reshape [-1; -1]") "2:13"
                "reshape can infer at most one size (-1), but 2 are -1"
            bad "reshape with a zero size" (program "[4; 4] -> [16]" "reshape [16; 0]") "2:13"
                "reshape's sizes must be positive, or -1 for the one to infer, but one is 0"
            bad "reshape of a number" (program "[4; 4] -> [16]" "reshape 16") "2:13" "reshape needs a list of sizes such as [3; 5]"
            bad "dropout rate above 1" (program "[4] -> [4]" "dropout 1.5") "2:13"
                "dropout's rate must be at least 0 and below 1, but it is 1.5"
            bad "batchNorm of a four-dimensional input" (program "[2; 3; 4; 5] -> [2; 3; 4; 5]" "batchNorm") "2:5"
                "batchNorm needs a [channels], [channels; length] or [channels; height; width] input, but its input is [2; 3; 4; 5]"
            bad "conv1d on token ids" (program "[3; 5] int -> [4; 3]" "conv1d 4 3") "2:5"
                "conv1d 4 3 needs numbers, but its input [3; 5] int holds token ids"
            bad "flatten with a named dimension" (program "[seq; 4] -> [8]" "flatten") "2:5"
                "flatten needs every dimension of its input to be a number, but 'seq' in [seq; 4] is not"
            bad "batchNorm with options it does not take" (program "[4] -> [4]" "batchNorm (momentum = 0.2)") "2:5"
                "batchNorm takes no named options"

            bad "conv2d used as a layer without its kernel" (program "[3; 8; 8] -> [4; 6; 6]" "conv2d 4") "2:5"
                "conv2d's kernel must be an integer, but it is a tensor of shape [3; 8; 8]: is an argument missing?"
            bad "reshape whose sizes overflow an integer" (program "[4; 4] -> [16]" "reshape [65536; 65536]") "2:5"
                "reshape [65536; 65536] needs 4294967296 elements, but its input [4; 4] has 16"
            bad "flatten of more elements than one dimension holds" (program "[65536; 65536] -> [1]" "flatten") "2:5"
                "flatten would make a dimension of 4294967296 elements"
            bad "padding so large the length overflows" (program "[1; 4] -> [1; 4]" "conv1d 1 1 (padding = 2000000000)") "2:5"
                "conv1d 1 1 with padding 2000000000 would make the length too large"

            test "every wrong hyperparameter of one call is reported" {
                let ds = errors (program "[1; 5; 5] -> [4]" "conv2d 0 3 (stride = 0) (dilation = 0)")
                Expect.equal (ds |> List.map place) [ "2:12"; "2:17"; "2:30" ] "three places"
            }
        ]
    ]
