namespace Functional.Lang.Compilation

open System.Collections.Generic
open TorchSharp
open TorchSharp.Modules
open Functional.Lang.Checking

/// A compiled model: a TorchSharp module whose state_dict keys are the checked model's parameter paths
/// (`0.weight`, `w1`), together with the checked model it came from, for tools that walk it by path.
type CompiledModel(model: Model, placement: Placement, body: torch.nn.Module<torch.Tensor, torch.Tensor>, parameters: (string * Parameter) list) as this =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>(model.Name)
    do
        for (name, p) in parameters do
            this.register_parameter(name, p)
        // The body's own children and parameters are registered here, not the body itself, so that paths
        // start at the body (`0.weight`, as in a PyTorch Sequential) rather than at `body.0.weight`.
        for struct (name, child) in body.named_children() do
            this.register_module(name, child)
        for struct (name, p) in body.named_parameters(false) do
            this.register_parameter(name, p)

    member _.Model = model
    member _.Placement = placement
    override _.forward(input: torch.Tensor) = body.forward input
