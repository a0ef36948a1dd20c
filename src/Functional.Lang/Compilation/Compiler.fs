/// Compilation: turns a checked model into TorchSharp modules.
module Functional.Lang.Compilation.Compiler

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

/// The layers a `fun` body applies directly (those inside them belong to their own modules).
let rec private layersOf (t: Term) =
    match t.Kind with
    | TermKind.Layer(node, arg) -> layersOf arg @ [ node ]
    | Unary(_, a) -> layersOf a
    | TermKind.Binary(_, a, b) -> layersOf a @ layersOf b
    | Input
    | Param _
    | TermKind.Scalar _ -> []

let rec private compileNode (placement: Placement) (parameter: string -> torch.Tensor) (node: Node) : torch.nn.Module<torch.Tensor, torch.Tensor> =
    match node.Op with
    | Dense(inputs, outputs) ->
        let linear = torch.nn.Linear(int64 inputs, int64 outputs, hasBias = true, device = placement.Device, dtype = placement.DType)
        // Keras's defaults (Glorot/Xavier uniform weights, zero bias) rather than PyTorch's: they suit the
        // sigmoid and tanh networks of the classic examples, and are what most users of `dense` expect.
        torch.nn.init.xavier_uniform_ linear.weight |> ignore
        torch.nn.init.zeros_ linear.bias |> ignore
        linear
    | Activate a -> activation a
    | Chain steps ->
        new ChainModule(node.Path, steps |> List.map (fun s -> lastSegment s.Path, compileNode placement parameter s))
    | Graph term ->
        let layers = layersOf term |> List.map (fun n -> lastSegment n.Path, n, compileNode placement parameter n)
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
    | Shared _
    | Residual _
    | Repeat _
    | Concat _ -> raise (System.NotSupportedException(sprintf "%s cannot be compiled yet" node.Name))

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

/// Builds the model's modules with fresh parameters drawn from torch's global generator (seed it first
/// with torch.manual_seed for reproducible weights), directly on the placement's device and dtype.
let compile (placement: Placement) (model: Model) : CompiledModel =
    Functional.Engine.ensureStarted ()
    use _ = torch.no_grad ()
    let parameters =
        model.Params
        |> List.map (fun p ->
            let t = torch.empty(p.Shape |> List.map int64 |> Array.ofList, dtype = placement.DType, device = placement.Device)
            initialise p.Init t
            // A parameter must outlive any dispose scope the caller has open.
            let parameter = new Parameter(t, requires_grad = true)
            parameter.DetachFromDisposeScope() |> ignore
            p.Name, parameter)
    let lookup = dict parameters
    let body = compileNode placement (fun name -> lookup[name]) model.Body
    new CompiledModel(model, placement, body, parameters)
