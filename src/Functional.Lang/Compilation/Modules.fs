/// The TorchSharp modules a checked network compiles to. Built-in TorchSharp modules are used wherever
/// one exists, so parameter names and numerics are PyTorch's.
namespace Functional.Lang.Compilation

open System.Collections.Generic
open TorchSharp
open TorchSharp.Modules
open Functional.Lang.Syntax
open Functional.Lang.Checking

/// Where tensors are made and of which element type.
type Placement = { Device: torch.Device; DType: torch.ScalarType }

module private Broadcast =
    /// Gives a batched tensor `rank` per-example dimensions by inserting ones after the batch dimension,
    /// so that it broadcasts against unbatched operands the way its per-example shape says.
    let toRank (rank: int) (own: int) (t: torch.Tensor) =
        if own >= rank then t
        else
            let shape = t.shape
            let dims = Array.concat [ [| shape[0] |]; Array.create (rank - own) 1L; shape[1..] ]
            t.reshape dims

type Module = torch.nn.Module<torch.Tensor, torch.Tensor>

module Containers =
    /// Registers the parts of `inner` (children, parameters, buffers) directly on `outer`: for a part
    /// whose path is its parent's (a model's or a residual's body), so that names do not repeat the path.
    let adopt (outer: torch.nn.Module) (inner: torch.nn.Module) =
        for struct (name, child) in inner.named_children () do
            outer.register_module(name, child)
        for struct (name, p) in inner.named_parameters false do
            outer.register_parameter(name, p)
        let persistent = inner.named_buffers(false, false) |> Seq.map (fun struct (n, _) -> n) |> Set.ofSeq
        for struct (name, b) in inner.named_buffers(false, true) do
            outer.register_buffer(name, b, persistent.Contains name)

/// A module around one body. A body at the module's own path (`bodyKey = None`) has its parts
/// registered here, and the training mode is passed on to it (it is not a registered child); a body
/// with a label of its own (`dense 1 as top`) is registered under it.
[<AbstractClass>]
type AdoptingModule(name: string, bodyKey: string option, body: Module) as this =
    inherit Module(name)
    // TorchSharp registers fields of module type by reflection; an array field keeps the body out of
    // that, so that it is registered only as chosen here.
    let held = [| body |]
    do
        match bodyKey with
        | None -> Containers.adopt this body
        | Some key -> this.register_module(key, body)

    /// Runs the body.
    member _.RunBody(input: torch.Tensor) = held[0].forward input

    override _.train([<System.Runtime.InteropServices.Optional; System.Runtime.InteropServices.DefaultParameterValue(true)>] on: bool) =
        base.train on |> ignore
        if bodyKey.IsNone then held[0].train on |> ignore

/// Runs the steps of a chain one after the other. Each step is registered under its position or label,
/// except a shared step (`None`), which is registered where it was first used.
type ChainModule(name: string, steps: (string option * Module) list) as this =
    inherit Module(name)
    let stepModules = steps |> List.map snd |> Array.ofList
    do
        for (key, step) in steps do
            key |> Option.iter (fun k -> this.register_module(k, step))

    override _.forward(input: torch.Tensor) =
        let mutable x = input
        for m in stepModules do
            x <- m.forward x
        x

/// x + f x
type ResidualModule(name: string, bodyKey: string option, body: Module) =
    inherit AdoptingModule(name, bodyKey, body)
    override this.forward(input: torch.Tensor) = input + this.RunBody input

/// Each branch on the same input, joined on the last axis.
type ConcatModule(name: string, branches: (string option * Module) list) as this =
    inherit Module(name)
    let branchModules = branches |> List.map snd |> Array.ofList
    do
        for (key, branch) in branches do
            key |> Option.iter (fun k -> this.register_module(k, branch))

    // The branches' outputs belong to the caller's dispose scope, like every intermediate.
    override _.forward(input: torch.Tensor) =
        torch.cat(branchModules |> Array.map (fun m -> m.forward input), -1L)

/// A model's declared parameters around its body: the parameters are registered here, under their names.
type ParametersModule(name: string, parameters: (string * TorchSharp.Modules.Parameter) list, bodyKey: string option, body: Module) as this =
    inherit AdoptingModule(name, bodyKey, body)
    do
        for (key, p) in parameters do
            this.register_parameter(key, p)

    override this.forward(input: torch.Tensor) = this.RunBody input

