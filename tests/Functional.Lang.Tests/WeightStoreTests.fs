/// The weight store and the run context: weights by path (patterns, partial loads with a key map, moves
/// between element types), initial weights drawn as torch's modules drew them, the network's own
/// generator, and the hand-written recurrences against torch's modules (outputs and gradients).
module Functional.Lang.Tests.WeightStoreTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.LayerTesting

let private f32 = torch.ScalarType.Float32
let private f64 = torch.ScalarType.Float64
let private float32 = { Device = torch.CPU; DType = f32 }

let private compileWith placement seed (source: string) name =
    Language.compileSeeded placement seed (checkedProgram source |> model name)

let private gpt =
    """model Gpt (vocab = 11, dim = 8, heads = 2, depth = 2, context = 6) : [context] int -> [context; vocab] =
    embed vocab dim >> positional context
    >> repeat depth (residual (layerNorm >> attention heads (causal = true)) >> residual (layerNorm >> dense (4 * dim) >> gelu >> dense dim))
    >> layerNorm >> dense vocab
"""

let private cnn =
    """model Cnn : [1; 6; 6] -> [3] =
    conv2d 4 3 (padding = 1) >> batchNorm >> relu >> maxPool2d 2 >> flatten >> dropout 0.25 >> dense 3
"""

let private xor = "model Xor : [2] -> [1] =\n    dense 4 >> sigmoid >> dense 1 >> sigmoid\n"

/// The raw bytes of every tensor of a state, by name: equal bytes are equal weights, bit for bit.
let private bytes (net: CompiledModel) =
    [ for KeyValue(name, t) in net.state_dict () -> name, t.cpu().contiguous().bytes.ToArray() ] |> Map.ofList

/// The ArgumentException `f` raises.
let private refusal (f: unit -> unit) : ArgumentException =
    try
        f ()
        failtest "expected an ArgumentException"
    with :? ArgumentException as e -> e

