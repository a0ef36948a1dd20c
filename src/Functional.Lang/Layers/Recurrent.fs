/// `rnn`, `lstm` and `gru hidden (layers, bidirectional)`: recurrent layers over [seq; features] ->
/// [seq; hidden] ([seq; 2 hidden] bidirectional), written out step by step since TorchSharp has no
/// functional form. Parameters have PyTorch's names and layouts: per layer k, `weight_ih_lk` [gates
/// hidden; inputs], `weight_hh_lk` [gates hidden; hidden], `bias_ih_lk`, `bias_hh_lk` [gates hidden], and
/// `..._reverse` for the backward direction; gates in PyTorch's order (LSTM i, f, g, o; GRU r, z, n), all
/// drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)). The steps are libtorch's own (aten/src/ATen/native/RNN.cpp).
module Functional.Lang.Layers.Recurrent

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Cell =
    | Rnn
    | Lstm
    | Gru

type Settings =
    { Cell: Cell
      Inputs: int
      Hidden: int
      Layers: int
      Bidirectional: bool }

type private Tensor = torch.Tensor

let private gates cell =
    match cell with
    | Rnn -> 1
    | Lstm -> 4
    | Gru -> 3

/// Each layer's directions' name suffixes and input sizes.
let private directions (s: Settings) =
    seq {
        for layer in 0 .. s.Layers - 1 ->
            let inputs = if layer = 0 then s.Inputs else s.Hidden * (if s.Bidirectional then 2 else 1)
            [ for suffix in (if s.Bidirectional then [ ""; "_reverse" ] else [ "" ]) -> sprintf "_l%d%s" layer suffix, inputs ]
    }

let private weights (s: Settings) =
    let rows = gates s.Cell * s.Hidden
    seq {
        for layer in directions s do
            for (suffix, inputs) in layer do
                yield WeightSpec.parameter ("weight_ih" + suffix) [ rows; inputs ]
                yield WeightSpec.parameter ("weight_hh" + suffix) [ rows; s.Hidden ]
                yield WeightSpec.parameter ("bias_ih" + suffix) [ rows ]
                yield WeightSpec.parameter ("bias_hh" + suffix) [ rows ]
    }

/// One step of a cell from the state (h, and c for an LSTM) and the input's projection at this step.
let private step cell (one: Scalar) (whh: Tensor) (bhh: Tensor) (projected: Tensor) (h: Tensor, c: Tensor) =
    let recurrent = torch.nn.functional.linear (h, whh, bhh)
    match cell with
    | Rnn -> recurrent.add(projected, one).tanh (), c
    | Lstm ->
        let g = recurrent.add(projected, one).chunk (4L, 1L)
        let i, f, candidate, o = g[0].sigmoid (), g[1].sigmoid (), g[2].tanh (), g[3].sigmoid ()
        let c' = (f * c).add (i * candidate, one)
        o * c'.tanh (), c'
    | Gru ->
        let x = projected.chunk (3L, 1L)
        let r = recurrent.chunk (3L, 1L)
        let reset = r[0].add(x[0], one).sigmoid ()
        let update = r[1].add(x[1], one).sigmoid ()
        let candidate = x[2].add(r[2] * reset, one).tanh ()
        (h - candidate).mul(update).add (candidate, one), c

/// One direction of one layer over [batch; seq; inputs]: its states at every step, [batch; seq; hidden].
let private run cell (one: Scalar) hidden reverse (wih: Tensor) (whh: Tensor) (bih: Tensor) (bhh: Tensor) (input: Tensor) =
    let batch, steps = input.shape[0], input.shape[1]
    // The input's part of every step at once, as libtorch does.
    let projected = torch.nn.functional.linear (input, wih, bih)
    let zero = torch.zeros ([| batch; hidden |], dtype = input.dtype, device = input.device)
    let states = Array.zeroCreate<Tensor> (int steps)
    let mutable state = zero, zero
    for i in 0L .. steps - 1L do
        let t = if reverse then steps - 1L - i else i
        state <- step cell one whh bhh (projected.select (1L, t)) state
        states[int t] <- fst state
    torch.stack (states, 1L)

let definition: Definition<Settings> =
    { Name = "recurrent"
      Weights = weights
      Initialise =
        fun s d ->
            let bound = 1.0 / sqrt (float s.Hidden)
            for w in weights s do
                Init.asFloat32 (Init.uniform d.Generator -bound bound) (d.Weight w.Name)
      Compile =
        fun s b ->
            let one = Compilation.Scalars.one ()
            let hidden = int64 s.Hidden
            let layers =
                [ for layer in directions s ->
                      [ for (suffix, _) in layer ->
                            suffix.EndsWith "_reverse",
                            b.Slot("weight_ih" + suffix), b.Slot("weight_hh" + suffix), b.Slot("bias_ih" + suffix), b.Slot("bias_hh" + suffix) ] ]
            fun _ x ->
                let mutable input = x
                for layer in layers do
                    let outputs =
                        [ for (reverse, wih, whh, bih, bhh) in layer ->
                              run s.Cell one hidden reverse wih.Tensor whh.Tensor bih.Tensor bhh.Tensor input ]
                    input <- (match outputs with [ only ] -> only | both -> torch.cat (Array.ofList both, -1L))
                input
      Traits = fun _ -> Traits.none }

let private recurrentLayer cell cellName range hidden layers bidirectional =
    let name = sprintf "%s %d" cellName hidden
    layer name range (fun input ->
        numericSequence name input
        |> Result.map (fun (positions, features) ->
            let settings = { Cell = cell; Inputs = features; Hidden = hidden; Layers = layers; Bidirectional = bidirectional }
            // A bidirectional layer concatenates both directions' states.
            let outputs = if bidirectional then 2 * hidden else hidden
            primitive definition settings, { Dims = [ positions; Known outputs ]; Tokens = false }))

let private recurrentFunction cell name (_: Syntax.Range) =
    func name [ "hidden" ] [ "layers", VInt 1; "bidirectional", VBool false ] (fun call ->
        Checked.check {
            let! hidden = positiveInt call 0 (sprintf "%s's hidden size" name)
            let! layers = positiveOption call "layers" 1 (sprintf "%s's number of layers" name)
            let! bidirectional = boolOption call "bidirectional" false (sprintf "%s's bidirectional option" name)
            return recurrentLayer cell name call.Range hidden layers bidirectional
        })

let builtins: (string * (Syntax.Range -> Value)) list =
    [ "rnn", recurrentFunction Rnn "rnn"
      "lstm", recurrentFunction Lstm "lstm"
      "gru", recurrentFunction Gru "gru" ]
