/// embed, positional, sinusoidal, attention, rnn, lstm, gru, last, layerNorm, rmsNorm: shapes,
/// diagnostics, forward equal to TorchSharp's modules, gradients against finite differences.
module Functional.Lang.Tests.SequenceLayerTests

open System
open System.Collections.Generic
open Expecto
open TorchSharp
open Functional.Lang.Checking
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.LayerTesting

let private f64 = torch.ScalarType.Float64

let private state (net: CompiledModel) : Map<string, torch.Tensor> =
    net.state_dict () |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq

let private names (net: CompiledModel) = net.state_dict().Keys |> List.ofSeq |> List.sort

/// Moves every parameter off its initial value, so that ones and zeros cannot hide a wrong formula.
let private perturb (net: CompiledModel) =
    use _ = torch.no_grad ()
    torch.manual_seed 31L |> ignore
    for p in net.parameters () do
        use noise = torch.randn_like p
        p.add_(noise * 0.3) |> ignore

/// Token ids in [0, vocabulary), shape [batch; seq], from a fixed seed.
let private tokens vocabulary (batch: int64) (length: int64) =
    torch.manual_seed 37L |> ignore
    torch.randint(int64 vocabulary, [| batch; length |], dtype = torch.ScalarType.Int64)

/// Multi-head attention written out with plain tensor ops from our weights (`<name>.weight`, `.bias`).
let private referenceAttention (weights: Map<string, torch.Tensor>) (heads: int64) causal (x: torch.Tensor) =
    let project name (t: torch.Tensor) = torch.nn.functional.linear (t, weights[name + ".weight"], weights[name + ".bias"])
    let batch, length, dim = x.shape[0], x.shape[1], x.shape[2]
    let headDim = dim / heads
    let split name = (project name x).view(batch, length, heads, headDim).transpose(1L, 2L)
    let q, k, v = split "query", split "key", split "value"
    let scores = q.matmul(k.transpose(-2L, -1L)) / Math.Sqrt(float headDim)
    let scores =
        if causal then
            use future = torch.ones(length, length, dtype = torch.ScalarType.Bool).triu(1L)
            scores.masked_fill(future, Double.NegativeInfinity.ToScalar())
        else scores
    let mixed = scores.softmax(-1L).matmul(v).transpose(1L, 2L).reshape(batch, length, dim)
    project "output" mixed

/// torch.nn.MultiheadAttention given our weights: its in_proj is query, key and value stacked.
let private torchAttention (weights: Map<string, torch.Tensor>) (dim: int64) (heads: int64) causal (x: torch.Tensor) =
    use mha = torch.nn.MultiheadAttention(dim, heads)
    mha.``to`` f64 |> ignore
    let source = Dictionary<string, torch.Tensor>()
    source["in_proj_weight"] <- torch.cat ([| weights["query.weight"]; weights["key.weight"]; weights["value.weight"] |], 0L)
    source["in_proj_bias"] <- torch.cat ([| weights["query.bias"]; weights["key.bias"]; weights["value.bias"] |], 0L)
    source["out_proj.weight"] <- weights["output.weight"]
    source["out_proj.bias"] <- weights["output.bias"]
    mha.load_state_dict (source, strict = true) |> ignore
    let length = x.shape[1]
    // An additive mask: -inf above the diagonal hides later positions.
    use mask =
        if causal then torch.full(length, length, Double.NegativeInfinity, dtype = f64).triu(1L)
        else torch.zeros(length, length, dtype = f64)
    // torch's module is sequence-first: [seq; batch; dim].
    let sequenceFirst = x.transpose(0L, 1L)
    let output, _ = mha.forward (sequenceFirst, sequenceFirst, sequenceFirst, null, false, mask)
    output.transpose(0L, 1L)

/// The encoding of Vaswani et al., element by element.
let private referenceSinusoids (length: int) (dim: int) =
    let value pos j =
        let angle = float pos / Math.Pow(10000.0, float (2 * (j / 2)) / float dim)
        if j % 2 = 0 then Math.Sin angle else Math.Cos angle
    let flat = [| for pos in 0 .. length - 1 do for j in 0 .. dim - 1 -> value pos j |]
    torch.tensor(flat, dtype = f64).reshape(int64 length, int64 dim)

