/// What builtins are made of: layers that infer their output shape from their input's, functions with
/// positional parameters and named options, and the checks they share.
module Functional.Lang.Checking.LayerBuilders

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Layers

/// A layer whose node is inferred from its input shape alone; `infer` returns the op and the output
/// shape, or a sentence saying what was expected and what was found.
let layer name range (infer: Shape -> Result<Op * Shape, string>) =
    VLayer
        { Name = name
          Range = range
          Label = None
          Share = None
          Model = None
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
    // A labelled part that a `with` replaces: the replacement, at the part's path, sharing among the
    // part's uses if the part was one shared layer. The replacement's own parts are not replaced again.
    let layer, context =
        match layer.Label with
        | None -> layer, context
        | Some label ->
            context.Labelled.Add path
            match Map.tryFind path context.Replacements with
            | None -> layer, context
            | Some(replacement, key) ->
                context.Replaced.Add path
                let inside (k: string) = k = path || k.StartsWith(path + ".", System.StringComparison.Ordinal)
                { replacement with Label = Some label; Share = (if layer.Share.IsSome then Some key else None) },
                { context with Replacements = context.Replacements |> Map.filter (fun k _ -> not (inside k)) }
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

/// The op of a builtin layer: its definition and settings.
let primitive (definition: Definition<'S>) (settings: 'S) = Op.Primitive(Primitive.make definition settings)

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

/// What an integer hyperparameter may be.
type Bound =
    | Positive
    | NonNegative

/// An integer hyperparameter, checked where it is written.
let integer what bound (value: Value, at: Range) : Checked<int> =
    let number =
        match value with
        // `conv2d 32` used as a layer receives its input where the kernel belongs.
        | VTensor t -> Checked.fail at (sprintf "%s must be an integer, but it is a tensor of shape %O: is an argument missing?" what t.Shape)
        | _ -> Value.asInt at what value
    number
    |> Result.bind (fun n ->
        match bound with
        | Positive when n <= 0 -> Checked.fail at (sprintf "%s must be positive, but it is %d" what n)
        | NonNegative when n < 0 -> Checked.fail at (sprintf "%s must be at least 0, but it is %d" what n)
        | _ -> Ok n)

/// Both results, or the errors of both: independent hyperparameters are all reported at once.
let (<&>) (a: Checked<'a>) (b: Checked<'b>) : Checked<'a * 'b> =
    match a, b with
    | Ok x, Ok y -> Ok(x, y)
    | Error e, Ok _
    | Ok _, Error e -> Error e
    | Error e1, Error e2 -> Error(e1 @ e2)

/// The first error of a list of results, or all their values.
let firstError (results: Result<'a, string> list) : Result<'a list, string> =
    List.foldBack (fun r acc -> Result.bind (fun x -> Result.map (fun xs -> x :: xs) acc) r) results (Ok [])

/// Sequencing for shape inference, whose errors are sentences.
type AttemptBuilder() =
    member _.Bind(r: Result<'a, string>, f: 'a -> Result<'b, string>) = Result.bind f r
    member _.Return v : Result<_, string> = Ok v

let attempt = AttemptBuilder()

/// The number of elements of a shape whose dimensions are all numbers, without overflow.
let elements (input: Shape) =
    Shape.tryInts input |> Option.map (List.fold (fun acc d -> acc * bigint d) 1I)

let fitsInt (n: bigint) = n <= bigint System.Int32.MaxValue

/// The input's dimension `axis` as a number, or why not.
let knownAxis name axis (input: Shape) (dim: Dim) =
    match dim with
    | Known n -> Ok n
    | Symbol s -> Error(sprintf "%s needs its input's %s to be a number, but it is '%s' in %O" name axis s input)

/// An error unless the input holds numbers; token ids must go through `embed` first.
let floats name (input: Shape) =
    if input.Tokens then
        Error(sprintf "%s needs numbers, but its input %O holds token ids; embed them first (embed vocab dim)" name input)
    else Ok()

/// The input as a sequence of feature vectors: its length (a number or a name) and its feature count.
let sequence name (input: Shape) =
    match input.Dims with
    | [ length; _ ] -> lastKnown name input |> Result.map (fun features -> length, features)
    | _ -> Error(sprintf "%s needs a [seq; features] input, but its input is %O" name input)

/// A numeric sequence: both checks above, in the order a user would fix them.
let numericSequence name input =
    floats name input |> Result.bind (fun () -> sequence name input)

/// A named option that must be a positive integer, reported at the option's name.
let positiveOption (call: Call) option fallback what : Checked<int> =
    let v, at = optionOr option (VInt fallback) call
    Value.asInt at what v
    |> Result.bind (fun n -> if n > 0 then Ok n else Checked.fail at (sprintf "%s must be positive, but it is %d" what n))

let boolOption (call: Call) option fallback what : Checked<bool> =
    let v, at = optionOr option (VBool fallback) call
    Value.asBool at what v

// Windows slid along spatial axes: convolutions and pooling

/// A window slid along each spatial axis (convolution or pooling), the same along every axis.
type Window =
    { Kernel: int
      Stride: int
      Padding: int
      Dilation: int }

/// PyTorch's output size along one axis: floor((n + 2 padding - dilation (kernel - 1) - 1) / stride) + 1,
/// or 0 when the padded input is shorter than the dilated kernel.
/// In int64, so that large hyperparameters cannot overflow.
let private outputSize (w: Window) (n: int) =
    let span = int64 n + 2L * int64 w.Padding - int64 w.Dilation * int64 (w.Kernel - 1) - 1L
    if span < 0L then 0L else span / int64 w.Stride + 1L

/// A window that gives back an axis of any size unchanged, so a named size (`seq`) can pass through it.
let private keepsSize (w: Window) = w.Stride = 1 && 2 * w.Padding = w.Dilation * (w.Kernel - 1)

let private axesText (axes: string list) = sprintf "[%s]" (String.concat "; " axes)

/// The input's channel dimension and its spatial dimensions, when it has exactly the axes named.
let channelsAnd name (spatial: string list) (input: Shape) : Result<Dim * Dim list, string> =
    match input.Dims with
    | channels :: rest when rest.Length = spatial.Length -> Ok(channels, rest)
    | _ -> Error(sprintf "%s needs a %s input, but its input is %O" name (axesText ("channels" :: spatial)) input)

/// The spatial output dimensions of a window slid over the input.
let slide name (spatial: string list) (w: Window) (input: Shape) (dims: Dim list) =
    List.zip spatial dims
    |> List.map (fun (axis, dim) ->
        match dim with
        | Symbol _ when keepsSize w -> Ok dim
        | Symbol s ->
            Error(
                sprintf
                    "%s needs its input's %s to be a number to work out its output size, but it is '%s' in %O"
                    name axis s input
            )
        | Known n ->
            match outputSize w n with
            | 0L ->
                let dilation = if w.Dilation = 1 then "" else sprintf ", dilation %d" w.Dilation
                Error(
                    sprintf "%s with padding %d would make the %s 0 (input %s %d, kernel %d%s)"
                        name w.Padding axis axis n w.Kernel dilation
                )
            | size when size > int64 System.Int32.MaxValue ->
                Error(sprintf "%s with padding %d would make the %s too large (%d)" name w.Padding axis size)
            | size -> Ok(Known(int size)))
    |> firstError

/// A convolution's sizes (per spatial dimension, the same along each).
type Convolution =
    { Inputs: int
      Outputs: int
      Kernel: int
      Stride: int
      Padding: int
      Dilation: int }

/// `conv1d`/`conv2d outChannels kernel (stride, padding, dilation)` over [channels; ...spatial].
let convolution name (spatial: string list) (make: Convolution -> Op) (_: Range) =
    let defaults = [ "stride", VInt 1; "padding", VInt 0; "dilation", VInt 1 ]
    func name [ "outChannels"; "kernel" ] defaults (fun call ->
        let option key bound =
            let fallback = defaults |> List.find (fst >> (=) key) |> snd
            integer (sprintf "%s's %s" name key) bound (optionOr key fallback call)
        let sizes =
            integer (name + "'s number of output channels") Positive call.Args[0]
            <&> integer (name + "'s kernel") Positive call.Args[1]
            <&> option "stride" Positive
            <&> option "padding" NonNegative
            <&> option "dilation" Positive
        sizes
        |> Result.map (fun ((((outputs, kernel), stride), padding), dilation) ->
            let label = sprintf "%s %d %d" name outputs kernel
            let window: Window = { Kernel = kernel; Stride = stride; Padding = padding; Dilation = dilation }
            layer label call.Range (fun input ->
                attempt {
                    do! numeric label input
                    let! channels, dims = channelsAnd label spatial input
                    let! inputs = knownAxis label "channels" input channels
                    let! outDims = slide label spatial window input dims
                    let sizes: Convolution =
                        { Inputs = inputs
                          Outputs = outputs
                          Kernel = kernel
                          Stride = stride
                          Padding = padding
                          Dilation = dilation }
                    return make sizes, { Dims = Known outputs :: outDims; Tokens = false }
                })))

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
              Model = None
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
    { Name = "chain"; Range = range; Label = None; Share = None; Model = None; Build = build }


/// `base with label = e ...`: the model `base` (named `modelName`) with the labelled parts at these
/// paths (relative to it) replaced. Every label must be one of the model's: they are found by building
/// the model once on its own first (in a context of its own, so that nothing it builds is kept).
let replacing (modelName: string) (baseLayer: Layer) (parts: (Replacement * Layer) list) (range: Range) : Layer =
    let keys = parts |> List.map (fun (r, l) -> Replacement.path r, (r, l, ShareKey(Replacement.path r)))
    let build (context: BuildContext) (input: Shape) : Checked<Node> =
        let relative (p: string) =
            if context.Path = "" then p
            elif p.StartsWith(context.Path + ".", System.StringComparison.Ordinal) then p.Substring(context.Path.Length + 1)
            else p
        let probe =
            { context with
                Built = System.Collections.Generic.Dictionary()
                Count = ref context.Count.Value
                Replacements = Map.empty
                Labelled = System.Collections.Generic.List()
                Replaced = System.Collections.Generic.List() }
        let labels =
            match baseLayer.Build probe input with
            | Ok _ -> Some(probe.Labelled |> Seq.map relative |> Seq.distinct |> List.ofSeq)
            | Error _ -> None
        let unknown (path: string) (r: Replacement) (labels: string list) =
            let hint =
                match Checked.suggest path labels with
                | Some near -> sprintf "did you mean '%s'? " near
                | None -> ""
            let known =
                if labels.IsEmpty then "it has none (label a part with 'e as name')"
                else sprintf "its labelled parts are %s" (String.concat ", " labels)
            Diagnostic.error (Replacement.pathRange r) (sprintf "%s has no labelled part '%s'; %s%s" modelName path hint known)
        let missing =
            match labels with
            | Some labels -> keys |> List.filter (fun (k, _) -> not (List.contains k labels)) |> List.map (fun (k, (r, _, _)) -> unknown k r labels)
            | None -> []
        if not missing.IsEmpty then Error missing
        else
            let own = keys |> List.map (fun (k, (_, l, key)) -> Node.join context.Path k, (l, key))
            // A `with` around this one (a model using this one as a layer) has the last word.
            let merged = Map.fold (fun m k v -> Map.add k v m) (Map.ofList own) context.Replacements
            let before = context.Replaced.Count
            baseLayer.Build { context with Replacements = merged } input
            |> Result.mapError (List.map (Diagnostic.withRelated range (sprintf "in %s with its parts replaced" modelName)))
            |> Result.bind (fun node ->
                let used = context.Replaced |> Seq.skip before |> Set.ofSeq
                match own |> List.filter (fun (k, _) -> not (used.Contains k)) with
                | [] -> Ok node
                | unused ->
                    // Only when the model did not build on its own (so its labels were not known first).
                    let labels = probe.Labelled |> Seq.map relative |> Seq.distinct |> List.ofSeq
                    unused
                    |> List.map (fun (k, _) ->
                        let r, _, _ = keys |> List.find (fun (key, _) -> Node.join context.Path key = k) |> snd
                        unknown (relative k) r labels)
                    |> Error)
    { baseLayer with Build = build; Share = None; Range = range }