let private storeTests =
    testList "the store" [
        test "holds every weight under its state_dict path, parameters before buffers" {
            use net = compileWith float32 1L cnn "Cnn"
            Expect.equal
                net.Store.Paths
                [ "0.weight"; "0.bias"; "1.weight"; "1.bias"; "6.weight"; "6.bias"; "1.running_mean"; "1.running_var"; "1.num_batches_tracked" ]
                "paths"
            Expect.equal (net.state_dict().Keys |> List.ofSeq) net.Store.Paths "state_dict"
            Expect.equal net.Store["1.num_batches_tracked"].Tensor.dtype torch.ScalarType.Int64 "an int64 counter"
            Expect.isTrue (net.Store["0.weight"].Tensor :? Modules.Parameter) "a parameter"
        }

        test "the declarations list the parameters a compiled model has, in its order, without compiling" {
            let program = Language.checkFile (System.IO.Path.Combine(repoRoot, "examples", "language-tour", "tour.fnn"))
            let models =
                match fst program with
                | Ok p -> p.Models
                | Error _ -> failtest "the tour checks"
            for m in models @ [ checkedProgram cnn |> model "Cnn"; checkedProgram gpt |> model "Gpt" ] do
                use net = Language.compileSeeded float32 1L m
                let compiled = [ for struct (path, p) in net.named_parameters () -> path, p.shape |> Array.map int |> List.ofArray ]
                Expect.equal (Compiler.declaredParameters m) compiled m.Name
        }

        test "finds the parameters whose paths match a glob" {
            use net = compileWith float32 1L gpt "Gpt"
            Expect.equal (net.Store.Matching "*.query.weight") [ "2.0.0.1.query.weight"; "2.1.0.1.query.weight" ] "every query projection"
            Expect.equal (net.Store.Matching "?.weight") [ "0.weight"; "1.weight"; "3.weight"; "4.weight" ] "one character"
            Expect.equal (net.Store.Matching "2.1.1.*.bias") [ "2.1.1.0.bias"; "2.1.1.1.bias"; "2.1.1.3.bias" ] "one block's biases"
            Expect.equal (net.Store.Matching "*.running_mean") [] "buffers are not parameters"
            Expect.equal (net.Store.Matching "nothing") [] "no match"
        }

        test "loads a part of another network's weights through a key map, and reports what it did" {
            use target = compileWith float32 1L xor "Xor"
            use source = compileWith float32 2L xor "Xor"
            let before = bytes target
            // The source's names as another tool spells them: `model.<path>`; its second layer left out.
            let renamed = Dictionary<string, torch.Tensor>()
            for KeyValue(name, t) in source.state_dict () do
                renamed["model." + name] <- t
            let report =
                target.Store.Load(renamed, Func<string, string>(fun name -> if name.StartsWith "model.0." then name.Substring 6 else null))
            Expect.equal report.Loaded [ "0.weight"; "0.bias" ] "loaded"
            Expect.equal report.Ignored [ "model.2.weight"; "model.2.bias" ] "left out"
            Expect.equal report.Missing [ "2.weight"; "2.bias" ] "not filled"
            let after = bytes target
            let theirs = bytes source
            Expect.equal after["0.weight"] theirs["0.weight"] "copied"
            Expect.equal after["2.weight"] before["2.weight"] "kept"
            Expect.isTrue target.Store["0.weight"].Tensor.requires_grad "still a trainable leaf"
        }

        test "a load that does not fit copies nothing and names the problem" {
            use target = compileWith float32 1L xor "Xor"
            let before = bytes target
            use wrong = torch.zeros([| 3L; 2L |])
            let source = readOnlyDict [ "0.weight", wrong; "0.bias", target.Store["2.bias"].Tensor ]
            let e = refusal (fun () -> target.Store.Load source |> ignore)
            Expect.stringContains e.Message "'0.weight' has shape [|3L; 2L|] but '0.weight' has [|4L; 2L|]" "the problem"
            Expect.equal (bytes target) before "nothing copied"
            let e = refusal (fun () -> target.Store.Load(readOnlyDict [ "x", wrong ], Func<_, _>(fun _ -> "9.weight")) |> ignore)
            Expect.stringContains e.Message "'x' goes to '9.weight', which this network does not have" "an unknown path"
        }

        test "moves float32 -> float64 -> float32 as a whole: same outputs, trainable leaves, int64 counter" {
            use net = compileWith float32 3L cnn "Cnn"
            net.eval () |> ignore
            use x = torch.randn([| 5L; 1L; 6L; 6L |], generator = net.Generator)
            use before = (use _ = torch.no_grad () in net.forward x)
            let weights = bytes net
            net.To(torch.CPU, f64)
            Expect.equal net.Placement.DType f64 "placement"
            for struct (name, p) in net.named_parameters () do
                Expect.equal p.dtype f64 (name + " is float64")
                Expect.isTrue (p.requires_grad && p.is_leaf) (name + " is a trainable leaf")
            Expect.equal net.Store["1.running_var"].Tensor.dtype f64 "a buffer moves"
            Expect.equal net.Store["1.num_batches_tracked"].Tensor.dtype torch.ScalarType.Int64 "the counter stays int64"
            use x64 = x.to_type f64
            use wide = (use _ = torch.no_grad () in net.forward x64)
            Expect.isLessThan ((wide - before.to_type f64).abs().max().item<float> ()) 1e-5 "float64 computes what float32 did"
            // Through the module API too.
            net.``to`` f32 |> ignore
            Expect.equal (bytes net) weights "float32 -> float64 -> float32 gives back every weight, bit for bit"
            use after = (use _ = torch.no_grad () in net.forward x)
            Expect.equal (after.bytes.ToArray()) (before.bytes.ToArray()) "and the same outputs, bit for bit"
        }

        test "a moved network's parameters train" {
            use net = compileWith float32 4L xor "Xor"
            net.To(torch.CPU, f64)
            use x = torch.tensor([| 0.0; 0.0; 0.0; 1.0; 1.0; 0.0; 1.0; 1.0 |], dtype = f64).reshape(4L, 2L)
            use t = torch.tensor([| 0.0; 1.0; 1.0; 0.0 |], dtype = f64).reshape(4L, 1L)
            use loss = torch.nn.functional.mse_loss (net.forward x, t)
            loss.backward ()
            for struct (name, p) in net.named_parameters () do
                Expect.isNotNull p.grad (name + " has a gradient")
                Expect.equal p.grad.dtype f64 (name + "'s gradient is float64")
        }

        test "sinusoidal's table is a buffer that moves but is not saved" {
            use net = compileWith float32 1L "model M : [4; 6] -> [4; 6] =\n    sinusoidal 8\n" "M"
            Expect.equal [ for struct (name, _) in net.named_buffers () -> name ] [ "table" ] "a buffer"
            Expect.equal [ for struct (name, _) in net.named_buffers (include_nonpersistent = false) -> name ] [] "not persistent"
            Expect.isEmpty (net.state_dict ()) "not saved"
            net.To(torch.CPU, f64)
            Expect.equal net.Store["table"].Tensor.dtype f64 "moved"
            use x = torch.zeros([| 2L; 4L; 6L |], dtype = f64)
            Expect.equal (net.forward x).dtype f64 "computes in float64"
        }

        test "the numbers of a fun body move with the network" {
            use net = compileWith float32 1L "model M : [3] -> [3] =\n    fun x -> x * 0.1 + 2\n" "M"
            net.To(torch.CPU, f64)
            use x = torch.ones([| 1L; 3L |], dtype = f64)
            use y = net.forward x
            Expect.equal y.dtype f64 "float64"
            Expect.floatClose Accuracy.veryHigh (y[0L, 0L].item<float> ()) 2.1 "0.1 in float64, not float32's 0.1"
        }
    ]