/// A recurrent module of TorchSharp's with our weights, returning its output sequence.
let private torchRecurrent (cell: string) (inputs: int64) (hidden: int64) (layers: int64) bidirectional (ours: CompiledModel) =
    let run: torch.Tensor -> torch.Tensor =
        match cell with
        | "rnn" ->
            let m = torch.nn.RNN(inputs, hidden, layers, batchFirst = true, bidirectional = bidirectional, dtype = f64)
            loadInto m ours
            fun x -> let struct (y, _) = m.forward (x, null) in y
        | "lstm" ->
            let m = torch.nn.LSTM(inputs, hidden, layers, batchFirst = true, bidirectional = bidirectional, dtype = f64)
            loadInto m ours
            fun x -> let struct (y, _, _) = m.forward (x, Nullable()) in y
        | _ ->
            let m = torch.nn.GRU(inputs, hidden, layers, batchFirst = true, bidirectional = bidirectional, dtype = f64)
            loadInto m ours
            fun x -> let struct (y, _) = m.forward (x, null) in y
    run


let private tagger =
    """model Tagger (hidden = 64) : [seq; 16] -> [seq; 5] =
    lstm hidden >> dense 5
"""

let private tiny =
    """model Tiny (vocab = 11, dim = 8, heads = 2, context = 6) : [context] int -> [context; vocab] =
    embed vocab dim >> positional context
    >> layerNorm >> attention heads (causal = true) >> layerNorm >> dense vocab
"""

let private stepsOf (m: Model) =
    match m.Body.Op with
    | Chain steps -> steps
    | _ -> [ m.Body ]