/// Evaluates the tensor math of a `fun x -> ...` body. The term is turned into a tree of closures once,
/// so a forward pass does no interpretation. `layers` are the modules of the layers the body applies,
/// each registered under its path segment.
type GraphModule
    (
        name: string,
        term: Term,
        parameter: string -> torch.Tensor,
        layers: (string option * Node * Module) list,
        placement: Placement
    ) as this =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>(name)
    let layerOf = Dictionary<Node, torch.nn.Module<torch.Tensor, torch.Tensor>>(HashIdentity.Reference)
    let constants = ResizeArray<torch.Tensor>()
    do
        for (key, node, m) in layers do
            key |> Option.iter (fun k -> this.register_module(k, m))
            layerOf[node] <- m

    let rec compile (t: Term) : torch.Tensor -> torch.Tensor =
        match t.Kind with
        | Input -> id
        | Param name -> fun _ -> parameter name
        | TermKind.Scalar x ->
            // A constant made once, outside any dispose scope, and owned (disposed) by this module.
            let value = torch.tensor(x, dtype = placement.DType, device = placement.Device).DetachFromDisposeScope()
            constants.Add value
            fun _ -> value
        | Unary(op, a) ->
            let f = compile a
            match op with
            | Exp -> fun x -> (f x).exp()
            | Log -> fun x -> (f x).log()
            | Sqrt -> fun x -> (f x).sqrt()
            | Abs -> fun x -> (f x).abs()
            | Neg -> fun x -> (f x).neg()
        | TermKind.Layer(node, a) ->
            let f = compile a
            let m = layerOf[node]
            fun x -> m.forward (f x)
        | TermKind.Binary(MatMul, a, b) -> matmul a b
        | TermKind.Binary(op, a, b) ->
            let rank = Shape.rank t.Shape
            let align (operand: Term) =
                let f = compile operand
                if operand.Batched then fun x -> Broadcast.toRank rank (Shape.rank operand.Shape) (f x) else f
            let fa, fb = align a, align b
            match op with
            | Add -> fun x -> fa x + fb x
            | Subtract -> fun x -> fa x - fb x
            | Multiply -> fun x -> fa x * fb x
            | Divide -> fun x -> fa x / fb x
            | _ -> fun x -> (fa x).pow(fb x)

    /// torch.matmul on per-example shapes: vectors become matrices, and a batched side gets the other
    /// side's leading dimensions so that the batch never meets them.
    and matmul (a: Term) (b: Term) : torch.Tensor -> torch.Tensor =
        let ra, rb = Shape.rank a.Shape, Shape.rank b.Shape
        let ra', rb' = max ra 2, max rb 2
        let rank = max ra' rb'
        let prepare (operand: Term) (own: int) (asMatrix: torch.Tensor -> torch.Tensor) =
            let f = compile operand
            if operand.Batched then fun x -> Broadcast.toRank rank own (asMatrix (f x))
            else fun x -> asMatrix (f x)
        let fa = prepare a ra' (if ra = 1 then (fun t -> t.unsqueeze(-2L)) else id)
        let fb = prepare b rb' (if rb = 1 then (fun t -> t.unsqueeze(-1L)) else id)
        let product (x: torch.Tensor) = torch.matmul (fa x, fb x)
        match ra, rb with
        | 1, 1 -> fun x -> (product x).squeeze(-1L).squeeze(-1L)
        | 1, _ -> fun x -> (product x).squeeze(-2L)
        | _, 1 -> fun x -> (product x).squeeze(-1L)
        | _ -> product

    let run =
        let f = compile term
        if term.Batched then f
        else
            // A body that ignores its input gives every example the same value: repeat it per example.
            fun (x: torch.Tensor) ->
                let value = f x
                value.unsqueeze(0L).expand(Array.append [| x.shape[0] |] value.shape)

    override _.forward(input: torch.Tensor) = run input

    override _.Dispose(disposing: bool) =
        if disposing then
            for c in constants do
                c.Dispose()
            constants.Clear()
        base.Dispose disposing
