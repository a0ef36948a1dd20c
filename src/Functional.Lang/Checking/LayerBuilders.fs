/// What builtins are made of: layers that infer their output shape from their input's, functions with
/// positional parameters and named options, and the checks they share.
module Functional.Lang.Checking.LayerBuilders

open Functional.Lang
open Functional.Lang.Syntax

/// A layer whose node is inferred from its input shape alone; `infer` returns the op and the output
/// shape, or a sentence saying what was expected and what was found.
let layer name range (infer: Shape -> Result<Op * Shape, string>) =
    VLayer
        { Name = name
          Range = range
          Label = None
          Share = None
          Build =
            fun context input ->
                match infer input with
                | Ok(op, output) -> Ok { Path = context.Path; Name = name; Op = op; Input = input; Output = output; Range = range }
                | Error message -> Checked.fail range message }

/// Builds a layer as a part of the layer at `context`: under its label, or `segment` (its position);
/// a let-bound layer built before in this model is the same node again (`Shared`).
let buildAt (context: BuildContext) (segment: string) (layer: Layer) (input: Shape) : Checked<Node> =
    let path = Node.join context.Path (defaultArg layer.Label segment)
    context.Count.Value <- context.Count.Value + 1
    if context.Count.Value > BuildContext.limit then
        Checked.fail layer.Range (sprintf "this model has more than %d layers: is a repeat count too large?" BuildContext.limit)
    else
    match layer.Share with
    | None -> layer.Build { context with Path = path } input
    | Some key ->
        match context.Built.TryGetValue key with
        | true, first when first.Input = input -> Ok { first with Op = Shared first; Range = layer.Range }
        | true, first ->
            Checked.fail layer.Range (sprintf "%s is one layer with one set of weights: it was first used on %O, so it cannot take %O here" key.Name first.Input input)
            |> Result.mapError (List.map (Diagnostic.withRelated first.Range "where it was made"))
        | false, _ ->
            layer.Build { context with Path = path } input
            |> Result.map (fun node ->
                context.Built[key] <- node
                node)

/// The same layer with its own weights wherever it is used again (for `repeat`'s copies).
let unshared (layer: Layer) = { layer with Share = None; Label = None }

/// A builtin function: positional parameter names, named options with their defaults.
let func name positional options invoke =
    VFunction { Name = name; Positional = positional; Options = options; Invoke = invoke }

/// An error unless the input holds numbers (not token ids).
let numeric name (input: Shape) =
    if input.Tokens then
        Error(sprintf "%s needs numbers, but its input %O holds token ids" name input)
    else Ok()

/// The input's last dimension as a number, or why not.
let lastKnown name (input: Shape) =
    match Shape.last input with
    | None -> Error(sprintf "%s needs an input with at least one dimension, but its input is a scalar" name)
    | Some(Symbol s) -> Error(sprintf "%s needs its input's last dimension to be a number, but it is '%s' in %O" name s input)
    | Some(Known n) -> Ok n

/// A named option's value, or `fallback` when the call does not give it, and where it came from.
let optionOr name (fallback: Value) (call: Call) =
    match Map.tryFind name call.Named with
    | Some(v, at) -> v, at
    | None -> fallback, call.Range

/// The i-th positional argument as a positive integer.
let positiveInt (call: Call) i what : Checked<int> =
    let v, at = call.Args[i]
    Value.asInt at what v
    |> Result.bind (fun n -> if n > 0 then Ok n else Checked.fail at (sprintf "%s must be positive, but it is %d" what n))

/// A function of one tensor used where a layer is expected (`fun x -> ...`, a model body) becomes a
/// layer whose node is the function's body, built once its input's shape is known.
let rec asLayer (value: Value) (range: Range) : Checked<Layer> =
    match value with
    | VLayer layer -> Ok layer
    | VError -> Error []
    | VFunction f when f.Positional.IsEmpty ->
        // A function whose parameters all have defaults, used bare, means its defaults.
        f.Invoke { Args = []; Named = Map.empty; Range = range; Scope = None }
        |> Result.bind (fun v -> asLayer v range)
    | VFunction f when f.Positional.Length = 1 ->
        Ok
            { Name = f.Name
              Range = range
              Label = None
              Share = None
              Build =
                fun context input ->
                    let x = VTensor { Kind = Input; Shape = input; Batched = true }
                    let scope = { Context = context; Next = ref 0 }
                    f.Invoke { Args = [ x, range ]; Named = Map.empty; Range = range; Scope = Some scope }
                    |> Result.bind (function
                        | VTensor t -> Ok { Path = context.Path; Name = "fun"; Op = Graph t; Input = input; Output = t.Shape; Range = range }
                        | VError -> Error []
                        | v -> Checked.fail range (sprintf "a function used as a layer must return a tensor, but this one returns %s" (Value.describe v))) }
    | v -> Checked.fail range (sprintf "expected a layer or a function of one tensor here, but this is %s" (Value.describe v))

and chain (layers: Layer list) range =
    let build (context: BuildContext) (input: Shape) =
        let rec go i (shape: Shape) acc (steps: Layer list) =
            match steps with
            | [] -> Ok(List.rev acc, shape)
            | layer :: rest ->
                match buildAt context (string i) layer shape with
                | Ok node -> go (i + 1) node.Output (node :: acc) rest
                | Error errors ->
                    // Say where the offending input came from.
                    let errors =
                        match acc with
                        | previous :: _ ->
                            errors
                            |> List.map (Diagnostic.withRelated previous.Range (sprintf "its input %O comes from %s here" shape previous.Name))
                        | [] -> errors
                    Error errors
        go 0 input [] layers
        |> Result.map (fun (nodes, output) -> { Path = context.Path; Name = "chain"; Op = Chain nodes; Input = input; Output = output; Range = range })
    { Name = "chain"; Range = range; Label = None; Share = None; Build = build }