let private forwardTests =
    testList "forward and gradients" [
        test "layerNorm equals torch.nn.LayerNorm" {
            use net = compileBody "[4; 6] -> [4; 6]" "layerNorm"
            perturb net
            use reference = torch.nn.LayerNorm(6L, dtype = f64)
            loadInto reference net
            use x = randomInput [ 3L; 4L; 6L ]
            expectClose (reference.forward x) (net.forward x) "forward"
            gradcheck net x
        }

        test "rmsNorm computes x / sqrt(mean(x^2) + 1e-6) * weight" {
            use net = compileBody "[4; 6] -> [4; 6]" "rmsNorm"
            perturb net
            let w = (state net)["weight"]
            use x = randomInput [ 3L; 4L; 6L ]
            use expected = x / (x.square().mean([| -1L |], keepdim = true) + 1e-6).sqrt() * w
            expectClose expected (net.forward x) "forward"
            gradcheck net x
        }

        test "embed equals torch.nn.Embedding" {
            use net = compileBody "[5] int -> [5; 3]" "embed 7 3"
            use reference = torch.nn.Embedding(7L, 3L, dtype = f64)
            loadInto reference net
            use ids = tokens 7 4L 5L
            use actual = net.forward ids
            expectClose (reference.forward ids) actual "forward"
            Expect.equal actual.shape [| 4L; 5L; 3L |] "[batch; seq; dim]"
            // The input is integer: only the weight's gradient is checked.
            gradcheck net ids
        }

        test "positional adds the first seq rows of its weight" {
            use net = compileBody "[4; 3] -> [4; 3]" "positional 6"
            let w = (state net)["weight"]
            Expect.equal w.shape [| 6L; 3L |] "weight [length; dim]"
            use x = randomInput [ 2L; 4L; 3L ]
            expectClose (x + w.narrow(0L, 0L, 4L)) (net.forward x) "forward"
            gradcheck net x
        }

        test "positional with a named length is checked when it runs" {
            use net = compileBody "[seq; 3] -> [seq; 3]" "positional 6"
            use short = randomInput [ 2L; 5L; 3L ]
            Expect.equal (net.forward short).shape [| 2L; 5L; 3L |] "five positions fit"
            use long = randomInput [ 2L; 7L; 3L ]
            let e = Expect.throwsC (fun () -> net.forward long |> ignore) (fun (e: exn) -> e)
            Expect.stringContains e.Message "positional 6 covers 6 positions, but its input has 7" "message"
        }

        for dim in [ 6; 5 ] do
            test (sprintf "sinusoidal adds sin/cos of position / 10000^(2i/%d)" dim) {
                use net = compileBody (sprintf "[4; %d] -> [4; %d]" dim dim) "sinusoidal 10"
                Expect.isEmpty (names net) "no parameters and nothing saved"
                Expect.isEmpty (net.parameters ()) "no parameters"
                use table = referenceSinusoids 10 dim
                use x = randomInput [ 2L; 4L; int64 dim ]
                expectClose (x + table.narrow(0L, 0L, 4L)) (net.forward x) "forward"
                gradcheck net x
            }

        for causal in [ false; true ] do
            test (sprintf "attention (causal = %b) equals the reference and torch.nn.MultiheadAttention" causal) {
                use net = compileBody "[5; 6] -> [5; 6]" (sprintf "attention 2 (causal = %b)" causal)
                perturb net
                let weights = state net
                use x = randomInput [ 3L; 5L; 6L ]
                use actual = net.forward x
                expectClose (referenceAttention weights 2L causal x) actual "against plain tensor ops"
                expectClose (torchAttention weights 6L 2L causal x) actual "against torch.nn.MultiheadAttention"
                gradcheck net x
            }

        test "causal attention: a later position does not change earlier outputs" {
            use net = compileBody "[5; 4] -> [5; 4]" "attention 2 (causal = true)"
            use x = randomInput [ 2L; 5L; 4L ]
            use changed = x.clone ()
            changed.narrow(1L, 3L, 2L).add_((1.0).ToScalar()) |> ignore
            use before = net.forward x
            use after = net.forward changed
            expectClose (before.narrow(1L, 0L, 3L)) (after.narrow(1L, 0L, 3L)) "positions 0..2"
            let moved = (before.narrow(1L, 3L, 2L) - after.narrow(1L, 3L, 2L)).abs().max().item<float>()
            Expect.isGreaterThan moved 1e-3 "positions 3 and 4 do change"
            use full = compileBody "[5; 4] -> [5; 4]" "attention 2"
            let leaked = (full.forward x - full.forward changed).narrow(1L, 0L, 3L).abs().max().item<float>()
            Expect.isGreaterThan leaked 1e-3 "without the mask, earlier outputs see later inputs"
        }

        for cell in [ "rnn"; "lstm"; "gru" ] do
            for (options, layers, bidirectional) in [ "", 1L, false; " (layers = 2) (bidirectional = true)", 2L, true ] do
                test (sprintf "%s 4%s equals torch.nn's module" cell options) {
                    let outputs = if bidirectional then 8 else 4
                    use net = compileBody (sprintf "[5; 3] -> [5; %d]" outputs) (sprintf "%s 4%s" cell options)
                    let reference = torchRecurrent cell 3L 4L layers bidirectional net
                    use x = randomInput [ 2L; 5L; 3L ]
                    use actual = net.forward x
                    Expect.equal actual.shape [| 2L; 5L; int64 outputs |] "output sequence"
                    expectClose (reference x) actual "forward"
                    gradcheck net x
                }

        test "last takes the final time step" {
            use net = compileBody "[5; 3] -> [3]" "last"
            use x = randomInput [ 2L; 5L; 3L ]
            expectClose (x.select(1L, 4L)) (net.forward x) "forward"
            use withWeights = compileBody "[5; 3] -> [2]" "gru 4 >> last >> dense 2"
            gradcheck withWeights x
        }

        test "a recurrent layer follows its model to another dtype" {
            // `to()` replaces parameters: training after it must still reach the cell's weights.
            use net = compileBody "[5; 3] -> [4]" "lstm 4 >> last"
            net.``to`` torch.ScalarType.Float32 |> ignore
            Expect.all (net.parameters ()) (fun p -> p.dtype = torch.ScalarType.Float32) "float32 parameters"
            use x = (randomInput [ 2L; 5L; 3L ]).float ()
            use y = net.forward x
            y.sum().backward ()
            for struct (name, p) in net.named_parameters () do
                Expect.isNotNull p.grad (sprintf "%s has a gradient" name)
        }

        test "a model built inside a dispose scope outlives it" {
            let source = "embed 7 4 >> positional 5 >> sinusoidal 5 >> rmsNorm >> attention 2 >> layerNorm >> gru 3 >> last"
            let net =
                use _ = torch.NewDisposeScope()
                compileBody "[5] int -> [3]" source
            use net = net
            Expect.all (net.parameters ()) (fun p -> not p.IsInvalid) "no parameter was disposed with the scope"
            use ids = tokens 7 2L 5L
            use y = net.forward ids
            Expect.equal y.shape [| 2L; 3L |] "runs after the scope is gone"
            Expect.isFalse (y.isnan().any().item<bool>()) "no freed memory read"
        }

        test "sinusoidal and rmsNorm follow their model to another dtype" {
            use net = compileBody "[4; 6] -> [4; 6]" "sinusoidal 8 >> rmsNorm"
            net.``to`` torch.ScalarType.Float32 |> ignore
            use x = (randomInput [ 2L; 4L; 6L ]).float ()
            use y = net.forward x
            Expect.equal y.dtype torch.ScalarType.Float32 "float32 output"
        }
    ]

