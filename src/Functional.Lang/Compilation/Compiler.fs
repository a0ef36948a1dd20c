/// Compilation: turns a checked model into TorchSharp modules.
module Functional.Lang.Compilation.Compiler

open System.Collections.Generic
open TorchSharp
open TorchSharp.Modules
open Functional.Lang.Checking

let private activation act : torch.nn.Module<torch.Tensor, torch.Tensor> =
    match act with
    | Sigmoid -> torch.nn.Sigmoid()
    | Tanh -> torch.nn.Tanh()
    | Relu -> torch.nn.ReLU()
    | LeakyRelu slope -> torch.nn.LeakyReLU(slope)
    | Elu alpha -> torch.nn.ELU(alpha)
    | Gelu -> torch.nn.GELU()
    | Silu -> torch.nn.SiLU()
    | Softmax -> torch.nn.Softmax(-1L)
    | LogSoftmax -> torch.nn.LogSoftmax(-1L)
    | Identity -> torch.nn.Identity()

let private lastSegment (path: string) =
    match path.LastIndexOf '.' with
    | -1 -> path
    | i -> path.Substring(i + 1)

let private initialise (init: Init) (t: torch.Tensor) =
    match init with
    | Zeros -> torch.nn.init.zeros_ t
    | Ones -> torch.nn.init.ones_ t
    | Constant c -> torch.nn.init.constant_(t, c)
    | Normal std -> torch.nn.init.normal_(t, 0.0, std)
    | Uniform(low, high) -> torch.nn.init.uniform_(t, low, high)
    | Xavier -> torch.nn.init.xavier_uniform_ t
    // A `param` matrix is written [fan_in; fan_out] (used as `x @ w`), the transpose of a torch Linear
    // weight, so its fan-in is torch's fan_out.
    | He -> torch.nn.init.kaiming_normal_(t, mode = torch.nn.init.FanInOut.FanOut)
    |> ignore

/// A declared parameter, made and initialised outside any dispose scope the caller has open.
let private makeParameter (placement: Placement) (p: ParamSpec) =
    let t = torch.empty(p.Shape |> List.map int64 |> Array.ofList, dtype = placement.DType, device = placement.Device)
    initialise p.Init t
    let parameter = new TorchSharp.Modules.Parameter(t, requires_grad = true)
    parameter.DetachFromDisposeScope() |> ignore
    p.Name, parameter

/// How a container holds its one body: at its own path (adopted), or under the body's label.
let private bodyKey (container: Node) (body: Node) =
    if body.Path = container.Path then None else Some(lastSegment body.Path)

/// Compiles a node. `parameter` finds the declared parameters in scope; `compiled` holds the module of
/// every node compiled so far, so that a shared node reuses its first use's module.
let rec private compileNode (placement: Placement) (parameter: string -> torch.Tensor) (compiled: Dictionary<Node, Module>) (node: Node) : Module =
    let recurse = compileNode placement parameter compiled
    // A part is registered under its path's last segment, unless it is a second use of a shared layer.
    let part (child: Node) =
        match child.Op with
        | Shared _ -> None, recurse child
        | _ -> Some(lastSegment child.Path), recurse child
    let m: Module =
        match node.Op with
        | Dense(inputs, outputs) ->
            let linear = torch.nn.Linear(int64 inputs, int64 outputs, hasBias = true, device = placement.Device, dtype = placement.DType)
            // Keras's defaults (Glorot/Xavier uniform weights, zero bias) rather than PyTorch's: they suit the
            // sigmoid and tanh networks of the classic examples, and are what most users of `dense` expect.
            torch.nn.init.xavier_uniform_ linear.weight |> ignore
            torch.nn.init.zeros_ linear.bias |> ignore
            linear
        | Activate a -> activation a
        | Chain steps -> new ChainModule(node.Path, steps |> List.map part)
        | Repeat copies -> new ChainModule(node.Path, copies |> List.map part)
        | Concat branches -> new ConcatModule(node.Path, branches |> List.map part)
        | Residual inner -> new ResidualModule(node.Path, bodyKey node inner, recurse inner)
        | Shared first -> compiled[first]
        | Parameters(specs, inner) ->
            let own = specs |> List.map (makeParameter placement)
            let table = dict own
            // The model's own parameters shadow those of any model it is used in.
            let lookup name =
                match table.TryGetValue name with
                | true, p -> p :> torch.Tensor
                | false, _ -> parameter name
            new ParametersModule(node.Path, own, bodyKey node inner, compileNode placement lookup compiled inner)
        | Graph term ->
            let layers =
                Term.layers term
                |> List.map (fun n ->
                    let key, m = part n
                    key, n, m)
            new GraphModule(node.Path, term, parameter, layers, placement)
        | Flatten
        | Reshape _
        | Dropout _
        | Conv1d _
        | Conv2d _
        | MaxPool2d _
        | AvgPool2d _
        | BatchNorm _ -> VisionModules.compile placement node
        | LayerNorm _
        | RmsNorm _
        | Embed _
        | Positional _
        | Sinusoidal _
        | SelfAttention _
        | RecurrentLayer _
        | Last -> SequenceModules.compile placement node
    compiled[node] <- m
    m

/// Builds the model's modules with fresh parameters drawn from torch's global generator (seed it first
/// with torch.manual_seed for reproducible weights), directly on the placement's device and dtype.
let compile (placement: Placement) (model: Model) : CompiledModel =
    Functional.Engine.ensureStarted ()
    use _ = torch.no_grad ()
    let noParameter name = invalidOp (sprintf "the parameter '%s' is not declared (the checker should have said so)" name)
    let compiled = Dictionary<Node, Module>(HashIdentity.Reference)
    let body = compileNode placement noParameter compiled model.Body
    let layers = Node.walk model.Body |> Seq.map (fun n -> n, compiled[n]) |> List.ofSeq
    new CompiledModel(model, placement, body, layers)

/// One node compiled on its own (a weightless layer in a loss, say).
let compileLayer (placement: Placement) (node: Node) : Module =
    compileNode placement (fun name -> invalidOp (sprintf "no parameter '%s' here" name)) (Dictionary(HashIdentity.Reference)) node
