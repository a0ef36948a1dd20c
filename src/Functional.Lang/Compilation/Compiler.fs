/// Compilation: a checked model becomes one function over a weight store. Each builtin layer compiles
/// itself (Layers/); here are only the structural forms (chains, `fun` bodies, residuals, repeats,
/// concatenations, shared layers, declared parameters) and the making of the store.
module Functional.Lang.Compilation.Compiler

open System
open System.Collections.Generic
open TorchSharp
open Functional.Lang.Checking
open Functional.Lang.Layers

/// Draws a declared parameter's first values as torch.nn.init does, from the network's generator.
let private initialise (generator: torch.Generator) (init: Init) (t: torch.Tensor) =
    match init with
    | Zeros -> () // made as zeros
    | Ones -> Init.fill 1.0 t
    | Constant c -> Init.fill c t
    | Normal std -> Init.normal generator 0.0 std t
    | Uniform(low, high) -> Init.uniform generator low high t
    | Xavier -> Init.xavierUniform generator 1.0 t
    // A `param` matrix is written [fan_in; fan_out] (used as `x @ w`), the transpose of a torch Linear
    // weight, so its fan-in is torch's fan_out.
    | He -> Init.kaimingNormal generator (snd (Init.fans t)) t

/// A weight of a node: its full path, its role and what makes its first values.
type private Declared = { Path: string; Spec: WeightSpec }

/// What a node declares itself: a primitive's weights, or a model's `param`s.
let private declared (node: Node) : Declared list =
    match node.Op with
    | Primitive p -> p.Weights |> Seq.map (fun w -> { Path = Node.join node.Path w.Name; Spec = w }) |> List.ofSeq
    | Parameters(specs, _) ->
        specs |> List.map (fun s -> { Path = Node.join node.Path s.Name; Spec = WeightSpec.parameter s.Name s.Shape })
    | _ -> []

/// The weights of a node in the order TorchSharp's modules registered them: a module's own, then each
/// child's. A body at its container's path (a model's, a residual's) was adopted by the container: its
/// own weights come first among the container's own, and its children are the container's.
let rec private layout (node: Node) : Declared list * Declared list list =
    let flat (n: Node) = let own, children = layout n in own @ List.concat children
    let adopted (inner: Node) = if inner.Path = node.Path then layout inner else [], [ flat inner ]
    match node.Op with
    | Primitive _ ->
        // A dotted name (`query.weight`) belongs to a child module (`query`).
        let own, nested = declared node |> List.partition (fun d -> not (d.Spec.Name.Contains '.'))
        let children =
            nested
            |> List.groupBy (fun d -> d.Spec.Name.Substring(0, d.Spec.Name.IndexOf '.'))
            |> List.map snd
        own, children
    | Parameters(_, inner) ->
        let own, children = adopted inner
        own @ declared node, children
    | Residual inner -> adopted inner
    | Shared _ -> [], []
    | Chain _
    | Repeat _
    | Concat _
    | Graph _ ->
        [], Node.children node |> List.filter (fun c -> match c.Op with Shared _ -> false | _ -> true) |> List.map flat

/// Makes every weight of the model and draws its first values, in the order torch's modules drew them
/// (layer after layer, a model's `param`s before its body's), then puts them in a store in the order
/// PyTorch lists them (parameters, then buffers, each in registration order).
let private weights (placement: Placement) (generator: torch.Generator) (model: Model) : WeightStore =
    let made = Dictionary<string, torch.Tensor>()
    let make (d: Declared) =
        let dtype = if d.Spec.Integer then torch.ScalarType.Int64 else placement.DType
        let t = torch.zeros (d.Spec.Shape |> List.map int64 |> Array.ofList, dtype = dtype, device = placement.Device)
        made[d.Path] <- t.DetachFromDisposeScope()
        t
    for node in Node.walk model.Body do
        match node.Op with
        | Primitive p ->
            // Made one by one as the layer lists them: an absurd size fails at its first weight.
            let own = Dictionary<string, torch.Tensor>()
            for w in p.Weights do
                own[w.Name] <- make { Path = Node.join node.Path w.Name; Spec = w }
            p.Initialise { Generator = generator; Weight = fun name -> own[name] }
        | Parameters(specs, _) ->
            for (spec, d) in List.zip specs (declared node) do
                initialise generator spec.Init (make d)
        | _ -> ()
    let store = new WeightStore(placement)
    let order = let own, children = layout model.Body in own @ List.concat children
    let add (d: Declared) = store.Add(d.Path, d.Spec.Role, made[d.Path]) |> ignore
    order |> List.filter (fun d -> d.Spec.Role = Parameter) |> List.iter add
    order |> List.filter (fun d -> d.Spec.Role <> Parameter) |> List.iter add
    store

/// The paths of every linear projection of the model (`head`, `3.query`): where adapters may sit.
let projections (model: Model) : string list =
    PathPatterns.projectionWeights model
    |> List.map (fun w -> if w = "weight" then "" else w.Substring(0, w.Length - ".weight".Length))

/// Adds LoRA's matrices beside each projection `lora` names, after every base weight (so the base draws
/// what it draws without adapters): A as PEFT draws it (kaiming_uniform_ with a = sqrt 5), B zeros.
let private addAdapters (store: WeightStore) (generator: torch.Generator) (model: Model) (lora: Lora.Settings) =
    let known = Set.ofList (projections model)
    for projection in lora.Projections do
        if not (known.Contains projection) then
            invalidArg (nameof lora) (sprintf "%s has no projection '%s' for an adapter; its projections are %s" model.Name projection (String.Join(", ", known)))
        let weight = store[Lora.weightOf projection].Tensor
        let outputs, inputs = weight.shape[0], weight.shape[1]
        let make (rows: int64) (columns: int64) =
            torch.zeros ([| rows; columns |], dtype = store.Placement.DType, device = store.Placement.Device)
        let a = make (int64 lora.Rank) inputs
        Init.kaimingUniform generator (sqrt 5.0) a
        store.Add(Lora.aOf projection, Parameter, a) |> ignore
        store.Add(Lora.bOf projection, Parameter, make outputs (int64 lora.Rank)) |> ignore