let private namingTests =
    testList "parameter names" [
        test "every layer's state_dict names" {
            use net =
                compileBody
                    "[5] int -> [2]"
                    "embed 7 4 >> positional 5 >> sinusoidal 5 >> layerNorm >> attention 2 >> rmsNorm >> lstm 3 >> last >> dense 2"
            let expected =
                [ "0.weight"
                  "1.weight"
                  "3.weight"
                  "3.bias"
                  for p in [ "query"; "key"; "value"; "output" ] do
                      yield! [ sprintf "4.%s.weight" p; sprintf "4.%s.bias" p ]
                  "5.weight"
                  "6.weight_ih_l0"
                  "6.weight_hh_l0"
                  "6.bias_ih_l0"
                  "6.bias_hh_l0"
                  "8.weight"
                  "8.bias" ]
            Expect.equal (names net) (List.sort expected) "names"
            let s = state net
            Expect.equal s["0.weight"].shape [| 7L; 4L |] "embed weight [vocab; dim]"
            Expect.equal s["1.weight"].shape [| 5L; 4L |] "positional weight [length; dim]"
            Expect.equal s["4.query.weight"].shape [| 4L; 4L |] "query [dim; dim]"
            Expect.equal s["6.weight_ih_l0"].shape [| 12L; 4L |] "lstm input weights [4 * hidden; features]"
            use ids = tokens 7 2L 5L
            Expect.equal (net.forward ids).shape [| 2L; 2L |] "runs end to end"
        }

        test "a deep bidirectional layer has PyTorch's reverse and per-layer names" {
            use net = compileBody "[5; 3] -> [5; 8]" "gru 4 (layers = 2) (bidirectional = true)"
            let expected =
                [ for layer in [ 0; 1 ] do
                      for suffix in [ ""; "_reverse" ] do
                          for kind in [ "weight_ih"; "weight_hh"; "bias_ih"; "bias_hh" ] -> sprintf "%s_l%d%s" kind layer suffix ]
            Expect.equal (names net) (List.sort expected) "names"
            let secondLayer = (state net)["weight_ih_l1"]
            Expect.equal secondLayer.shape [| 12L; 8L |] "the second layer reads both directions"
        }
    ]

let private shapeTests =
    testList "shapes" [
        test "Tagger checks: lstm hidden >> dense 5 over [seq; 16]" {
            let m = checkedProgram tagger |> model "Tagger"
            Expect.equal (string m.Output) "[seq; 5]" "output"
            Expect.equal (stepsOf m |> List.map (fun s -> string s.Output)) [ "[seq; 64]"; "[seq; 5]" ] "steps"
            Expect.equal (stepsOf m).Head.Op (primitive Functional.Lang.Layers.Recurrent.definition { Cell = Functional.Lang.Layers.Recurrent.Lstm; Inputs = 16; Hidden = 64; Layers = 1; Bidirectional = false }) "lstm"
            use net = Functional.Lang.Language.compileSeeded float64 1L m
            use x = randomInput [ 2L; 7L; 16L ]
            Expect.equal (net.forward x).shape [| 2L; 7L; 5L |] "any sequence length"
        }

        test "Tiny checks, and has as many parameters as the same network in TorchSharp modules" {
            let m = checkedProgram tiny |> model "Tiny"
            Expect.equal (string m.Input) "[6] int" "input"
            Expect.equal (string m.Output) "[6; 11]" "output"
            Expect.equal
                (stepsOf m |> List.map (fun s -> string s.Output))
                [ "[6; 8]"; "[6; 8]"; "[6; 8]"; "[6; 8]"; "[6; 8]"; "[6; 11]" ]
                "steps"
            let attention = (stepsOf m)[3]
            Expect.equal attention.Op (primitive Functional.Lang.Layers.Attention.definition { Dim = 8; Heads = 2; Causal = true }) "attention"
            use net = Functional.Lang.Language.compileSeeded float64 1L m
            let modules: torch.nn.Module list =
                [ torch.nn.Embedding(11L, 8L)
                  torch.nn.Embedding(6L, 8L) // learned positions: one row per position
                  torch.nn.LayerNorm(8L)
                  torch.nn.Linear(8L, 8L) // query
                  torch.nn.Linear(8L, 8L) // key
                  torch.nn.Linear(8L, 8L) // value
                  torch.nn.Linear(8L, 8L) // output
                  torch.nn.LayerNorm(8L)
                  torch.nn.Linear(8L, 11L) ]
            let count (ps: TorchSharp.Modules.Parameter seq) = ps |> Seq.sumBy (fun p -> p.numel ())
            Expect.equal (count (net.parameters ())) (modules |> List.sumBy (fun m -> count (m.parameters ()))) "parameter count"
            use ids = tokens 11 3L 6L
            Expect.equal (net.forward ids).shape [| 3L; 6L; 11L |] "logits per position"
        }

        test "bidirectional doubles the features; last drops the sequence" {
            let m = checkedProgram "model M : [seq; 3] -> [8] =\n    rnn 4 (bidirectional = true) >> last\n" |> model "M"
            Expect.equal (stepsOf m |> List.map (fun s -> string s.Output)) [ "[seq; 8]"; "[8]" ] "steps"
        }

        test "embed keeps the positions and adds the dimension" {
            let m = checkedProgram "model M : [seq] int -> [seq; 4] =\n    embed 10 4 >> sinusoidal 512 >> rmsNorm\n" |> model "M"
            Expect.equal (stepsOf m |> List.map (fun s -> s.Op)) [ primitive Functional.Lang.Layers.Embed.definition { Vocabulary = 10; Dim = 4 }; primitive Functional.Lang.Layers.Sinusoidal.definition { Length = 512; Dim = 4 }; primitive Functional.Lang.Layers.RmsNorm.definition { Features = 4 } ] "ops"
        }
    ]