/// Each compiled weight equals, bit for bit, what torch's own module or initialiser drew after
/// seeding the global generator with the same seed.
let private drawTests =
    let same (ours: torch.Tensor) (theirs: torch.Tensor) what =
        Expect.equal (ours.cpu().contiguous().bytes.ToArray()) (theirs.cpu().contiguous().bytes.ToArray()) what
    testList "first weights" [
        for dtype in [ f32; f64 ] do
            test (sprintf "dense draws torch.nn.Linear's draws, then Glorot uniform (%A)" dtype) {
                use net = compileWith { Device = torch.CPU; DType = dtype } 5L "model M : [3] -> [4] =\n    dense 4\n" "M"
                torch.manual_seed 5L |> ignore
                use linear = torch.nn.Linear(3L, 4L, dtype = dtype)
                torch.nn.init.xavier_uniform_ linear.weight |> ignore
                same net.Store["weight"].Tensor linear.weight "weight"
                Expect.equal (net.Store["bias"].Tensor.abs().sum().to_type(f64).item<float> ()) 0.0 "zero bias"
            }

            test (sprintf "conv2d draws torch.nn.Conv2d's weights (%A)" dtype) {
                use net = compileWith { Device = torch.CPU; DType = dtype } 6L "model M : [2; 5; 5] -> [3; 3; 3] =\n    conv2d 3 3\n" "M"
                torch.manual_seed 6L |> ignore
                use conv = torch.nn.Conv2d(2L, 3L, 3L, dtype = dtype)
                same net.Store["weight"].Tensor conv.weight "weight"
                same net.Store["bias"].Tensor conv.bias "bias"
            }

            test (sprintf "embed and lstm draw torch.nn.Embedding's and LSTM's weights (%A)" dtype) {
                use net = compileWith { Device = torch.CPU; DType = dtype } 7L "model M : [4] int -> [4; 3] =\n    embed 5 2 >> lstm 3 (bidirectional = true) >> dense 3\n" "M"
                torch.manual_seed 7L |> ignore
                use embedding = torch.nn.Embedding(5L, 2L, dtype = dtype)
                use lstm = torch.nn.LSTM(2L, 3L, 1L, bidirectional = true, dtype = dtype)
                same net.Store["0.weight"].Tensor embedding.weight "embedding"
                for struct (name, p) in lstm.named_parameters () do
                    same net.Store["1." + name].Tensor p name
            }

            test (sprintf "param initialisers draw torch.nn.init's (%A)" dtype) {
                let source =
                    "model M : [3] -> [3] =\n    param a : [3; 3] = xavier\n    param b : [3; 5] = he\n    param c : [3] = normal 0.5\n    param d : [3] = uniform -0.5 0.25\n    fun x -> (x @ a) * c + d + sum (x @ b)\n"
                use net = compileWith { Device = torch.CPU; DType = dtype } 8L source "M"
                torch.manual_seed 8L |> ignore
                let make (shape: int64[]) = torch.empty(shape, dtype = dtype)
                use a = make [| 3L; 3L |]
                use b = make [| 3L; 5L |]
                use c = make [| 3L |]
                use d = make [| 3L |]
                torch.nn.init.xavier_uniform_ a |> ignore
                torch.nn.init.kaiming_normal_(b, mode = torch.nn.init.FanInOut.FanOut) |> ignore
                torch.nn.init.normal_(c, 0.0, 0.5) |> ignore
                torch.nn.init.uniform_(d, -0.5, 0.25) |> ignore
                for (name, t) in [ "a", a; "b", b; "c", c; "d", d ] do
                    same net.Store[name].Tensor t name
            }

        test "the same seed gives the same weights whatever torch's global generator does" {
            use a = compileWith float32 9L gpt "Gpt"
            torch.randn([| 1000L |]).Dispose()
            use b = compileWith float32 9L gpt "Gpt"
            Expect.equal (bytes a) (bytes b) "same weights"
        }

        test "dropout draws from the context's generator, as torch's dropout from the global one" {
            use net = compileWith float32 1L "model M : [50] -> [50] =\n    dropout 0.4\n" "M"
            use x = torch.ones([| 4L; 50L |])
            use g = Randomness.create torch.CPU 11L
            use ours = net.Run({ net.Context() with Training = true; Generator = g }, x)
            torch.manual_seed 11L |> ignore
            use theirs = torch.nn.functional.dropout (x, 0.4, training = true)
            Expect.equal (ours.bytes.ToArray()) (theirs.bytes.ToArray()) "the same mask"
            use eval = net.Run({ net.Context() with Training = false; Generator = g }, x)
            Expect.equal (eval.bytes.ToArray()) (x.bytes.ToArray()) "no mask when not training"
        }
    ]

