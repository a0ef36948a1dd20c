/// The TorchSharp modules a checked network compiles to. Built-in TorchSharp modules are used wherever
/// one exists, so parameter names and numerics are PyTorch's.
namespace Functional.Lang.Compilation

open System.Collections.Generic
open TorchSharp
open TorchSharp.Modules
open Functional.Lang.Syntax
open Functional.Lang.Checking

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
    member _.RunBody(input: torch.Tensor) = held[0].call input

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
            x <- m.call x
        x

/// x + f x
type ResidualModule(name: string, bodyKey: string option, body: Module) =
    inherit AdoptingModule(name, bodyKey, body)
    override this.forward(input: torch.Tensor) = input.add(this.RunBody input, Scalars.one ())

/// Each branch on the same input, joined on the last axis.
type ConcatModule(name: string, branches: (string option * Module) list) as this =
    inherit Module(name)
    let branchModules = branches |> List.map snd |> Array.ofList
    do
        for (key, branch) in branches do
            key |> Option.iter (fun k -> this.register_module(k, branch))

    // The branches' outputs belong to the caller's dispose scope, like every intermediate.
    override _.forward(input: torch.Tensor) =
        torch.cat(branchModules |> Array.map (fun m -> m.call input), -1L)

/// A model's declared parameters around its body: the parameters are registered here, under their names.
type ParametersModule(name: string, parameters: (string * TorchSharp.Modules.Parameter) list, bodyKey: string option, body: Module) as this =
    inherit AdoptingModule(name, bodyKey, body)
    do
        for (key, p) in parameters do
            this.register_parameter(key, p)

    override this.forward(input: torch.Tensor) = this.RunBody input

/// Evaluates the tensor math of a `fun x -> ...` body, compiled once into closures (Terms.compile).
/// `layers` are the modules of the layers the body applies, registered under their path segments.
type GraphModule
    (
        name: string,
        term: Term,
        parameter: string -> torch.Tensor,
        layers: (string option * Node * Module) list,
        placement: Placement
    ) as this =
    inherit Module(name)
    let layerOf = Dictionary<Node, Module>(HashIdentity.Reference)
    let constants = ResizeArray<torch.Tensor>()
    do
        for (key, node, m) in layers do
            key |> Option.iter (fun k -> this.register_module(k, m))
            layerOf[node] <- m

    let run =
        let f = Terms.compile placement parameter (fun node -> layerOf[node]) constants term
        if term.Batched then fun x -> f x null
        else
            // A body that ignores its input gives every example the same value: repeat it per example.
            fun (x: torch.Tensor) ->
                let value = f x null
                value.unsqueeze(0L).expand(Array.append [| x.shape[0] |] value.shape)

    override _.forward(input: torch.Tensor) = run input

    override _.Dispose(disposing: bool) =
        if disposing then
            for c in constants do
                c.Dispose()
            constants.Clear()
        base.Dispose disposing