/// The model's parameters (paths and shapes) in the order a compiled model lists them, read from the
/// declarations alone: no tensor is made.
let declaredParameters (model: Model) : (string * int list) list =
    let own, children = layout model.Body
    own @ List.concat children
    |> List.filter (fun d -> d.Spec.Role = Parameter)
    |> List.map (fun d -> d.Path, d.Spec.Shape)

/// Tells the context's observer, if any, that a layer finished.
let private observed (node: Node) (f: Forward) : Forward =
    fun context x ->
        let y = f context x
        match context.Observer with
        | None -> ()
        | Some o -> o.Invoke(node.Path, node.Name, x, y)
        y

/// The function of a node. `parameter` finds the declared parameters in scope; `compiled` holds the
/// function of every node compiled so far, so that a shared node runs its first use's.
let rec private forwardOf (binding: string -> Binding) (constant: float -> Slot) (parameter: string -> Slot) (compiled: Dictionary<Node, Forward>) (node: Node) : Forward =
    match compiled.TryGetValue node with
    | true, f -> f
    | false, _ ->
        let recurse = forwardOf binding constant parameter compiled
        let f: Forward =
            match node.Op with
            | Primitive p -> observed node (p.Compile(binding node.Path))
            | Chain steps
            | Repeat steps ->
                let fs = steps |> List.map recurse |> Array.ofList
                fun context input ->
                    let mutable x = input
                    for f in fs do
                        x <- f context x
                    x
            | Concat branches ->
                let fs = branches |> List.map recurse |> Array.ofList
                // The branches' outputs belong to the caller's dispose scope, like every intermediate.
                observed node (fun context x -> torch.cat (fs |> Array.map (fun f -> f context x), -1L))
            | Residual inner ->
                let f = recurse inner
                // add's alpha is passed, held: TorchSharp's `a + b` makes a temporary one (Scalars.fs).
                observed node (fun context x -> x.add (f context x, Scalars.one ()))
            | Shared first -> recurse first
            | Parameters(specs, inner) ->
                let own = specs |> List.map (fun s -> s.Name) |> Set.ofList
                // The model's own parameters shadow those of any model it is used in.
                let lookup name = if own.Contains name then binding node.Path |> fun b -> b.Slot name else parameter name
                forwardOf binding constant lookup compiled inner
            | Graph term ->
                let f = Terms.compile parameter recurse constant term
                observed node (
                    if term.Batched then fun context x -> f context x null
                    else
                        // A body that ignores its input gives every example the same value: repeat it per example.
                        fun context x ->
                            let value = f context x null
                            value.unsqueeze(0L).expand (Array.append [| x.shape[0] |] value.shape)
                )
        compiled[node] <- f
        f

/// Builds the model with fresh weights drawn from a generator of its own seeded with `seed` (a random
/// seed when None), directly on the placement's device and dtype. torch's global generator is not used:
/// the same seed gives the weights that seeding the global generator and torch's modules gave.
let compileAdapted (placement: Placement) (seed: int64 option) (lora: Lora.Settings option) (model: Model) : CompiledModel =
    Functional.Engine.ensureStarted ()
    let generator = Randomness.create placement.Device (defaultArg seed (Randomness.freshSeed ()))
    let held = ResizeArray<IDisposable>()
    try
        let store =
            use _ = torch.no_grad ()
            weights placement generator model
        try
            lora |> Option.iter (fun l -> use _ = torch.no_grad () in addAdapters store generator model l)
            let adapted = match lora with Some l -> Set.ofList l.Projections | None -> Set.empty
            let constant (x: float) =
                store.AddConstant(torch.tensor (x, dtype = placement.DType, device = placement.Device))
            let linear path projection =
                let full = Node.join path projection
                let adapter =
                    match lora with
                    | Some l when adapted.Contains full -> Some(l, store[Lora.aOf full], store[Lora.bOf full])
                    | _ -> None
                Lora.projection held.Add store[Lora.weightOf full] store[Lora.biasOf full] adapter
            let binding path = { Slot = (fun name -> store[Node.join path name]); Linear = linear path; Keep = held.Add }
            let noParameter name = invalidOp (sprintf "the parameter '%s' is not declared (the checker should have said so)" name)
            let run = forwardOf binding constant noParameter (Dictionary(HashIdentity.Reference)) model.Body
            new CompiledModel(model, store, generator, run, List.ofSeq held, lora)
        with _ ->
            (store :> IDisposable).Dispose()
            reraise ()
    with _ ->
        generator.Dispose()
        for h in held do
            h.Dispose()
        reraise ()

/// Builds the model with fresh weights and no adapters (see compileAdapted).
let compileSeeded (placement: Placement) (seed: int64 option) (model: Model) : CompiledModel =
    compileAdapted placement seed None model

/// One weightless node compiled on its own (an activation in a loss); what it holds goes to `keep`.
let compileLayer (keep: IDisposable -> unit) (node: Node) : Forward =
    let noWeight path name = invalidOp (sprintf "no weight '%s' here" (Node.join path name))
    let binding path = { Slot = noWeight path; Linear = noWeight path; Keep = keep }
    let noConstant _ = invalidOp "no constants here"
    forwardOf binding noConstant (fun name -> invalidOp (sprintf "no parameter '%s' here" name)) (Dictionary(HashIdentity.Reference)) node