let private diagnosticTests =
    testList "diagnostics" [
        bad "embed of numbers" "model M : [784] -> [784; 8] =\n    embed 10 8\n" "2:5" "embed 10 8 needs token ids ([seq] int), but its input is [784]"
        bad
            "attention heads that do not divide the dimension"
            "model M : [4; 128] -> [4; 128] =\n    attention 5\n"
            "2:5"
            "attention 5 needs its input's last dimension to be divisible by the number of heads, but 128 is not divisible by 5"
        bad "lstm of a vector" "model M : [16] -> [64] =\n    lstm 64\n" "2:5" "lstm 64 needs a [seq; features] input, but its input is [16]"
        bad "positional shorter than the input" "model M : [200; 8] -> [200; 8] =\n    dense 8 >> positional 128\n" "2:16" "positional 128 covers 128 positions, but its input has 200"
        bad "sinusoidal shorter than the input" "model M : [20; 8] -> [20; 8] =\n    sinusoidal 16\n" "2:5" "sinusoidal 16 covers 16 positions, but its input has 20"
        bad "zero heads, at the argument" "model M : [4; 8] -> [4; 8] =\n    attention 0\n" "2:15" "attention's number of heads must be positive, but it is 0"
        bad "a vocabulary that is not an integer" "model M : [4] int -> [4; 8] =\n    embed 2.5 8\n" "2:11" "embed's vocabulary size must be an integer"
        bad "a negative embedding dimension" "model M : [4] int -> [4; 8] =\n    embed 10 -8\n" "2:14" "embed's dimension must be positive, but it is -8"
        bad "zero recurrent layers, at the option" "model M : [4; 8] -> [4; 8] =\n    gru 8 (layers = 0)\n" "2:12" "gru's number of layers must be positive, but it is 0"
        bad "bidirectional that is not a boolean" "model M : [4; 8] -> [4; 8] =\n    rnn 4 (bidirectional = 1)\n" "2:12" "rnn's bidirectional option must be true or false"
        bad "a misspelt option" "model M : [4; 8] -> [4; 8] =\n    attention 2 (casual = true)\n" "2:18" "attention has no option 'casual'; did you mean 'causal'?"
        bad "attention over token ids" "model M : [6] int -> [6] =\n    attention 2\n" "2:5" "attention 2 needs numbers, but its input [6] int holds token ids"
        bad "last of a vector" "model M : [5] -> [1] =\n    last\n" "2:5" "last needs a [seq; features] input, but its input is [5]"
        bad "layerNorm over a named dimension" "model M : [4; d] -> [4; d] =\n    layerNorm\n" "2:5" "layerNorm needs its input's last dimension to be a number, but it is 'd'"
        bad
            "heads checked against the dimension an earlier layer produces"
            "model M : [6] int -> [6; 4] =\n    embed 10 8 >> lstm 4 >> attention 3\n"
            "2:29"
            "4 is not divisible by 3"
        bad "a recurrent output that differs from the declaration" "model M : [seq; 3] -> [seq; 4] =\n    lstm 4 (bidirectional = true)\n" "2:5" "its body produces [seq; 8]"
    ]

[<Tests>]
let tests = testSequenced <| testList "Sequence layers" [ forwardTests; namingTests; shapeTests; diagnosticTests ]