/// The recurrences, written out, against torch.nn.RNN, LSTM and GRU with the same weights.
let private recurrentTests =
    testList "recurrences against torch's modules" [
        for cell in [ "rnn"; "lstm"; "gru" ] do
            for (layers, bidirectional) in [ 1, false; 2, true ] do
                test (sprintf "%s, %d layer(s)%s: outputs and gradients" cell layers (if bidirectional then ", bidirectional" else "")) {
                    let options = sprintf "(layers = %d, bidirectional = %b)" layers bidirectional
                    let outputs = if bidirectional then 8 else 4
                    use net = compileBody (sprintf "[5; 3] -> [5; %d]" outputs) (sprintf "%s 4 %s" cell options)
                    let reference: torch.nn.Module =
                        match cell with
                        | "rnn" -> torch.nn.RNN(3L, 4L, int64 layers, batchFirst = true, bidirectional = bidirectional, dtype = f64)
                        | "lstm" -> torch.nn.LSTM(3L, 4L, int64 layers, batchFirst = true, bidirectional = bidirectional, dtype = f64)
                        | _ -> torch.nn.GRU(3L, 4L, int64 layers, batchFirst = true, bidirectional = bidirectional, dtype = f64)
                    use _ = reference
                    loadInto reference net
                    let run (x: torch.Tensor) =
                        match reference with
                        | :? Modules.LSTM as m -> let struct (y, _, _) = m.forward (x, Nullable()) in y
                        | :? Modules.GRU as m -> let struct (y, _) = m.forward (x, null) in y
                        | m -> let struct (y, _) = (m :?> Modules.RNN).forward (x, null) in y
                    use x = (randomInput [ 2L; 5L; 3L ]).requires_grad_ true
                    use x' = x.detach().clone().requires_grad_ true
                    use ours = net.forward x
                    use theirs = run x'
                    expectClose theirs ours "outputs"
                    torch.manual_seed 3L |> ignore
                    use weights = torch.randn_like ours
                    (ours * weights).sum().backward ()
                    (theirs * weights).sum().backward ()
                    expectClose x'.grad x.grad "input gradient"
                    let theirParameters = dict [ for struct (name, p) in reference.named_parameters () -> name, p ]
                    for struct (name, p) in net.named_parameters () do
                        expectClose theirParameters[name].grad p.grad (name + " gradient")
                }
    ]

[<Tests>]
// In sequence: the references draw from torch's global generator.
let tests = testSequenced <| testList "Weights and runs" [ storeTests; drawTests; recurrentTests ]
