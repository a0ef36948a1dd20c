/// Builtins for sequences and transformers: embed, positional, sinusoidal, attention, rnn, lstm, gru,
/// last, layerNorm, rmsNorm. Each is made at its use site (its Range is where it is written).
///
/// A sequence is a per-example [seq; features] shape: its first dimension runs over positions (a number
/// or a name such as `seq`), its last holds the features and must be a number. `positional n` and
/// `sinusoidal n` reject a known length above n here; a named length is checked when the model runs.
module Functional.Lang.Checking.SequenceBuiltins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

/// An error unless the input holds numbers; token ids must go through `embed` first.
let private floats name (input: Shape) =
    if input.Tokens then
        Error(sprintf "%s needs numbers, but its input %O holds token ids; embed them first (embed vocab dim)" name input)
    else Ok()

/// The input as a sequence of feature vectors: its length (a number or a name) and its feature count.
let private sequence name (input: Shape) =
    match input.Dims with
    | [ length; _ ] -> lastKnown name input |> Result.map (fun features -> length, features)
    | _ -> Error(sprintf "%s needs a [seq; features] input, but its input is %O" name input)

/// A numeric sequence: both checks above, in the order a user would fix them.
let private numericSequence name input =
    floats name input |> Result.bind (fun () -> sequence name input)

/// A table of `length` positions covers a known sequence length up to it; a named one is left to run time.
let private covers name length (positions: Dim) =
    match positions with
    | Known n when n > length -> Error(sprintf "%s covers %d positions, but its input has %d" name length n)
    | Known _
    | Symbol _ -> Ok()

/// A named option that must be a positive integer, reported at the option's name.
let private positiveOption (call: Call) option fallback what : Checked<int> =
    let v, at = optionOr option (VInt fallback) call
    Value.asInt at what v
    |> Result.bind (fun n -> if n > 0 then Ok n else Checked.fail at (sprintf "%s must be positive, but it is %d" what n))

let private boolOption (call: Call) option fallback what : Checked<bool> =
    let v, at = optionOr option (VBool fallback) call
    Value.asBool at what v

// Layers, once their hyperparameters are known

/// layerNorm and rmsNorm: over the last (feature) dimension, which must be a number; any rank.
let private normalisation name (make: int -> Op) range =
    layer name range (fun input ->
        floats name input
        |> Result.bind (fun () -> lastKnown name input)
        |> Result.map (fun features -> make features, input))

let private embedLayer range vocabulary dim =
    let name = sprintf "embed %d %d" vocabulary dim
    layer name range (fun input ->
        if input.Tokens then
            Ok(Embed(vocabulary, dim), { Dims = input.Dims @ [ Known dim ]; Tokens = false })
        else Error(sprintf "%s needs token ids ([seq] int), but its input is %O" name input))

/// positional and sinusoidal: a table of `length` positions added to [seq; dim].
let private positionTable kind (make: int * int -> Op) range length =
    let name = sprintf "%s %d" kind length
    layer name range (fun input ->
        numericSequence name input
        |> Result.bind (fun (positions, dim) -> covers name length positions |> Result.map (fun () -> make (length, dim), input)))

let private attentionLayer range heads causal =
    let name = sprintf "attention %d" heads
    layer name range (fun input ->
        numericSequence name input
        |> Result.bind (fun (_, dim) ->
            if dim % heads = 0 then Ok(SelfAttention { Dim = dim; Heads = heads; Causal = causal }, input)
            else
                Error(
                    sprintf "%s needs its input's last dimension to be divisible by the number of heads, but %d is not divisible by %d" name dim heads
                )))

let private recurrentLayer cell cellName range hidden layers bidirectional =
    let name = sprintf "%s %d" cellName hidden
    layer name range (fun input ->
        numericSequence name input
        |> Result.map (fun (positions, features) ->
            let spec = { Cell = cell; Inputs = features; Hidden = hidden; Layers = layers; Bidirectional = bidirectional }
            // A bidirectional layer concatenates both directions' states.
            let outputs = if bidirectional then 2 * hidden else hidden
            RecurrentLayer spec, { Dims = [ positions; Known outputs ]; Tokens = false }))

/// The final time step: drops the first (sequence) dimension.
let private lastLayer range =
    layer "last" range (fun input ->
        match input.Dims with
        | _ :: (_ :: _ as features) -> Ok(Last, { input with Dims = features })
        | _ -> Error(sprintf "last needs a [seq; features] input, but its input is %O" input))

// The functions a program calls

let private embedFunction range =
    func "embed" [ "vocab"; "dim" ] [] (fun call ->
        Checked.all [ positiveInt call 0 "embed's vocabulary size"; positiveInt call 1 "embed's dimension" ]
        |> Result.map (fun sizes -> embedLayer call.Range sizes[0] sizes[1]))

let private positionFunction kind make range =
    func kind [ "length" ] [] (fun call ->
        positiveInt call 0 (sprintf "%s's number of positions" kind)
        |> Result.map (positionTable kind make call.Range))

let private attentionFunction range =
    func "attention" [ "heads" ] [ "causal", VBool false ] (fun call ->
        Checked.check {
            let! heads = positiveInt call 0 "attention's number of heads"
            let! causal = boolOption call "causal" false "attention's causal option"
            return attentionLayer call.Range heads causal
        })

let private recurrentFunction cell name range =
    func name [ "hidden" ] [ "layers", VInt 1; "bidirectional", VBool false ] (fun call ->
        Checked.check {
            let! hidden = positiveInt call 0 (sprintf "%s's hidden size" name)
            let! layers = positiveOption call "layers" 1 (sprintf "%s's number of layers" name)
            let! bidirectional = boolOption call "bidirectional" false (sprintf "%s's bidirectional option" name)
            return recurrentLayer cell name call.Range hidden layers bidirectional
        })

let table: (string * (Range -> Value)) list =
    [ "embed", embedFunction
      "positional", positionFunction "positional" Op.Positional
      "sinusoidal", positionFunction "sinusoidal" Op.Sinusoidal
      "attention", attentionFunction
      "rnn", recurrentFunction Rnn "rnn"
      "lstm", recurrentFunction Lstm "lstm"
      "gru", recurrentFunction Gru "gru"
      "last", lastLayer
      "layerNorm", normalisation "layerNorm" LayerNorm
      "rmsNorm", normalisation "rmsNorm" RmsNorm ]
